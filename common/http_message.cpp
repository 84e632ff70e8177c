#include "common/http_message.hpp"

#include <algorithm>
#include <cctype>

namespace seedhook {

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() &&
           std::equal(a.begin(), a.end(), b.begin(), [](unsigned char x, unsigned char y) {
               return std::tolower(x) == std::tolower(y);
           });
}

std::string_view HttpHeaders::get(std::string_view name) const {
    for (const auto& [k, v] : items_) {
        if (iequals(k, name)) {
            return v;
        }
    }
    return {};
}

bool HttpHeaders::has(std::string_view name) const {
    return std::any_of(items_.begin(), items_.end(), [name](const auto& item) {
        return iequals(item.first, name);
    });
}

void HttpHeaders::add(std::string name, std::string value) {
    items_.emplace_back(std::move(name), std::move(value));
}

void HttpHeaders::set(std::string name, std::string value) {
    for (auto& [k, v] : items_) {
        if (iequals(k, name)) {
            v = std::move(value);
            return;
        }
    }
    add(std::move(name), std::move(value));
}

}  // namespace seedhook
