#pragma once

/// The provider adapters, built from per-provider options. Adding a provider is one folder
/// under providers/ and one line in registry.cpp.

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "server/providers/provider.hpp"
#include "server/providers/provider_http.hpp"

namespace seedhook::providers {

/// Builds every registered provider whose name has options in `options`.
std::vector<std::shared_ptr<Provider>> make_providers(const std::map<std::string, ProviderOptions>& options);

}  // namespace seedhook::providers
