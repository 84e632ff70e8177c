#pragma once

/// Jobs and their callback deliveries. Every method runs on the database thread and returns
/// to the caller's executor; writes are transactions that are committed (synchronous per
/// DatabaseOptions) before the awaitable completes. Throws StorageError when SQLite fails.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/asio.hpp"
#include "server/storage/database.hpp"
#include "server/storage/records.hpp"

namespace seedhook::storage {

/// Decides what a delivery does to a job: it may change `job` and returns the delivery row
/// to record (its outcome set). Runs inside the write transaction on the database thread.
using DeliveryDecider = std::function<CallbackRecord(JobRecord& job)>;

struct DeliveryResult {
    JobRecord job;
    CallbackRecord delivery;
};

class JobStore {
public:
    /// `db` must outlive the store.
    explicit JobStore(Database& db) : db_(db) {}

    net::awaitable<void> insert(JobRecord job);
    net::awaitable<std::optional<JobRecord>> find(std::string id);
    /// Writes every mutable column of `job` (matched by id).
    net::awaitable<void> save(JobRecord job);
    /// Loads the job, lets `decide` apply the delivery, writes the job when it changed and the
    /// delivery row, all in one transaction. nullopt when the job does not exist.
    net::awaitable<std::optional<DeliveryResult>> record_delivery(
        std::string job_id,
        DeliveryDecider decide
    );
    net::awaitable<std::vector<CallbackRecord>> deliveries(std::string job_id);
    /// The stored value of setting `key`, created with `make()` when absent.
    net::awaitable<std::string> setting_or_create(std::string key, std::function<std::string()> make);
    /// True when a write transaction can start now (readiness).
    net::awaitable<bool> writable();

private:
    Database& db_;
};

}  // namespace seedhook::storage
