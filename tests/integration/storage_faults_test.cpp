// Storage faults seen from outside (SPEC §6, issue 5): a full disk and a database locked by
// another process. Callbacks get 503 (so the provider retries), reads go on, /readyz turns red,
// and the service recovers by itself when the fault ends. Nothing acknowledged is lost.
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <set>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "common/crypto.hpp"
#include "common/json.hpp"
#include "tests/support/process.hpp"

namespace seedhook::test {
namespace {

constexpr const char* kSecret = "storage-faults-callback-secret";

struct Job {
    std::string id;
    std::string task_id;
    std::string token;
};

Job create_job(Client& c) {
    auto r = c.post("/v1/jobs", job_body("[sim:no-callback] storage fault"));
    EXPECT_EQ(r.status, 201) << r.body;
    const auto doc = r.json();
    Job j{std::string(json::get_string(doc, "id").value_or("")), std::string(json::get_string(doc, "provider_task_id").value_or("")), {}};
    j.token = crypto::base64url(crypto::as_view(crypto::hmac_sha256(kSecret, "evolink:" + j.id)));
    return j;
}

// An evolink progress callback carrying `marker` (and `padding` bytes, to use up space).
Response deliver(Client& c, const Job& job, int progress, const std::string& marker, std::size_t padding = 0) {
    const std::string body = R"({"id":")" + job.task_id + R"(","object":"video.generation.task","status":"processing","progress":)" +
                             std::to_string(progress) + R"(,"prompt":")" + marker + R"(","padding":")" + std::string(padding, 'x') + R"("})";
    return c.request("POST", "/v1/callbacks/evolink/" + job.id + "?token=" + job.token, body, {{"Content-Type", "application/json"}});
}

std::set<std::string> stored_markers(Client& c, const Job& job) {
    std::set<std::string> out;
    auto r = c.get("/v1/jobs/" + job.id + "/callbacks");
    EXPECT_EQ(r.status, 200) << r.body;
    const auto doc = r.json();
    for (const auto& d : json::find(doc, "callbacks")->GetArray()) {
        const auto* body = json::find(d, "body");
        if (body != nullptr && body->IsObject()) {
            out.insert(std::string(json::get_string(*body, "prompt").value_or("")));
        }
    }
    return out;
}

int readyz(std::uint16_t port) {
    try {
        Client c(port);
        return c.request("GET", "/readyz").status;
    } catch (const std::exception&) {
        return 0;
    }
}

std::string error_code(const Response& r) {
    const auto doc = json::parse(r.body);
    const auto* error = doc ? json::find(*doc, "error") : nullptr;
    return error == nullptr ? "<none>" : std::string(json::get_string(*error, "code").value_or(""));
}

// The disk fills up under the running service: the database lives on a 4 MiB tmpfs of its
// own (a private mount namespace, so no privileges are needed), and the test fills the rest
// with a ballast file, then deletes it.
TEST(StorageFaults, AFullDiskGives503AndTheServiceRecoversWhenSpaceReturns) {
    TempDir dir;
    const auto port = free_port();
    const auto db_dir = dir.path() / "db";
    std::filesystem::create_directories(db_dir);
    const std::string config = write_config(dir, valid_config(dir, port));
    const std::vector<std::string> wrapper = {
        "unshare", "--user", "--map-root-user", "--mount", "sh", "-c",
        R"(mount -t tmpfs -o size=4m seedhook-test "$0" && exec "$@")", db_dir.string()};
    Process server = spawn_seedhook(dir, {"--config", config},
        {std::string("SEEDHOOK_AUTH_API_TOKENS=") + kToken, std::string("SEEDHOOK_CALLBACKS_SECRET=") + kSecret,
         "SEEDHOOK_POLLING_GRACE_MS=3600000"}, wrapper);
    ASSERT_TRUE(eventually([&] { return readyz(port) == 200; }, std::chrono::seconds(15))) << slurp(server.err);

    Client client(port);
    const Job job = create_job(client);
    // The service's view of the folder, through its own mount namespace.
    const auto mounted = std::filesystem::path("/proc") / std::to_string(server.pid) / "root" / db_dir.relative_path();
    ASSERT_TRUE(std::filesystem::exists(mounted / "seedhook.db")) << mounted;
    const auto ballast = mounted / "ballast";
    {
        std::ofstream out(ballast, std::ios::binary);
        const std::string block(64 * 1024, 'b');
        while (out.write(block.data(), static_cast<std::streamsize>(block.size())) && out.flush()) {
        }
    }

    std::set<std::string> acknowledged;
    Response refused;
    int progress = 1;
    for (; progress < 100 && refused.status == 0; ++progress) {
        const std::string marker = "full-" + std::to_string(progress);
        auto r = deliver(client, job, progress, marker, 32 * 1024);
        if (r.status == 200) {
            acknowledged.insert(marker);
        } else {
            refused = r;
        }
    }
    EXPECT_EQ(refused.status, 503) << refused.body;
    EXPECT_EQ(error_code(refused), "storage_unavailable");
    EXPECT_EQ(readyz(port), 503) << "readiness must turn red while nothing can be committed";
    auto read = client.get("/v1/jobs/" + job.id);
    EXPECT_EQ(read.status, 200) << "reads go on while writes cannot: " << read.body;

    std::filesystem::remove(ballast);
    EXPECT_TRUE(eventually([&] { return readyz(port) == 200; }, std::chrono::seconds(10)));
    const std::string after = "after-" + std::to_string(progress);
    EXPECT_EQ(deliver(client, job, progress, after).status, 200);
    acknowledged.insert(after);

    const auto stored = stored_markers(client, job);
    for (const auto& marker : acknowledged) {
        EXPECT_EQ(stored.count(marker), 1U) << marker << " was acknowledged but is not stored";
    }
    std::cout << "disk full: " << acknowledged.size() << " acknowledged, all stored; refused with " << refused.status << "\n";
    ::kill(server.pid, SIGTERM);
    EXPECT_EQ(wait_exit(server), 0) << slurp(server.err);
}

// Another process holds the write lock (a backup tool, a careless sqlite3 shell).
TEST(StorageFaults, ADatabaseLockedByAnotherProcessGives503AndReadsGoOn) {
    TempDir dir;
    const auto port = free_port();
    const std::string config = write_config(dir, valid_config(dir, port));
    Process server = spawn_seedhook(dir, {"--config", config},
        {std::string("SEEDHOOK_AUTH_API_TOKENS=") + kToken, std::string("SEEDHOOK_CALLBACKS_SECRET=") + kSecret,
         "SEEDHOOK_POLLING_GRACE_MS=3600000"});
    ASSERT_TRUE(eventually([&] { return readyz(port) == 200; }, std::chrono::seconds(15))) << slurp(server.err);
    Client client(port);
    const Job job = create_job(client);
    ASSERT_EQ(deliver(client, job, 10, "before").status, 200);

    const std::string shell = "sqlite3 '" + (dir.path() / "db" / "seedhook.db").string() + "' > /dev/null";
    FILE* locker = ::popen(shell.c_str(), "w");
    ASSERT_NE(locker, nullptr);
    std::fputs(".timeout 5000\nBEGIN IMMEDIATE;\nINSERT OR REPLACE INTO settings (key, value) VALUES ('locker', '1');\n", locker);
    std::fflush(locker);
    // Until the shell holds the lock, another writer gets it at once (no fixed pause: a busy
    // machine starts the shell late).
    const std::string probe = "sqlite3 -cmd '.timeout 0' '" + (dir.path() / "db" / "seedhook.db").string() +
                              "' 'BEGIN IMMEDIATE; ROLLBACK;' > /dev/null 2>&1";
    ASSERT_TRUE(eventually([&] { return std::system(probe.c_str()) != 0; }, std::chrono::seconds(10))) << "the shell never took the lock";

    auto refused = deliver(client, job, 20, "while-locked");
    EXPECT_EQ(refused.status, 503) << refused.body;
    EXPECT_EQ(error_code(refused), "storage_unavailable");
    EXPECT_EQ(readyz(port), 503);
    auto read = client.get("/v1/jobs/" + job.id);
    EXPECT_EQ(read.status, 200);
    EXPECT_EQ(json::get_int(read.json(), "progress"), 10);

    std::fputs("ROLLBACK;\n.quit\n", locker);
    EXPECT_EQ(::pclose(locker), 0);
    EXPECT_TRUE(eventually([&] { return readyz(port) == 200; }, std::chrono::seconds(10)));
    EXPECT_EQ(deliver(client, job, 20, "while-locked").status, 200) << "the provider's retry lands";
    EXPECT_EQ(json::get_int(client.get("/v1/jobs/" + job.id).json(), "progress"), 20);
    EXPECT_EQ(stored_markers(client, job), (std::set<std::string>{"before", "while-locked"}));
    ::kill(server.pid, SIGTERM);
    EXPECT_EQ(wait_exit(server), 0) << slurp(server.err);
}

// A database the service cannot write at startup (a read-only volume): it refuses to start
// with one clear line naming the file, rather than serving without durability.
TEST(StorageFaults, AReadOnlyDatabaseAtStartupIsRefusedWithAClearMessage) {
    TempDir dir;
    const auto port = free_port();
    const auto db_dir = dir.path() / "db";
    const std::string config = write_config(dir, valid_config(dir, port));
    const std::vector<std::string> env = {std::string("SEEDHOOK_AUTH_API_TOKENS=") + kToken, std::string("SEEDHOOK_CALLBACKS_SECRET=") + kSecret};
    {
        Process first = spawn_seedhook(dir, {"--config", config}, env);
        ASSERT_TRUE(eventually([&] { return readyz(port) == 200; }, std::chrono::seconds(15))) << slurp(first.err);
        ::kill(first.pid, SIGTERM);
        ASSERT_EQ(wait_exit(first), 0);
    }
    const std::vector<std::string> read_only = {
        "unshare", "--user", "--map-root-user", "--mount", "sh", "-c",
        R"(mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" && exec "$@")", db_dir.string()};
    Process server = spawn_seedhook(dir, {"--config", config}, env, read_only);
    EXPECT_EQ(wait_exit(server), 1);
    const std::string err = slurp(server.err);
    EXPECT_NE(err.find("seedhook.db"), std::string::npos) << err;
    EXPECT_EQ(err.find(kSecret), std::string::npos);
}

}  // namespace
}  // namespace seedhook::test
