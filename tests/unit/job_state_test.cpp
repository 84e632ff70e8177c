#include "server/services/job_state.hpp"

#include <optional>
#include <string>

#include <gtest/gtest.h>

using seedhook::providers::JobStatus;
using seedhook::providers::TaskUpdate;
using seedhook::services::apply_update;
using seedhook::services::awaits_adoption;
using seedhook::services::Outcome;
using seedhook::storage::JobRecord;

namespace {

constexpr std::int64_t kCreated = 1'700'000'000'000;
constexpr std::int64_t kLater = kCreated + 60'000;
constexpr const char* kVideo = "https://cdn.example.com/videos/task-1.mp4";

JobRecord job_in(std::string status, std::int64_t progress = 0) {
    JobRecord job;
    job.id = "job_1";
    job.provider = "evolink";
    job.model = "seedance-1.5-pro";
    job.provider_task_id = "task-unified-1";
    job.status = std::move(status);
    job.progress = progress;
    job.request_json = "{}";
    job.metadata_json = "null";
    job.created_at = kCreated;
    job.updated_at = kCreated;
    return job;
}

TaskUpdate update(
    std::optional<JobStatus> status,
    std::string provider_status,
    std::optional<std::int64_t> progress = {}
) {
    TaskUpdate u;
    u.task_id = "task-unified-1";
    u.provider_status = std::move(provider_status);
    u.status = status;
    u.progress = progress;
    return u;
}

TaskUpdate succeeded() {
    TaskUpdate u = update(JobStatus::kSucceeded, "completed", 100);
    u.video_url = kVideo;
    return u;
}

/// Every field a user can see through GET /v1/jobs/{id}.
void expect_same(const JobRecord& a, const JobRecord& b) {
    EXPECT_EQ(a.status, b.status);
    EXPECT_EQ(a.provider_status, b.provider_status);
    EXPECT_EQ(a.progress, b.progress);
    EXPECT_EQ(a.video_url, b.video_url);
    EXPECT_EQ(a.last_frame_url, b.last_frame_url);
    EXPECT_EQ(a.error_code, b.error_code);
    EXPECT_EQ(a.error_message, b.error_message);
    EXPECT_EQ(a.completed_at, b.completed_at);
    EXPECT_EQ(a.updated_at, b.updated_at);
}

}  // namespace

TEST(JobState, QueuedToRunningIsApplied) {
    JobRecord job = job_in("queued");
    EXPECT_EQ(
        apply_update(job, update(JobStatus::kRunning, "processing", 30), kLater), Outcome::kApplied
    );
    EXPECT_EQ(job.status, "running");
    EXPECT_EQ(job.provider_status, "processing");
    EXPECT_EQ(job.progress, 30);
    EXPECT_EQ(job.updated_at, kLater);
    EXPECT_FALSE(job.completed_at.has_value());
}

TEST(JobState, RunningToSucceededSetsProgressVideoAndCompletion) {
    JobRecord job = job_in("running", 40);
    TaskUpdate u = update(JobStatus::kSucceeded, "completed");  // no progress in the payload
    u.video_url = kVideo;
    EXPECT_EQ(apply_update(job, u, kLater), Outcome::kApplied);
    EXPECT_EQ(job.status, "succeeded");
    EXPECT_EQ(job.provider_status, "completed");
    EXPECT_EQ(job.progress, 100);
    EXPECT_EQ(job.video_url, kVideo);
    EXPECT_EQ(job.completed_at, kLater);
    EXPECT_EQ(job.updated_at, kLater);
}

TEST(JobState, SucceededKeepsExpiryAndLastFrame) {
    JobRecord job = job_in("running", 40);
    TaskUpdate u = succeeded();
    u.last_frame_url = "https://cdn.example.com/last.png";
    u.video_url_expires_at = kLater + 86'400'000;
    EXPECT_EQ(apply_update(job, u, kLater), Outcome::kApplied);
    EXPECT_EQ(job.last_frame_url, "https://cdn.example.com/last.png");
    EXPECT_EQ(job.video_url_expires_at, kLater + 86'400'000);
}

TEST(JobState, LateRunningAfterSucceededIsStaleAndChangesNothing) {
    JobRecord job = job_in("running", 40);
    ASSERT_EQ(apply_update(job, succeeded(), kLater), Outcome::kApplied);
    const JobRecord before = job;
    EXPECT_EQ(
        apply_update(job, update(JobStatus::kRunning, "processing", 80), kLater + 1000),
        Outcome::kStale
    );
    expect_same(job, before);
    EXPECT_EQ(job.status, "succeeded");
    EXPECT_EQ(job.progress, 100);
}

TEST(JobState, LateQueuedAfterRunningIsStale) {
    JobRecord job = job_in("running", 20);
    const JobRecord before = job;
    EXPECT_EQ(apply_update(job, update(JobStatus::kQueued, "pending"), kLater), Outcome::kStale);
    expect_same(job, before);
}

TEST(JobState, SameTerminalStatusTwiceIsDuplicate) {
    JobRecord job = job_in("running", 40);
    ASSERT_EQ(apply_update(job, succeeded(), kLater), Outcome::kApplied);
    const JobRecord before = job;
    EXPECT_EQ(apply_update(job, succeeded(), kLater + 1000), Outcome::kDuplicate);
    expect_same(job, before);
    EXPECT_EQ(job.completed_at, kLater);
}

TEST(JobState, DifferentTerminalStatusIsConflictAndDoesNotOverwrite) {
    JobRecord job = job_in("running", 40);
    ASSERT_EQ(apply_update(job, succeeded(), kLater), Outcome::kApplied);
    const JobRecord before = job;
    TaskUpdate failed = update(JobStatus::kFailed, "failed");
    failed.error_code = "500";
    failed.error_message = "internal error";
    EXPECT_EQ(apply_update(job, failed, kLater + 1000), Outcome::kConflict);
    expect_same(job, before);
    EXPECT_EQ(job.status, "succeeded");
    EXPECT_FALSE(job.error_code.has_value());
}

TEST(JobState, ProgressNeverFalls) {
    JobRecord job = job_in("queued");
    ASSERT_EQ(
        apply_update(job, update(JobStatus::kRunning, "processing", 60), kLater), Outcome::kApplied
    );
    EXPECT_EQ(
        apply_update(job, update(JobStatus::kRunning, "processing", 40), kLater + 1000),
        Outcome::kDuplicate
    );
    EXPECT_EQ(job.progress, 60);
    EXPECT_EQ(job.updated_at, kLater);
}

TEST(JobState, SameStatusWithMoreProgressIsApplied) {
    JobRecord job = job_in("running", 40);
    EXPECT_EQ(
        apply_update(job, update(JobStatus::kRunning, "processing", 70), kLater), Outcome::kApplied
    );
    EXPECT_EQ(job.status, "running");
    EXPECT_EQ(job.progress, 70);
    EXPECT_EQ(job.updated_at, kLater);
}

TEST(JobState, SameStatusWithoutProgressIsDuplicate) {
    JobRecord job = job_in("running", 40);
    EXPECT_EQ(
        apply_update(job, update(JobStatus::kRunning, "processing"), kLater), Outcome::kDuplicate
    );
    EXPECT_EQ(job.progress, 40);
}

TEST(JobState, MovingForwardNeverLowersProgress) {
    JobRecord job = job_in("queued", 50);
    EXPECT_EQ(
        apply_update(job, update(JobStatus::kRunning, "processing", 10), kLater), Outcome::kApplied
    );
    EXPECT_EQ(job.status, "running");
    EXPECT_EQ(job.progress, 50);
}

TEST(JobState, FailureSetsErrorCodeAndMessage) {
    JobRecord job = job_in("running", 30);
    TaskUpdate failed = update(JobStatus::kFailed, "failed");
    failed.error_code = "content_policy_violation";
    failed.error_message = "the prompt was refused";
    EXPECT_EQ(apply_update(job, failed, kLater), Outcome::kApplied);
    EXPECT_EQ(job.status, "failed");
    EXPECT_EQ(job.error_code, "content_policy_violation");
    EXPECT_EQ(job.error_message, "the prompt was refused");
    EXPECT_EQ(job.completed_at, kLater);
    EXPECT_FALSE(job.video_url.has_value());
    EXPECT_EQ(job.progress, 30);
}

TEST(JobState, UnknownStatusIsRejectedAndChangesNothing) {
    JobRecord job = job_in("running", 30);
    const JobRecord before = job;
    EXPECT_EQ(apply_update(job, update(std::nullopt, "mystery", 90), kLater), Outcome::kRejected);
    expect_same(job, before);
}

TEST(JobState, SubmittingToSucceededDirectlyIsApplied) {
    JobRecord job = job_in("submitting");
    EXPECT_EQ(apply_update(job, succeeded(), kLater), Outcome::kApplied);
    EXPECT_EQ(job.status, "succeeded");
    EXPECT_EQ(job.progress, 100);
    EXPECT_EQ(job.video_url, kVideo);
}

TEST(JobState, CancelledAfterFailedIsConflict) {
    JobRecord job = job_in("failed");
    const JobRecord before = job;
    EXPECT_EQ(
        apply_update(job, update(JobStatus::kCancelled, "cancelled"), kLater), Outcome::kConflict
    );
    expect_same(job, before);
}

TEST(JobState, OutcomeWordsMatchTheCallbacksListing) {
    using seedhook::services::to_string;
    EXPECT_EQ(to_string(Outcome::kApplied), "applied");
    EXPECT_EQ(to_string(Outcome::kDuplicate), "duplicate");
    EXPECT_EQ(to_string(Outcome::kStale), "stale");
    EXPECT_EQ(to_string(Outcome::kConflict), "conflict");
    EXPECT_EQ(to_string(Outcome::kRejected), "rejected");
}

namespace {

using seedhook::services::confirm_with;
using seedhook::services::PollPolicy;
using seedhook::services::schedule_poll;

const PollPolicy kPolicy{true, 30'000, 10'000, 120'000};

TEST(SchedulePoll, FirstPollWaitsTheGraceAfterNews) {
    JobRecord job = job_in("queued");
    schedule_poll(job, kLater, kPolicy, false);
    EXPECT_EQ(job.next_poll_at, kLater + 30'000);
    EXPECT_EQ(job.poll_interval_ms, 10'000);
}

TEST(SchedulePoll, NewsInQuickSuccessionMovesTheDeadlineOnlyOnceItIsAQuarterOfTheGraceBehind) {
    JobRecord job = job_in("running");
    schedule_poll(job, kLater, kPolicy, false);
    schedule_poll(job, kLater + 7'000, kPolicy, false);  // 7 s of the 30 s grace: kept
    EXPECT_EQ(job.next_poll_at, kLater + 30'000);
    schedule_poll(job, kLater + 7'600, kPolicy, false);  // over 7.5 s behind: moved
    EXPECT_EQ(job.next_poll_at, kLater + 37'600);
    // after a poll, news sets the grace deadline again, and the interval back
    schedule_poll(job, kLater + 8'000, kPolicy, true);
    schedule_poll(job, kLater + 8'000, kPolicy, false);
    EXPECT_EQ(job.next_poll_at, kLater + 38'000);
    EXPECT_EQ(job.poll_interval_ms, 10'000);
}

TEST(SchedulePoll, WithoutCallbacksTheFirstPollComesSoon) {
    JobRecord job = job_in("queued");
    schedule_poll(job, kLater, kPolicy, false, false);
    EXPECT_EQ(job.next_poll_at, kLater + 5'000);
}

TEST(SchedulePoll, IntervalGrowsByHalfUpToTheMaximum) {
    JobRecord job = job_in("running");
    schedule_poll(job, kLater, kPolicy, false);
    std::vector<std::int64_t> waits;
    for (int i = 0; i < 8; ++i) {
        schedule_poll(job, kLater, kPolicy, true);
        waits.push_back(*job.next_poll_at - kLater);
    }
    EXPECT_EQ(waits, (std::vector<std::int64_t>{10'000, 15'000, 22'500, 33'750, 50'625, 75'937, 113'905, 120'000}));
}

TEST(SchedulePoll, RetryAfterIsHonoured) {
    JobRecord job = job_in("running");
    schedule_poll(job, kLater, kPolicy, false);
    schedule_poll(job, kLater, kPolicy, true, true, 90'000);
    EXPECT_EQ(job.next_poll_at, kLater + 90'000);
}

TEST(SchedulePoll, TerminalJobsTaskLessJobsAndDisabledPollingAreNeverPolled) {
    JobRecord done = job_in("succeeded");
    done.next_poll_at = 1;
    schedule_poll(done, kLater, kPolicy, true);
    EXPECT_FALSE(done.next_poll_at);
    JobRecord no_task = job_in("submitting");
    no_task.provider_task_id.reset();
    schedule_poll(no_task, kLater, kPolicy, false);
    EXPECT_FALSE(no_task.next_poll_at);
    JobRecord off = job_in("queued");
    schedule_poll(off, kLater, PollPolicy{false, 1, 1, 1}, false);
    EXPECT_FALSE(off.next_poll_at);
}

TEST(ConfirmWith, AgreementMarksTheJobConfirmedAndRecordsNothing) {
    JobRecord job = job_in("queued");
    ASSERT_EQ(apply_update(job, succeeded(), kLater), Outcome::kApplied);
    auto verdict = confirm_with(job, succeeded(), kLater + 1);
    EXPECT_TRUE(job.confirmed);
    EXPECT_FALSE(verdict.conflict);
    EXPECT_FALSE(verdict.poll_row);
    EXPECT_EQ(job.status, "succeeded");
}

TEST(ConfirmWith, ADifferentTerminalAnswerWinsAndIsAConflict) {
    JobRecord job = job_in("queued");
    TaskUpdate failed = update(JobStatus::kFailed, "failed");
    failed.error_code = "500";
    ASSERT_EQ(apply_update(job, failed, kLater), Outcome::kApplied);
    auto verdict = confirm_with(job, succeeded(), kLater + 1);
    EXPECT_TRUE(verdict.conflict);
    ASSERT_TRUE(verdict.poll_row);
    EXPECT_EQ(verdict.poll_row->source, "poll");
    EXPECT_EQ(verdict.poll_row->outcome, "applied");
    EXPECT_EQ(job.status, "succeeded");
    EXPECT_EQ(job.video_url, kVideo);
    EXPECT_FALSE(job.error_code);
    EXPECT_EQ(job.progress, 100);
    EXPECT_TRUE(job.confirmed);
}

TEST(AwaitsAdoption, OnlyFailedSubmissionsThatTheProviderMayHaveAreAdopted) {
    JobRecord job = job_in("submit_failed");
    job.provider_task_id.reset();
    for (const char* code : {"submission_interrupted", "provider_in_doubt", "provider_bad_answer"}) {
        job.error_code = code;
        EXPECT_TRUE(awaits_adoption(job)) << code;
    }
    // Refused, or never sent whole: the provider cannot have the task.
    for (const char* code : {"provider_rejected", "provider_unavailable", "provider_timeout"}) {
        job.error_code = code;
        EXPECT_FALSE(awaits_adoption(job)) << code;
    }
    job.error_code = "provider_in_doubt";
    job.provider_task_id = "task-unified-1";  // it has a task already
    EXPECT_FALSE(awaits_adoption(job));
    job.provider_task_id.reset();
    job.status = "queued";
    EXPECT_FALSE(awaits_adoption(job));
}

}  // namespace
