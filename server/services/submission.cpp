#include "server/services/submission.hpp"

#include <algorithm>
#include <random>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>

#include "common/log.hpp"

namespace seedhook::services {

using providers::ProviderError;

namespace {

std::chrono::milliseconds jitter(std::chrono::milliseconds ceiling) {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    std::uniform_int_distribution<std::int64_t> pick(0, std::max<std::int64_t>(0, ceiling.count()));
    return std::chrono::milliseconds(pick(rng));
}

}  // namespace

std::chrono::milliseconds backoff_ceiling(const RetryPolicy& policy, int attempt) {
    auto ceiling = policy.base;
    for (int i = 1; i < attempt && ceiling < policy.cap; ++i) {
        ceiling *= 2;
    }
    return std::min(ceiling, policy.cap);
}

net::awaitable<providers::TaskUpdate> submit_with_retries(
    providers::Provider& provider,
    providers::SubmitRequest request,
    RetryPolicy policy
) {
    std::chrono::milliseconds waited{0};
    for (int attempt = 1;; ++attempt) {
        std::optional<ProviderError> failure;
        try {
            auto task = co_await provider.submit(request);
            co_return task;
        } catch (const ProviderError& e) {
            failure = e;
        }
        // Only answers that prove the task was not created are worth another attempt.
        if (failure->kind() != ProviderError::Kind::kUnavailable || attempt >= policy.max_attempts) {
            throw *failure;
        }
        auto delay = jitter(backoff_ceiling(policy, attempt));
        if (failure->retry_after) {
            delay = std::max(delay, *failure->retry_after);
        }
        if (waited + delay > policy.max_total_wait) {
            throw *failure;
        }
        waited += delay;
        log::warn("jobs", "provider unavailable, retrying", {{"job_id", request.job_id}, {"provider", provider.name()}, {"attempt", static_cast<std::int64_t>(attempt)}, {"delay_ms", static_cast<std::int64_t>(delay.count())}, {"error", failure->what()}});
        auto executor = co_await net::this_coro::executor;
        net::steady_timer timer(executor, delay);
        co_await timer.async_wait(kNoThrow);
    }
}

}  // namespace seedhook::services
