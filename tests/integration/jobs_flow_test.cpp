// The whole path against a real TLS server, a real SQLite file and the simulator as the
// provider: submit -> provider -> callback -> GET shows succeeded; and the create errors.
#include <SQLiteCpp/Database.h>
#include <gtest/gtest.h>

#include "server/simulator/simulator.hpp"
#include "tests/support/test_support.hpp"

namespace seedhook::test {
namespace {

std::string str(const json::Value& doc, const char* key) {
    auto v = json::get_string(doc, key);
    return v ? std::string(*v) : std::string("<absent>");
}

class JobsFlow : public ::testing::Test {
protected:
    TempDir dir;
    RunningApp app{base_config(dir, free_port())};
};

TEST_F(JobsFlow, SubmittedJobReachesSucceededThroughTheProviderCallback) {
    auto created = app.client().post("/v1/jobs", job_body());
    ASSERT_EQ(created.status, 201) << created.body;
    auto job = created.json();
    const std::string id = str(job, "id");
    EXPECT_EQ(str(job, "status"), "queued");
    EXPECT_EQ(str(job, "provider"), "evolink");
    EXPECT_EQ(str(job, "provider_status"), "pending");
    EXPECT_TRUE(str(job, "provider_task_id").starts_with("task-unified-"));
    EXPECT_TRUE(json::find(job, "video_url")->IsNull());
    EXPECT_TRUE(json::find(job, "completed_at")->IsNull());
    EXPECT_EQ(created.headers.get("Location"), "/v1/jobs/" + id);

    Response read;
    ASSERT_TRUE(eventually([&] {
        read = app.client().get("/v1/jobs/" + id);
        return read.body.find("\"succeeded\"") != std::string::npos;
    }, std::chrono::seconds(5))) << read.body;
    auto done = read.json();
    EXPECT_EQ(json::get_int(done, "progress"), 100);
    EXPECT_EQ(str(done, "provider_status"), "completed");
    EXPECT_TRUE(str(done, "video_url").ends_with(".mp4"));
    EXPECT_EQ(json::get_int(done, "callbacks_received"), 1);
    EXPECT_FALSE(json::find(done, "completed_at")->IsNull());

    auto deliveries = app.client().get("/v1/jobs/" + id + "/callbacks").json();
    const auto& list = (*json::find(deliveries, "callbacks"));
    ASSERT_EQ(list.Size(), 1U);
    EXPECT_EQ(str(list[0], "outcome"), "applied");
    EXPECT_EQ(str(list[0], "source"), "callback");
    EXPECT_EQ(str(*json::find(list[0], "body"), "status"), "completed");

    // The state is in the SQLite file itself, not only in memory.
    app.stop();
    SQLite::Database db((dir.path() / "seedhook.db").string());
    SQLite::Statement st(db, "SELECT status, video_url FROM jobs WHERE id = ?");
    st.bind(1, id);
    ASSERT_TRUE(st.executeStep());
    EXPECT_EQ(st.getColumn(0).getString(), "succeeded");
    EXPECT_TRUE(st.getColumn(1).getString().ends_with(".mp4"));
}

TEST_F(JobsFlow, JobObjectHasEveryKeyAndEchoesMetadata) {
    auto created = app.client().post("/v1/jobs", R"({"model":"seedance-1.5-pro","prompt":"p","metadata":{"order_id":"42"}})");
    ASSERT_EQ(created.status, 201) << created.body;
    auto job = created.json();
    for (const char* key : {"id", "provider", "model", "provider_task_id", "status", "provider_status", "progress",
                            "video_url", "last_frame_url", "error", "request", "metadata", "created_at",
                            "updated_at", "completed_at", "callbacks_received"}) {
        EXPECT_NE(json::find(job, key), nullptr) << key;
    }
    EXPECT_EQ(str(*json::find(job, "metadata"), "order_id"), "42");
    const auto& request = *json::find(job, "request");
    EXPECT_EQ(json::get_int(request, "duration"), 5);
    EXPECT_EQ(str(request, "quality"), "720p");
    EXPECT_EQ(str(request, "aspect_ratio"), "16:9");
    EXPECT_EQ(json::get_bool(request, "generate_audio"), true);
}

TEST_F(JobsFlow, BrokenModelRuleIs422NamingTheFieldAndSpendsNothing) {
    const auto before = app.app().simulator()->tasks_created();
    auto r = app.client().post("/v1/jobs", R"({"model":"seedance-1.5-pro","prompt":"p","duration":13})");
    EXPECT_EQ(r.status, 422);
    auto body = r.json();
    const auto& error = *json::find(body, "error");
    EXPECT_EQ(str(error, "field"), "duration");
    EXPECT_EQ(str(error, "code"), "invalid_field");

    EXPECT_EQ(app.client().post("/v1/jobs", R"({"model":"no-such-model","prompt":"p"})").status, 422);
    EXPECT_EQ(app.client().post("/v1/jobs", R"({"model":"seedance-1.5-pro","prompt":"p","durration":5})").status, 422);
    EXPECT_EQ(app.client().post("/v1/jobs", R"({"model":"seedance-1.5-pro","prompt":"p","provider":"toapis"})").status, 422);
    EXPECT_EQ(app.client().post("/v1/jobs", R"({"model":"seedance-1.5-pro","prompt":"p","duration":"5"})").status, 422);
    EXPECT_EQ(app.app().simulator()->tasks_created(), before);
}

TEST_F(JobsFlow, BearerTokenIsRequired) {
    EXPECT_EQ(app.client().request("POST", "/v1/jobs", job_body()).status, 401);
    auto wrong = app.client().request("GET", "/v1/jobs/job_00000000000000000000000000000000", {}, {{"Authorization", "Bearer not-the-token"}});
    EXPECT_EQ(wrong.status, 401);
    EXPECT_EQ(wrong.headers.get("WWW-Authenticate"), "Bearer");
    EXPECT_EQ(app.client().get("/v1/jobs/job_00000000000000000000000000000000").status, 404);
}

TEST_F(JobsFlow, MalformedAndNonJsonBodiesAreRefused) {
    EXPECT_EQ(app.client().post("/v1/jobs", "{not json").status, 400);
    EXPECT_EQ(app.client().post("/v1/jobs", "[1,2]").status, 422);
    auto text = app.client().request("POST", "/v1/jobs", job_body(), {{"Authorization", std::string("Bearer ") + kToken}, {"Content-Type", "text/plain"}});
    EXPECT_EQ(text.status, 415);
    // Still serving.
    EXPECT_EQ(app.client().post("/v1/jobs", job_body()).status, 201);
}

TEST_F(JobsFlow, ProviderRefusalIs502AndTheJobIsKeptAsSubmitFailed) {
    auto r = app.client().post("/v1/jobs", job_body("[sim:reject] a cat"));
    ASSERT_EQ(r.status, 502) << r.body;
    auto body = r.json();
    const auto& error = *json::find(body, "error");
    EXPECT_EQ(json::get_int(error, "provider_status"), 400);
    EXPECT_NE(str(error, "provider_message").find("refused"), std::string::npos);
    const std::string id = str(error, "job_id");
    auto job = app.client().get("/v1/jobs/" + id);
    ASSERT_EQ(job.status, 200);
    auto doc = job.json();
    EXPECT_EQ(str(doc, "status"), "submit_failed");
    EXPECT_EQ(str(*json::find(doc, "error"), "code"), "provider_rejected");
}

TEST_F(JobsFlow, FailedTaskIsRecordedWithTheProviderError) {
    auto created = app.client().post("/v1/jobs", job_body("[sim:fail] a cat"));
    ASSERT_EQ(created.status, 201);
    const std::string id = str(created.json(), "id");
    Response read;
    ASSERT_TRUE(eventually([&] {
        read = app.client().get("/v1/jobs/" + id);
        return read.body.find("\"failed\"") != std::string::npos;
    }, std::chrono::seconds(5))) << read.body;
    auto doc = read.json();
    EXPECT_EQ(str(*json::find(doc, "error"), "code"), "content_policy_violation");
    EXPECT_TRUE(json::find(doc, "video_url")->IsNull());
}

TEST_F(JobsFlow, HealthAndReadiness) {
    EXPECT_EQ(app.client().request("GET", "/healthz").status, 200);
    EXPECT_EQ(app.client().request("GET", "/readyz").status, 200);
}

TEST(JobsUnreachableProvider, SubmissionToADeadProviderIs503AndKept) {
    TempDir dir;
    Config c = base_config(dir, free_port());
    c.simulator_enabled = false;
    c.evolink.base_url = "https://127.0.0.1:" + std::to_string(free_port());  // nobody listens
    c.evolink.ca_file = ca_file();
    c.evolink.api_key = "key-for-a-dead-provider";
    c.evolink.timeout_ms = 2000;
    c.submission_retry_base_ms = 20;
    RunningApp app(c);
    auto r = app.client().post("/v1/jobs", job_body());
    ASSERT_EQ(r.status, 503) << r.body;
    const std::string id = str(*json::find(r.json(), "error"), "job_id");
    EXPECT_EQ(str(app.client().get("/v1/jobs/" + id).json(), "status"), "submit_failed");
}

}  // namespace
}  // namespace seedhook::test

namespace seedhook::test {
namespace {

struct ProviderCase {
    const char* provider;
    const char* model;
};

class EveryProvider : public ::testing::TestWithParam<ProviderCase> {};

TEST_P(EveryProvider, SubmittedJobSucceedsThroughItsProvidersCallback) {
    TempDir dir;
    RunningApp app(base_config(dir, free_port()));
    const ProviderCase& c = GetParam();
    auto created = app.client().post("/v1/jobs", std::string(R"({"model":")") + c.model + R"(","prompt":"A cat playing piano"})");
    ASSERT_EQ(created.status, 201) << created.body;
    auto job = created.json();
    EXPECT_EQ(*json::get_string(job, "provider"), c.provider);
    const std::string id(*json::get_string(job, "id"));
    Response read;
    ASSERT_TRUE(eventually([&] {
        read = app.client().get("/v1/jobs/" + id);
        return read.body.find("\"succeeded\"") != std::string::npos;
    }, std::chrono::seconds(5))) << read.body;
    auto done = read.json();
    EXPECT_TRUE(json::get_string(done, "video_url").has_value());
    EXPECT_EQ(json::get_int(done, "callbacks_received"), 1);
    auto list = app.client().get("/v1/jobs/" + id + "/callbacks");
    EXPECT_NE(list.body.find("\"applied\""), std::string::npos) << list.body;
    EXPECT_EQ(list.body.find("token="), std::string::npos) << "a stored body shows a callback token";
}

INSTANTIATE_TEST_SUITE_P(
    Simulated,
    EveryProvider,
    ::testing::Values(
        ProviderCase{"evolink", "seedance-1.5-pro"},
        ProviderCase{"toapis", "doubao-seedance-1-5-pro"},
        ProviderCase{"acedata", "doubao-seedance-1-0-pro-250528"},
        ProviderCase{"acedata", "doubao-seedance-1-5-pro-251215"}
    ),
    [](const ::testing::TestParamInfo<ProviderCase>& param_info) {
        std::string name = std::string(param_info.param.provider) + "_" + param_info.param.model;
        for (char& ch : name) {
            if (std::isalnum(static_cast<unsigned char>(ch)) == 0) {
                ch = '_';
            }
        }
        return name;
    }
);

}  // namespace
}  // namespace seedhook::test
