#include "server/storage/job_cache.hpp"

#include <memory>

#include <gtest/gtest.h>

namespace seedhook::storage {
namespace {

std::shared_ptr<const JobRecord> job(const std::string& id, const std::string& status,
                                     std::size_t request_bytes = 100) {
    JobRecord j;
    j.id = id;
    j.provider = "evolink";
    j.model = "seedance-1.5-pro";
    j.status = status;
    j.request_json = std::string(request_bytes, 'x');
    j.metadata_json = "null";
    return std::make_shared<const JobRecord>(std::move(j));
}

TEST(JobCache, AnswersWhatTheWriterPutAndTheLatestPutWins) {
    JobCache cache(1 << 20);
    EXPECT_FALSE(cache.get("job_a"));
    cache.put(job("job_a", "queued"));
    cache.put(job("job_a", "running"));
    ASSERT_TRUE(cache.get("job_a"));
    EXPECT_EQ(cache.get("job_a")->status, "running");
    EXPECT_EQ(cache.size(), 1U);
}

TEST(JobCache, AReaderFillsOnlyWhenNoCommitCameBetweenItsReadAndItsFill) {
    JobCache cache(1 << 20);
    const auto before = cache.generation();
    const auto read = job("job_a", "queued");
    cache.fill(read, before);
    EXPECT_EQ(cache.get("job_a"), read);  // the very object the reader holds, not a copy

    // A reader that read job_b's old row while a commit (of any job) was published: not cached,
    // as its row may predate that commit.
    const auto seen = cache.generation();
    cache.put(job("job_c", "running"));
    cache.fill(job("job_b", "queued"), seen);
    EXPECT_FALSE(cache.get("job_b"));
}

TEST(JobCache, AReaderNeverReplacesWhatIsCached) {
    JobCache cache(1 << 20);
    cache.put(job("job_a", "succeeded"));
    cache.fill(job("job_a", "running"), cache.generation());
    EXPECT_EQ(cache.get("job_a")->status, "succeeded");
}

TEST(JobCache, StaysWithinItsBudgetDroppingTheLeastRecentlyUsed) {
    const std::size_t one = cached_size(*job("job_0", "queued", 1000));
    JobCache cache(3 * one + one / 2);  // room for three
    cache.put(job("job_0", "queued", 1000));
    cache.put(job("job_1", "queued", 1000));
    cache.put(job("job_2", "queued", 1000));
    EXPECT_TRUE(cache.get("job_0"));  // job_0 is now the most recently used, job_1 the least
    cache.put(job("job_3", "queued", 1000));
    EXPECT_EQ(cache.size(), 3U);
    EXPECT_LE(cache.bytes(), 3 * one + one / 2);
    EXPECT_FALSE(cache.get("job_1"));
    EXPECT_TRUE(cache.get("job_0"));
    EXPECT_TRUE(cache.get("job_2"));
    EXPECT_TRUE(cache.get("job_3"));
}

TEST(JobCache, AJobOverTheBudgetIsNotCachedAndItsOlderStateIsDropped) {
    JobCache cache(cached_size(*job("job_a", "queued", 1000)) + 100);
    cache.put(job("job_a", "queued", 1000));
    ASSERT_TRUE(cache.get("job_a"));
    cache.put(job("job_a", "running", 100000));
    EXPECT_FALSE(cache.get("job_a"));  // neither the new state nor the stale one
    EXPECT_EQ(cache.bytes(), 0U);
    EXPECT_EQ(cache.size(), 0U);
}

}  // namespace
}  // namespace seedhook::storage
