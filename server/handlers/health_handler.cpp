#include "server/handlers/health_handler.hpp"

#include "common/error.hpp"
#include "server/handlers/request_helpers.hpp"

namespace seedhook::handlers {

namespace {

net::awaitable<HttpResponse> check_ready(services::JobService& jobs, const std::atomic<bool>& stopping) {
    if (stopping.load()) {
        throw HttpError(503, "shutting_down", "the service is stopping");
    }
    const bool writable = co_await jobs.ready();
    if (!writable) {
        throw HttpError(503, "storage_unavailable", "the database does not accept writes");
    }
    co_return json_response(200, R"({"status":"ready"})");
}

}  // namespace

// Plain functions that hand off to coroutines without `this`: GCC 12 miscompiled these as
// member coroutines whose by-value request went unused (the frame's `this` pointed into it).
net::awaitable<HttpResponse> HealthHandler::healthz(HttpRequest /*request*/) {
    return [](std::string body) -> net::awaitable<HttpResponse> {
        co_return json_response(200, std::move(body));
    }(R"({"status":"ok"})");
}

net::awaitable<HttpResponse> HealthHandler::readyz(HttpRequest /*request*/) {
    return check_ready(jobs_, stopping_);
}

}  // namespace seedhook::handlers
