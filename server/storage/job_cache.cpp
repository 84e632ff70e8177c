#include "server/storage/job_cache.hpp"

namespace seedhook::storage {

namespace {

std::size_t text(const std::string& s) { return s.capacity() > 15 ? s.capacity() + 1 : 0; }

std::size_t text(const std::optional<std::string>& s) { return s ? text(*s) : 0; }

// Two list/map nodes, their key copies and the shared_ptr control block.
constexpr std::size_t kOverhead = 160;

}  // namespace

std::size_t cached_size(const JobRecord& j) {
    return sizeof(JobRecord) + kOverhead + 2 * text(j.id) + text(j.provider) + text(j.model) +
           text(j.provider_task_id) + text(j.status) + text(j.provider_status) + text(j.video_url) +
           text(j.last_frame_url) + text(j.error_code) + text(j.error_message) + text(j.request_json) +
           text(j.metadata_json) + text(j.idempotency_key) + text(j.request_hash);
}

std::shared_ptr<const JobRecord> JobCache::get(const std::string& id) {
    const std::lock_guard lock(mutex_);
    const auto it = entries_.find(id);
    if (it == entries_.end()) {
        return nullptr;
    }
    recency_.splice(recency_.begin(), recency_, it->second.position);
    return it->second.job;
}

std::uint64_t JobCache::generation() {
    const std::lock_guard lock(mutex_);
    return generation_;
}

void JobCache::put(std::shared_ptr<const JobRecord> shared) {
    const std::lock_guard lock(mutex_);
    ++generation_;
    store_locked(std::move(shared));
}

void JobCache::fill(std::shared_ptr<const JobRecord> job, std::uint64_t seen_generation) {
    const std::lock_guard lock(mutex_);
    if (generation_ != seen_generation || entries_.contains(job->id)) {
        return;
    }
    store_locked(std::move(job));
}

std::size_t JobCache::size() {
    const std::lock_guard lock(mutex_);
    return entries_.size();
}

std::size_t JobCache::bytes() {
    const std::lock_guard lock(mutex_);
    return bytes_;
}

void JobCache::store_locked(std::shared_ptr<const JobRecord> job) {
    const std::size_t cost = cached_size(*job);
    auto it = entries_.find(job->id);
    if (cost > budget_) {
        if (it != entries_.end()) {  // never cached; nor may an older state of it stay
            erase_locked(it);
        }
        return;
    }
    if (it == entries_.end()) {
        recency_.push_front(job->id);
        it = entries_.emplace(job->id, Entry{nullptr, 0, recency_.begin()}).first;
    } else {
        bytes_ -= it->second.bytes;
        recency_.splice(recency_.begin(), recency_, it->second.position);
    }
    it->second.job = std::move(job);
    it->second.bytes = cost;
    bytes_ += cost;
    evict_locked();
}

void JobCache::evict_locked() {
    while (bytes_ > budget_ && !recency_.empty()) {
        erase_locked(entries_.find(recency_.back()));
    }
}

void JobCache::erase_locked(std::unordered_map<std::string, Entry>::iterator it) {
    bytes_ -= it->second.bytes;
    recency_.erase(it->second.position);
    entries_.erase(it);
}

}  // namespace seedhook::storage
