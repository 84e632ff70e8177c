// Listing, idempotent creation, submission retries and callback confirmation, over real TLS
// with the simulator (or a scripted provider peer) and a real SQLite file.
#include <sys/wait.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <set>

#include <gtest/gtest.h>

#include "common/tls.hpp"
#include "server/http/http_server.hpp"
#include "server/simulator/simulator.hpp"
#include "tests/support/test_support.hpp"

namespace seedhook::test {
namespace {

std::string str(const json::Value& doc, const char* key) {
    auto v = json::get_string(doc, key);
    return v ? std::string(*v) : std::string("<absent>");
}

class JobsApi : public ::testing::Test {
protected:
    TempDir dir;
    RunningApp app{base_config(dir, free_port())};
};

TEST_F(JobsApi, ListPagesNewestFirstWithCursorsAndFilters) {
    std::vector<std::string> ids;
    for (int i = 0; i < 5; ++i) {
        auto r = app.client().post("/v1/jobs", job_body("[sim:no-callback] job " + std::to_string(i)));
        ASSERT_EQ(r.status, 201);
        ids.push_back(str(r.json(), "id"));
    }
    auto refused = app.client().post("/v1/jobs", job_body("[sim:reject] x"));
    ASSERT_EQ(refused.status, 502);
    const std::string refused_id = str(*json::find(refused.json(), "error"), "job_id");

    std::vector<std::string> seen;
    std::string path = "/v1/jobs?limit=2";
    for (int page = 0; page < 10; ++page) {
        auto r = app.client().get(path);
        ASSERT_EQ(r.status, 200) << r.body;
        auto doc = r.json();
        const auto& jobs = *json::find(doc, "jobs");
        EXPECT_LE(jobs.Size(), 2U);
        for (const auto& j : jobs.GetArray()) {
            seen.push_back(str(j, "id"));
        }
        const auto* next = json::find(doc, "next_cursor");
        ASSERT_NE(next, nullptr);
        if (next->IsNull()) {
            break;
        }
        path = "/v1/jobs?limit=2&cursor=" + std::string(next->GetString());
    }
    std::vector<std::string> expected = {refused_id};
    expected.insert(expected.end(), ids.rbegin(), ids.rend());
    EXPECT_EQ(seen, expected);

    auto failed = app.client().get("/v1/jobs?status=submit_failed").json();
    ASSERT_EQ(json::find(failed, "jobs")->Size(), 1U);
    EXPECT_EQ(str((*json::find(failed, "jobs"))[0], "id"), refused_id);
    EXPECT_EQ(json::find(app.client().get("/v1/jobs?provider=evolink&model=seedance-1.5-pro").json(), "jobs")->Size(), 6U);
    EXPECT_EQ(json::find(app.client().get("/v1/jobs?model=doubao-seedance-1.0-pro-fast").json(), "jobs")->Size(), 0U);
}

TEST_F(JobsApi, ListRefusesBadParameters) {
    for (const char* q : {"limit=0", "limit=201", "limit=ten", "status=done", "provider=nobody", "cursor=%21%21", "cursor=Zm9v", "colour=red"}) {
        auto r = app.client().get(std::string("/v1/jobs?") + q);
        EXPECT_EQ(r.status, 422) << q << " " << r.body;
    }
    EXPECT_EQ(app.client().request("GET", "/v1/jobs").status, 401);
}

TEST_F(JobsApi, IdempotencyKeyReturnsTheSameJobAndRefusesADifferentBody) {
    const auto auth = std::make_pair(std::string("Authorization"), std::string("Bearer ") + kToken);
    const auto key = std::make_pair(std::string("Idempotency-Key"), std::string("order-42-attempt"));
    const auto before = app.app().simulator()->tasks_created();
    auto first = app.client().request("POST", "/v1/jobs", job_body("a cat"), {auth, key});
    ASSERT_EQ(first.status, 201) << first.body;
    auto again = app.client().request("POST", "/v1/jobs", job_body("a cat"), {auth, key});
    EXPECT_EQ(again.status, 200);
    EXPECT_EQ(again.headers.get("Idempotent-Replayed"), "true");
    EXPECT_EQ(str(again.json(), "id"), str(first.json(), "id"));
    auto different = app.client().request("POST", "/v1/jobs", job_body("a dog"), {auth, key});
    EXPECT_EQ(different.status, 409);
    EXPECT_EQ(str(*json::find(different.json(), "error"), "code"), "idempotency_key_reused");
    EXPECT_EQ(app.app().simulator()->tasks_created(), before + 1);
    auto bad = app.client().request("POST", "/v1/jobs", job_body("x"), {auth, {"Idempotency-Key", std::string(300, 'k')}});
    EXPECT_EQ(bad.status, 400);
}

TEST_F(JobsApi, TerminalCallbackIsConfirmedByTheProvider) {
    auto created = app.client().post("/v1/jobs", job_body());
    ASSERT_EQ(created.status, 201);
    const std::string id = str(created.json(), "id");
    Response read;
    ASSERT_TRUE(eventually([&] {
        read = app.client().get("/v1/jobs/" + id);
        const auto doc = read.json();
        const auto* confirmed = json::find(doc, "confirmed");
        return confirmed != nullptr && confirmed->IsBool() && confirmed->GetBool();
    }, std::chrono::seconds(5))) << read.body;
    EXPECT_EQ(str(read.json(), "status"), "succeeded");
}

TEST_F(JobsApi, MetricsDescribeRequestsCallbacksJobsAndProviderCalls) {
    auto created = app.client().post("/v1/jobs", job_body());
    ASSERT_EQ(created.status, 201);
    const std::string id = str(created.json(), "id");
    ASSERT_TRUE(eventually([&] { return str(app.client().get("/v1/jobs/" + id).json(), "status") == "succeeded"; }, std::chrono::seconds(5)));
    auto r = app.client().request("GET", "/metrics");
    ASSERT_EQ(r.status, 200);
    EXPECT_TRUE(r.headers.get("Content-Type").starts_with("text/plain; version=0.0.4"));
    for (const std::string line : {
             R"(seedhook_http_requests_total{route="/v1/jobs",method="POST",status="201"} 1)",
             R"(seedhook_callbacks_total{provider="evolink",outcome="applied"} 1)",
             R"(seedhook_jobs{status="succeeded"} 1)",
             R"(seedhook_jobs{status="queued"} 0)",
             R"(seedhook_provider_calls_total{provider="evolink",operation="submit",result="ok"} 1)",
             "seedhook_polling_backlog 0",
             "# TYPE seedhook_storage_commit_duration_seconds histogram"}) {
        EXPECT_NE(r.body.find("\n" + line + "\n"), std::string::npos) << line << "\n" << r.body;
    }
    // Job ids never become label values (a route pattern is counted instead).
    EXPECT_EQ(r.body.find(id), std::string::npos);
    EXPECT_NE(r.body.find(R"(route="/v1/jobs/{id}")"), std::string::npos);
}

// The exposition must be what Prometheus accepts: checked by Prometheus's own linter
// (promtool, Debian package prometheus, installed by scripts/install-deps.sh).
TEST_F(JobsApi, MetricsPassPromtoolCheck) {
    auto created = app.client().post("/v1/jobs", job_body());
    ASSERT_EQ(created.status, 201);
    const std::string id = str(created.json(), "id");
    ASSERT_TRUE(eventually([&] { return str(app.client().get("/v1/jobs/" + id).json(), "status") == "succeeded"; }, std::chrono::seconds(5)));
    EXPECT_EQ(app.client().get("/v1/jobs/job_00000000000000000000000000000000").status, 404);
    EXPECT_EQ(app.client().request("GET", "/v1/jobs").status, 401);
    auto r = app.client().request("GET", "/metrics");
    ASSERT_EQ(r.status, 200);
    const auto file = dir.path() / "metrics.txt";
    {
        std::ofstream out(file);
        out << r.body;
    }
    const auto report = dir.path() / "promtool.txt";
    const std::string command = "promtool check metrics < '" + file.string() + "' > '" + report.string() + "' 2>&1";
    const int status = std::system(command.c_str());
    std::ifstream in(report);
    const std::string said((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    ASSERT_TRUE(WIFEXITED(status)) << command;
    ASSERT_NE(WEXITSTATUS(status), 127) << "promtool is missing: run scripts/install-deps.sh";
    EXPECT_EQ(WEXITSTATUS(status), 0) << said << "\n" << r.body;
    EXPECT_EQ(said, "") << "promtool lint findings:\n" << said;
}

// Within the default 1 MiB body limit, nesting deep enough to overflow a recursive walker
// (it once crashed the process through a job's options) is refused, and the service serves on.
TEST_F(JobsApi, DeeplyNestedBodiesAreRefusedWithoutHarm) {
    const std::size_t depth = 400000;
    const std::string deep = std::string(depth, '[') + std::string(depth, ']');
    auto job = app.client().post("/v1/jobs", R"({"model":"seedance-1.5-pro","prompt":"a","options":{"x":)" + deep + "}}");
    EXPECT_EQ(job.status, 400) << job.body;
    auto created = app.client().post("/v1/jobs", job_body("[sim:no-callback] deep"));
    ASSERT_EQ(created.status, 201);
    const std::string id = str(created.json(), "id");
    auto callback = app.client().request("POST", "/v1/callbacks/evolink/" + id + "?token=x", R"({"id":"t","data":)" + deep + "}", {{"Content-Type", "application/json"}});
    EXPECT_EQ(callback.status / 100, 4) << callback.body;
    EXPECT_EQ(app.client().get("/v1/jobs/" + id).status, 200);
}

TEST_F(JobsApi, SubmissionsReuseOnePooledConnectionToTheProvider) {
    constexpr int kJobs = 20;
    for (int i = 0; i < kJobs; ++i) {
        ASSERT_EQ(app.client().post("/v1/jobs", job_body("[sim:no-callback] pooled " + std::to_string(i))).status, 201);
    }
    const std::string text = app.client().request("GET", "/metrics").body;
    EXPECT_NE(text.find("\n" R"(seedhook_provider_calls_total{provider="evolink",operation="submit",result="ok"} 20)" "\n"), std::string::npos) << text;
    // One after another, the twenty submissions ride one kept-alive TLS connection.
    EXPECT_NE(text.find("\n" R"(seedhook_provider_tls_handshakes_total{provider="evolink"} 1)" "\n"), std::string::npos) << text;
}

TEST(JobReads, CarryAnETagAndAnswer304WhileNothingChanged) {
    TempDir dir;
    Config c = base_config(dir, free_port());
    c.simulator_complete_after_ms = 1500;  // time to read the job before it changes
    RunningApp app(c);
    auto created = app.client().post("/v1/jobs", job_body("a cat"));
    ASSERT_EQ(created.status, 201);
    const std::string path = "/v1/jobs/" + str(created.json(), "id");
    const auto auth = std::make_pair(std::string("Authorization"), std::string("Bearer ") + kToken);
    auto first = app.client().get(path);
    const std::string etag(first.headers.get("ETag"));
    ASSERT_EQ(etag.size(), 34U) << etag;
    auto unchanged = app.client().request("GET", path, {}, {auth, {"If-None-Match", etag}});
    EXPECT_EQ(unchanged.status, 304);
    EXPECT_TRUE(unchanged.body.empty());
    EXPECT_EQ(unchanged.headers.get("ETag"), etag);
    EXPECT_EQ(app.client().request("GET", path, {}, {auth, {"If-None-Match", "\"other\", W/" + etag}}).status, 304);
    EXPECT_EQ(app.client().request("GET", path, {}, {auth, {"If-None-Match", "\"other\""}}).status, 200);
    // Once the job changes (the simulated provider calls back), the old tag no longer matches.
    EXPECT_TRUE(eventually([&] {
        return app.client().request("GET", path, {}, {auth, {"If-None-Match", etag}}).status == 200;
    }, std::chrono::seconds(5)));
}

/// A provider peer whose create-task answers follow a script (then succeed).
struct ScriptedProvider {
    explicit ScriptedProvider(std::vector<int> statuses) : script(std::move(statuses)) {
        auto ctx = std::make_shared<net::ssl::context>(tls::make_server_context({tls::read_pem_file(certs_dir() + "/server.crt"), tls::read_pem_file(certs_dir() + "/server.key")}));
        server = std::make_unique<http::HttpServer>(ioc, ctx, http::ServerOptions{}, [this](HttpRequest) -> net::awaitable<HttpResponse> {
            const auto n = calls.fetch_add(1);
            HttpResponse r;
            r.status = n < script.size() ? script[n] : 200;
            r.body = r.status == 200 ? R"({"id":"task-unified-1-scripted","object":"video.generation.task","status":"pending","progress":0})"
                                     : R"({"error":{"code":"busy","message":"try later"}})";
            co_return r;
        });
        server->start();
        thread = std::thread([this] { ioc.run(); });
    }

    ~ScriptedProvider() {
        server->stop_accepting();
        server->drain();
        ioc.stop();
        thread.join();
    }

    Config config_for(const TempDir& dir) const {
        Config c = base_config(dir, free_port());
        c.simulator_enabled = false;
        c.evolink.base_url = "https://127.0.0.1:" + std::to_string(server->port());
        c.evolink.ca_file = ca_file();
        c.evolink.api_key = "scripted-key";
        c.submission_retry_base_ms = 20;
        return c;
    }

    std::vector<int> script;
    std::atomic<std::size_t> calls{0};
    net::io_context ioc;
    std::unique_ptr<http::HttpServer> server;
    std::thread thread;
};

TEST(SubmissionRetries, TransientProviderErrorsAreRetriedUntilAccepted) {
    ScriptedProvider provider({503, 429, 500});
    TempDir dir;
    RunningApp app(provider.config_for(dir));
    auto r = app.client().post("/v1/jobs", job_body());
    EXPECT_EQ(r.status, 201) << r.body;
    EXPECT_EQ(provider.calls.load(), 4U);
}

TEST(SubmissionRetries, AProviderThatStaysDownGivesUpWithin10Attempts) {
    ScriptedProvider provider(std::vector<int>(50, 503));
    TempDir dir;
    RunningApp app(provider.config_for(dir));
    auto r = app.client().post("/v1/jobs", job_body());
    ASSERT_EQ(r.status, 503) << r.body;
    EXPECT_EQ(provider.calls.load(), 10U);
    const std::string id = str(*json::find(r.json(), "error"), "job_id");
    EXPECT_EQ(str(app.client().get("/v1/jobs/" + id).json(), "status"), "submit_failed");
}

TEST(SubmissionRetries, ARefusalIsNotRetried) {
    ScriptedProvider provider({400});
    TempDir dir;
    RunningApp app(provider.config_for(dir));
    EXPECT_EQ(app.client().post("/v1/jobs", job_body()).status, 502);
    EXPECT_EQ(provider.calls.load(), 1U);
}

}  // namespace
}  // namespace seedhook::test
