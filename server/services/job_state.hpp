#pragma once

/// The job state machine (SPEC §2.1) as a pure function: statuses only move forward,
/// terminal states are sticky, progress never falls.

#include <cstdint>
#include <string_view>

#include "server/providers/provider.hpp"
#include "server/storage/job_store.hpp"
#include "server/storage/records.hpp"

namespace seedhook::services {

/// What a delivery did to its job.
enum class Outcome { kApplied, kDuplicate, kStale, kConflict, kRejected };

std::string_view to_string(Outcome outcome);

/// Error codes of a submission that ended without a task id although the provider may have
/// created the task: the process stopped while submitting, the request was sent whole but no
/// answer came back, or the provider said 2xx with something that is not a task.
inline constexpr std::string_view kSubmissionInterrupted = "submission_interrupted";
inline constexpr std::string_view kProviderInDoubt = "provider_in_doubt";
inline constexpr std::string_view kProviderBadAnswer = "provider_bad_answer";

/// True for a `submit_failed` job with no task id whose provider may have the task anyway
/// (the codes above): a callback for it (its URL token names this job) is adopted, moving the
/// job to what the callback says, rather than refused.
bool awaits_adoption(const storage::JobRecord& job);

/// Applies `update` to `job` at time `now_ms`. The job changes only when the outcome is
/// kApplied: a later status, or more progress in the same status.
Outcome apply_update(storage::JobRecord& job, const providers::TaskUpdate& update, std::int64_t now_ms);

/// When jobs without final news are queried from their provider (SPEC §3 polling.*).
struct PollPolicy {
    bool enabled = true;
    std::int64_t grace_ms = 30000;
    std::int64_t interval_ms = 10000;
    std::int64_t max_interval_ms = 120000;
};

/// Sets when `job` is next polled: never once terminal, without a task id or with polling
/// off; `grace_ms` after news (submission, a callback) when a callback is expected, else
/// soon (min(5 s, interval)), keeping a deadline already within a quarter of that wait of the
/// new one; after a poll, the job's interval, which then grows by half up
/// to the maximum, and never sooner than `retry_after_ms`.
void schedule_poll(
    storage::JobRecord& job,
    std::int64_t now_ms,
    const PollPolicy& policy,
    bool after_poll,
    bool expects_callback = true,
    std::optional<std::int64_t> retry_after_ms = std::nullopt
);

/// The provider's terminal answer to a confirmation query (SPEC §2.2), applied to `job`.
/// Agreement marks the job `confirmed`; a different terminal status wins over what the
/// callback said. Returns what to record; `answer` must carry a terminal status.
storage::Confirmation confirm_with(
    storage::JobRecord& job,
    const providers::TaskUpdate& answer,
    std::int64_t now_ms
);

}  // namespace seedhook::services
