#include "server/storage/job_store.hpp"

#include <chrono>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>

namespace seedhook::storage {

namespace {

// The values of a job's indexed columns that an update can change.
struct IndexedKeys {
    std::optional<std::string> provider_task_id;
    std::optional<std::int64_t> next_poll_at;

    static IndexedKeys of(const JobRecord& j) { return {j.provider_task_id, j.next_poll_at}; }
    bool operator==(const IndexedKeys&) const = default;
};

constexpr const char* kJobColumns =
    "id, provider, model, provider_task_id, status, provider_status, progress, video_url, "
    "video_url_expires_at, last_frame_url, error_code, error_message, request_json, "
    "metadata_json, confirmed, created_at, updated_at, completed_at, callbacks_received, "
    "idempotency_key, request_hash, next_poll_at, poll_interval_ms, last_callback_id";

template <typename T>
void bind_opt(SQLite::Statement& st, int index, const std::optional<T>& v) {
    if (v) {
        st.bind(index, *v);
    } else {
        st.bind(index);
    }
}

std::optional<std::string> opt_text(const SQLite::Column& c) {
    return c.isNull() ? std::nullopt : std::optional<std::string>(c.getString());
}

std::optional<std::int64_t> opt_int(const SQLite::Column& c) {
    return c.isNull() ? std::nullopt : std::optional<std::int64_t>(c.getInt64());
}

JobRecord read_job(SQLite::Statement& st) {
    JobRecord j;
    j.id = st.getColumn(0).getString();
    j.provider = st.getColumn(1).getString();
    j.model = st.getColumn(2).getString();
    j.provider_task_id = opt_text(st.getColumn(3));
    j.status = st.getColumn(4).getString();
    j.provider_status = opt_text(st.getColumn(5));
    j.progress = st.getColumn(6).getInt64();
    j.video_url = opt_text(st.getColumn(7));
    j.video_url_expires_at = opt_int(st.getColumn(8));
    j.last_frame_url = opt_text(st.getColumn(9));
    j.error_code = opt_text(st.getColumn(10));
    j.error_message = opt_text(st.getColumn(11));
    j.request_json = st.getColumn(12).getString();
    j.metadata_json = st.getColumn(13).isNull() ? "null" : st.getColumn(13).getString();
    j.confirmed = st.getColumn(14).getInt() != 0;
    j.created_at = st.getColumn(15).getInt64();
    j.updated_at = st.getColumn(16).getInt64();
    j.completed_at = opt_int(st.getColumn(17));
    j.callbacks_received = st.getColumn(18).getInt64();
    j.idempotency_key = opt_text(st.getColumn(19));
    j.request_hash = opt_text(st.getColumn(20));
    j.next_poll_at = opt_int(st.getColumn(21));
    j.poll_interval_ms = opt_int(st.getColumn(22));
    j.last_callback_id = opt_int(st.getColumn(23));
    return j;
}

// The columns an update may change that no index covers, bound in this order.
constexpr const char* kUnindexedSet =
    "status = ?, provider_status = ?, progress = ?, video_url = ?, video_url_expires_at = ?, "
    "last_frame_url = ?, error_code = ?, error_message = ?, confirmed = ?, updated_at = ?, "
    "completed_at = ?, callbacks_received = ?, poll_interval_ms = ?, last_callback_id = ?";

int bind_unindexed(SQLite::Statement& st, const JobRecord& j, int first) {
    int i = first;
    st.bind(i++, j.status);
    bind_opt(st, i++, j.provider_status);
    st.bind(i++, j.progress);
    bind_opt(st, i++, j.video_url);
    bind_opt(st, i++, j.video_url_expires_at);
    bind_opt(st, i++, j.last_frame_url);
    bind_opt(st, i++, j.error_code);
    bind_opt(st, i++, j.error_message);
    st.bind(i++, j.confirmed ? 1 : 0);
    st.bind(i++, j.updated_at);
    bind_opt(st, i++, j.completed_at);
    st.bind(i++, j.callbacks_received);
    bind_opt(st, i++, j.poll_interval_ms);
    bind_opt(st, i++, j.last_callback_id);
    return i;
}

// Binds every mutable column: provider_task_id, the unindexed ones, then next_poll_at.
// Returns the index after the last.
int bind_mutable(SQLite::Statement& st, const JobRecord& j, int first) {
    bind_opt(st, first, j.provider_task_id);
    const int last = bind_unindexed(st, j, first + 1);
    bind_opt(st, last, j.next_poll_at);
    return last + 1;
}

std::string job_select(const char* where) { return std::string("SELECT ") + kJobColumns + " FROM jobs " + where; }

std::vector<JobRecord> read_jobs(SQLite::Statement& st) {
    std::vector<JobRecord> out;
    while (st.executeStep()) {
        out.push_back(read_job(st));
    }
    return out;
}

std::optional<JobRecord> find_job(Connection& c, const std::string& id) {
    static const std::string sql = job_select("WHERE id = ?");
    auto st = c.prepare(sql);
    st->bind(1, id);
    if (!st->executeStep()) {
        return std::nullopt;
    }
    return read_job(*st);
}

// Rewrites a job's row. SQLite rewrites an index entry whenever the index's column is in the
// SET list, even to the value it had: a WAL page for each index, on every callback. The indexed
// keys (jobs_by_provider_task, jobs_due_for_poll) are therefore set only when they changed.
void update_job(Connection& c, const JobRecord& j, const IndexedKeys& before) {
    const bool keys_changed = IndexedKeys::of(j) != before;
    static const std::string all =
        std::string("UPDATE jobs SET provider_task_id = ?, ") + kUnindexedSet + ", next_poll_at = ? WHERE id = ?";
    static const std::string unindexed = std::string("UPDATE jobs SET ") + kUnindexedSet + " WHERE id = ?";
    auto st = c.prepare(keys_changed ? all : unindexed);
    st->bind(keys_changed ? bind_mutable(*st, j, 1) : bind_unindexed(*st, j, 1), j.id);
    if (st->exec() != 1) {
        throw StorageError("job " + j.id + " vanished during an update");
    }
}

// Records a delivery for `job` and makes it the head of the job's chain: the row links to the
// job's previous delivery (prev_id), and the job to this one (last_callback_id, written by the
// caller's update_job). The chain stands in for an index on job_id, which cost each callback a
// random page of that index in the WAL and again at the checkpoint (bench/README, 2026-12-05).
void insert_delivery(Connection& c, JobRecord& job, CallbackRecord& d) {
    auto st = c.prepare(
        "INSERT INTO callbacks (job_id, received_at, source, outcome, provider_status, "
        "event_id, body, prev_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
    );
    st->bind(1, d.job_id);
    st->bind(2, d.received_at);
    st->bind(3, d.source);
    st->bind(4, d.outcome);
    bind_opt(*st, 5, d.provider_status);
    bind_opt(*st, 6, d.event_id);
    st->bind(7, d.body);
    bind_opt(*st, 8, job.last_callback_id);
    st->exec();
    d.id = c.db().getLastInsertRowid();
    job.last_callback_id = d.id;
}

}  // namespace

net::awaitable<JobStats> JobStore::stats(std::int64_t now_ms) {
    auto work = [now_ms](Connection& c) {
        JobStats out;
        auto st = c.prepare("SELECT status, count(*) FROM jobs GROUP BY status ORDER BY status");
        while (st->executeStep()) {
            out.by_status.emplace_back(st->getColumn(0).getString(), st->getColumn(1).getInt64());
        }
        auto due = c.prepare("SELECT count(*) FROM jobs WHERE next_poll_at IS NOT NULL AND next_poll_at <= ?");
        due->bind(1, now_ms);
        due->executeStep();
        out.due_for_poll = due->getColumn(0).getInt64();
        return out;
    };
    auto result = co_await db_.read(std::move(work));
    co_return result;
}

net::awaitable<std::optional<JobRecord>> JobStore::insert(JobRecord job) {
    auto work = [this, &job](Connection& c) -> std::optional<JobRecord> {
        if (job.idempotency_key) {
            static const std::string sql = job_select("WHERE idempotency_key = ?");
            auto existing = c.prepare(sql);
            existing->bind(1, *job.idempotency_key);
            if (existing->executeStep()) {
                return read_job(*existing);
            }
        }
        auto st = c.prepare(
            std::string("INSERT INTO jobs (id, provider, model, request_json, metadata_json, "
                        "created_at, idempotency_key, request_hash, ") +
            "provider_task_id, status, provider_status, progress, video_url, "
            "video_url_expires_at, last_frame_url, error_code, error_message, confirmed, "
            "updated_at, completed_at, callbacks_received, poll_interval_ms, last_callback_id, "
            "next_poll_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        );
        st->bind(1, job.id);
        st->bind(2, job.provider);
        st->bind(3, job.model);
        st->bind(4, job.request_json);
        st->bind(5, job.metadata_json);
        st->bind(6, job.created_at);
        bind_opt(*st, 7, job.idempotency_key);
        bind_opt(*st, 8, job.request_hash);
        bind_mutable(*st, job, 9);
        st->exec();
        cache_when_committed(c, std::make_shared<const JobRecord>(job));
        return std::nullopt;
    };
    auto existing = co_await db_.write(std::move(work));
    co_return existing;
}

std::unordered_set<std::string>& JobStore::changed_in(const Connection& c) {
    if (c.batch() != changed_batch_) {
        changed_.clear();
        changed_batch_ = c.batch();
    }
    return changed_;
}

std::optional<JobRecord> JobStore::current_job(Connection& c, const std::string& id) {
    if (!changed_in(c).contains(id)) {
        if (auto cached = cache_.get(id)) {
            return *cached;
        }
    }
    return find_job(c, id);
}

void JobStore::cache_when_committed(Connection& c, std::shared_ptr<const JobRecord> job) {
    changed_in(c).insert(job->id);
    c.after_commit([this, committed = std::move(job)]() mutable { cache_.put(std::move(committed)); });
}

net::awaitable<std::shared_ptr<const JobRecord>> JobStore::find(std::string id) {
    if (auto cached = cache_.get(id)) {
        co_return cached;
    }
    auto work = [this, &id](Connection& c) -> std::shared_ptr<const JobRecord> {
        const std::uint64_t generation = cache_.generation();
        auto job = find_job(c, id);
        if (!job) {
            return nullptr;
        }
        auto shared = std::make_shared<const JobRecord>(std::move(*job));
        cache_.fill(shared, generation);  // the caller gets the cache's own object
        return shared;
    };
    auto result = co_await db_.read(std::move(work));
    co_return result;
}

net::awaitable<std::optional<DeliveryResult>> JobStore::record_delivery(
    std::string job_id,
    std::optional<std::string> event_id,
    DeliveryDecider decide
) {
    auto work = [this, &job_id, &event_id, &decide](Connection& c) -> std::optional<DeliveryResult> {
        auto job = current_job(c, job_id);
        if (!job) {
            return std::nullopt;
        }
        const auto keys = IndexedKeys::of(*job);
        bool event_seen = false;
        if (event_id) {
            auto seen = c.prepare("SELECT 1 FROM callbacks WHERE job_id = ? AND event_id = ? LIMIT 1");
            seen->bind(1, job_id);
            seen->bind(2, *event_id);
            event_seen = seen->executeStep();
        }
        CallbackRecord delivery = decide(*job, event_seen);
        delivery.job_id = job_id;
        insert_delivery(c, *job, delivery);
        update_job(c, *job, keys);
        auto committed = std::make_shared<const JobRecord>(std::move(*job));
        cache_when_committed(c, committed);
        return DeliveryResult{std::move(committed), std::move(delivery)};
    };
    auto result = co_await db_.write(std::move(work));
    if (result) {
        written(result->job->id);
    }
    co_return result;
}

net::awaitable<std::vector<CallbackRecord>> JobStore::deliveries(std::string job_id) {
    auto work = [&job_id](Connection& c) {
        // One statement, so one snapshot: the job's chain from its newest delivery back. A link
        // is followed only to a lower id of the same job, so the walk ends where retention has
        // pruned, and an id SQLite handed out again after the table was emptied is not mistaken
        // for the job's.
        auto st = c.prepare(
            "WITH RECURSIVE chain(id) AS ("
            " SELECT last_callback_id FROM jobs WHERE id = ?1"
            " UNION ALL"
            " SELECT c.prev_id FROM callbacks c JOIN chain ON c.id = chain.id"
            " WHERE c.job_id = ?1 AND c.prev_id < c.id)"
            " SELECT c.id, c.job_id, c.received_at, c.source, c.outcome, c.provider_status,"
            " c.event_id, c.body FROM chain JOIN callbacks c ON c.id = chain.id"
            " WHERE c.job_id = ?1 ORDER BY c.id"
        );
        st->bind(1, job_id);
        std::vector<CallbackRecord> out;
        while (st->executeStep()) {
            CallbackRecord d;
            d.id = st->getColumn(0).getInt64();
            d.job_id = st->getColumn(1).getString();
            d.received_at = st->getColumn(2).getInt64();
            d.source = st->getColumn(3).getString();
            d.outcome = st->getColumn(4).getString();
            d.provider_status = opt_text(st->getColumn(5));
            d.event_id = opt_text(st->getColumn(6));
            d.body = st->getColumn(7).getString();
            out.push_back(std::move(d));
        }
        return out;
    };
    auto result = co_await db_.read(std::move(work));
    co_return result;
}

net::awaitable<std::optional<JobRecord>> JobStore::record_query(std::string job_id, std::int64_t delivery_id, QueryDecider decide) {
    auto work = [this, &job_id, delivery_id, &decide](Connection& c) {
        auto job = current_job(c, job_id);
        if (!job) {
            return job;
        }
        const auto keys = IndexedKeys::of(*job);
        Confirmation verdict = decide(*job);
        if (verdict.poll_row) {
            verdict.poll_row->job_id = job_id;
            insert_delivery(c, *job, *verdict.poll_row);
        }
        update_job(c, *job, keys);
        cache_when_committed(c, std::make_shared<const JobRecord>(*job));
        if (verdict.conflict && delivery_id != 0) {
            auto mark = c.prepare("UPDATE callbacks SET outcome = 'conflict' WHERE id = ? AND job_id = ?");
            mark->bind(1, delivery_id);
            mark->bind(2, job_id);
            mark->exec();
        }
        return job;
    };
    auto stored = co_await db_.write(std::move(work));
    if (stored) {
        written(stored->id);
    }
    co_return stored;
}

net::awaitable<std::vector<JobRecord>> JobStore::due_for_poll(std::int64_t now_ms, std::size_t limit) {
    auto work = [now_ms, limit](Connection& c) {
        static const std::string sql = job_select("WHERE next_poll_at IS NOT NULL AND next_poll_at <= ? ORDER BY next_poll_at LIMIT ?");
        auto st = c.prepare(sql);
        st->bind(1, now_ms);
        st->bind(2, static_cast<std::int64_t>(limit));
        return read_jobs(*st);
    };
    auto due = co_await db_.read(std::move(work));
    co_return due;
}

net::awaitable<std::vector<JobRecord>> JobStore::interrupted_submissions(std::int64_t before_ms) {
    auto work = [before_ms](Connection& c) {
        static const std::string sql = job_select("WHERE status = 'submitting' AND created_at < ?");
        auto st = c.prepare(sql);
        st->bind(1, before_ms);
        return read_jobs(*st);
    };
    auto jobs = co_await db_.read(std::move(work));
    co_return jobs;
}

net::awaitable<std::vector<JobRecord>> JobStore::list(JobFilter filter) {
    auto work = [&filter](Connection& c) {
        std::string sql = job_select("WHERE 1 = 1");
        if (filter.status) {
            sql += " AND status = :status";
        }
        if (filter.provider) {
            sql += " AND provider = :provider";
        }
        if (filter.model) {
            sql += " AND model = :model";
        }
        if (filter.after) {
            sql += " AND (created_at < :at OR (created_at = :at AND id < :id))";
        }
        sql += " ORDER BY created_at DESC, id DESC LIMIT :limit";
        auto st = c.prepare(sql);  // at most 16 shapes, each prepared once
        if (filter.status) {
            st->bind(":status", *filter.status);
        }
        if (filter.provider) {
            st->bind(":provider", *filter.provider);
        }
        if (filter.model) {
            st->bind(":model", *filter.model);
        }
        if (filter.after) {
            st->bind(":at", filter.after->first);
            st->bind(":id", filter.after->second);
        }
        st->bind(":limit", static_cast<std::int64_t>(filter.limit + 1));
        return read_jobs(*st);
    };
    auto result = co_await db_.read(std::move(work));
    co_return result;
}

net::awaitable<std::string> JobStore::setting_or_create(
    std::string key,
    std::function<std::string()> make
) {
    auto work = [&key, &make](Connection& c) {
        auto get = c.prepare("SELECT value FROM settings WHERE key = ?");
        get->bind(1, key);
        if (get->executeStep()) {
            return get->getColumn(0).getString();
        }
        std::string value = make();
        auto put = c.prepare("INSERT INTO settings (key, value) VALUES (?, ?)");
        put->bind(1, key);
        put->bind(2, value);
        put->exec();
        return value;
    };
    auto result = co_await db_.write(std::move(work));
    co_return result;
}

net::awaitable<PruneBatch> JobStore::prune_deliveries(std::int64_t after_id, std::int64_t cutoff_ms, std::size_t limit) {
    auto work = [after_id, cutoff_ms, limit](Connection& c) {
        PruneBatch batch;
        batch.last_id = after_id;
        auto scan = c.prepare("SELECT id, received_at FROM callbacks WHERE id > ? ORDER BY id LIMIT ?");
        scan->bind(1, after_id);
        scan->bind(2, static_cast<std::int64_t>(limit));
        std::size_t seen = 0;
        bool reached_new = false;
        while (scan->executeStep()) {
            ++seen;
            if (scan->getColumn(1).getInt64() >= cutoff_ms) {
                reached_new = true;
                break;
            }
            batch.last_id = scan->getColumn(0).getInt64();
        }
        scan->reset();
        batch.more = !reached_new && seen == limit;
        if (batch.last_id > after_id) {
            // Whole rows: SQLite frees and reuses the pages of deleted rows, whereas rows that
            // only shrink keep their place (bench/retention.sh measured the file growing then).
            auto prune = c.prepare("DELETE FROM callbacks WHERE id > ? AND id <= ?");
            prune->bind(1, after_id);
            prune->bind(2, batch.last_id);
            batch.pruned = prune->exec();
        }
        return batch;
    };
    auto result = co_await db_.write(std::move(work));
    co_return result;
}

net::awaitable<bool> JobStore::writable() {
    auto work = [](Connection& c) {
        try {
            SQLite::Transaction tx(c.db(), SQLite::TransactionBehavior::IMMEDIATE);
            c.db().exec("INSERT OR REPLACE INTO settings (key, value) VALUES ('readiness_probe', '1')");
            tx.commit();
            return true;
        } catch (const SQLite::Exception&) {
            return false;
        }
    };
    const bool ok = co_await db_.run(std::move(work));
    co_return ok;
}

}  // namespace seedhook::storage
