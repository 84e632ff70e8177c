#include "server/handlers/rendered_jobs.hpp"

#include <algorithm>

#include "common/crypto.hpp"
#include "server/handlers/job_json.hpp"

namespace seedhook::handlers {

namespace {

bool same_object(const std::weak_ptr<const storage::JobRecord>& a, const std::shared_ptr<const storage::JobRecord>& b) {
    // By control block: an expired weak_ptr keeps its block allocated, so it can never
    // compare equal to a newer object at a reused address.
    return !a.owner_before(b) && !b.owner_before(a);
}

RenderedJob make_rendering(const storage::JobRecord& job) {
    RenderedJob r;
    r.body = job_json(job);
    r.etag = "\"" + crypto::hex(crypto::as_view(crypto::sha256(r.body))).substr(0, 32) + "\"";
    return r;
}

}  // namespace

std::shared_ptr<const RenderedJob> RenderedJobs::render(const std::shared_ptr<const storage::JobRecord>& job) {
    {
        const std::lock_guard lock(mutex_);
        const auto it = entries_.find(job->id);
        if (it != entries_.end() && same_object(it->second.source, job)) {
            return it->second.rendered;
        }
    }
    auto rendered = std::make_shared<const RenderedJob>(make_rendering(*job));
    if (job.use_count() > 1) {  // someone besides the caller holds it: the cache's object
        const std::lock_guard lock(mutex_);
        entries_.insert_or_assign(job->id, Entry{job, rendered});
        if (entries_.size() >= sweep_at_) {
            sweep_locked();
        }
    }
    return rendered;
}

std::size_t RenderedJobs::size() {
    const std::lock_guard lock(mutex_);
    return entries_.size();
}

void RenderedJobs::sweep_locked() {
    std::erase_if(entries_, [](const auto& kv) { return kv.second.source.expired(); });
    sweep_at_ = std::max(kFirstSweep, 2 * entries_.size());
}

}  // namespace seedhook::handlers
