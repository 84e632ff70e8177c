// The built-in simulator as a provider peer: evolink's create/query protocol and its callback
// retries 1, 2 and 4 s after a non-2xx answer.
#include <boost/asio/use_future.hpp>
#include <gtest/gtest.h>

#include "common/tls.hpp"
#include "server/http/http_server.hpp"
#include "server/providers/evolink/evolink_provider.hpp"
#include "server/simulator/simulator.hpp"
#include "tests/support/test_support.hpp"

namespace seedhook::test {
namespace {

struct Receiver {
    std::mutex mutex;
    std::vector<std::chrono::steady_clock::time_point> arrivals;
    std::vector<std::string> bodies;
    int failures_left = 0;
};

TEST(Simulator, RetriesACallbackAfterOneTwoAndFourSeconds) {
    net::io_context ioc;
    auto receiver = std::make_shared<Receiver>();
    receiver->failures_left = 3;  // the fourth attempt (third retry) succeeds
    auto ctx = std::make_shared<net::ssl::context>(tls::make_server_context({tls::read_pem_file(certs_dir() + "/server.crt"), tls::read_pem_file(certs_dir() + "/server.key")}));
    http::HttpServer peer(ioc, ctx, {}, [receiver](HttpRequest r) -> net::awaitable<HttpResponse> {
        const std::lock_guard lock(receiver->mutex);
        receiver->arrivals.push_back(std::chrono::steady_clock::now());
        receiver->bodies.push_back(r.body);
        HttpResponse res;
        res.status = receiver->failures_left-- > 0 ? 503 : 200;
        co_return res;
    });
    peer.start();

    simulator::SimulatorOptions so;
    so.complete_after = std::chrono::milliseconds(100);
    so.callback_tls.ca_file = ca_file();
    simulator::Simulator sim(ioc, so);
    sim.start();
    std::thread runner([&ioc] { ioc.run(); });

    auto client_ctx = std::make_shared<net::ssl::context>(tls::make_client_context({{}, {sim.certificate_pem()}}));
    providers::ProviderOptions po{sim.base_url(), "sim-key", std::chrono::seconds(5), std::make_shared<providers::HttpsClient>(client_ctx), {}, "evolink", nullptr};
    providers::EvolinkProvider evolink(po);
    providers::SubmitRequest req;
    req.job_id = "job_x";
    req.request.model = "seedance-1.5-pro";
    req.request.prompt = "a cat";
    req.request.duration = 5;
    req.request.quality = "720p";
    req.request.aspect_ratio = "16:9";
    req.callback_url = "https://127.0.0.1:" + std::to_string(peer.port()) + "/hook?token=t";
    auto task = net::co_spawn(ioc, evolink.submit(req), net::use_future).get();
    EXPECT_EQ(task.provider_status, "pending");
    EXPECT_TRUE(task.status == providers::JobStatus::kQueued);

    ASSERT_TRUE(eventually([&] {
        const std::lock_guard lock(receiver->mutex);
        return receiver->arrivals.size() == 4;
    }, std::chrono::seconds(12)));
    {
        const std::lock_guard lock(receiver->mutex);
        const auto gap = [&](int i) { return std::chrono::duration_cast<std::chrono::milliseconds>(receiver->arrivals[i] - receiver->arrivals[i - 1]).count(); };
        EXPECT_NEAR(gap(1), 1000, 400);
        EXPECT_NEAR(gap(2), 2000, 400);
        EXPECT_NEAR(gap(3), 4000, 400);
        auto body = json::parse(receiver->bodies.back());
        ASSERT_TRUE(body);
        auto parsed = providers::EvolinkProvider::parse_task(*body);
        ASSERT_TRUE(parsed);
        EXPECT_EQ(parsed->task_id, task.task_id);
        EXPECT_TRUE(parsed->status == providers::JobStatus::kSucceeded);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_EQ(sim.callback_attempts(), 4U);  // no attempt after a 2xx

    auto queried = net::co_spawn(ioc, evolink.query(task.task_id), net::use_future).get();
    EXPECT_TRUE(queried.status == providers::JobStatus::kSucceeded);
    EXPECT_TRUE(queried.video_url.has_value());
    EXPECT_THROW(net::co_spawn(ioc, evolink.query("task-unified-0-missing"), net::use_future).get(), providers::ProviderError);

    sim.stop();
    peer.stop_accepting();
    peer.drain();
    ioc.stop();
    runner.join();
}

TEST(Simulator, RefusesCallsWithoutAnApiKey) {
    net::io_context ioc;
    simulator::Simulator sim(ioc, {});
    sim.start();
    std::thread runner([&ioc] { ioc.run(); });
    auto client_ctx = std::make_shared<net::ssl::context>(tls::make_client_context({{}, {sim.certificate_pem()}}));
    providers::ProviderOptions po{sim.base_url(), "", std::chrono::seconds(5), std::make_shared<providers::HttpsClient>(client_ctx), {}, "evolink", nullptr};
    providers::EvolinkProvider evolink(po);
    const auto e = provider_error_of(ioc, evolink.query("task-unified-1-x"));
    EXPECT_TRUE(e) << "no error";
    if (e) {
        EXPECT_EQ(e->http_status(), 401);
        EXPECT_TRUE(e->kind() == providers::ProviderError::Kind::kRejected);
    }
    sim.stop();
    ioc.stop();
    runner.join();
}

}  // namespace
}  // namespace seedhook::test
