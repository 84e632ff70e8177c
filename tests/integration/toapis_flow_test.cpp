// toapis through the whole service: signed callbacks (SPEC §2.2), event-id dedupe, and
// polling alone when no webhook secret is configured.
#include <gtest/gtest.h>

#include "common/crypto.hpp"
#include "common/time.hpp"
#include "tests/support/test_support.hpp"

namespace seedhook::test {
namespace {

constexpr const char* kSecret = "callback-secret-for-toapis-tests";

std::string str(const json::Value& doc, const char* key) {
    auto v = json::get_string(doc, key);
    return v ? std::string(*v) : std::string("<absent>");
}

std::string event(const std::string& event_id, const std::string& task_id, const std::string& job_id) {
    return R"({"id":")" + event_id + R"(","type":"generation.completed","api_version":"v1","created_at":1768380515,)"
           R"("data":{"task_id":")" + task_id + R"(","client_business_id":")" + job_id +
           R"(","task_type":"video","model":"doubao-seedance-1-5-pro","status":"completed","progress":100,)"
           R"("result":{"type":"video","data":[{"url":"https://cdn.example.com/v.mp4","format":"mp4"}]},"error":null}})";
}

class ToapisFlow : public ::testing::Test {
protected:
    ToapisFlow() {
        Config c = base_config(dir, free_port());
        c.callbacks_secret = kSecret;
        app = std::make_unique<RunningApp>(c);
        auto created = app->client().post("/v1/jobs", R"({"model":"doubao-seedance-1-5-pro","prompt":"[sim:no-callback] a cat"})");
        EXPECT_EQ(created.status, 201) << created.body;
        auto doc = created.json();
        job_id = str(doc, "id");
        task_id = str(doc, "provider_task_id");
    }

    Response deliver(const std::string& body, std::vector<std::pair<std::string, std::string>> headers) {
        const std::string token = crypto::base64url(crypto::as_view(crypto::hmac_sha256(kSecret, "toapis:" + job_id)));
        headers.emplace_back("Content-Type", "application/json");
        return app->client().request("POST", "/v1/callbacks/toapis/" + job_id + "?token=" + token, body, headers);
    }

    std::vector<std::pair<std::string, std::string>> signed_headers(const std::string& event_id, const std::string& body, std::int64_t at_s, const std::string& secret = kToapisSecret) {
        const std::string ts = std::to_string(at_s);
        const std::string sig = crypto::hex(crypto::as_view(crypto::hmac_sha256(secret, event_id + "." + ts + "." + body)));
        return {{"X-ToAPIs-Webhook-Id", event_id}, {"X-ToAPIs-Webhook-Timestamp", ts}, {"X-ToAPIs-Webhook-Signature", "v1=" + sig}};
    }

    TempDir dir;
    std::unique_ptr<RunningApp> app;
    std::string job_id;
    std::string task_id;
};

TEST_F(ToapisFlow, UnsignedOrBadlySignedCallbacksAre401) {
    const std::string body = event("evt_1", task_id, job_id);
    const std::int64_t now = now_ms() / 1000;
    EXPECT_EQ(deliver(body, {}).status, 401);
    EXPECT_EQ(deliver(body, signed_headers("evt_1", body, now, "another-secret")).status, 401);
    EXPECT_EQ(deliver(body, signed_headers("evt_1", body + " ", now)).status, 401);
    EXPECT_EQ(deliver(body, signed_headers("evt_1", body, now - 6 * 60)).status, 401);
    auto r = deliver(body, signed_headers("evt_1", body, now));
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(str(app->client().get("/v1/jobs/" + job_id).json(), "status"), "succeeded");
}

TEST_F(ToapisFlow, TheSameEventTwiceChangesTheJobOnce) {
    const std::string body = event("evt_7", task_id, job_id);
    const std::int64_t now = now_ms() / 1000;
    EXPECT_EQ(str(deliver(body, signed_headers("evt_7", body, now)).json(), "outcome"), "applied");
    EXPECT_EQ(str(deliver(body, signed_headers("evt_7", body, now)).json(), "outcome"), "duplicate");
    auto list = app->client().get("/v1/jobs/" + job_id + "/callbacks").json();
    const auto& rows = *json::find(list, "callbacks");
    ASSERT_EQ(rows.Size(), 2U);
    EXPECT_EQ(str(rows[0], "event_id"), "evt_7");
}

TEST_F(ToapisFlow, EndpointTestEventIsAnsweredAndIgnored) {
    const std::string body = R"({"id":"evt_test","type":"endpoint.test","api_version":"v1","created_at":1768380515,"data":{}})";
    auto r = deliver(body, signed_headers("evt_test", body, now_ms() / 1000));
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(str(r.json(), "outcome"), "ignored");
    EXPECT_EQ(str(app->client().get("/v1/jobs/" + job_id).json(), "status"), "queued");
}

TEST(ToapisWithoutWebhookSecret, JobsAreFollowedByPollingAlone) {
    TempDir dir;
    Config c = base_config(dir, free_port());
    c.toapis.webhook_secret.clear();
    c.polling_interval_ms = 200;
    RunningApp app(c);
    auto created = app.client().post("/v1/jobs", R"({"model":"doubao-seedance-1-5-pro","prompt":"a cat"})");
    ASSERT_EQ(created.status, 201) << created.body;
    const std::string id = str(created.json(), "id");
    Response read;
    ASSERT_TRUE(eventually([&] {
        read = app.client().get("/v1/jobs/" + id);
        return str(read.json(), "status") == "succeeded";
    }, std::chrono::seconds(5))) << read.body;
    EXPECT_EQ(json::get_int(read.json(), "callbacks_received"), 0);
    EXPECT_TRUE(str(read.json(), "video_url").starts_with("https://"));
}

}  // namespace
}  // namespace seedhook::test
