// JobService: confirming unsigned terminal callbacks by querying the provider (SPEC §2.2).
#include <boost/asio/steady_timer.hpp>

#include "common/error.hpp"
#include "common/log.hpp"
#include "server/services/job_service.hpp"

namespace seedhook::services {

void JobService::start_confirmation(
    const std::shared_ptr<providers::Provider>& provider,
    const storage::DeliveryResult& result,
    net::any_io_executor executor
) {
    const auto status = providers::parse_status(result.job->status);
    if (!status || !providers::is_terminal(*status) || !result.job->provider_task_id) {
        return;
    }
    // Runs after the callback was answered; owns copies of everything it needs.
    net::co_spawn(
        executor,
        confirm(provider, result.job->id, *result.job->provider_task_id, result.delivery.id),
        [job_id = result.job->id](std::exception_ptr e) {
            if (!e) {
                return;
            }
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& ex) {
                log::warn("confirm", "confirmation stopped", {{"job_id", job_id}, {"error", ex.what()}});
            }
        }
    );
}

net::awaitable<void> JobService::confirm(
    std::shared_ptr<providers::Provider> provider,
    std::string job_id,
    std::string task_id,
    std::int64_t delivery_id
) {
    auto executor = co_await net::this_coro::executor;
    for (const auto delay : options_.confirm_delays) {
        net::steady_timer timer(executor, delay);
        co_await timer.async_wait(kNoThrow);
        std::optional<providers::TaskUpdate> answer;
        try {
            answer = co_await provider->query(task_id);
        } catch (const providers::ProviderError& e) {
            log::warn("confirm", "confirmation query failed", {{"job_id", job_id}, {"provider", provider->name()}, {"error", e.what()}});
            continue;
        }
        if (!answer->status || !providers::is_terminal(*answer->status)) {
            continue;  // the provider has not caught up with its own callback yet
        }
        const std::int64_t now = options_.clock();
        bool conflict = false;
        storage::QueryDecider decide = [this, &answer, &conflict, now](storage::JobRecord& job) {
            auto verdict = confirm_with(job, *answer, now);
            schedule_poll(job, now, options_.polling, false);
            conflict = verdict.conflict;
            return verdict;
        };
        co_await store_.record_query(job_id, delivery_id, std::move(decide));
        log::info("confirm", conflict ? "provider disagreed with the callback; its answer wins" : "callback confirmed", {{"job_id", job_id}, {"provider", provider->name()}, {"provider_status", answer->provider_status}});
        co_return;
    }
    log::warn("confirm", "callback left unconfirmed: the provider gave no terminal answer", {{"job_id", job_id}, {"provider", provider->name()}});
}

}  // namespace seedhook::services
