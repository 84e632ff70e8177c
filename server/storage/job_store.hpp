#pragma once

/// Jobs and their callback deliveries. Reads run on a reader connection; writes join the
/// writer's next group commit and complete only once it is committed (synchronous per
/// DatabaseOptions). Every method returns to the caller's executor. Throws StorageError when
/// SQLite fails.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "common/asio.hpp"
#include "server/storage/database.hpp"
#include "server/storage/job_cache.hpp"
#include "server/storage/records.hpp"

namespace seedhook::storage {

/// Decides what a delivery does to a job: it may change `job` and returns the delivery row
/// to record (its outcome set). `event_seen` tells whether a delivery with the same provider
/// event id is already recorded for the job. Runs inside the write transaction on the
/// database thread.
using DeliveryDecider = std::function<CallbackRecord(JobRecord& job, bool event_seen)>;

/// What a provider's query answer (confirmation or polling) does, decided on the current
/// job inside the transaction.
struct Confirmation {
    bool conflict = false;                  ///< the provider disagreed: mark the callback so
    std::optional<CallbackRecord> poll_row;  ///< a provider answer that changed the job
};

using QueryDecider = std::function<Confirmation(JobRecord& job)>;

struct DeliveryResult {
    std::shared_ptr<const JobRecord> job;  ///< as committed: the object the cache now holds
    CallbackRecord delivery;
};

/// A page request of the job list, newest first.
struct JobFilter {
    std::optional<std::string> status;
    std::optional<std::string> provider;
    std::optional<std::string> model;
    std::size_t limit = 50;
    /// Continue after this (created_at, id) position, exclusive.
    std::optional<std::pair<std::int64_t, std::string>> after;
};

/// Counts for the metrics endpoint.
struct JobStats {
    std::vector<std::pair<std::string, std::int64_t>> by_status;
    std::int64_t due_for_poll = 0;
};

/// One batch of retention pruning.
struct PruneBatch {
    std::int64_t last_id = 0;  ///< continue after this delivery id
    std::int64_t pruned = 0;   ///< deliveries deleted in this batch
    bool more = false;         ///< older deliveries may follow
};

class JobStore {
public:
    /// What the cache of recently used jobs may hold, roughly (a few thousand jobs).
    static constexpr std::size_t kDefaultCacheBytes = std::size_t{8} << 20U;

    /// `db` must outlive the store. `cache_bytes` bounds the jobs `find` answers from memory.
    explicit JobStore(Database& db, std::size_t cache_bytes = kDefaultCacheBytes) : db_(db), cache_(cache_bytes) {}

    /// Called with a job's id after each committed write that may have changed it (on the
    /// writer's caller's executor). Set once, before the store is used.
    void on_job_written(std::function<void(const std::string& job_id)> listener) { on_written_ = std::move(listener); }

    /// Inserts `job`, unless it carries an idempotency key a stored job already has: then
    /// nothing is written and that job is returned.
    net::awaitable<std::optional<JobRecord>> insert(JobRecord job);
    /// The job as last committed: from the cache of recently used jobs, else from a reader;
    /// null when there is no such job. A job answered from the cache is the cache's own
    /// object (see JobCache::get); one read from the database is a new object each time.
    net::awaitable<std::shared_ptr<const JobRecord>> find(std::string id);
    /// Loads the job, lets `decide` apply the delivery, writes the job when it changed and the
    /// delivery row, all in one transaction. nullopt when the job does not exist.
    net::awaitable<std::optional<DeliveryResult>> record_delivery(
        std::string job_id,
        std::optional<std::string> event_id,
        DeliveryDecider decide
    );
    net::awaitable<std::vector<CallbackRecord>> deliveries(std::string job_id);
    /// Applies a query answer to a job in one transaction: the job as `decide` leaves it, the
    /// poll row if any, and callback `delivery_id` (0: none) marked `conflict` when the
    /// provider disagreed with it. Returns the job as written, nullopt when it does not exist.
    net::awaitable<std::optional<JobRecord>> record_query(std::string job_id, std::int64_t delivery_id, QueryDecider decide);
    /// Jobs whose next poll is due at `now_ms`, the most overdue first.
    net::awaitable<std::vector<JobRecord>> due_for_poll(std::int64_t now_ms, std::size_t limit);
    /// Jobs left in `submitting` that were created before `before_ms` (by a process that
    /// stopped mid-submission; younger ones may be in the hands of this process).
    net::awaitable<std::vector<JobRecord>> interrupted_submissions(std::int64_t before_ms);
    /// Up to filter.limit + 1 jobs matching `filter`, newest first (the extra one tells the
    /// caller there is a next page).
    net::awaitable<std::vector<JobRecord>> list(JobFilter filter);
    /// The stored value of setting `key`, created with `make()` when absent.
    net::awaitable<std::string> setting_or_create(std::string key, std::function<std::string()> make);
    /// Jobs by status, and how many are due to be polled at `now_ms`.
    net::awaitable<JobStats> stats(std::int64_t now_ms);
    /// Deletes up to `limit` deliveries (with their raw bodies) after id `after_id` received
    /// before `cutoff_ms`. Deliveries are visited in id order, which is arrival order; the
    /// batch stops at the first one that is not old enough. Jobs keep their counts.
    net::awaitable<PruneBatch> prune_deliveries(std::int64_t after_id, std::int64_t cutoff_ms, std::size_t limit);
    /// True when a write transaction can start now (readiness).
    net::awaitable<bool> writable();

private:
    void written(const std::string& job_id) const {
        if (on_written_) {
            on_written_(job_id);
        }
    }

    /// Inside a write: caches `job` once the write commits. Every write that changes a job
    /// calls it, which is how `current_job` knows what this batch has changed.
    void cache_when_committed(Connection& c, std::shared_ptr<const JobRecord> job);

    /// Inside a write: the job as this write's transaction sees it. From the cache when no
    /// earlier write of this batch changed the job (the cache then holds its last committed
    /// state: every commit's `put`s run before the next batch begins, and a reader's `fill`
    /// never replaces a newer one), else from the database.
    std::optional<JobRecord> current_job(Connection& c, const std::string& id);

    /// The jobs that writes of `c`'s current batch changed (or tried to, and rolled back).
    std::unordered_set<std::string>& changed_in(const Connection& c);

    // The writer thread's alone: the batch `changed_` belongs to, and its changed jobs.
    std::uint64_t changed_batch_ = 0;
    std::unordered_set<std::string> changed_;

    Database& db_;
    JobCache cache_;
    std::function<void(const std::string&)> on_written_;
};

}  // namespace seedhook::storage
