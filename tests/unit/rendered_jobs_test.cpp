#include "server/handlers/rendered_jobs.hpp"

#include <memory>

#include <gtest/gtest.h>

#include "common/crypto.hpp"
#include "server/storage/job_cache.hpp"

namespace seedhook::handlers {
namespace {

std::shared_ptr<const storage::JobRecord> job(const std::string& id, std::int64_t progress) {
    storage::JobRecord j;
    j.id = id;
    j.provider = "evolink";
    j.model = "seedance-1.5-pro";
    j.status = "running";
    j.progress = progress;
    j.request_json = R"({"model":"seedance-1.5-pro","prompt":"a cat"})";
    j.metadata_json = "null";
    return std::make_shared<const storage::JobRecord>(std::move(j));
}

TEST(RenderedJobs, ACachedStateIsRenderedOnceAndTheNextCommittedStateAnew) {
    storage::JobCache cache(1 << 20);
    RenderedJobs rendered;
    cache.put(job("job_a", 10));
    const auto first = rendered.render(cache.get("job_a"));
    EXPECT_NE(first->body.find("\"progress\":10"), std::string::npos) << first->body;
    EXPECT_EQ(first->etag, "\"" + crypto::hex(crypto::as_view(crypto::sha256(first->body))).substr(0, 32) + "\"");
    EXPECT_EQ(rendered.render(cache.get("job_a")), first) << "the same state was rendered again";

    cache.put(job("job_a", 20));  // what the writer does after each commit
    const auto second = rendered.render(cache.get("job_a"));
    EXPECT_NE(second->body.find("\"progress\":20"), std::string::npos) << second->body;
    EXPECT_NE(second->etag, first->etag);
    EXPECT_EQ(rendered.render(cache.get("job_a")), second);
}

TEST(RenderedJobs, AnEqualStateInANewObjectIsRenderedAgain) {
    // Identity, not equality, is what tells a state apart: the writer caches a new object even
    // when a commit left every shown field as it was.
    storage::JobCache cache(1 << 20);
    RenderedJobs rendered;
    cache.put(job("job_a", 10));
    const auto first = rendered.render(cache.get("job_a"));
    cache.put(job("job_a", 10));
    const auto again = rendered.render(cache.get("job_a"));
    EXPECT_NE(again, first);
    EXPECT_EQ(again->etag, first->etag);
}

TEST(RenderedJobs, AJobOnlyItsCallerHoldsIsNotRemembered) {
    RenderedJobs rendered;
    const auto read = job("job_db", 5);  // as from a reader
    const auto first = rendered.render(read);
    EXPECT_NE(first->body.find("\"job_db\""), std::string::npos);
    EXPECT_NE(rendered.render(read), first);
    EXPECT_EQ(rendered.size(), 0U);
}

TEST(RenderedJobs, StatesTheCacheDroppedAreSweptAsTheMapGrows) {
    const std::size_t one = storage::cached_size(*job("job_0000", 1));
    storage::JobCache cache(3 * one + one / 2);  // room for three jobs
    RenderedJobs rendered;
    for (int i = 0; i < 5000; ++i) {
        const std::string id = "job_" + std::to_string(1000 + i);
        cache.put(job(id, i));
        ASSERT_NE(rendered.render(cache.get(id)), nullptr);
        ASSERT_LE(rendered.size(), 256U) << "after job " << i;
    }
    EXPECT_EQ(cache.size(), 3U);
}

}  // namespace
}  // namespace seedhook::handlers
