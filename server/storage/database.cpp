#include "server/storage/database.hpp"

#include <algorithm>
#include <chrono>
#include <iterator>
#include <filesystem>
#include <map>
#include <mutex>

#include <boost/asio/post.hpp>
#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>
#include <sqlite3.h>

#include "common/log.hpp"
#include "common/metrics.hpp"
#include "common/thread_name.hpp"
#include "server/storage/migrations.hpp"

namespace seedhook::storage {

namespace {

// Long enough to ride out a checkpoint, short enough that a callback gets its 503 in time.
constexpr int kBusyTimeoutMs = 2000;
// Page caches (KiB): the writer touches the jobs and deliveries B-trees and their indexes on
// every commit; SQLite's default 2 MiB made it re-read index pages from the file under load.
// Readers keep the default. (16 MiB for the writer brought the bench's peak RSS near 57 MiB.)
constexpr int kWriterCacheKiB = 8192;
constexpr int kReaderCacheKiB = 2048;

// Before SQLite's first use in the process. Debian builds it without lookaside memory
// (OMIT_LOOKASIDE), so each of its many small allocations goes to malloc, and with memory
// statistics on (the default) each also takes a process-wide mutex, contended between the
// writer and the readers; nothing here reads those statistics. Once SQLite has been
// initialized the call is refused (SQLITE_MISUSE) and changes nothing.
void configure_sqlite_once() {
    static std::once_flag once;
    std::call_once(once, [] { sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
}

int migrate(SQLite::Database& db) {
    const int current = db.execAndGet("PRAGMA user_version").getInt();
    const auto& all = migrations();
    if (!all.empty() && current > all.back().version) {
        throw StorageError(
            "the database schema (version " + std::to_string(current) +
            ") is newer than this binary knows"
        );
    }
    int version = current;
    for (const auto& m : all) {
        if (m.version <= current) {
            continue;
        }
        SQLite::Transaction tx(db, SQLite::TransactionBehavior::IMMEDIATE);
        db.exec(m.sql);
        db.exec("PRAGMA user_version = " + std::to_string(m.version));
        tx.commit();
        version = m.version;
        log::info("storage", "migration applied", {{"migration", m.name}});
    }
    return version;
}

std::unique_ptr<SQLite::Database> open_connection(const std::string& path, bool read_only) {
    const int flags = read_only ? SQLite::OPEN_READONLY : (SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    auto db = std::make_unique<SQLite::Database>(path, flags | SQLite::OPEN_NOMUTEX);
    db->setBusyTimeout(kBusyTimeoutMs);
    db->exec("PRAGMA cache_size = -" + std::to_string(read_only ? kReaderCacheKiB : kWriterCacheKiB));
    return db;
}

bool in_transaction(SQLite::Database& db) { return sqlite3_get_autocommit(db.getHandle()) == 0; }

}  // namespace

struct Connection::Cache {
    std::map<std::string, std::unique_ptr<SQLite::Statement>, std::less<>> statements;
};

Connection::Connection(std::unique_ptr<SQLite::Database> db) : db_(std::move(db)), cache_(std::make_unique<Cache>()) {}

// Statements first: they must be finalised before their connection closes.
Connection::~Connection() { cache_.reset(); }

Connection::Lease::~Lease() {
    st_->tryReset();
    st_->clearBindings();
}

Connection::Lease Connection::prepare(const std::string& sql) {
    auto it = cache_->statements.find(sql);
    if (it == cache_->statements.end()) {
        it = cache_->statements.emplace(sql, std::make_unique<SQLite::Statement>(*db_, sql)).first;
    }
    return Lease(*it->second);
}

Database::Database(const DatabaseOptions& options)
    : options_(options), readers_pool_(std::max<std::size_t>(1, options.readers)) {
    configure_sqlite_once();
    try {
        const auto parent = std::filesystem::path(options.path).parent_path();
        if (!parent.empty()) {
            std::filesystem::create_directories(parent);
        }
        auto db = open_connection(options.path, false);
        const std::string mode = db->execAndGet("PRAGMA journal_mode = WAL").getString();
        if (mode != "wal") {
            throw StorageError("cannot switch to WAL mode (got " + mode + ")");
        }
        db->exec("PRAGMA synchronous = " + options.synchronous);
        db->exec("PRAGMA foreign_keys = ON");
        // After a checkpoint the WAL file is cut back to this size instead of keeping its peak.
        db->exec("PRAGMA journal_size_limit = 67108864");
        // Debian builds SQLite with secure_delete on: every page retention frees would be
        // zeroed through the WAL. FAST zeroes what costs no extra I/O.
        db->exec("PRAGMA secure_delete = FAST");
        schema_version_ = migrate(*db);
        writer_ = std::make_unique<Connection>(std::move(db));
        for (std::size_t i = 0; i < std::max<std::size_t>(1, options.readers); ++i) {
            idle_readers_.push_back(std::make_unique<Connection>(open_connection(options.path, true)));
        }
    } catch (const std::exception& e) {
        idle_readers_.clear();
        writer_.reset();
        readers_pool_.join();
        writer_pool_.join();
        throw StorageError("database " + options.path + ": " + e.what());
    }
}

Database::~Database() { close(); }

void Database::close() {
    writer_pool_.join();  // the queued writes drain first
    readers_pool_.join();
    closed_ = true;
    if (writer_) {
        idle_readers_.clear();
        writer_.reset();
        log::info("storage", "database closed");
    }
}

Connection& Database::writer() {
    if (!writer_) {
        throw StorageError("the database is closed");
    }
    return *writer_;
}

Database::Borrowed::Borrowed(Database& d) : owner(d) {
    name_this_thread_once("seedhook-read");
    const std::lock_guard lock(d.readers_mutex_);
    if (!d.writer_ || d.idle_readers_.empty()) {
        throw StorageError("the database is closed");
    }
    connection = std::move(d.idle_readers_.back());
    d.idle_readers_.pop_back();
}

Database::Borrowed::~Borrowed() {
    const std::lock_guard lock(owner.readers_mutex_);
    owner.idle_readers_.push_back(std::move(connection));
}

net::awaitable<void> Database::submit_write(std::function<void(Connection&)> apply) {
    const auto caller = co_await net::this_coro::executor;
    auto initiate = [this, &apply, &caller](auto handler) {
        // Boost 1.81's any_completion_handler recurses when moved from an lvalue: the handler
        // is shared instead, which std::function can hold.
        auto shared = std::make_shared<decltype(handler)>(std::move(handler));
        PendingWrite op;
        op.apply = std::move(apply);
        op.complete = [shared, ex = net::prefer(caller, net::execution::outstanding_work.tracked)](std::exception_ptr e) {
            net::post(ex, [shared, e] { std::move(*shared)(e); });
        };
        enqueue(std::move(op));
    };
    auto wait = net::async_initiate<decltype(net::use_awaitable), void(std::exception_ptr)>(std::move(initiate), net::use_awaitable);
    co_await std::move(wait);
}

void Database::enqueue(PendingWrite op) {
    if (closed_) {
        op.complete(std::make_exception_ptr(StorageError("the database is closed")));
        return;
    }
    bool post = false;
    {
        const std::lock_guard lock(queue_mutex_);
        queue_.push_back(std::move(op));
        post = !drain_posted_;
        drain_posted_ = true;
    }
    if (post) {
        net::post(writer_pool_, [this] { drain(); });
    }
}

// Takes what was queued while the previous batch committed: under load, batches grow by
// themselves to the number of concurrent writers; an idle service commits each write alone.
void Database::drain() {
    name_this_thread_once("seedhook-write");
    std::vector<PendingWrite> batch;
    bool more = false;
    {
        const std::lock_guard lock(queue_mutex_);
        const std::size_t n = std::min(queue_.size(), std::max<std::size_t>(1, options_.max_batch));
        batch.reserve(n);
        std::move(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n), std::back_inserter(batch));
        queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
        drain_posted_ = !queue_.empty();
        more = drain_posted_;  // read under the lock: enqueue() writes it from other threads
    }
    if (more) {
        // More than one batch was waiting: the rest goes next, after this one.
        net::post(writer_pool_, [this] { drain(); });
    }
    commit_batch(batch);
    for (auto& op : batch) {
        op.complete(op.error);
    }
}

void Database::commit_batch(std::vector<PendingWrite>& batch) {
    const auto fail_all = [&batch](const std::exception_ptr& error) {
        for (auto& op : batch) {
            if (!op.error) {
                op.error = error;
            }
        }
    };
    if (!writer_) {
        fail_all(std::make_exception_ptr(StorageError("the database is closed")));
        return;
    }
    Connection& c = *writer_;
    SQLite::Database& db = c.db();
    ++c.batch_;
    try {
        db.exec("BEGIN IMMEDIATE");
    } catch (const std::exception& e) {
        fail_all(std::make_exception_ptr(StorageError(e.what())));
        return;
    }
    std::size_t applied = 0;
    auto& actions = c.committed_actions_;
    actions.clear();
    for (auto& op : batch) {
        const std::size_t actions_before = actions.size();
        try {
            c.prepare("SAVEPOINT write")->exec();
            try {
                op.apply(c);
                ++applied;
            } catch (...) {
                op.error = std::current_exception();
                actions.resize(actions_before);  // what it wrote is undone, so are its actions
                c.prepare("ROLLBACK TO write")->exec();
            }
            c.prepare("RELEASE write")->exec();
        } catch (const std::exception& e) {
            // The savepoint machinery itself failed: the transaction is in doubt, so nothing
            // of this batch is committed.
            if (!op.error) {
                op.error = std::make_exception_ptr(StorageError(e.what()));
            }
            applied = 0;
            break;
        }
        if (op.error) {
            try {
                std::rethrow_exception(op.error);
            } catch (const std::exception& e) {
                if (dynamic_cast<const SQLite::Exception*>(&e) != nullptr) {
                    op.error = std::make_exception_ptr(StorageError(e.what()));
                }
            } catch (...) {
            }
        }
    }
    const auto started = std::chrono::steady_clock::now();
    try {
        if (applied == 0 && in_transaction(db)) {
            db.exec("ROLLBACK");
            fail_all(std::make_exception_ptr(StorageError("the write transaction was abandoned")));
            return;
        }
        db.exec("COMMIT");
    } catch (const std::exception& e) {
        const std::string why = e.what();
        if (in_transaction(db)) {
            try {
                db.exec("ROLLBACK");
            } catch (const std::exception&) {
                // The connection rolls back by itself when the statement failed hard.
            }
        }
        for (auto& op : batch) {
            if (!op.error) {
                op.error = std::make_exception_ptr(StorageError("commit failed: " + why));
            }
        }
        return;
    }
    if (options_.metrics != nullptr) {
        const std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
        options_.metrics->observe_commit(took.count(), applied);
    }
    for (auto& action : actions) {
        action();
    }
    actions.clear();
}

void Database::rethrow_as_storage_error(const std::exception& e) {
    if (const auto* already = dynamic_cast<const StorageError*>(&e)) {
        throw *already;
    }
    if (dynamic_cast<const SQLite::Exception*>(&e) != nullptr) {
        throw StorageError(e.what());
    }
    throw;  // not a storage failure: a bug or a domain error the caller handles
}

}  // namespace seedhook::storage
