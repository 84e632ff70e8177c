// The outbound HTTPS client's connection pool across event loops, against a real TLS peer.
#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_future.hpp>
#include <gtest/gtest.h>

#include "common/tls.hpp"
#include "server/http/http_server.hpp"
#include "server/providers/https_client.hpp"
#include "tests/support/test_support.hpp"

namespace seedhook::test {
namespace {

// An event loop on a thread of its own, for as long as the object lives.
class Loop {
public:
    Loop() : thread_([this] { ioc.run(); }) {}
    Loop(const Loop&) = delete;
    Loop& operator=(const Loop&) = delete;
    ~Loop() { stop(); }

    void stop() {
        work_.reset();
        ioc.stop();
        if (thread_.joinable()) {
            thread_.join();
        }
    }

    net::io_context ioc;

private:
    net::executor_work_guard<net::io_context::executor_type> work_{ioc.get_executor()};
    std::thread thread_;
};

class HttpsClientPool : public ::testing::Test {
protected:
    HttpsClientPool() {
        auto server_ctx = std::make_shared<net::ssl::context>(tls::make_server_context(
            {tls::read_pem_file(certs_dir() + "/server.crt"), tls::read_pem_file(certs_dir() + "/server.key")}
        ));
        peer_ = std::make_unique<http::HttpServer>(peer_loop_.ioc, server_ctx, http::ServerOptions{}, [this](HttpRequest) -> net::awaitable<HttpResponse> {
            answered_.fetch_add(1);
            HttpResponse res;
            res.body = "{}";
            co_return res;
        });
        peer_->start();
        client_ = std::make_shared<providers::HttpsClient>(
            std::make_shared<net::ssl::context>(tls::make_client_context({ca_file(), {}}))
        );
    }

    ~HttpsClientPool() override {
        client_->close_idle();
        peer_->stop_accepting();
        peer_->drain();
        peer_loop_.stop();  // the server goes while its context still exists, as it must
    }

    // One GET made by a coroutine on `loop`; its status, or 0 when it did not finish in time.
    int get_from(Loop& loop, const std::string& host = "127.0.0.1") {
        providers::ClientRequest req;
        req.url = "https://" + host + ":" + std::to_string(peer_->port()) + "/";
        req.timeout = std::chrono::seconds(5);
        auto answer = net::co_spawn(loop.ioc, client_->request(std::move(req)), net::use_future);
        if (answer.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
            return 0;
        }
        return answer.get().status;
    }

    Loop peer_loop_;
    // The callers' loops outlive the client: pooled connections belong to them, and the
    // client's idle ones are closed (in the destructor) before the loops go.
    Loop a;
    Loop b;
    std::atomic<int> answered_{0};
    std::unique_ptr<http::HttpServer> peer_;
    std::shared_ptr<providers::HttpsClient> client_;
};

TEST_F(HttpsClientPool, EachEventLoopRidesItsOwnConnectionAndNeedsNoOtherLoop) {
    ASSERT_EQ(get_from(a), 200);
    ASSERT_EQ(get_from(a), 200);
    EXPECT_EQ(client_->handshakes(), 1U);  // the second request reused the first's connection

    // While loop b is stuck in a long handler, loop a's requests go on: nothing of theirs waits
    // in b's reactor or queue.
    std::promise<void> release;
    net::post(b.ioc, [done = release.get_future().share()] { done.wait(); });
    const auto started = std::chrono::steady_clock::now();
    EXPECT_EQ(get_from(a), 200);
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
    release.set_value();

    // Loop b opens a connection of its own, then keeps it; a's is still there for a.
    ASSERT_EQ(get_from(b), 200);
    ASSERT_EQ(get_from(b), 200);
    ASSERT_EQ(get_from(a), 200);
    EXPECT_EQ(client_->handshakes(), 2U);
    EXPECT_EQ(answered_.load(), 6);
}

TEST_F(HttpsClientPool, AHostNameIsResolvedAndAnAddressIsUsedAsItIs) {
    EXPECT_EQ(get_from(a, "localhost"), 200);  // the test certificate names localhost too
    EXPECT_EQ(get_from(a, "127.0.0.1"), 200);
    EXPECT_EQ(client_->handshakes(), 2U);  // two hosts, two pools
}

}  // namespace
}  // namespace seedhook::test
