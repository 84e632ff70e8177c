#pragma once

/// Owner of the SQLite connections and of the threads that may touch them.
///
/// Thread contract (SQLiteCpp's "one Database per thread"; nothing here runs on an I/O thread):
///  - one writer connection on one writer thread. `write(fn)` queues `fn`; the writer takes
///    every write queued while it was busy and runs them in ONE transaction, each inside its
///    own savepoint (group commit). A write completes only after its batch has committed, so
///    an acknowledged write is as durable as `synchronous` makes it; a write that fails rolls
///    back alone, and a failed COMMIT fails every write of its batch.
///  - `run(fn)` runs `fn` on the writer thread between batches, outside any transaction.
///  - a few read-only connections on their own threads: `read(fn)` never waits for the writer
///    (WAL readers see the last commit).
/// Callers on any executor `co_await` and resume on their own executor. SQLite failures
/// surface as StorageError; other exceptions pass through unchanged.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include <boost/asio/thread_pool.hpp>

#include "common/asio.hpp"
#include "common/error.hpp"

namespace SQLite {
class Database;
class Statement;
}  // namespace SQLite

namespace seedhook {
class Metrics;
}

namespace seedhook::storage {

struct DatabaseOptions {
    std::string path;
    std::string synchronous = "FULL";  ///< FULL or NORMAL
    std::size_t readers = 2;           ///< read-only connections (and threads)
    std::size_t max_batch = 256;       ///< writes in one group commit at most
    Metrics* metrics = nullptr;        ///< commit latency and batch sizes, when given
};

/// One connection with its prepared statements, used by one thread at a time.
class Connection {
public:
    explicit Connection(std::unique_ptr<SQLite::Database> db);
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;
    ~Connection();

    SQLite::Database& db() { return *db_; }

    /// A prepared statement for `sql` (prepared once per connection), reset with no bindings
    /// when the lease ends so that no read transaction stays open.
    class Lease {
    public:
        explicit Lease(SQLite::Statement& st) : st_(&st) {}
        Lease(const Lease&) = delete;
        Lease& operator=(const Lease&) = delete;
        ~Lease();
        SQLite::Statement& operator*() const { return *st_; }
        SQLite::Statement* operator->() const { return st_; }

    private:
        SQLite::Statement* st_;
    };
    Lease prepare(const std::string& sql);

    /// Inside `Database::write`: runs `action` on the writer thread once the transaction that
    /// holds this write has committed, before the write completes; dropped when the write
    /// rolls back. `action` must not throw.
    void after_commit(std::function<void()> action) { committed_actions_.push_back(std::move(action)); }

    /// Inside `Database::write`: which group commit this write belongs to (a new number for
    /// each transaction the writer begins).
    std::uint64_t batch() const { return batch_; }

private:
    friend class Database;
    struct Cache;
    std::unique_ptr<SQLite::Database> db_;
    std::unique_ptr<Cache> cache_;
    std::vector<std::function<void()>> committed_actions_;
    std::uint64_t batch_ = 0;
};

class Database {
public:
    /// Opens (creating the file and its folder), sets WAL and applies pending migrations in a
    /// transaction. Throws StorageError naming the file when that fails.
    explicit Database(const DatabaseOptions& options);
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;
    ~Database();

    /// Runs `fn(Connection&)` inside the next group commit; its result comes back after the
    /// commit. `fn` must not begin or end transactions.
    template <typename F>
    net::awaitable<std::invoke_result_t<F, Connection&>> write(F fn) {
        using R = std::invoke_result_t<F, Connection&>;
        // The references are to this frame, which stays suspended until the write completes.
        if constexpr (std::is_void_v<R>) {
            std::function<void(Connection&)> apply = [&fn](Connection& c) { fn(c); };
            co_await submit_write(std::move(apply));
        } else {
            std::optional<R> out;
            std::function<void(Connection&)> apply = [&fn, &out](Connection& c) { out.emplace(fn(c)); };
            co_await submit_write(std::move(apply));
            R result = std::move(*out);
            co_return result;
        }
    }

    /// Runs `fn(Connection&)` on a read-only connection.
    template <typename F>
    net::awaitable<std::invoke_result_t<F, Connection&>> read(F fn) {
        return on(readers_pool_, std::move(fn), true);
    }

    /// Runs `fn(Connection&)` on the writer thread, outside group commits (it may manage its
    /// own transaction).
    template <typename F>
    net::awaitable<std::invoke_result_t<F, Connection&>> run(F fn) {
        return on(writer_pool_, std::move(fn), false);
    }

    /// The writer thread's executor (for startup work that must block until done).
    net::thread_pool::executor_type executor() { return writer_pool_.get_executor(); }

    /// The schema version after migrations.
    int schema_version() const { return schema_version_; }

    /// Finishes queued work and closes the connections. Idempotent.
    void close();

private:
    struct PendingWrite {
        std::function<void(Connection&)> apply;
        /// Resumes the writer's coroutine on its own executor (tracked until then).
        std::function<void(std::exception_ptr)> complete;
        std::exception_ptr error;
    };

    template <typename F>
    net::awaitable<std::invoke_result_t<F, Connection&>> on(net::thread_pool& pool, F fn, bool reader) {
        using R = std::invoke_result_t<F, Connection&>;
        if (closed_) {
            throw StorageError("the database is closed");
        }
        // GCC 12 mishandles temporaries in `co_return co_await ...` (destroyed twice, frames
        // left on the coroutine stack): the lambda is named and the result held in a local.
        auto work = [this, reader, fn = std::move(fn)]() mutable -> net::awaitable<R> {
            co_return guarded<R>(fn, reader);
        };
        if constexpr (std::is_void_v<R>) {
            co_await net::co_spawn(pool, std::move(work), net::use_awaitable);
        } else {
            R result = co_await net::co_spawn(pool, std::move(work), net::use_awaitable);
            co_return result;
        }
    }

    template <typename R, typename F>
    R guarded(F& fn, bool reader) {
        if (!reader) {
            return with_storage_errors<R>(fn, writer());
        }
        Borrowed c(*this);
        return with_storage_errors<R>(fn, *c.connection);
    }

    template <typename R, typename F>
    static R with_storage_errors(F& fn, Connection& c) {
        try {
            return fn(c);
        } catch (const std::exception& e) {
            rethrow_as_storage_error(e);
        }
    }

    /// A reader connection taken from the free list for the scope.
    struct Borrowed {
        explicit Borrowed(Database& d);
        Borrowed(const Borrowed&) = delete;
        Borrowed& operator=(const Borrowed&) = delete;
        ~Borrowed();
        Database& owner;
        std::unique_ptr<Connection> connection;
    };

    net::awaitable<void> submit_write(std::function<void(Connection&)> apply);
    void enqueue(PendingWrite op);
    void drain();
    void commit_batch(std::vector<PendingWrite>& batch);
    Connection& writer();
    [[noreturn]] static void rethrow_as_storage_error(const std::exception& e);

    DatabaseOptions options_;
    std::unique_ptr<Connection> writer_;
    std::mutex readers_mutex_;
    std::vector<std::unique_ptr<Connection>> idle_readers_;
    std::mutex queue_mutex_;
    std::vector<PendingWrite> queue_;
    bool drain_posted_ = false;
    std::atomic<bool> closed_{false};
    net::thread_pool writer_pool_{1};
    net::thread_pool readers_pool_;
    int schema_version_ = 0;
};

}  // namespace seedhook::storage
