#include "server/handlers/metrics_handler.hpp"

#include <array>
#include <string_view>

namespace seedhook::handlers {

namespace {

constexpr std::array<std::string_view, 8> kStatuses = {
    "submitting", "queued", "running", "succeeded", "failed", "cancelled", "expired", "submit_failed"};

net::awaitable<HttpResponse> render_metrics(
    services::JobService& jobs,
    const Metrics& metrics,
    std::size_t connections
) {
    const auto stats = co_await jobs.stats();
    Metrics::Gauge by_status{"seedhook_jobs", "Jobs by status.", {}};
    for (const auto status : kStatuses) {
        double count = 0;
        for (const auto& [s, n] : stats.by_status) {
            count = s == status ? static_cast<double>(n) : count;
        }
        by_status.samples.emplace_back(Metrics::label("status", status), count);
    }
    const std::vector<Metrics::Gauge> gauges = {
        by_status,
        {"seedhook_polling_backlog", "Jobs whose provider query is due now.", {{"", static_cast<double>(stats.due_for_poll)}}},
        {"seedhook_open_connections", "Open HTTPS connections.", {{"", static_cast<double>(connections)}}},
    };
    HttpResponse r;
    r.body = metrics.render(gauges);
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    co_return r;
}

}  // namespace

// A plain function handing off to a coroutine with explicit arguments (see common/asio.hpp).
net::awaitable<HttpResponse> MetricsHandler::render(HttpRequest /*request*/) {
    return render_metrics(jobs_, metrics_, connections_());
}

}  // namespace seedhook::handlers
