#include "server/providers/registry.hpp"

#include <functional>

#include "server/providers/acedata/acedata_provider.hpp"
#include "server/providers/evolink/evolink_provider.hpp"
#include "server/providers/toapis/toapis_provider.hpp"

namespace seedhook::providers {

namespace {

using Factory = std::function<std::shared_ptr<Provider>(ProviderOptions)>;

template <typename T>
std::pair<const char*, Factory> entry(const char* name) {
    return {name, [](ProviderOptions o) { return std::make_shared<T>(std::move(o)); }};
}

}  // namespace

std::vector<std::shared_ptr<Provider>> make_providers(const std::map<std::string, ProviderOptions>& options) {
    const std::pair<const char*, Factory> registered[] = {
        entry<EvolinkProvider>("evolink"),
        entry<ToapisProvider>("toapis"),
        entry<AcedataProvider>("acedata"),
    };
    std::vector<std::shared_ptr<Provider>> out;
    for (const auto& [name, factory] : registered) {
        if (auto it = options.find(name); it != options.end()) {
            out.push_back(factory(it->second));
        }
    }
    return out;
}

}  // namespace seedhook::providers
