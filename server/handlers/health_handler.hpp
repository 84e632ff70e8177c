#pragma once

/// Operations routes (SPEC §2.3): liveness and readiness.

#include <atomic>

#include "common/asio.hpp"
#include "common/http_message.hpp"
#include "server/services/job_service.hpp"

namespace seedhook::handlers {

class HealthHandler {
public:
    /// `jobs` and `stopping` must outlive the handler; `stopping` turns readiness red.
    HealthHandler(services::JobService& jobs, const std::atomic<bool>& stopping)
        : jobs_(jobs), stopping_(stopping) {}

    /// GET /healthz
    net::awaitable<HttpResponse> healthz(HttpRequest request);
    /// GET /readyz
    net::awaitable<HttpResponse> readyz(HttpRequest request);

private:
    services::JobService& jobs_;
    const std::atomic<bool>& stopping_;
};

}  // namespace seedhook::handlers
