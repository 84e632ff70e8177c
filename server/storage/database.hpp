#pragma once

/// Owner of the SQLite connection and of the one thread that may touch it.
///
/// Thread contract: the SQLite::Database is used only on `pool_`'s single thread (SQLiteCpp's
/// "one Database per thread"), so every read and write is serialised behind one writer and
/// never runs on an I/O thread. Callers on any executor `co_await run(fn)` and resume on their
/// own executor. SQLite failures surface as StorageError.

#include <memory>
#include <string>
#include <type_traits>

#include <boost/asio/thread_pool.hpp>

#include "common/asio.hpp"
#include "common/error.hpp"

namespace SQLite {
class Database;
}

namespace seedhook::storage {

struct DatabaseOptions {
    std::string path;
    std::string synchronous = "FULL";  ///< FULL or NORMAL
};

class Database {
public:
    /// Opens (creating the file and its folder), sets WAL and applies pending migrations in a
    /// transaction. Throws StorageError naming the file when that fails.
    explicit Database(const DatabaseOptions& options);
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;
    ~Database();

    /// Runs `fn(SQLite::Database&)` on the database thread; its result or exception comes back.
    template <typename F>
    net::awaitable<std::invoke_result_t<F, SQLite::Database&>> run(F fn) {
        using R = std::invoke_result_t<F, SQLite::Database&>;
        // GCC 12 mishandles temporaries in `co_return co_await ...` (destroyed twice, frames
        // left on the coroutine stack): the lambda is named and the result held in a local.
        auto work = [this, fn = std::move(fn)]() mutable -> net::awaitable<R> {
            co_return invoke_guarded<R>(fn);
        };
        if constexpr (std::is_void_v<R>) {
            co_await net::co_spawn(pool_, std::move(work), net::use_awaitable);
        } else {
            R result = co_await net::co_spawn(pool_, std::move(work), net::use_awaitable);
            co_return result;
        }
    }

    /// The database thread's executor (for startup work that must block until done).
    net::thread_pool::executor_type executor() { return pool_.get_executor(); }

    /// The schema version after migrations.
    int schema_version() const { return schema_version_; }

    /// Finishes queued work and closes the connection. Idempotent.
    void close();

private:
    template <typename R, typename F>
    R invoke_guarded(F& fn) {
        check_open();
        try {
            return fn(*db_);
        } catch (const std::exception& e) {
            rethrow_as_storage_error(e);
        }
    }

    void check_open() const;
    [[noreturn]] static void rethrow_as_storage_error(const std::exception& e);

    std::unique_ptr<SQLite::Database> db_;
    net::thread_pool pool_{1};
    int schema_version_ = 0;
};

}  // namespace seedhook::storage
