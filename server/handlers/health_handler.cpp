#include "server/handlers/health_handler.hpp"

#include "common/error.hpp"
#include "server/handlers/request_helpers.hpp"

namespace seedhook::handlers {

net::awaitable<HttpResponse> HealthHandler::healthz(HttpRequest /*request*/) {
    co_return json_response(200, R"({"status":"ok"})");
}

net::awaitable<HttpResponse> HealthHandler::readyz(HttpRequest /*request*/) {
    if (stopping_.load()) {
        throw HttpError(503, "shutting_down", "the service is stopping");
    }
    if (!co_await jobs_.ready()) {
        throw HttpError(503, "storage_unavailable", "the database does not accept writes");
    }
    co_return json_response(200, R"({"status":"ready"})");
}

}  // namespace seedhook::handlers
