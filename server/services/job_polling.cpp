// JobService: reconciliation. Jobs that got no final news in time are queried from their
// provider, several at once with a bounded number in flight; jobs a stopped process left in
// `submitting` are resolved at startup.
#include <atomic>

#include <boost/asio/experimental/awaitable_operators.hpp>

#include "common/error.hpp"
#include "common/log.hpp"
#include "server/services/job_service.hpp"

namespace seedhook::services {

using providers::JobStatus;

net::awaitable<std::size_t> JobService::recover_interrupted() {
    // This runs while the server already accepts: a job this process is submitting right now
    // (created since it started) is not interrupted.
    auto stuck = co_await store_.interrupted_submissions(started_at_);
    const std::int64_t now = options_.clock();
    for (const auto& job : stuck) {
        storage::QueryDecider decide = [now](storage::JobRecord& current) {
            if (current.status == providers::to_string(JobStatus::kSubmitting)) {
                current.status = std::string(providers::to_string(JobStatus::kSubmitFailed));
                current.error_code = std::string(kSubmissionInterrupted);
                current.error_message = "seedhook stopped while submitting; the provider may still have the task, and its callback is still accepted";
                current.completed_at = now;
                current.updated_at = now;
            }
            return storage::Confirmation{};
        };
        co_await store_.record_query(job.id, 0, std::move(decide));
        log::warn("jobs", "interrupted submission marked", {{"job_id", job.id}, {"provider", job.provider}});
    }
    co_return stuck.size();
}

net::awaitable<void> JobService::poll_one(storage::JobRecord job) {
    auto provider = provider_named(job.provider);
    if (!provider || !job.provider_task_id) {
        co_return;
    }
    std::optional<providers::TaskUpdate> answer;
    std::optional<std::int64_t> retry_after;
    try {
        answer = co_await provider->query(*job.provider_task_id);
    } catch (const providers::ProviderError& e) {
        log::warn("poll", "query failed", {{"job_id", job.id}, {"provider", job.provider}, {"error", e.what()}});
        if (e.retry_after) {
            retry_after = e.retry_after->count();
        }
    }
    const std::int64_t now = options_.clock();
    storage::QueryDecider decide = [&answer, retry_after, now, polling = options_.polling](storage::JobRecord& current) {
        storage::Confirmation verdict;
        if (answer && answer->task_id == current.provider_task_id &&
            apply_update(current, *answer, now) == Outcome::kApplied) {
            current.confirmed = answer->status && providers::is_terminal(*answer->status);
            storage::CallbackRecord row;
            row.received_at = now;
            row.source = "poll";
            row.outcome = std::string(to_string(Outcome::kApplied));
            row.provider_status = answer->provider_status;
            row.body = answer->raw_body.empty() ? "{}" : answer->raw_body;
            verdict.poll_row = std::move(row);
        }
        schedule_poll(current, now, polling, true, true, retry_after);
        return verdict;
    };
    try {
        co_await store_.record_query(job.id, 0, std::move(decide));
    } catch (const StorageError& e) {
        log::error("poll", "cannot store a query answer", {{"job_id", job.id}, {"error", e.what()}});
    }
}

net::awaitable<std::size_t> JobService::poll_due(std::size_t batch) {
    using namespace boost::asio::experimental::awaitable_operators;  // NOLINT(google-build-using-namespace)
    auto due = co_await store_.due_for_poll(options_.clock(), batch);
    if (due.empty()) {
        co_return 0;
    }
    // A few workers share one queue: many jobs in parallel, a bounded number of queries in flight.
    auto next = std::make_shared<std::atomic<std::size_t>>(0);
    auto worker = [this, next, &due]() -> net::awaitable<void> {
        for (auto i = next->fetch_add(1); i < due.size(); i = next->fetch_add(1)) {
            co_await poll_one(due[i]);
        }
    };
    auto w1 = worker();
    auto w2 = worker();
    auto w3 = worker();
    auto w4 = worker();
    co_await (std::move(w1) && std::move(w2) && std::move(w3) && std::move(w4));
    co_return due.size();
}

}  // namespace seedhook::services
