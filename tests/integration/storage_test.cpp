// The SQLite database: file, WAL, migrations, and commits that outlive the process.
#include <SQLiteCpp/Database.h>
#include <boost/asio/use_future.hpp>
#include <gtest/gtest.h>

#include "server/storage/database.hpp"
#include "server/storage/job_store.hpp"
#include "server/storage/migrations.hpp"
#include "tests/support/test_support.hpp"

namespace seedhook::test {
namespace {

template <typename T>
T run_sync(storage::Database& db, net::awaitable<T> aw) {
    return net::co_spawn(db.executor(), std::move(aw), net::use_future).get();
}

storage::JobRecord sample_job(const std::string& id) {
    storage::JobRecord j;
    j.id = id;
    j.provider = "evolink";
    j.model = "seedance-1.5-pro";
    j.status = "queued";
    j.request_json = "{}";
    j.metadata_json = "null";
    j.created_at = 1000;
    j.updated_at = 1000;
    return j;
}

TEST(Database, CreatesTheFileAndFolderInWalModeWithAllMigrations) {
    TempDir dir;
    const auto path = (dir.path() / "nested" / "seedhook.db").string();
    {
        storage::Database db({path, "FULL"});
        EXPECT_EQ(db.schema_version(), storage::migrations().back().version);
    }
    SQLite::Database raw(path);
    EXPECT_EQ(raw.execAndGet("PRAGMA journal_mode").getString(), "wal");
    EXPECT_EQ(raw.execAndGet("PRAGMA user_version").getInt(), storage::migrations().back().version);
    EXPECT_TRUE(raw.tableExists("jobs"));
    EXPECT_TRUE(raw.tableExists("callbacks"));
}

TEST(Database, ReopeningAppliesNothingTwiceAndKeepsRows) {
    TempDir dir;
    const auto path = (dir.path() / "seedhook.db").string();
    {
        storage::Database db({path, "FULL"});
        storage::JobStore store(db);
        run_sync(db, store.insert(sample_job("job_a")));
    }
    storage::Database db({path, "FULL"});
    storage::JobStore store(db);
    auto job = run_sync(db, store.find("job_a"));
    ASSERT_TRUE(job);
    EXPECT_EQ(job->status, "queued");
}

TEST(Database, RefusesASchemaNewerThanTheBinary) {
    TempDir dir;
    const auto path = (dir.path() / "seedhook.db").string();
    {
        SQLite::Database raw(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
        raw.exec("PRAGMA user_version = 999");
    }
    EXPECT_THROW(storage::Database({path, "FULL"}), StorageError);
}

TEST(JobStore, DeliveryAndJobChangeCommitTogether) {
    TempDir dir;
    const auto path = (dir.path() / "seedhook.db").string();
    storage::Database db({path, "FULL"});
    storage::JobStore store(db);
    run_sync(db, store.insert(sample_job("job_b")));
    auto result = run_sync(db, store.record_delivery("job_b", std::nullopt, [](storage::JobRecord& job, bool) {
        job.status = "succeeded";
        storage::CallbackRecord d;
        d.received_at = 2000;
        d.source = "callback";
        d.outcome = "applied";
        d.body = R"({"x":1})";
        return d;
    }));
    ASSERT_TRUE(result);
    SQLite::Database raw(path);  // a second connection sees the committed state
    EXPECT_EQ(raw.execAndGet("SELECT status FROM jobs WHERE id = 'job_b'").getString(), "succeeded");
    EXPECT_EQ(raw.execAndGet("SELECT count(*) FROM callbacks WHERE job_id = 'job_b'").getInt(), 1);
    EXPECT_FALSE(run_sync(db, store.record_delivery("job_none", std::nullopt, [](storage::JobRecord&, bool) { return storage::CallbackRecord{}; })));
}

TEST(JobStore, AFailingDecisionRollsBackEverything) {
    TempDir dir;
    const auto path = (dir.path() / "seedhook.db").string();
    storage::Database db({path, "FULL"});
    storage::JobStore store(db);
    run_sync(db, store.insert(sample_job("job_c")));
    EXPECT_THROW(run_sync(db, store.record_delivery("job_c", std::nullopt, [](storage::JobRecord& job, bool) -> storage::CallbackRecord {
        job.status = "failed";
        throw std::logic_error("decider failed");
    })), std::logic_error);
    EXPECT_EQ(run_sync(db, store.find("job_c"))->status, "queued");
    EXPECT_TRUE(run_sync(db, store.deliveries("job_c")).empty());
}

TEST(JobStore, TellsTheDeciderWhetherAnEventIdWasAlreadyRecorded) {
    TempDir dir;
    storage::Database db({(dir.path() / "seedhook.db").string(), "FULL"});
    storage::JobStore store(db);
    run_sync(db, store.insert(sample_job("job_e")));
    std::vector<bool> seen;
    auto decide = [&seen](storage::JobRecord&, bool event_seen) {
        seen.push_back(event_seen);
        storage::CallbackRecord d;
        d.source = "callback";
        d.outcome = "applied";
        d.event_id = "evt_1";
        d.body = "{}";
        return d;
    };
    run_sync(db, store.record_delivery("job_e", std::string("evt_1"), decide));
    run_sync(db, store.record_delivery("job_e", std::string("evt_1"), decide));
    run_sync(db, store.record_delivery("job_e", std::string("evt_2"), decide));
    EXPECT_EQ(seen, (std::vector<bool>{false, true, false}));
}

TEST(JobStore, StorageFailureSurfacesAsStorageError) {
    TempDir dir;
    const auto path = (dir.path() / "seedhook.db").string();
    storage::Database db({path, "FULL"});
    storage::JobStore store(db);
    run_sync(db, store.insert(sample_job("job_d")));
    EXPECT_THROW(run_sync(db, store.insert(sample_job("job_d"))), StorageError);  // duplicate id
}

}  // namespace
}  // namespace seedhook::test
