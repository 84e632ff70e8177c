// The provider-facing callback route: capability tokens, durable commit before 2xx,
// duplicates and out-of-order deliveries, payload checks.
#include <SQLiteCpp/Database.h>
#include <thread>

#include <gtest/gtest.h>

#include "common/crypto.hpp"
#include "tests/support/test_support.hpp"

namespace seedhook::test {
namespace {

constexpr const char* kSecret = "callback-secret-for-tests";

std::string str(const json::Value& doc, const char* key) {
    auto v = json::get_string(doc, key);
    return v ? std::string(*v) : std::string("<absent>");
}

std::string token_for(const std::string& provider, const std::string& job_id) {
    return crypto::base64url(crypto::as_view(crypto::hmac_sha256(kSecret, provider + ":" + job_id)));
}

std::string task_body(const std::string& task_id, const std::string& status, int progress = 0) {
    std::string body = R"({"id":")" + task_id + R"(","object":"video.generation.task","status":")" + status +
                       R"(","progress":)" + std::to_string(progress);
    if (status == "completed") {
        body += R"(,"results":["https://cdn.example.com/videos/)" + task_id + R"(.mp4"])";
    }
    if (status == "failed") {
        body += R"(,"error":{"code":500,"message":"generation failed"})";
    }
    return body + "}";
}

class Callbacks : public ::testing::Test {
protected:
    Callbacks() {
        Config c = base_config(dir, free_port());
        c.callbacks_secret = kSecret;
        app = std::make_unique<RunningApp>(c);
        // The simulator will not call back: this test plays the provider.
        auto created = app->client().post("/v1/jobs", job_body("[sim:no-callback] a cat"));
        EXPECT_EQ(created.status, 201) << created.body;
        auto doc = created.json();
        job_id = str(doc, "id");
        task_id = str(doc, "provider_task_id");
    }

    Response deliver(const std::string& body, const std::string& token) {
        return app->client().request(
            "POST",
            "/v1/callbacks/evolink/" + job_id + "?token=" + token,
            body,
            {{"Content-Type", "application/json"}}
        );
    }

    Response deliver(const std::string& body) { return deliver(body, token_for("evolink", job_id)); }

    std::string job_field(const char* key) { return str(app->client().get("/v1/jobs/" + job_id).json(), key); }

    std::vector<std::string> outcomes() {
        std::vector<std::string> out;
        auto doc = app->client().get("/v1/jobs/" + job_id + "/callbacks").json();
        for (const auto& d : json::find(doc, "callbacks")->GetArray()) {
            out.push_back(str(d, "outcome"));
        }
        return out;
    }

    TempDir dir;
    std::unique_ptr<RunningApp> app;
    std::string job_id;
    std::string task_id;
};

TEST_F(Callbacks, CompletedDeliveryIsVisibleAsSoonAsItIsAcknowledged) {
    auto r = deliver(task_body(task_id, "completed", 100));
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(str(r.json(), "outcome"), "applied");
    EXPECT_EQ(job_field("status"), "succeeded");
    EXPECT_EQ(job_field("video_url"), "https://cdn.example.com/videos/" + task_id + ".mp4");
}

TEST_F(Callbacks, WrongOrMissingTokenIs401AndChangesNothing) {
    EXPECT_EQ(deliver(task_body(task_id, "completed"), "AAAA").status, 401);
    EXPECT_EQ(deliver(task_body(task_id, "completed"), token_for("acedata", job_id)).status, 401);
    auto none = app->client().request("POST", "/v1/callbacks/evolink/" + job_id, task_body(task_id, "completed"));
    EXPECT_EQ(none.status, 401);
    EXPECT_EQ(job_field("status"), "queued");
    EXPECT_TRUE(outcomes().empty());
}

TEST_F(Callbacks, UnknownJobWithAValidTokenIs404) {
    const std::string other = "job_0123456789abcdef0123456789abcdef";
    auto r = app->client().request("POST", "/v1/callbacks/evolink/" + other + "?token=" + token_for("evolink", other), task_body(task_id, "completed"));
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(app->client().request("POST", "/v1/callbacks/nosuch/" + job_id + "?token=x", "{}").status, 404);
}

TEST_F(Callbacks, MalformedForeignAndMismatchedPayloadsAreRefused) {
    EXPECT_EQ(deliver("{\"id\": ").status, 400);
    EXPECT_EQ(deliver(R"({"hello":"world"})").status, 422);
    auto mismatch = deliver(task_body("task-unified-1-someoneelse", "completed"));
    EXPECT_EQ(mismatch.status, 422);
    EXPECT_EQ(str(*json::find(mismatch.json(), "error"), "code"), "task_mismatch");
    auto text = app->client().request("POST", "/v1/callbacks/evolink/" + job_id + "?token=" + token_for("evolink", job_id), "x=1", {{"Content-Type", "application/x-www-form-urlencoded"}});
    EXPECT_EQ(text.status, 415);
    EXPECT_EQ(job_field("status"), "queued");
    EXPECT_EQ(outcomes(), std::vector<std::string>{"rejected"});
}

TEST_F(Callbacks, DuplicateDeliveryChangesTheJobOnce) {
    ASSERT_EQ(deliver(task_body(task_id, "completed", 100)).status, 200);
    auto again = deliver(task_body(task_id, "completed", 100));
    EXPECT_EQ(again.status, 200);
    EXPECT_EQ(str(again.json(), "outcome"), "duplicate");
    EXPECT_EQ(outcomes(), (std::vector<std::string>{"applied", "duplicate"}));
    EXPECT_EQ(job_field("status"), "succeeded");
}

TEST_F(Callbacks, OutOfOrderDeliveriesNeverMoveAJobBackwards) {
    ASSERT_EQ(deliver(task_body(task_id, "completed", 100)).status, 200);
    auto late = deliver(task_body(task_id, "processing", 40));
    EXPECT_EQ(late.status, 200);
    EXPECT_EQ(str(late.json(), "outcome"), "stale");
    auto other = deliver(task_body(task_id, "failed"));
    EXPECT_EQ(other.status, 200);
    EXPECT_EQ(str(other.json(), "outcome"), "conflict");
    auto doc = app->client().get("/v1/jobs/" + job_id).json();
    EXPECT_EQ(str(doc, "status"), "succeeded");
    EXPECT_EQ(json::get_int(doc, "progress"), 100);
    EXPECT_EQ(json::get_int(doc, "callbacks_received"), 3);
    EXPECT_EQ(outcomes(), (std::vector<std::string>{"applied", "stale", "conflict"}));
}

TEST_F(Callbacks, ProgressNeverFalls) {
    ASSERT_EQ(deliver(task_body(task_id, "processing", 60)).status, 200);
    EXPECT_EQ(str(deliver(task_body(task_id, "processing", 30)).json(), "outcome"), "duplicate");
    auto doc = app->client().get("/v1/jobs/" + job_id).json();
    EXPECT_EQ(str(doc, "status"), "running");
    EXPECT_EQ(json::get_int(doc, "progress"), 60);
}

TEST_F(Callbacks, ProviderAnswerWinsOverACallbackThatDisagrees) {
    // The simulated task completes after 200 ms; a callback claiming failure is then checked.
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    auto r = deliver(task_body(task_id, "failed"));
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(str(r.json(), "status"), "failed");
    ASSERT_TRUE(eventually([&] { return job_field("status") == "succeeded"; }, std::chrono::seconds(5)));
    auto doc = app->client().get("/v1/jobs/" + job_id).json();
    EXPECT_TRUE(json::find(doc, "confirmed")->GetBool());
    EXPECT_TRUE(str(doc, "video_url").ends_with(".mp4"));
    EXPECT_EQ(outcomes(), (std::vector<std::string>{"conflict", "applied"}));
    auto list = app->client().get("/v1/jobs/" + job_id + "/callbacks").json();
    EXPECT_EQ(str((*json::find(list, "callbacks"))[1], "source"), "poll");
}

TEST_F(Callbacks, FailureCallbackKeepsTheProviderError) {
    // A job whose simulated task fails too, so the confirmation query agrees.
    auto created = app->client().post("/v1/jobs", job_body("[sim:no-callback] [sim:fail] a cat")).json();
    job_id = str(created, "id");
    task_id = str(created, "provider_task_id");
    ASSERT_EQ(deliver(task_body(task_id, "failed")).status, 200);
    auto doc = app->client().get("/v1/jobs/" + job_id).json();
    EXPECT_EQ(str(doc, "status"), "failed");
    EXPECT_EQ(str(*json::find(doc, "error"), "code"), "500");
    EXPECT_EQ(str(*json::find(doc, "error"), "message"), "generation failed");
    ASSERT_TRUE(eventually([&] { return json::find(app->client().get("/v1/jobs/" + job_id).json(), "confirmed")->GetBool(); }, std::chrono::seconds(5)));
    EXPECT_EQ(job_field("status"), "failed");
}

TEST_F(Callbacks, AcknowledgedDeliverySurvivesARestartAndTheTokenStaysValid) {
    ASSERT_EQ(deliver(task_body(task_id, "processing", 50)).status, 200);
    Config c = base_config(dir, free_port());
    c.callbacks_secret = kSecret;
    app->stop();
    app = std::make_unique<RunningApp>(c);
    EXPECT_EQ(job_field("status"), "running");
    EXPECT_EQ(deliver(task_body(task_id, "completed", 100)).status, 200);
    EXPECT_EQ(job_field("status"), "succeeded");
}

// Retention: deliveries older than retention.days are deleted; newer ones and the job stay.
TEST_F(Callbacks, RetentionDeletesOldDeliveriesAndKeepsTheJob) {
    ASSERT_EQ(deliver(task_body(task_id, "processing", 10)).status, 200);
    ASSERT_EQ(deliver(task_body(task_id, "processing", 20)).status, 200);
    app->stop();
    {
        // Two days pass for the first delivery only.
        SQLite::Database db((dir.path() / "seedhook.db").string(), SQLite::OPEN_READWRITE);
        db.exec("UPDATE callbacks SET received_at = received_at - 2 * 86400000 "
                "WHERE id = (SELECT min(id) FROM callbacks WHERE source = 'callback')");
    }
    Config c = base_config(dir, free_port());
    c.callbacks_secret = kSecret;
    c.retention_days = 1;
    app = std::make_unique<RunningApp>(c);
    auto bodies = [&] {
        std::vector<std::string> out;
        auto doc = app->client().get("/v1/jobs/" + job_id + "/callbacks").json();
        for (const auto& d : json::find(doc, "callbacks")->GetArray()) {
            const auto* body = json::find(d, "body");
            out.push_back(body == nullptr ? "<absent>" : body->IsNull() ? "null" : body->IsObject() ? "object" : "other");
        }
        return out;
    };
    EXPECT_TRUE(eventually([&] { return bodies() == std::vector<std::string>{"object"}; }, std::chrono::seconds(5)))
        << testing::PrintToString(bodies());
    const auto job = app->client().get("/v1/jobs/" + job_id).json();
    EXPECT_EQ(json::get_int(job, "progress"), 20);
    EXPECT_EQ(json::get_int(job, "callbacks_received"), 2) << "the job still counts every delivery it got";
}

// Sweeps go on while the service runs: deliveries that age after an earlier sweep emptied
// the table (SQLite then hands out ids from 1 again) are still found and deleted.
TEST_F(Callbacks, RetentionKeepsSweepingAfterTheTableWasEmptied) {
    app->stop();
    Config c = base_config(dir, free_port());
    c.callbacks_secret = kSecret;
    c.retention_days = 1;
    c.retention_sweep_interval_ms = 100;
    app = std::make_unique<RunningApp>(c);
    auto count = [&] {
        auto doc = app->client().get("/v1/jobs/" + job_id + "/callbacks").json();
        return json::find(doc, "callbacks")->GetArray().Size();
    };
    auto age_everything = [&] {
        SQLite::Database db((dir.path() / "seedhook.db").string(), SQLite::OPEN_READWRITE);
        db.setBusyTimeout(5000);
        db.exec("UPDATE callbacks SET received_at = received_at - 2 * 86400000");
    };
    for (int round = 1; round <= 3; ++round) {
        ASSERT_EQ(deliver(task_body(task_id, "processing", 10 * round)).status, 200);
        ASSERT_EQ(deliver(task_body(task_id, "processing", 10 * round + 5)).status, 200);
        EXPECT_EQ(count(), 2U) << "round " << round;
        age_everything();
        EXPECT_TRUE(eventually([&] { return count() == 0; }, std::chrono::seconds(5))) << "round " << round << ": " << count() << " left";
    }
}

std::string stored_secret(const TempDir& dir) {
    SQLite::Database db((dir.path() / "seedhook.db").string());
    return db.execAndGet("SELECT value FROM settings WHERE key = 'callbacks_secret'").getString();
}

// Long-poll reads (?wait=): the answer comes when a delivery changes the job, not at the end
// of the wait, and an unchanged job is answered when the wait ends.
TEST_F(Callbacks, LongPollAnswersAsSoonAsADeliveryChangesTheJob) {
    const std::string path = "/v1/jobs/" + job_id;
    const std::string etag(app->client().get(path).headers.get("ETag"));
    ASSERT_FALSE(etag.empty());
    Response polled;
    std::chrono::steady_clock::duration took{};
    std::thread poller([&] {
        Client own(app->port());
        const auto start = std::chrono::steady_clock::now();
        polled = own.request("GET", path + "?wait=30", {}, {{"Authorization", std::string("Bearer ") + kToken}, {"If-None-Match", etag}});
        took = std::chrono::steady_clock::now() - start;
    });
    // The poller is waiting once the watch counts it; then the provider calls back.
    EXPECT_TRUE(eventually([&] { return app->app().long_polls() == 1; }, std::chrono::seconds(5)));
    EXPECT_EQ(deliver(task_body(task_id, "processing", 40)).status, 200);
    poller.join();
    EXPECT_EQ(polled.status, 200) << polled.body;
    EXPECT_EQ(json::get_int(polled.json(), "progress"), 40);
    EXPECT_NE(polled.headers.get("ETag"), etag);
    EXPECT_LT(took, std::chrono::seconds(20)) << "the answer waited for the end of the wait";
    EXPECT_EQ(app->app().long_polls(), 0U);
}

TEST_F(Callbacks, LongPollOnAnUnchangedJobEndsWith304WhenTheWaitEnds) {
    const std::string path = "/v1/jobs/" + job_id;
    const auto auth = std::make_pair(std::string("Authorization"), std::string("Bearer ") + kToken);
    const std::string etag(app->client().get(path).headers.get("ETag"));
    const auto start = std::chrono::steady_clock::now();
    auto r = app->client().request("GET", path + "?wait=1", {}, {auth, {"If-None-Match", etag}});
    EXPECT_EQ(r.status, 304);
    EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
    // Without If-None-Match the job as it is comes at the end of the wait.
    auto plain = app->client().request("GET", path + "?wait=1", {}, {auth});
    EXPECT_EQ(plain.status, 200);
    EXPECT_EQ(plain.headers.get("ETag"), etag);
    // A tag that is already stale is answered at once, whatever the wait.
    auto stale = app->client().request("GET", path + "?wait=30", {}, {auth, {"If-None-Match", "\"stale\""}});
    EXPECT_EQ(stale.status, 200);
}

TEST_F(Callbacks, LongPollRefusesABadWait) {
    const std::string path = "/v1/jobs/" + job_id;
    for (const char* bad : {"?wait=31", "?wait=-1", "?wait=abc", "?wait=", "?wait=1.5", "?since=1"}) {
        auto r = app->client().get(path + bad);
        EXPECT_EQ(r.status, 422) << bad;
        EXPECT_EQ(str(*json::find(r.json(), "error"), "code"), "invalid_parameter") << bad;
    }
    EXPECT_EQ(app->client().get("/v1/jobs/job_00000000000000000000000000000000?wait=1").status, 404);
}

TEST_F(Callbacks, ShutdownAnswersLongPollsAtOnce) {
    const std::string path = "/v1/jobs/" + job_id;
    Response polled;
    std::thread poller([&] {
        Client own(app->port());
        polled = own.request("GET", path + "?wait=30", {}, {{"Authorization", std::string("Bearer ") + kToken}});
    });
    EXPECT_TRUE(eventually([&] { return app->app().long_polls() == 1; }, std::chrono::seconds(5)));
    const auto start = std::chrono::steady_clock::now();
    app->stop();
    poller.join();
    EXPECT_EQ(polled.status, 200);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10)) << "SIGTERM must stop within 10 s";
}

TEST(CallbackSecret, GeneratedSecretIsKeptInTheDatabaseAcrossRestarts) {
    TempDir dir;
    std::string job_id;
    std::string task_id;
    {
        RunningApp app(base_config(dir, free_port()));
        auto doc = app.client().post("/v1/jobs", job_body("[sim:no-callback] x")).json();
        job_id = str(doc, "id");
        task_id = str(doc, "provider_task_id");
    }
    const std::string secret = stored_secret(dir);
    EXPECT_GE(secret.size(), 40U);
    RunningApp app(base_config(dir, free_port()));
    const std::string token = crypto::base64url(crypto::as_view(crypto::hmac_sha256(secret, "evolink:" + job_id)));
    auto r = app.client().request("POST", "/v1/callbacks/evolink/" + job_id + "?token=" + token, task_body(task_id, "completed"));
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(stored_secret(dir), secret);
}

}  // namespace
}  // namespace seedhook::test
