#pragma once

/// Jobs: creation and submission to the provider, reads, and callback deliveries.
///
/// Runs on any I/O executor; storage work hops to the database thread and comes back.
/// Throws ServiceError for every refusal a client should see.

#include <atomic>
#include <cstdint>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include "common/asio.hpp"
#include "common/crypto.hpp"
#include "server/providers/provider.hpp"
#include "server/services/job_state.hpp"
#include "server/services/job_watch.hpp"
#include "server/services/request_validator.hpp"
#include "server/services/submission.hpp"
#include "server/storage/job_store.hpp"

namespace seedhook::services {

struct JobServiceOptions {
    std::string public_base_url;  ///< no trailing slash
    std::string callback_secret;
    std::size_t max_metadata_bytes = 4096;
    std::function<std::int64_t()> clock;  ///< unix ms; default: the system clock
    RetryPolicy submit_retry;
    PollPolicy polling;
    Metrics* metrics = nullptr;  ///< counts deliveries when set; must outlive the service
    /// Waits before each confirmation query; a non-terminal answer is asked again after the next.
    std::vector<std::chrono::milliseconds> confirm_delays{
        std::chrono::milliseconds(0),
        std::chrono::seconds(1),
        std::chrono::seconds(2),
        std::chrono::seconds(4),
        std::chrono::seconds(8)};
};

/// A callback as it arrived.
struct CallbackInput {
    std::string provider;
    std::string job_id;
    std::string token;
    std::string body;
    HttpHeaders headers;
};

/// The outcome of a create call.
struct CreatedJob {
    storage::JobRecord job;
    bool replayed = false;  ///< an earlier job under the same Idempotency-Key
};

/// A page of the job list.
struct JobPage {
    std::vector<storage::JobRecord> jobs;
    std::optional<std::string> next_cursor;  ///< absent on the last page
};

/// A list request as the caller sent it (strings still unchecked).
struct JobListQuery {
    std::optional<std::string> status;
    std::optional<std::string> provider;
    std::optional<std::string> model;
    std::optional<std::string> limit;
    std::optional<std::string> cursor;
};

/// What a delivery did once committed; `ignored` for provider events that carry no task news
/// (answered 2xx, recorded nowhere).
struct CallbackAck {
    Outcome outcome = Outcome::kRejected;
    bool ignored = false;
    std::shared_ptr<const storage::JobRecord> job;  ///< as committed; null when ignored
};

class JobService {
public:
    /// `store` must outlive the service.
    JobService(
        storage::JobStore& store,
        std::vector<std::shared_ptr<providers::Provider>> providers,
        JobServiceOptions options
    );

    /// Validates, commits the job, submits it and stores the provider's answer. With an
    /// idempotency key already used for the same request, returns that job instead
    /// (`replayed`); for a different request, throws kConflict.
    net::awaitable<CreatedJob> create(JobInput input);

    /// The job as last committed (never null; kNotFound when there is none). Shared and never
    /// modified, see storage::JobStore::find.
    net::awaitable<std::shared_ptr<const storage::JobRecord>> get(std::string id);

    /// Jobs newest first, filtered and cursor-paged. Throws ServiceError kInvalid naming the
    /// bad parameter.
    net::awaitable<JobPage> list(JobListQuery query);

    /// Every delivery recorded for job `id` (404 when the job is unknown).
    net::awaitable<std::vector<storage::CallbackRecord>> deliveries(std::string id);

    /// Verifies the token, reads the payload and commits the delivery before returning.
    net::awaitable<CallbackAck> receive_callback(CallbackInput input);

    /// The capability token of a job's callback URL (SPEC §2.2).
    std::string callback_token(std::string_view provider, std::string_view job_id) const;

    /// The callback URL handed to the provider for a job.
    std::string callback_url(std::string_view provider, std::string_view job_id) const;

    /// Marks jobs left in `submitting` by a stopped process (created before this service) as
    /// submit_failed
    /// (`submission_interrupted`); a later callback for one of them is still adopted
    /// (awaits_adoption).
    /// Returns how many there were.
    net::awaitable<std::size_t> recover_interrupted();

    /// Queries the provider of every job whose poll is due (at most `batch`, four queries in
    /// flight) and records what changed. Returns how many were queried.
    net::awaitable<std::size_t> poll_due(std::size_t batch);

    /// Retention: deletes the deliveries (raw bodies included) received more than `max_age`
    /// ago, in small batches (each its own short write, so callbacks are not held up).
    /// Returns how many were deleted.
    net::awaitable<std::int64_t> prune_old_deliveries(std::chrono::milliseconds max_age);

    /// Jobs by status and the polling backlog, for the metrics endpoint.
    net::awaitable<storage::JobStats> stats();

    /// True when storage accepts writes.
    net::awaitable<bool> ready();

    /// Long-poll: subscribers are woken by every committed write to their job.
    JobWatch& watch() { return watch_; }

private:
    struct Resolved {
        std::shared_ptr<providers::Provider> provider;
        const providers::ModelSpec* model;
    };

    Resolved resolve(const JobInput& input) const;
    /// now, or 1 ms after the previous job's created_at when the clock has not moved on.
    std::int64_t next_created_at();
    std::shared_ptr<providers::Provider> provider_named(std::string_view name) const;
    /// Queries the provider after an unsigned terminal callback and records its verdict.
    net::awaitable<void> confirm(
        std::shared_ptr<providers::Provider> provider,
        std::string job_id,
        std::string task_id,
        std::int64_t delivery_id
    );
    net::awaitable<void> poll_one(storage::JobRecord job);
    void start_confirmation(
        const std::shared_ptr<providers::Provider>& provider,
        const storage::DeliveryResult& result,
        net::any_io_executor executor
    );
    net::awaitable<storage::JobRecord> submit(
        storage::JobRecord job,
        providers::Provider& provider,
        providers::VideoRequest request
    );

    storage::JobStore& store_;
    std::vector<std::shared_ptr<providers::Provider>> providers_;
    JobServiceOptions options_;
    crypto::HmacSha256 token_key_;  ///< options_.callback_secret, set up once
    JobWatch watch_;
    std::int64_t started_at_ = 0;  ///< unix ms; jobs created before it are another process's
    /// The last job's created_at: each job gets a later one than the job before it (1 ms on
    /// when the clock has not moved), so that "newest first" is the order of creation.
    std::atomic<std::int64_t> last_created_at_{0};
};

/// True when `id` has the form of a job id ("job_" and 32 lowercase hex digits).
bool is_job_id(std::string_view id);

}  // namespace seedhook::services
