// SPEC §6 "nothing acknowledged is lost", short form: callbacks for many jobs over HTTPS while
// the binary is killed with SIGKILL several times and restarted on the same database. Every
// delivery that got a 200 must be stored exactly once, and the database must be intact.
#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <cstdlib>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <SQLiteCpp/Database.h>
#include <gtest/gtest.h>

#include "common/crypto.hpp"
#include "common/json.hpp"
#include "tests/support/process.hpp"

namespace seedhook::test {
namespace {

struct Job {
    std::string id;
    std::string task_id;
    std::string token;
};

std::string callback_body(const std::string& task_id, int progress, const std::string& marker) {
    return R"({"id":")" + task_id + R"(","object":"video.generation.task","created":1761312000,)"
           R"("model":"seedance-1.5-pro","status":"processing","progress":)" + std::to_string(progress) +
           R"(,"type":"video","prompt":")" + marker + R"("})";
}

bool ready(std::uint16_t port) {
    try {
        Client c(port);
        return c.request("GET", "/readyz").status == 200;
    } catch (const std::exception&) {
        return false;
    }
}

int env_int(const char* name, int fallback) {
    const char* v = std::getenv(name);
    return v != nullptr && *v != '\0' ? std::atoi(v) : fallback;
}

// Each sender behaves like a provider: it owns some jobs, sends each one progress 1..99 in order,
// and resends a delivery until it gets a 200. The long form (tests/long/crash.sh) raises
// SEEDHOOK_CRASH_KILLS and SEEDHOOK_CRASH_JOBS.
TEST(CrashSafety, EveryAcknowledgedCallbackSurvivesSigkillAndNoneIsAppliedTwice) {
    const int kills = env_int("SEEDHOOK_CRASH_KILLS", 3);
    const int job_count = env_int("SEEDHOOK_CRASH_JOBS", 96);
    constexpr int kSenders = 6;
    constexpr int kLastProgress = 99;
    TempDir dir;
    const auto port = free_port();
    const std::string secret = "crash-test-callback-secret";
    const std::string config = write_config(dir, valid_config(dir, port));
    const std::vector<std::string> env = {
        std::string("SEEDHOOK_AUTH_API_TOKENS=") + kToken,
        "SEEDHOOK_CALLBACKS_SECRET=" + secret,
        "SEEDHOOK_POLLING_GRACE_MS=3600000",  // only callbacks write
    };
    auto start = [&] {
        Process p = spawn_seedhook(dir, {"--config", config}, env);
        EXPECT_TRUE(eventually([&] { return ready(port); }, std::chrono::seconds(15))) << slurp(p.err);
        return p;
    };

    Process server = start();
    std::vector<Job> jobs;
    {
        Client c(port);
        for (int i = 0; i < job_count; ++i) {
            auto r = c.post("/v1/jobs", job_body("[sim:no-callback] crash " + std::to_string(i)));
            ASSERT_EQ(r.status, 201) << r.body;
            const auto doc = r.json();
            Job j{std::string(*json::get_string(doc, "id")), std::string(*json::get_string(doc, "provider_task_id")), {}};
            j.token = crypto::base64url(crypto::as_view(crypto::hmac_sha256(secret, "evolink:" + j.id)));
            jobs.push_back(std::move(j));
        }
    }

    std::atomic<bool> stop{false};
    std::mutex mutex;
    std::set<std::string> acknowledged;                 // markers answered 200
    std::map<std::string, int> highest_acknowledged;    // job id -> progress
    std::atomic<int> sent{0};
    std::vector<std::thread> senders;
    for (int t = 0; t < kSenders; ++t) {
        senders.emplace_back([&, t] {
            std::unique_ptr<Client> client;
            for (std::size_t k = static_cast<std::size_t>(t); k < jobs.size() && !stop.load(); k += kSenders) {
                const Job& job = jobs[k];
                for (int progress = 1; progress <= kLastProgress && !stop.load();) {
                    const std::string marker = "m-" + job.id + "-" + std::to_string(progress);
                    ++sent;
                    try {
                        if (!client) {
                            client = std::make_unique<Client>(port);
                        }
                        auto r = client->request("POST", "/v1/callbacks/evolink/" + job.id + "?token=" + job.token, callback_body(job.task_id, progress, marker), {{"Content-Type", "application/json"}});
                        if (r.status == 200) {
                            const std::lock_guard lock(mutex);
                            acknowledged.insert(marker);
                            highest_acknowledged[job.id] = progress;
                            ++progress;
                        }
                    } catch (const std::exception&) {
                        client.reset();  // the server is down: resend shortly, as a provider would
                        std::this_thread::sleep_for(std::chrono::milliseconds(20));
                    }
                }
            }
        });
    }

    // Each kill comes once a share of the load has been acknowledged since the last restart, so
    // it lands mid-stream at any speed (a release build, a sanitized one) and the load, sized for
    // kills + 2 shares, never runs out before the last kill.
    const std::size_t share = jobs.size() * kLastProgress / static_cast<std::size_t>(kills + 2);
    const auto acknowledged_count = [&] {
        const std::lock_guard lock(mutex);
        return acknowledged.size();
    };
    std::size_t acked_before_kill = 0;
    for (int kill_no = 0; kill_no < kills; ++kill_no) {
        EXPECT_TRUE(eventually([&] { return acknowledged_count() >= acked_before_kill + share; }, std::chrono::seconds(120)))
            << "only " << acknowledged_count() - acked_before_kill << " of " << share
            << " callbacks were acknowledged before kill " << kill_no;
        ::kill(server.pid, SIGKILL);
        EXPECT_EQ(wait_exit(server), 128 + SIGKILL);
        acked_before_kill = acknowledged_count();
        server = start();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    stop = true;
    for (auto& s : senders) {
        s.join();
    }
    ::kill(server.pid, SIGTERM);
    EXPECT_EQ(wait_exit(server), 0) << slurp(server.err);

    SQLite::Database db((dir.path() / "db" / "seedhook.db").string(), SQLite::OPEN_READONLY);
    EXPECT_EQ(db.execAndGet("PRAGMA integrity_check").getString(), "ok");
    std::map<std::string, int> stored;   // marker -> rows
    std::map<std::string, int> applied;  // marker -> rows applied
    std::map<std::string, int> rows_per_job;
    SQLite::Statement rows(db, "SELECT job_id, outcome, body FROM callbacks WHERE source = 'callback'");
    while (rows.executeStep()) {
        const auto doc = json::parse(rows.getColumn(2).getString());
        ASSERT_TRUE(doc);
        const std::string marker(json::get_string(*doc, "prompt").value_or(""));
        ++stored[marker];
        applied[marker] += rows.getColumn(1).getString() == "applied" ? 1 : 0;
        ++rows_per_job[rows.getColumn(0).getString()];
    }
    std::size_t lost = 0;
    for (const auto& marker : acknowledged) {
        lost += stored.count(marker) == 0 ? 1 : 0;
    }
    std::size_t applied_twice = 0;
    for (const auto& [marker, n] : applied) {
        applied_twice += n > 1 ? 1 : 0;
    }
    std::size_t behind = 0;
    std::size_t miscounted = 0;
    SQLite::Statement job_rows(db, "SELECT id, progress, callbacks_received FROM jobs");
    while (job_rows.executeStep()) {
        const std::string id = job_rows.getColumn(0).getString();
        const auto it = highest_acknowledged.find(id);
        behind += it != highest_acknowledged.end() && job_rows.getColumn(1).getInt() < it->second ? 1 : 0;
        miscounted += job_rows.getColumn(2).getInt() != rows_per_job[id] ? 1 : 0;
    }
    std::cout << "crash safety: " << kills << " SIGKILLs, " << jobs.size() << " jobs, sent " << sent.load()
              << ", acknowledged " << acknowledged.size() << ", stored " << stored.size()
              << ", acknowledged but lost " << lost << ", applied twice " << applied_twice
              << ", jobs behind an acknowledged delivery " << behind << ", jobs whose count disagrees " << miscounted << "\n";
    EXPECT_GT(acknowledged.size(), 0U);
    EXPECT_EQ(lost, 0U);
    EXPECT_EQ(applied_twice, 0U);
    EXPECT_EQ(behind, 0U);
    EXPECT_EQ(miscounted, 0U);
    EXPECT_GE(stored.size(), acknowledged.size());
}

}  // namespace
}  // namespace seedhook::test
