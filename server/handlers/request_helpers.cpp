#include "server/handlers/request_helpers.hpp"

#include "common/crypto.hpp"
#include "common/error.hpp"

namespace seedhook::handlers {

void require_bearer(const HttpRequest& request, const std::vector<std::string>& tokens) {
    constexpr std::string_view kScheme = "Bearer ";
    const std::string_view header = request.headers.get("Authorization");
    bool ok = false;
    if (header.size() > kScheme.size() && iequals(header.substr(0, kScheme.size()), kScheme)) {
        const std::string_view presented = header.substr(kScheme.size());
        for (const auto& token : tokens) {
            ok = crypto::constant_time_equal(presented, token) || ok;
        }
    }
    if (!ok) {
        throw HttpError(401, "unauthorized", "a valid bearer token is required");
    }
}

void require_json_content_type(const HttpRequest& request) {
    std::string_view type = request.headers.get("Content-Type");
    if (type.empty()) {
        return;
    }
    type = type.substr(0, type.find(';'));
    while (!type.empty() && type.back() == ' ') {
        type.remove_suffix(1);
    }
    if (!iequals(type, "application/json")) {
        throw HttpError(415, "unsupported_media_type", "the body must be application/json");
    }
}

HttpResponse json_response(int status, std::string body) {
    HttpResponse r;
    r.status = status;
    r.body = std::move(body);
    return r;
}

}  // namespace seedhook::handlers
