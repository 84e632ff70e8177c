// The toapis and acedata adapters against the built-in simulator over real TLS: create,
// query until done, and the callbacks each sends (toapis signed, acedata flat or Ark-shaped).
#include "common/time.hpp"
#include "common/tls.hpp"
#include "server/http/http_server.hpp"
#include "server/providers/acedata/acedata_provider.hpp"
#include "server/providers/toapis/toapis_provider.hpp"
#include "server/simulator/simulator.hpp"
#include "tests/support/test_support.hpp"

#include <boost/asio/use_future.hpp>
#include <gtest/gtest.h>

namespace seedhook::test {
namespace {

constexpr const char* kWebhookSecret = "sim-webhook-secret";

struct Received {
    std::mutex mutex;
    std::vector<HttpRequest> requests;
    int failures_left = 0;  // answer 503 to this many deliveries first
};

class ProvidersSim : public ::testing::Test {
protected:
    void SetUp() override {
        received_ = std::make_shared<Received>();
        auto ctx = std::make_shared<net::ssl::context>(tls::make_server_context(
            {tls::read_pem_file(certs_dir() + "/server.crt"),
             tls::read_pem_file(certs_dir() + "/server.key")}
        ));
        auto received = received_;
        peer_ = std::make_unique<http::HttpServer>(
            ioc_,
            ctx,
            http::ServerOptions{},
            [received](HttpRequest r) -> net::awaitable<HttpResponse> {
                const std::lock_guard lock(received->mutex);
                received->requests.push_back(std::move(r));
                HttpResponse res;
                res.status = received->failures_left-- > 0 ? 503 : 200;
                res.body = "{}";
                co_return res;
            }
        );
        peer_->start();
        simulator::SimulatorOptions so;
        so.complete_after = std::chrono::milliseconds(100);
        so.callback_tls.ca_file = ca_file();
        so.toapis_webhook_secret = kWebhookSecret;
        so.retry_unit = std::chrono::milliseconds(50);
        sim_ = std::make_unique<simulator::Simulator>(ioc_, so);
        sim_->start();
        runner_ = std::thread([this] { ioc_.run(); });
    }

    void TearDown() override {
        sim_->stop();
        peer_->stop_accepting();
        peer_->drain();
        ioc_.stop();
        runner_.join();
    }

    providers::ProviderOptions options(std::string webhook_secret = {}) {
        auto ctx = std::make_shared<net::ssl::context>(
            tls::make_client_context({{}, {sim_->certificate_pem()}})
        );
        return {
            sim_->base_url(),
            "sim-key",
            std::chrono::seconds(5),
            std::make_shared<providers::HttpsClient>(ctx),
            std::move(webhook_secret),
            "",
            nullptr};
    }

    std::string callback_url(const std::string& job_id) const {
        return "https://127.0.0.1:" + std::to_string(peer_->port()) + "/v1/callbacks/x/" + job_id +
               "?token=t";
    }

    template <typename T>
    T run(net::awaitable<T> aw) {
        return net::co_spawn(ioc_, std::move(aw), net::use_future).get();
    }

    // Queries until the task is terminal (or 10 s pass); returns the last answer.
    providers::TaskUpdate query_until_done(
        providers::Provider& provider, const std::string& task_id
    ) {
        providers::TaskUpdate last;
        eventually(
            [&] {
                last = run(provider.query(task_id));
                return last.status && providers::is_terminal(*last.status);
            },
            std::chrono::seconds(10)
        );
        return last;
    }

    // The first callback whose path names `job_id`, waiting up to 10 s for it.
    std::optional<HttpRequest> callback_for(const std::string& job_id) {
        std::optional<HttpRequest> found;
        eventually(
            [&] {
                const std::lock_guard lock(received_->mutex);
                for (const auto& r : received_->requests) {
                    if (r.target.find("/" + job_id + "?") != std::string::npos) {
                        found = r;
                    }
                }
                return found.has_value();
            },
            std::chrono::seconds(10)
        );
        return found;
    }

    std::size_t callbacks_received() {
        const std::lock_guard lock(received_->mutex);
        return received_->requests.size();
    }

    net::io_context ioc_;
    std::shared_ptr<Received> received_;
    std::unique_ptr<http::HttpServer> peer_;
    std::unique_ptr<simulator::Simulator> sim_;
    std::thread runner_;
};

providers::SubmitRequest toapis_request(const std::string& job_id, const std::string& prompt) {
    providers::SubmitRequest req;
    req.job_id = job_id;
    req.request.model = "doubao-seedance-1-5-pro";
    req.request.prompt = prompt;
    req.request.duration = 5;
    req.request.quality = "720p";
    req.request.aspect_ratio = "16:9";
    req.request.generate_audio = true;
    return req;
}

providers::SubmitRequest acedata_request(const std::string& job_id, const std::string& prompt) {
    providers::SubmitRequest req;
    req.job_id = job_id;
    req.request.model = "doubao-seedance-1-0-pro-250528";
    req.request.prompt = prompt;
    req.request.duration = 5;
    req.request.quality = "1080p";
    req.request.aspect_ratio = "16:9";
    req.request.options_json = R"({"return_last_frame": true})";
    return req;
}

TEST_F(ProvidersSim, ToapisTaskSucceedsAndItsSignedCallbackVerifies) {
    providers::ToapisProvider toapis(options(kWebhookSecret));
    auto req = toapis_request("job_t1", "a cat");
    req.callback_url = callback_url("job_t1");
    const auto created = run(toapis.submit(req));
    EXPECT_EQ(created.provider_status, "queued");
    EXPECT_EQ(created.status, providers::JobStatus::kQueued);
    ASSERT_FALSE(created.task_id.empty());

    const auto done = query_until_done(toapis, created.task_id);
    EXPECT_EQ(done.status, providers::JobStatus::kSucceeded);
    EXPECT_EQ(done.provider_status, "completed");
    ASSERT_TRUE(done.video_url.has_value());
    EXPECT_TRUE(done.video_url_expires_at.has_value());
    const auto by_business_id = run(toapis.query("job_t1"));
    EXPECT_EQ(by_business_id.task_id, created.task_id);

    const auto callback = callback_for("job_t1");
    ASSERT_TRUE(callback);
    EXPECT_FALSE(toapis.authenticate_callback(callback->headers, callback->body, now_ms()));
    const auto parsed = toapis.parse_callback(callback->body);
    ASSERT_EQ(parsed.kind, providers::CallbackParse::Kind::kUpdate);
    EXPECT_EQ(parsed.update.task_id, created.task_id);
    EXPECT_EQ(parsed.update.status, providers::JobStatus::kSucceeded);
    EXPECT_EQ(parsed.update.video_url, done.video_url);
    ASSERT_TRUE(parsed.update.event_id.has_value());
    EXPECT_EQ(parsed.update.event_id, std::string(callback->headers.get("X-ToAPIs-Webhook-Id")));

    providers::ToapisProvider wrong(options("another-secret"));
    EXPECT_TRUE(wrong.authenticate_callback(callback->headers, callback->body, now_ms()));
    EXPECT_TRUE(
        toapis.authenticate_callback(callback->headers, callback->body, now_ms() + 6 * 60 * 1000)
    );
}

TEST_F(ProvidersSim, ToapisRetriesACallbackWithAStableEventIdAndFreshSignatures) {
    {
        const std::lock_guard lock(received_->mutex);
        received_->failures_left = 2;
    }
    providers::ToapisProvider toapis(options(kWebhookSecret));
    auto req = toapis_request("job_t3", "a cat");
    req.callback_url = callback_url("job_t3");
    run(toapis.submit(req));
    ASSERT_TRUE(eventually([&] { return callbacks_received() == 3; }, std::chrono::seconds(10)));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_EQ(sim_->callback_attempts(), 3U);  // none after the 2xx
    const std::lock_guard lock(received_->mutex);
    ASSERT_EQ(received_->requests.size(), 3U);
    const std::string first_id(received_->requests[0].headers.get("X-ToAPIs-Webhook-Id"));
    EXPECT_FALSE(first_id.empty());
    for (const auto& r : received_->requests) {
        EXPECT_EQ(r.headers.get("X-ToAPIs-Webhook-Id"), first_id);
        EXPECT_FALSE(toapis.authenticate_callback(r.headers, r.body, now_ms()));
        EXPECT_EQ(toapis.parse_callback(r.body).update.event_id, first_id);
    }
}

TEST_F(ProvidersSim, ToapisWithoutAWebhookSecretIsFollowedByPollingAlone) {
    providers::ToapisProvider toapis(options());
    auto req = toapis_request("job_t2", "a dog [sim:fail]");
    req.callback_url = callback_url("job_t2");
    const auto created = run(toapis.submit(req));
    const auto done = query_until_done(toapis, created.task_id);
    EXPECT_EQ(done.status, providers::JobStatus::kFailed);
    EXPECT_TRUE(done.error_code.has_value());
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_EQ(sim_->callback_attempts(), 0U);
    EXPECT_EQ(callbacks_received(), 0U);
}

TEST_F(ProvidersSim, RefusedCreateCallsAreRejectedProviderErrors) {
    providers::ToapisProvider toapis(options(kWebhookSecret));
    providers::AcedataProvider acedata(options());
    const auto expect_rejected = [this](net::awaitable<providers::TaskUpdate> aw) {
        const auto e = provider_error_of(ioc_, std::move(aw));
        ASSERT_TRUE(e) << "no error";
        EXPECT_EQ(e->kind(), providers::ProviderError::Kind::kRejected);
        EXPECT_GE(e->http_status(), 400);
    };
    expect_rejected(toapis.submit(toapis_request("job_r1", "x [sim:reject]")));
    expect_rejected(acedata.submit(acedata_request("job_r2", "x [sim:reject]")));
    EXPECT_EQ(sim_->tasks_created(), 0U);
}

TEST_F(ProvidersSim, AcedataTaskSucceedsAndItsFlatCallbackCarriesTheVideo) {
    providers::AcedataProvider acedata(options());
    auto req = acedata_request("job_a1", "a kitten yawning");
    req.callback_url = callback_url("job_a1");
    const auto created = run(acedata.submit(req));
    EXPECT_EQ(created.status, providers::JobStatus::kQueued);
    ASSERT_FALSE(created.task_id.empty());

    const auto done = query_until_done(acedata, created.task_id);
    EXPECT_EQ(done.status, providers::JobStatus::kSucceeded);
    EXPECT_EQ(done.task_id, created.task_id);
    ASSERT_TRUE(done.video_url.has_value());
    EXPECT_TRUE(done.last_frame_url.has_value());

    const auto callback = callback_for("job_a1");
    ASSERT_TRUE(callback);
    auto body = json::parse(callback->body);
    ASSERT_TRUE(body);
    EXPECT_NE(json::get_string(*json::find(*body, "data"), "video_url"), std::nullopt);  // flat
    const auto parsed = acedata.parse_callback(callback->body);
    ASSERT_EQ(parsed.kind, providers::CallbackParse::Kind::kUpdate);
    EXPECT_EQ(parsed.update.task_id, created.task_id);
    EXPECT_EQ(parsed.update.status, providers::JobStatus::kSucceeded);
    EXPECT_EQ(parsed.update.video_url, done.video_url);
}

TEST_F(ProvidersSim, AcedataArkShapedCallbackCarriesTheVideo) {
    providers::AcedataProvider acedata(options());
    auto req = acedata_request("job_a2", "a kitten [sim:ark]");
    req.callback_url = callback_url("job_a2");
    const auto created = run(acedata.submit(req));
    const auto callback = callback_for("job_a2");
    ASSERT_TRUE(callback);
    auto body = json::parse(callback->body);
    ASSERT_TRUE(body);
    const auto* content = json::find(*json::find(*body, "data"), "content");
    ASSERT_NE(content, nullptr);  // Ark-shaped
    const auto parsed = acedata.parse_callback(callback->body);
    ASSERT_EQ(parsed.kind, providers::CallbackParse::Kind::kUpdate);
    EXPECT_EQ(parsed.update.task_id, created.task_id);
    EXPECT_EQ(parsed.update.status, providers::JobStatus::kSucceeded);
    EXPECT_EQ(parsed.update.video_url, std::string(*json::get_string(*content, "video_url")));
}

TEST_F(ProvidersSim, AcedataFailureArrivesAsAFailedCallbackAndQuery) {
    providers::AcedataProvider acedata(options());
    auto req = acedata_request("job_a3", "a kitten [sim:fail]");
    req.callback_url = callback_url("job_a3");
    const auto created = run(acedata.submit(req));
    const auto callback = callback_for("job_a3");
    ASSERT_TRUE(callback);
    const auto parsed = acedata.parse_callback(callback->body);
    ASSERT_EQ(parsed.kind, providers::CallbackParse::Kind::kUpdate);
    EXPECT_EQ(parsed.update.status, providers::JobStatus::kFailed);
    EXPECT_TRUE(parsed.update.error_code.has_value());
    const auto queried = run(acedata.query(created.task_id));
    EXPECT_EQ(queried.status, providers::JobStatus::kFailed);
}

TEST_F(ProvidersSim, AcedataQueryAnswerEchoesTheCallbackUrlAndRedactionRemovesIt) {
    providers::AcedataProvider acedata(options());
    auto req = acedata_request("job_a4", "a kitten [sim:no-callback]");
    req.callback_url = callback_url("job_a4") + "-SECRET";
    const auto created = run(acedata.submit(req));
    query_until_done(acedata, created.task_id);
    providers::ClientRequest raw;
    raw.method = "POST";
    raw.url = sim_->base_url() + "/seedance/tasks";
    raw.headers = {{"Authorization", "Bearer sim-key"}, {"Content-Type", "application/json"}};
    raw.body = R"({"id": ")" + created.task_id + R"(", "action": "retrieve"})";
    auto client = options().client;
    const auto answer = run(client->request(raw));
    ASSERT_EQ(answer.status, 200);
    EXPECT_NE(answer.body.find("-SECRET"), std::string::npos);
    const std::string clean = providers::AcedataProvider::redact_query_answer(answer.body);
    EXPECT_EQ(clean.find("-SECRET"), std::string::npos);
    auto doc = json::parse(clean);
    ASSERT_TRUE(doc);
    EXPECT_EQ(
        providers::AcedataProvider::parse_query_answer(*doc)->status,
        providers::JobStatus::kSucceeded
    );
    EXPECT_EQ(callbacks_received(), 0U);
}

TEST_F(ProvidersSim, AcedataCreateWithoutCallbackBlocksUntilTheVideoIsDone) {
    providers::ClientRequest raw;
    raw.method = "POST";
    raw.url = sim_->base_url() + "/seedance/videos";
    raw.headers = {{"Authorization", "Bearer sim-key"}, {"Content-Type", "application/json"}};
    raw.body = R"({"model": "doubao-seedance-1-0-pro-250528",
        "content": [{"type": "text", "text": "A kitten yawning. --rs 720p --rt 16:9 --dur 5"}]})";
    auto client = options().client;
    const auto answer = run(client->request(raw));
    ASSERT_EQ(answer.status, 200);
    auto doc = json::parse(answer.body);
    ASSERT_TRUE(doc);
    const auto result = providers::AcedataProvider::parse_result(*doc);
    ASSERT_TRUE(result);
    EXPECT_EQ(result->status, providers::JobStatus::kSucceeded);
    EXPECT_TRUE(result->video_url.has_value());
    EXPECT_EQ(sim_->callback_attempts(), 0U);
}

}  // namespace
}  // namespace seedhook::test
