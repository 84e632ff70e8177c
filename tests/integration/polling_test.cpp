// Reconciliation: jobs that get no callback are followed by querying the provider, and
// submissions cut short by a stop are resolved at startup.
#include <gtest/gtest.h>

#include "common/crypto.hpp"
#include "common/time.hpp"
#include "server/simulator/simulator.hpp"
#include "server/storage/database.hpp"
#include "server/storage/job_store.hpp"
#include "tests/support/test_support.hpp"

#include <boost/asio/use_future.hpp>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace seedhook::test {
namespace {

std::string str(const json::Value& doc, const char* key) {
    auto v = json::get_string(doc, key);
    return v ? std::string(*v) : std::string("<absent>");
}

// Writes jobs left in `submitting` (a process stopped mid-submission) into a new database in
// `dir`, each created at its given time (ms).
void insert_submitting_jobs(const TempDir& dir, const std::vector<std::pair<std::string, std::int64_t>>& jobs) {
    storage::Database db({(dir.path() / "seedhook.db").string(), "FULL"});
    storage::JobStore store(db);
    for (const auto& [id, created_at] : jobs) {
        net::co_spawn(db.executor(), store.insert(sample_job(id, "submitting", created_at)), net::use_future).get();
    }
}

TEST(Polling, AJobWhoseCallbackNeverComesIsReconciledByQueryingTheProvider) {
    TempDir dir;
    Config c = base_config(dir, free_port());
    c.polling_grace_ms = 300;
    c.polling_interval_ms = 200;
    RunningApp app(c);
    auto created = app.client().post("/v1/jobs", job_body("[sim:no-callback] a cat"));
    ASSERT_EQ(created.status, 201);
    const std::string id = str(created.json(), "id");
    Response read;
    ASSERT_TRUE(eventually([&] {
        read = app.client().get("/v1/jobs/" + id);
        return str(read.json(), "status") == "succeeded";
    }, std::chrono::seconds(5))) << read.body;
    auto doc = read.json();
    EXPECT_TRUE(json::find(doc, "confirmed")->GetBool());
    EXPECT_TRUE(str(doc, "video_url").ends_with(".mp4"));
    EXPECT_EQ(json::get_int(doc, "callbacks_received"), 0);
    auto list = app.client().get("/v1/jobs/" + id + "/callbacks").json();
    const auto& rows = *json::find(list, "callbacks");
    ASSERT_GE(rows.Size(), 1U);
    const auto& last = rows[rows.Size() - 1];
    EXPECT_EQ(str(last, "source"), "poll");
    EXPECT_EQ(str(last, "outcome"), "applied");
    EXPECT_EQ(str(last, "provider_status"), "completed");
    EXPECT_EQ(app.app().simulator()->callback_attempts(), 0U);
}

TEST(Polling, AcedataQueryAnswersAreStoredWithoutTheCallbackToken) {
    TempDir dir;
    Config c = base_config(dir, free_port());
    c.polling_grace_ms = 300;
    c.polling_interval_ms = 200;
    RunningApp app(c);
    auto created = app.client().post("/v1/jobs", R"({"model":"doubao-seedance-1-0-pro-250528","prompt":"[sim:no-callback] a cat"})");
    ASSERT_EQ(created.status, 201) << created.body;
    const std::string id = str(created.json(), "id");
    ASSERT_TRUE(eventually([&] { return str(app.client().get("/v1/jobs/" + id).json(), "status") == "succeeded"; }, std::chrono::seconds(5)));
    auto list = app.client().get("/v1/jobs/" + id + "/callbacks");
    EXPECT_NE(list.body.find("\"source\":\"poll\""), std::string::npos) << list.body;
    EXPECT_NE(list.body.find("callback_url"), std::string::npos) << "the stored answer should still show the field";
    EXPECT_EQ(list.body.find("token="), std::string::npos) << list.body;
    EXPECT_EQ(list.body.find("/v1/callbacks/acedata/"), std::string::npos) << list.body;
}

TEST(Polling, NothingIsQueriedBeforeTheGracePeriod) {
    TempDir dir;
    Config c = base_config(dir, free_port());
    c.polling_grace_ms = 60000;
    RunningApp app(c);
    auto created = app.client().post("/v1/jobs", job_body("[sim:no-callback] a cat"));
    ASSERT_EQ(created.status, 201);
    std::this_thread::sleep_for(std::chrono::milliseconds(800));
    EXPECT_EQ(str(app.client().get("/v1/jobs/" + str(created.json(), "id")).json(), "status"), "queued");
}

TEST(Polling, AnInterruptedSubmissionIsMarkedAtStartupAndItsLateCallbackStillLands) {
    TempDir dir;
    const std::string secret = "secret-for-the-interrupted-test";
    const std::string id = "job_00112233445566778899aabbccddeeff";
    insert_submitting_jobs(dir, {{id, 1000}});
    Config c = base_config(dir, free_port());
    c.callbacks_secret = secret;
    RunningApp app(c);
    Response read;
    ASSERT_TRUE(eventually([&] {
        read = app.client().get("/v1/jobs/" + id);
        return str(read.json(), "status") == "submit_failed";
    }, std::chrono::seconds(3))) << read.body;
    EXPECT_EQ(str(*json::find(read.json(), "error"), "code"), "submission_interrupted");

    const std::string token = crypto::base64url(crypto::as_view(crypto::hmac_sha256(secret, "evolink:" + id)));
    auto r = app.client().request(
        "POST",
        "/v1/callbacks/evolink/" + id + "?token=" + token,
        R"({"id":"task-unified-9-late","object":"video.generation.task","status":"completed","progress":100,"results":["https://cdn.example.com/v.mp4"]})"
    );
    ASSERT_EQ(r.status, 200) << r.body;
    auto doc = app.client().get("/v1/jobs/" + id).json();
    EXPECT_EQ(str(doc, "status"), "succeeded");
    EXPECT_EQ(str(doc, "provider_task_id"), "task-unified-9-late");
    EXPECT_TRUE(json::find(doc, "error")->IsNull());
}

TEST(Polling, AJobSubmittedWhileTheStartupRecoveryRunsIsNotMarkedInterrupted) {
    TempDir dir;
    const std::string interrupted = "job_00112233445566778899aabbccddeef0";
    const std::string current = "job_00112233445566778899aabbccddeef1";
    insert_submitting_jobs(dir, {{interrupted, 1000}, {current, now_ms() + 60'000}});
    // The second stands for a job that this process's first POST created before the
    // recovery read the table (created after the start): it is being submitted, not stuck.
    RunningApp app(base_config(dir, free_port()));
    ASSERT_TRUE(eventually([&] {
        return str(app.client().get("/v1/jobs/" + interrupted).json(), "status") == "submit_failed";
    }, std::chrono::seconds(3)));
    EXPECT_EQ(str(app.client().get("/v1/jobs/" + current).json(), "status"), "submitting");
}

}  // namespace
}  // namespace seedhook::test
