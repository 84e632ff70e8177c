#pragma once

/// The jobs most recently written or read, as committed, so that `GET /v1/jobs/{id}` of a
/// job in play answers from memory: no hop to a reader thread, no SQLite.
///
/// Correctness rests on two rules. The writer `put`s a job after its transaction commits and
/// before the write completes, in commit order, always replacing what is cached: once a
/// write is acknowledged, the cache holds that state or a later one. A reader that missed
/// `fill`s only when no `put` of any job happened since it took `generation()` (before its
/// query): a read that may have raced a commit is not cached, so a stale row can never
/// outlive the `put` that follows its commit. Bounded by an approximate byte budget; the
/// least recently used jobs go first. Thread-safe.

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "server/storage/records.hpp"

namespace seedhook::storage {

class JobCache {
public:
    explicit JobCache(std::size_t budget_bytes) : budget_(budget_bytes) {}

    /// The cached state, shared and never modified: a later `put` of the job caches a new
    /// object, so holders may key what they derive from a job on this object's identity.
    std::shared_ptr<const JobRecord> get(const std::string& id);
    /// Taken by a reader before its query, handed back to `fill`.
    std::uint64_t generation();
    /// The writer, after the commit that wrote `job`.
    void put(std::shared_ptr<const JobRecord> job);
    /// A reader, with the job it read (cached as that very object, which it may hand on) and
    /// the generation it took before reading.
    void fill(std::shared_ptr<const JobRecord> job, std::uint64_t seen_generation);

    std::size_t size();
    std::size_t bytes();

private:
    struct Entry {
        std::shared_ptr<const JobRecord> job;
        std::size_t bytes = 0;
        std::list<std::string>::iterator position;  // in recency_, newest first
    };

    void store_locked(std::shared_ptr<const JobRecord> job);
    void evict_locked();
    void erase_locked(std::unordered_map<std::string, Entry>::iterator it);

    std::mutex mutex_;
    std::size_t budget_;
    std::size_t bytes_ = 0;
    std::uint64_t generation_ = 0;
    std::list<std::string> recency_;
    std::unordered_map<std::string, Entry> entries_;
};

/// What a job costs the cache, roughly: the record, its strings, the key and the bookkeeping.
std::size_t cached_size(const JobRecord& job);

}  // namespace seedhook::storage
