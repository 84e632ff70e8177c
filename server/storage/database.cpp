#include "server/storage/database.hpp"

#include <filesystem>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Transaction.h>

#include "common/log.hpp"
#include "server/storage/migrations.hpp"

namespace seedhook::storage {

namespace {

// Long enough to ride out a checkpoint, short enough that a callback gets its 503 in time.
constexpr int kBusyTimeoutMs = 2000;

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

}  // namespace

Database::Database(const DatabaseOptions& options) {
    try {
        const auto parent = std::filesystem::path(options.path).parent_path();
        if (!parent.empty()) {
            std::filesystem::create_directories(parent);
        }
        db_ = std::make_unique<SQLite::Database>(
            options.path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE | SQLite::OPEN_FULLMUTEX
        );
        db_->setBusyTimeout(kBusyTimeoutMs);
        const std::string mode = db_->execAndGet("PRAGMA journal_mode = WAL").getString();
        if (mode != "wal") {
            throw StorageError("cannot switch to WAL mode (got " + mode + ")");
        }
        db_->exec("PRAGMA synchronous = " + options.synchronous);
        db_->exec("PRAGMA foreign_keys = ON");
        schema_version_ = migrate(*db_);
    } catch (const StorageError& e) {
        throw StorageError("database " + options.path + ": " + e.what());
    } catch (const std::exception& e) {
        throw StorageError("database " + options.path + ": " + e.what());
    }
}

Database::~Database() { close(); }

void Database::close() {
    pool_.join();
    if (db_) {
        db_.reset();
        log::info("storage", "database closed");
    }
}

void Database::check_open() const {
    if (!db_) {
        throw StorageError("the database is closed");
    }
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
