// The SQLite database: file, WAL, migrations, and commits that outlive the process.
#include <SQLiteCpp/Database.h>
#include <boost/asio/detached.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_future.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <future>
#include <mutex>
#include <thread>

#include "common/metrics.hpp"

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

// The delivery row the tests' deciders record.
storage::CallbackRecord applied_delivery() {
    storage::CallbackRecord d;
    d.source = "callback";
    d.outcome = "applied";
    d.body = "{}";
    return d;
}

// Records one delivery per event id for the job (its body: the event id); returns, for each,
// whether the store told the decider that event was already recorded for the job.
std::vector<bool> record_events(storage::Database& db, storage::JobStore& store, const std::string& job_id, const std::vector<std::string>& event_ids) {
    std::vector<bool> seen;
    for (const auto& event_id : event_ids) {
        run_sync(db, store.record_delivery(job_id, event_id, [&seen, &event_id](storage::JobRecord&, bool event_seen) {
            seen.push_back(event_seen);
            auto d = applied_delivery();
            d.event_id = event_id;
            d.body = event_id;
            return d;
        }));
    }
    return seen;
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
        auto d = applied_delivery();
        d.received_at = 2000;
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

// Reads come from the cache of recently used jobs when they can; readers that miss refill it
// while the writer commits and evicts. A read that follows an acknowledged write sees that
// write: the writer caches what it commits before the write completes, and a reader's fill
// never replaces it. (The rule that keeps a racing reader's older row out after an eviction
// is pinned down deterministically in JobCache.AReaderFillsOnlyWhenNoCommitCameBetween...)
TEST(JobStore, AReadAfterAnAcknowledgedWriteSeesItWhileReadersRefillTheCache) {
    TempDir dir;
    storage::Database db({(dir.path() / "seedhook.db").string(), "FULL"});
    constexpr int kJobs = 8;
    constexpr int kRounds = 40;
    // Room for about two jobs, so that entries are evicted and refilled all the time.
    storage::JobStore store(db, 2 * storage::cached_size(sample_job("job_0")) + 64);
    for (int i = 0; i < kJobs; ++i) {
        run_sync(db, store.insert(sample_job("job_" + std::to_string(i))));
    }
    net::thread_pool pool(3);
    std::atomic<bool> stop{false};
    std::atomic<long> reads{0};
    std::vector<std::thread> readers;
    for (int r = 0; r < 3; ++r) {
        readers.emplace_back([&] {
            while (!stop.load()) {
                for (int i = 0; i < kJobs; ++i) {
                    net::co_spawn(pool, store.find("job_" + std::to_string(i)), net::use_future).get();
                    ++reads;
                }
            }
        });
    }
    int stale = 0;
    for (int round = 1; round <= kRounds; ++round) {
        for (int i = 0; i < kJobs; ++i) {
            const std::string id = "job_" + std::to_string(i);
            run_sync(db, store.record_delivery(id, std::nullopt, [round](storage::JobRecord& job, bool) {
                job.progress = round;
                return applied_delivery();
            }));
            const auto read = net::co_spawn(pool, store.find(id), net::use_future).get();
            stale += !read || read->progress != round ? 1 : 0;
        }
    }
    stop = true;
    for (auto& t : readers) {
        t.join();
    }
    pool.join();
    EXPECT_EQ(stale, 0);
    EXPECT_GT(reads.load(), kJobs);  // the readers did race the writes
}

// A job read from the file is cached as the very object its reader got, so that what is derived
// from it (its rendering, keyed on that object) serves the next reads too.
TEST(JobStore, AJobReadFromTheFileIsCachedAsTheObjectItsReaderGot) {
    TempDir dir;
    storage::Database db({(dir.path() / "seedhook.db").string(), "FULL"});
    {
        storage::JobStore writer(db);
        run_sync(db, writer.insert(sample_job("job_f")));
    }
    storage::JobStore store(db);  // an empty cache, as after a restart
    const auto first = run_sync(db, store.find("job_f"));
    ASSERT_TRUE(first);
    EXPECT_EQ(run_sync(db, store.find("job_f")), first);
}

TEST(JobStore, TellsTheDeciderWhetherAnEventIdWasAlreadyRecorded) {
    TempDir dir;
    storage::Database db({(dir.path() / "seedhook.db").string(), "FULL"});
    storage::JobStore store(db);
    run_sync(db, store.insert(sample_job("job_e")));
    EXPECT_EQ(record_events(db, store, "job_e", {"evt_1", "evt_1", "evt_2"}), (std::vector<bool>{false, true, false}));
}

TEST(JobStore, PruningDeletesOldDeliveriesInBatchesAndStopsAtTheFirstNewOne) {
    TempDir dir;
    storage::Database db({(dir.path() / "seedhook.db").string(), "FULL"});
    storage::JobStore store(db);
    run_sync(db, store.insert(sample_job("job_p")));
    for (const std::int64_t at : {100, 200, 300, 400, 5000}) {
        run_sync(db, store.record_delivery("job_p", std::nullopt, [at](storage::JobRecord& job, bool) {
            ++job.callbacks_received;
            auto d = applied_delivery();
            d.received_at = at;
            d.body = R"({"at":)" + std::to_string(at) + "}";
            return d;
        }));
    }
    auto first = run_sync(db, store.prune_deliveries(0, 1000, 3));
    EXPECT_EQ(first.pruned, 3);
    EXPECT_TRUE(first.more);
    auto second = run_sync(db, store.prune_deliveries(first.last_id, 1000, 3));
    EXPECT_EQ(second.pruned, 1);
    EXPECT_FALSE(second.more) << "the delivery at 5000 is newer than the cutoff";
    auto again = run_sync(db, store.prune_deliveries(0, 1000, 10));
    EXPECT_EQ(again.pruned, 0) << "nothing old is left";
    std::vector<std::string> bodies;
    for (const auto& d : run_sync(db, store.deliveries("job_p"))) {
        bodies.push_back(d.body);
    }
    EXPECT_EQ(bodies, (std::vector<std::string>{R"({"at":5000})"}));
    EXPECT_EQ(run_sync(db, store.find("job_p"))->callbacks_received, 5) << "the job row is not touched";
}

// Records a delivery with this body for the job, counting it on the job.
void record_body(storage::Database& db, storage::JobStore& store, const std::string& job_id, std::int64_t at, const std::string& body) {
    run_sync(db, store.record_delivery(job_id, std::nullopt, [at, &body](storage::JobRecord& job, bool) {
        ++job.callbacks_received;
        auto d = applied_delivery();
        d.received_at = at;
        d.body = body;
        return d;
    }));
}

std::vector<std::string> bodies_of(storage::Database& db, storage::JobStore& store, const std::string& job_id) {
    std::vector<std::string> out;
    for (const auto& d : run_sync(db, store.deliveries(job_id))) {
        out.push_back(d.body);
    }
    return out;
}

TEST(JobStore, EachJobListsItsOwnDeliveriesOldestFirstWhenJobsInterleave) {
    TempDir dir;
    storage::Database db({(dir.path() / "seedhook.db").string(), "FULL"});
    storage::JobStore store(db);
    run_sync(db, store.insert(sample_job("job_x")));
    run_sync(db, store.insert(sample_job("job_y")));
    run_sync(db, store.insert(sample_job("job_z")));
    record_body(db, store, "job_x", 1, "x1");
    record_body(db, store, "job_y", 2, "y1");
    record_body(db, store, "job_x", 3, "x2");
    record_body(db, store, "job_x", 4, "x3");
    record_body(db, store, "job_y", 5, "y2");
    EXPECT_EQ(bodies_of(db, store, "job_x"), (std::vector<std::string>{"x1", "x2", "x3"}));
    EXPECT_EQ(bodies_of(db, store, "job_y"), (std::vector<std::string>{"y1", "y2"}));
    EXPECT_TRUE(bodies_of(db, store, "job_z").empty());
    EXPECT_TRUE(bodies_of(db, store, "job_none").empty());
}

// Retention can empty the table, and SQLite then hands out ids from 1 again: a job whose
// newest delivery was pruned must not list another job's delivery that took its old id.
TEST(JobStore, IdsHandedOutAgainAfterRetentionEmptiedTheTableAreNotTakenForAnotherJobs) {
    TempDir dir;
    storage::Database db({(dir.path() / "seedhook.db").string(), "FULL"});
    storage::JobStore store(db);
    run_sync(db, store.insert(sample_job("job_old")));
    run_sync(db, store.insert(sample_job("job_new")));
    record_body(db, store, "job_old", 100, "old1");
    record_body(db, store, "job_old", 100, "old2");
    record_body(db, store, "job_new", 100, "new0");
    EXPECT_EQ(run_sync(db, store.prune_deliveries(0, 1000, 10)).pruned, 3);
    record_body(db, store, "job_new", 5000, "new1");  // ids 1, 2, 3 again
    record_body(db, store, "job_new", 5000, "new2");
    record_body(db, store, "job_new", 5000, "new3");
    EXPECT_TRUE(bodies_of(db, store, "job_old").empty());
    EXPECT_EQ(bodies_of(db, store, "job_new"), (std::vector<std::string>{"new1", "new2", "new3"}));
    record_body(db, store, "job_old", 5000, "old3");
    EXPECT_EQ(bodies_of(db, store, "job_old"), (std::vector<std::string>{"old3"}));
}

// A database written before the deliveries were chained (schema version 3) keeps every job's
// deliveries, in order, and its event ids, and takes new deliveries after them.
TEST(Database, MigratingAVersion3DatabaseKeepsEachJobsDeliveriesAndEventIds) {
    TempDir dir;
    const auto path = (dir.path() / "seedhook.db").string();
    {
        SQLite::Database raw(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
        for (const auto& m : storage::migrations()) {
            if (m.version <= 3) {
                raw.exec(m.sql);
            }
        }
        raw.exec("PRAGMA user_version = 3");
        for (const char* id : {"job_m", "job_n"}) {
            raw.exec(std::string("INSERT INTO jobs (id, provider, model, status, request_json, created_at, updated_at) "
                                 "VALUES ('") + id + "', 'toapis', 'seedance-1.5-pro', 'running', '{}', 1, 1)");
        }
        raw.exec(
            "INSERT INTO callbacks (job_id, received_at, source, outcome, event_id, body) VALUES "
            "('job_m', 1, 'callback', 'applied', 'evt_a', 'm1'),"
            "('job_n', 2, 'callback', 'applied', 'evt_b', 'n1'),"
            "('job_m', 3, 'poll', 'applied', NULL, 'm2'),"
            "('job_m', 4, 'callback', 'applied', 'evt_c', 'm3')"
        );
    }
    storage::Database db({path, "FULL"});
    EXPECT_EQ(db.schema_version(), storage::migrations().back().version);
    storage::JobStore store(db);
    EXPECT_EQ(bodies_of(db, store, "job_m"), (std::vector<std::string>{"m1", "m2", "m3"}));
    EXPECT_EQ(bodies_of(db, store, "job_n"), (std::vector<std::string>{"n1"}));
    // evt_c is job_m's own, evt_b job_n's
    EXPECT_EQ(record_events(db, store, "job_m", {"evt_c", "evt_b"}), (std::vector<bool>{true, false}));
    EXPECT_EQ(bodies_of(db, store, "job_m"), (std::vector<std::string>{"m1", "m2", "m3", "evt_c", "evt_b"}));
}

TEST(JobStore, StorageFailureSurfacesAsStorageError) {
    TempDir dir;
    const auto path = (dir.path() / "seedhook.db").string();
    storage::Database db({path, "FULL"});
    storage::JobStore store(db);
    run_sync(db, store.insert(sample_job("job_d")));
    EXPECT_THROW(run_sync(db, store.insert(sample_job("job_d"))), StorageError);  // duplicate id
}

// Holds the writer thread until released, so that the writes queued meanwhile form one batch.
class WriterGate {
public:
    explicit WriterGate(storage::Database& db) {
        held_ = net::co_spawn(db.executor(), db.run([this](storage::Connection&) { open_.get_future().wait(); }), net::use_future);
    }
    void release() {
        open_.set_value();
        held_.get();
    }

private:
    std::promise<void> open_;
    std::future<void> held_;
};

// Each group-commit test gets a job store in a fresh directory, its commits counted in `metrics`.
class GroupCommit : public ::testing::Test {
protected:
    TempDir dir;
    std::string path = (dir.path() / "seedhook.db").string();
    Metrics metrics;
    storage::Database db{storage::DatabaseOptions{.path = path, .synchronous = "FULL", .metrics = &metrics}};
    storage::JobStore store{db};
};

std::int64_t count_rows(const std::string& path, const std::string& sql) {
    SQLite::Database raw(path);
    return raw.execAndGet(sql).getInt64();
}

// A callback that moves neither the provider's task id nor the poll deadline must not rewrite
// those indexes' pages (SQLite would, were the columns in the UPDATE's SET list): counted as
// the WAL frames each commit adds. Keys that do change are stored and found through their index.
TEST(JobStore, AnUpdateRewritesAnIndexOnlyWhenItsKeyChanges) {
    TempDir dir;
    const auto path = (dir.path() / "seedhook.db").string();
    storage::Database db({path, "FULL"});
    storage::JobStore store(db, 0);  // no cache: every read below goes to the file
    auto job = sample_job("job_k");
    job.provider_task_id = "task_1";
    job.next_poll_at = 5000;
    run_sync(db, store.insert(job));
    SQLite::Database raw(path, SQLite::OPEN_READWRITE);  // checkpoints write
    const auto frames_of = [&](std::function<void(storage::JobRecord&)> change) {
        raw.exec("PRAGMA wal_checkpoint(TRUNCATE)");
        auto stored = run_sync(db, store.record_delivery("job_k", std::nullopt, [&change](storage::JobRecord& j, bool) {
            ++j.progress;
            change(j);
            return applied_delivery();
        }));
        EXPECT_TRUE(stored);
        SQLite::Statement frames(raw, "PRAGMA wal_checkpoint(PASSIVE)");
        EXPECT_TRUE(frames.executeStep());
        return frames.getColumn(1).getInt();
    };
    const auto keep_keys = [](storage::JobRecord&) {};
    frames_of(keep_keys);  // the first delivery allocates the callbacks table's pages
    const int kept = frames_of(keep_keys);
    const int deadline_moved = frames_of([](storage::JobRecord& j) { j.next_poll_at = 9000; });
    const int task_changed = frames_of([](storage::JobRecord& j) { j.provider_task_id = "task_2"; });
    EXPECT_LT(kept, deadline_moved);
    EXPECT_LT(kept, task_changed);

    EXPECT_EQ(raw.execAndGet("SELECT id FROM jobs WHERE provider = 'evolink' AND provider_task_id = 'task_2'").getString(), "job_k");
    EXPECT_EQ(count_rows(path, "SELECT count(*) FROM jobs WHERE provider_task_id = 'task_1'"), 0);
    EXPECT_TRUE(run_sync(db, store.due_for_poll(8999, 10)).empty());
    const auto due = run_sync(db, store.due_for_poll(9000, 10));
    ASSERT_EQ(due.size(), 1U);
    EXPECT_EQ(due[0].progress, 4);
    EXPECT_EQ(raw.execAndGet("PRAGMA integrity_check").getString(), "ok");
}

TEST_F(GroupCommit, ConcurrentWritesShareOneCommitAndEachSeesItsOwnResult) {
    net::io_context io;
    WriterGate gate(db);
    constexpr int kJobs = 50;
    std::vector<std::future<std::optional<storage::JobRecord>>> inserted;
    for (int i = 0; i < kJobs; ++i) {
        inserted.push_back(net::co_spawn(io, store.insert(sample_job("job_" + std::to_string(i))), net::use_future));
    }
    std::thread runner([&io] { io.run(); });
    // The inserts are queued behind the gate; nothing is visible before their commit.
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    EXPECT_EQ(count_rows(path, "SELECT count(*) FROM jobs"), 0);
    gate.release();
    for (auto& f : inserted) {
        EXPECT_FALSE(f.get());  // each one inserted (no idempotent replay)
    }
    runner.join();
    EXPECT_EQ(count_rows(path, "SELECT count(*) FROM jobs"), kJobs);
    const std::string text = metrics.render({});
    EXPECT_NE(text.find("seedhook_storage_commit_writes_count 1\n"), std::string::npos) << text;
    EXPECT_NE(text.find("seedhook_storage_commit_writes_sum 50\n"), std::string::npos) << text;
}

TEST_F(GroupCommit, AWriteThatFailsRollsBackAloneAndTheOthersCommit) {
    run_sync(db, store.insert(sample_job("job_ok1")));
    run_sync(db, store.insert(sample_job("job_bad")));
    run_sync(db, store.insert(sample_job("job_ok2")));
    auto decide_status = [](const char* status) {
        return [status](storage::JobRecord& job, bool) {
            job.status = status;
            return applied_delivery();
        };
    };
    net::io_context io;
    WriterGate gate(db);
    auto ok1 = net::co_spawn(io, store.record_delivery("job_ok1", std::nullopt, decide_status("running")), net::use_future);
    auto bad = net::co_spawn(io, store.record_delivery("job_bad", std::nullopt, [](storage::JobRecord& job, bool) -> storage::CallbackRecord {
        job.status = "failed";
        throw std::logic_error("decider failed");
    }), net::use_future);
    auto dup = net::co_spawn(io, store.insert(sample_job("job_ok1")), net::use_future);  // duplicate id: SQLite refuses
    auto ok2 = net::co_spawn(io, store.record_delivery("job_ok2", std::nullopt, decide_status("succeeded")), net::use_future);
    std::thread runner([&io] { io.run(); });
    gate.release();
    EXPECT_TRUE(ok1.get());
    EXPECT_THROW(bad.get(), std::logic_error);
    EXPECT_THROW(dup.get(), StorageError);
    EXPECT_TRUE(ok2.get());
    runner.join();
    EXPECT_EQ(run_sync(db, store.find("job_ok1"))->status, "running");
    EXPECT_EQ(run_sync(db, store.find("job_bad"))->status, "queued");
    EXPECT_EQ(run_sync(db, store.find("job_ok2"))->status, "succeeded");
    EXPECT_EQ(count_rows(path, "SELECT count(*) FROM callbacks"), 2);
    EXPECT_EQ(count_rows(path, "SELECT count(*) FROM jobs"), 3);
}

// The writer takes a job's committed state from the cache of recent jobs rather than from
// SQLite, except where an earlier write of the same batch changed it (or tried to): there each
// write must see exactly the ones before it that stand, in one batch and the next.
TEST_F(GroupCommit, EachWriteToAJobSeesTheWritesBeforeItThatStandInItsBatchAndTheNext) {
    run_sync(db, store.insert(sample_job("job_seq")));
    ASSERT_EQ(run_sync(db, store.find("job_seq"))->progress, 0);  // cached as committed
    std::vector<std::int64_t> progress_seen;  // by each decider, in the writer's order
    auto step = [&progress_seen](std::int64_t progress) {
        return [&progress_seen, progress](storage::JobRecord& job, bool) {
            progress_seen.push_back(job.progress);
            job.progress = progress;
            ++job.callbacks_received;
            return applied_delivery();
        };
    };
    auto run_batch = [this](auto&& queue) {
        net::io_context io;
        WriterGate gate(db);
        auto futures = queue(io);
        std::thread runner([&io] { io.run(); });
        gate.release();
        for (auto& f : futures) {
            try {
                f.get();
            } catch (const std::logic_error&) {
            }
        }
        runner.join();
    };
    using Future = std::future<std::optional<storage::DeliveryResult>>;
    run_batch([&](net::io_context& io) {
        std::vector<Future> f;
        f.push_back(net::co_spawn(io, store.record_delivery("job_seq", std::nullopt, step(10)), net::use_future));
        f.push_back(net::co_spawn(io, store.record_delivery("job_seq", std::nullopt, [&progress_seen](storage::JobRecord& job, bool) -> storage::CallbackRecord {
            progress_seen.push_back(job.progress);
            job.progress = 99;
            throw std::logic_error("decider failed");
        }), net::use_future));
        f.push_back(net::co_spawn(io, store.record_delivery("job_seq", std::nullopt, step(20)), net::use_future));
        return f;
    });
    // A batch whose only write to the job fails leaves the committed state for the next.
    run_batch([&](net::io_context& io) {
        std::vector<Future> f;
        f.push_back(net::co_spawn(io, store.record_delivery("job_seq", std::nullopt, [&progress_seen](storage::JobRecord& job, bool) -> storage::CallbackRecord {
            progress_seen.push_back(job.progress);
            job.progress = 77;
            throw std::logic_error("decider failed");
        }), net::use_future));
        return f;
    });
    run_batch([&](net::io_context& io) {
        std::vector<Future> f;
        f.push_back(net::co_spawn(io, store.record_delivery("job_seq", std::nullopt, step(30)), net::use_future));
        f.push_back(net::co_spawn(io, store.record_delivery("job_seq", std::nullopt, step(40)), net::use_future));
        return f;
    });
    EXPECT_EQ(progress_seen, (std::vector<std::int64_t>{0, 10, 10, 20, 20, 30}));
    SQLite::Database raw(path);
    EXPECT_EQ(raw.execAndGet("SELECT progress FROM jobs WHERE id = 'job_seq'").getInt64(), 40);
    EXPECT_EQ(raw.execAndGet("SELECT callbacks_received FROM jobs WHERE id = 'job_seq'").getInt64(), 4);
    EXPECT_EQ(count_rows(path, "SELECT count(*) FROM callbacks WHERE job_id = 'job_seq'"), 4);
    EXPECT_EQ(run_sync(db, store.deliveries("job_seq")).size(), 4U);  // the chain holds every one
    EXPECT_EQ(run_sync(db, store.find("job_seq"))->progress, 40);
}

// A batch's writers come from several event loops (the I/O threads): each resumes on its own
// loop's thread, in the order its loop queued them.
TEST_F(GroupCommit, WritersFromTwoEventLoopsInOneBatchEachResumeOnTheirOwnLoopInOrder) {
    constexpr int kPerLoop = 20;
    net::io_context loops[2];
    std::mutex mutex;
    std::vector<std::pair<int, std::thread::id>> resumed[2];  // (write, thread) per loop
    std::atomic<int> started{0};
    WriterGate gate(db);
    for (int l = 0; l < 2; ++l) {
        for (int i = 0; i < kPerLoop; ++i) {
            auto write = [&, l, i]() -> net::awaitable<void> {
                ++started;
                const auto replay = co_await store.insert(sample_job("job_" + std::to_string(l) + "_" + std::to_string(i)));
                EXPECT_FALSE(replay);
                const std::lock_guard lock(mutex);
                resumed[l].emplace_back(i, std::this_thread::get_id());
            };
            net::co_spawn(loops[l], write, net::detached);
        }
    }
    std::thread runners[2] = {std::thread([&loops] { loops[0].run(); }), std::thread([&loops] { loops[1].run(); })};
    const std::thread::id loop_thread[2] = {runners[0].get_id(), runners[1].get_id()};
    while (started < 2 * kPerLoop) {
        std::this_thread::yield();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // each one queues right after it starts
    gate.release();
    for (auto& r : runners) {
        r.join();  // run() returns once its loop's writes have all resumed
    }
    EXPECT_EQ(count_rows(path, "SELECT count(*) FROM jobs"), 2 * kPerLoop);
    const std::string text = metrics.render({});
    EXPECT_NE(text.find("seedhook_storage_commit_writes_count 1\n"), std::string::npos) << text;
    for (int l = 0; l < 2; ++l) {
        ASSERT_EQ(resumed[l].size(), static_cast<std::size_t>(kPerLoop));
        for (int i = 0; i < kPerLoop; ++i) {
            EXPECT_EQ(resumed[l][static_cast<std::size_t>(i)].first, i) << "loop " << l;
            EXPECT_EQ(resumed[l][static_cast<std::size_t>(i)].second, loop_thread[l]) << "loop " << l;
        }
    }
}

TEST_F(GroupCommit, ALockedDatabaseFailsTheWritesAndReadsGoOn) {
    run_sync(db, store.insert(sample_job("job_r")));
    SQLite::Database other(path, SQLite::OPEN_READWRITE);
    other.exec("BEGIN IMMEDIATE");  // another process holds the write lock
    EXPECT_THROW(run_sync(db, store.insert(sample_job("job_w"))), StorageError);
    EXPECT_EQ(run_sync(db, store.find("job_r"))->status, "queued");  // readers are not blocked
    other.exec("ROLLBACK");
    EXPECT_FALSE(run_sync(db, store.insert(sample_job("job_w"))));  // and writes recover by themselves
    EXPECT_TRUE(run_sync(db, store.find("job_w")));
}

// However fast the writes come, checkpoints keep the WAL bounded and the pages reach the
// database file.
TEST(Database, CheckpointsKeepTheWalBoundedWhileWritesGoOn) {
    TempDir dir;
    const auto path = (dir.path() / "seedhook.db").string();
    storage::Database db({path, "FULL"});
    storage::JobStore store(db, 0);
    net::io_context io;
    constexpr int kJobs = 3500;  // each about four pages (12 KiB of request): ~50 MiB of WAL frames
    for (int batch = 0; batch < kJobs / 250; ++batch) {
        std::vector<std::future<std::optional<storage::JobRecord>>> inserted;
        for (int i = 0; i < 250; ++i) {
            auto job = sample_job("job_" + std::to_string(batch) + "_" + std::to_string(i));
            job.request_json = std::string(12 * 1024, 'x');
            inserted.push_back(net::co_spawn(io, store.insert(std::move(job)), net::use_future));
        }
        io.restart();
        io.run();
        for (auto& f : inserted) {
            EXPECT_FALSE(f.get());
        }
    }
    const auto wal_bytes = std::filesystem::file_size(path + "-wal");
    EXPECT_LT(wal_bytes, 28U << 20U);
    EXPECT_TRUE(eventually([&path] { return std::filesystem::file_size(path) > (25U << 20U); }, std::chrono::seconds(10)))
        << "database file " << std::filesystem::file_size(path) << " bytes, WAL " << wal_bytes;
    EXPECT_EQ(count_rows(path, "SELECT count(*) FROM jobs"), kJobs);
}

// Writes that never pause, each waiting for its commit as a callback does: the WAL still starts
// over instead of growing with every write. (A checkpoint beside a busy writer never reaches the
// last frame, so the WAL could only restart after a write begins with nothing left to copy:
// tried twice, see bench/README.md.)
TEST(Database, UnderWritesThatNeverPauseTheWalStillStartsOver) {
    TempDir dir;
    const auto path = (dir.path() / "seedhook.db").string();
    storage::Database db({path, "FULL"});
    storage::JobStore store(db, 0);
    net::io_context io;
    constexpr int kWriters = 32;
    constexpr int kEach = 200;  // 6,400 jobs of two pages or so: ~50 MiB of WAL frames
    std::atomic<int> inserted{0};
    auto writer = [&store, &inserted](int w) -> net::awaitable<void> {
        for (int i = 0; i < kEach; ++i) {
            auto job = sample_job("job_" + std::to_string(w) + "_" + std::to_string(i));
            job.request_json = std::string(6 * 1024, 'x');
            auto existing = co_await store.insert(std::move(job));
            if (!existing) {
                ++inserted;
            }
        }
    };
    for (int w = 0; w < kWriters; ++w) {
        net::co_spawn(io, writer(w), net::detached);
    }
    std::uintmax_t largest_wal = 0;
    std::thread runner([&io] { io.run(); });
    while (inserted < kWriters * kEach && !io.stopped()) {
        std::error_code ec;
        largest_wal = std::max(largest_wal, std::filesystem::file_size(path + "-wal", ec));
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    runner.join();
    ASSERT_EQ(inserted, kWriters * kEach);
    largest_wal = std::max(largest_wal, std::filesystem::file_size(path + "-wal"));
    // SQLite's checkpoint at 1,000 frames of 4 KiB, plus the batch that crossed it.
    EXPECT_LT(largest_wal, 12U << 20U);
    EXPECT_EQ(count_rows(path, "SELECT count(*) FROM jobs"), kWriters * kEach);
}

TEST(Database, AfterCloseEveryCallFailsInsteadOfHanging) {
    TempDir dir;
    storage::Database db({(dir.path() / "seedhook.db").string(), "FULL"});
    storage::JobStore store(db);
    db.close();
    net::io_context io;
    auto write = net::co_spawn(io, store.insert(sample_job("job_x")), net::use_future);
    auto read = net::co_spawn(io, store.find("job_x"), net::use_future);
    io.run();
    EXPECT_THROW(write.get(), StorageError);
    EXPECT_THROW(read.get(), StorageError);
}

}  // namespace
}  // namespace seedhook::test
