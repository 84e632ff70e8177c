#include "server/services/job_state.hpp"

#include <algorithm>

namespace seedhook::services {

using providers::JobStatus;

namespace {

int rank(JobStatus s) {
    switch (s) {
        case JobStatus::kSubmitting:
            return 0;
        case JobStatus::kQueued:
            return 1;
        case JobStatus::kRunning:
            return 2;
        default:
            return 3;  // every terminal state
    }
}

void apply_fields(storage::JobRecord& job, const providers::TaskUpdate& u, JobStatus next, std::int64_t now) {
    job.status = std::string(providers::to_string(next));
    job.provider_status = u.provider_status;
    job.progress = std::max(job.progress, u.progress.value_or(0));
    if (next == JobStatus::kSucceeded) {
        job.progress = 100;
    }
    if (u.video_url) {
        job.video_url = u.video_url;
    }
    if (u.last_frame_url) {
        job.last_frame_url = u.last_frame_url;
    }
    if (u.video_url_expires_at) {
        job.video_url_expires_at = u.video_url_expires_at;
    }
    if (u.error_code || u.error_message) {
        job.error_code = u.error_code.value_or(std::string(u.provider_status));
        job.error_message = u.error_message.value_or("");
    }
    if (providers::is_terminal(next)) {
        job.completed_at = now;
    }
    job.updated_at = now;
}

}  // namespace

std::string_view to_string(Outcome outcome) {
    switch (outcome) {
        case Outcome::kApplied:
            return "applied";
        case Outcome::kDuplicate:
            return "duplicate";
        case Outcome::kStale:
            return "stale";
        case Outcome::kConflict:
            return "conflict";
        case Outcome::kRejected:
            return "rejected";
    }
    return "rejected";
}

bool awaits_adoption(const storage::JobRecord& job) {
    if (job.status != providers::to_string(JobStatus::kSubmitFailed) || job.provider_task_id || !job.error_code) {
        return false;
    }
    const std::string_view code = *job.error_code;
    return code == kSubmissionInterrupted || code == kProviderInDoubt || code == kProviderBadAnswer;
}

Outcome apply_update(storage::JobRecord& job, const providers::TaskUpdate& u, std::int64_t now_ms) {
    const auto current = providers::parse_status(job.status);
    if (!u.status || !current) {
        return Outcome::kRejected;  // a provider word we do not know changes nothing
    }
    const JobStatus next = *u.status;
    if (providers::is_terminal(*current)) {
        if (next == *current) {
            return Outcome::kDuplicate;
        }
        return providers::is_terminal(next) ? Outcome::kConflict : Outcome::kStale;
    }
    if (rank(next) < rank(*current)) {
        return Outcome::kStale;
    }
    if (rank(next) == rank(*current)) {
        if (u.progress && *u.progress > job.progress) {
            job.progress = *u.progress;
            job.provider_status = u.provider_status;
            job.updated_at = now_ms;
            return Outcome::kApplied;
        }
        return Outcome::kDuplicate;
    }
    apply_fields(job, u, next, now_ms);
    return Outcome::kApplied;
}

void schedule_poll(
    storage::JobRecord& job,
    std::int64_t now_ms,
    const PollPolicy& policy,
    bool after_poll,
    bool expects_callback,
    std::optional<std::int64_t> retry_after_ms
) {
    constexpr std::int64_t kFirstQueryWithoutCallbacksMs = 5000;
    const auto status = providers::parse_status(job.status);
    if (!policy.enabled || !job.provider_task_id || !status || providers::is_terminal(*status)) {
        job.next_poll_at.reset();
        return;
    }
    if (!after_poll) {
        const std::int64_t wait = expects_callback ? policy.grace_ms : std::min(kFirstQueryWithoutCallbacksMs, policy.interval_ms);
        const std::int64_t due = now_ms + wait;
        // A deadline within a quarter of the wait before the new one stays: a stream of
        // progress callbacks would otherwise move the job's entry in the poll index (a page
        // written to the WAL) on every callback, to save a poll that comes at most that early.
        const bool close_enough = job.next_poll_at && *job.next_poll_at <= due &&
                                  due - *job.next_poll_at <= wait / 4 && job.poll_interval_ms == policy.interval_ms;
        if (!close_enough) {
            job.next_poll_at = due;
        }
        job.poll_interval_ms = policy.interval_ms;
        return;
    }
    const std::int64_t interval = std::max<std::int64_t>(1, job.poll_interval_ms.value_or(policy.interval_ms));
    job.next_poll_at = now_ms + std::max(interval, retry_after_ms.value_or(0));
    job.poll_interval_ms = std::min(policy.max_interval_ms, interval + interval / 2);
}

storage::Confirmation confirm_with(
    storage::JobRecord& job,
    const providers::TaskUpdate& answer,
    std::int64_t now_ms
) {
    storage::Confirmation verdict;
    storage::CallbackRecord row;
    row.received_at = now_ms;
    row.source = "poll";
    row.provider_status = answer.provider_status;
    row.body = answer.raw_body.empty() ? "{}" : answer.raw_body;
    const auto current = providers::parse_status(job.status);
    if (!current || !answer.status) {
        return verdict;
    }
    if (*current == *answer.status) {
        job.confirmed = true;
        if (!job.video_url && answer.video_url) {
            job.video_url = answer.video_url;
        }
        job.updated_at = now_ms;
        return verdict;
    }
    if (!providers::is_terminal(*current)) {
        // News the callbacks had not brought yet: an ordinary forward step.
        if (apply_update(job, answer, now_ms) == Outcome::kApplied) {
            job.confirmed = providers::is_terminal(*answer.status);
            row.outcome = std::string(to_string(Outcome::kApplied));
            verdict.poll_row = row;
        }
        return verdict;
    }
    // Two different terminal words: the provider's own answer wins over the callback.
    job.video_url = answer.video_url;
    job.last_frame_url = answer.last_frame_url;
    job.video_url_expires_at = answer.video_url_expires_at;
    job.error_code = answer.error_code;
    job.error_message = answer.error_message;
    if (answer.error_code || answer.error_message) {
        job.error_code = answer.error_code.value_or(answer.provider_status);
        job.error_message = answer.error_message.value_or("");
    }
    job.status = std::string(providers::to_string(*answer.status));
    job.provider_status = answer.provider_status;
    job.progress = *answer.status == JobStatus::kSucceeded ? 100 : std::max(job.progress, answer.progress.value_or(0));
    job.completed_at = now_ms;
    job.updated_at = now_ms;
    job.confirmed = true;
    row.outcome = std::string(to_string(Outcome::kApplied));
    verdict.poll_row = row;
    verdict.conflict = true;
    return verdict;
}

}  // namespace seedhook::services
