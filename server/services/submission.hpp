#pragma once

/// Submitting a task to a provider with bounded retries (SPEC §2.1): connection failures, 429
/// and 5xx are retried with exponential backoff and full jitter, never sooner than a
/// Retry-After; at most `max_attempts` attempts whose waits add up to at most `max_total_wait`.
/// Only kUnavailable is retried (the request never reached the provider whole, or it said 429
/// or 5xx). Refusals (4xx), timeouts, bad answers and requests in doubt (sent whole, then no
/// answer: the provider may have the task already) are not.

#include <chrono>

#include "common/asio.hpp"
#include "server/providers/provider.hpp"

namespace seedhook::services {

struct RetryPolicy {
    int max_attempts = 10;
    std::chrono::milliseconds max_total_wait{30000};
    std::chrono::milliseconds base{500};  ///< the first wait's ceiling; doubles each time
    std::chrono::milliseconds cap{8000};  ///< the largest ceiling
};

/// Submits `request`; returns the provider's answer or throws the last ProviderError.
/// Waits on the calling coroutine's executor.
net::awaitable<providers::TaskUpdate> submit_with_retries(
    providers::Provider& provider,
    providers::SubmitRequest request,
    RetryPolicy policy
);

/// The ceiling of the wait before attempt `attempt + 1` (attempt counts from 1).
std::chrono::milliseconds backoff_ceiling(const RetryPolicy& policy, int attempt);

}  // namespace seedhook::services
