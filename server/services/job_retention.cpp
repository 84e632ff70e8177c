// JobService: retention. Callback deliveries and their raw bodies are the bulk of the
// database; past their age they are deleted in small batches, oldest first, and SQLite reuses
// the freed pages, so the file stops growing once retention.days of traffic is stored.
#include "server/services/job_service.hpp"

namespace seedhook::services {

net::awaitable<std::int64_t> JobService::prune_old_deliveries(std::chrono::milliseconds max_age) {
    constexpr std::size_t kBatch = 500;
    const std::int64_t cutoff = options_.clock() - max_age.count();
    std::int64_t total = 0;
    // Every sweep starts from the lowest id: what is left there is the oldest delivery (SQLite
    // hands out ids above the highest, and starts again at 1 only in an emptied table), and a
    // cursor kept across sweeps would miss those restarted ids.
    std::int64_t after = 0;
    for (;;) {
        const storage::PruneBatch batch = co_await store_.prune_deliveries(after, cutoff, kBatch);
        after = batch.last_id;
        total += batch.pruned;
        if (!batch.more) {
            break;
        }
    }
    co_return total;
}

}  // namespace seedhook::services
