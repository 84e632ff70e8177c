#pragma once

/// GET /metrics: the Prometheus text format (SPEC §2.3).

#include <cstddef>
#include <functional>

#include "common/asio.hpp"
#include "common/http_message.hpp"
#include "common/metrics.hpp"
#include "server/services/job_service.hpp"

namespace seedhook::handlers {

class MetricsHandler {
public:
    /// `jobs` and `metrics` must outlive the handler; `connections` reads the open count.
    MetricsHandler(services::JobService& jobs, Metrics& metrics, std::function<std::size_t()> connections)
        : jobs_(jobs), metrics_(metrics), connections_(std::move(connections)) {}

    /// GET /metrics
    net::awaitable<HttpResponse> render(HttpRequest request);

private:
    services::JobService& jobs_;
    Metrics& metrics_;
    std::function<std::size_t()> connections_;
};

}  // namespace seedhook::handlers
