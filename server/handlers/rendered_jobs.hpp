#pragma once

/// GET /v1/jobs/{id}'s body and ETag, rendered once per committed state of a job.

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "server/storage/records.hpp"

namespace seedhook::handlers {

struct RenderedJob {
    std::string body;  ///< job_json
    std::string etag;  ///< a quoted strong validator of `body`
};

/// Remembers each job's rendering for as long as the job's state is the same object: the
/// storage cache hands out one shared, never-modified object per committed state
/// (storage::JobCache::get), so a poller asking again and again gets the rendering made the
/// first time, not a new JSON rendering and SHA-256 each time, and the first read after a
/// commit renders the new state. A job that only its caller holds (read from the database,
/// not cached) is rendered without being remembered. Entries whose state the cache has
/// dropped are swept as the map grows, so what is remembered follows what the cache holds.
/// Thread-safe.
class RenderedJobs {
public:
    /// `job`: not null.
    std::shared_ptr<const RenderedJob> render(const std::shared_ptr<const storage::JobRecord>& job);

    /// Jobs remembered, including those not yet swept.
    std::size_t size();

private:
    struct Entry {
        std::weak_ptr<const storage::JobRecord> source;
        std::shared_ptr<const RenderedJob> rendered;
    };

    static constexpr std::size_t kFirstSweep = 256;

    void sweep_locked();

    std::mutex mutex_;
    std::unordered_map<std::string, Entry> entries_;
    std::size_t sweep_at_ = kFirstSweep;
};

}  // namespace seedhook::handlers
