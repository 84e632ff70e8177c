#include "tests/support/test_support.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <random>

#include <fcntl.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_future.hpp>
#include <gtest/gtest.h>

#include "common/log.hpp"
#include "common/tls.hpp"
#include "server/providers/https_client.hpp"

namespace seedhook::test {

TempDir::TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "seedhook-test-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) {
        throw std::runtime_error("mkdtemp failed");
    }
    path_ = pattern;
}

TempDir::~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
}

std::string certs_dir() { return SEEDHOOK_TEST_CERTS_DIR; }

std::string ca_file() { return certs_dir() + "/ca.crt"; }

namespace {

// The low end of the ports the kernel hands to outgoing connections (32768 on Linux).
std::uint16_t ephemeral_low() {
    unsigned low = 32768;
    if (FILE* f = std::fopen("/proc/sys/net/ipv4/ip_local_port_range", "r")) {
        if (std::fscanf(f, "%u", &low) != 1) {
            low = 32768;
        }
        std::fclose(f);
    }
    return static_cast<std::uint16_t>(std::clamp(low, 12000U, 65535U));
}

}  // namespace

// A port asked of the kernel (bind to 0) comes from its ephemeral range, which it also
// hands to every outgoing connection: between this call and the server's bind, a client
// socket of a test running alongside could take it ("Address already in use"). The ports
// below that range are never given out on their own; this process walks them from a
// random start and skips any in use.
//
// A probe that binds and closes does not keep the port, so two test processes running
// side by side (ctest -j) could still both be handed the same one before either server
// binds. Each port handed out is therefore also claimed in a lock file shared by all test
// processes: one byte per port, locked with fcntl for the life of the process that took
// it. The kernel drops those locks when the process ends, however it ends.
std::uint16_t free_port() {
    static const std::uint16_t high = ephemeral_low();
    static constexpr std::uint16_t kLow = 10000;
    static std::uint16_t next = [] {
        std::random_device seed;
        return static_cast<std::uint16_t>(kLow + seed() % (high - kLow));
    }();
    static const int claims = [] {
        const auto path = std::filesystem::temp_directory_path() /
                          ("seedhook-test-ports-" + std::to_string(::getuid()) + ".lock");
        const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0) {
            throw std::runtime_error("cannot open " + path.string());
        }
        return fd;  // kept open: closing any descriptor of the file drops this process's locks
    }();
    const auto claim = [](std::uint16_t port) {
        struct flock lock {};
        lock.l_type = F_WRLCK;
        lock.l_whence = SEEK_SET;
        lock.l_start = port;
        lock.l_len = 1;
        return ::fcntl(claims, F_SETLK, &lock) == 0;
    };
    net::io_context ioc;
    for (int tries = 0; tries < high - kLow; ++tries) {
        const std::uint16_t port = next;
        next = next + 1 >= high ? kLow : static_cast<std::uint16_t>(next + 1);
        net::ip::tcp::acceptor probe(ioc);
        boost::system::error_code ec;
        probe.open(net::ip::tcp::v4(), ec);
        probe.bind({net::ip::make_address("127.0.0.1"), port}, ec);
        if (!ec && claim(port)) {
            return port;
        }
    }
    throw std::runtime_error("no free port below the ephemeral range");
}

Config base_config(const TempDir& dir, std::uint16_t port) {
    Config c;
    c.listen_address = "127.0.0.1";
    c.listen_port = port;
    c.tls_cert_file = certs_dir() + "/server.crt";
    c.tls_key_file = certs_dir() + "/server.key";
    c.public_base_url = "https://127.0.0.1:" + std::to_string(port);
    c.callbacks_allow_private_hosts = true;
    c.auth_api_tokens = {kToken};
    c.database_path = (dir.path() / "seedhook.db").string();
    c.simulator_enabled = true;
    c.toapis.webhook_secret = kToapisSecret;
    c.simulator_complete_after_ms = 200;
    c.log_level = std::getenv("SEEDHOOK_TEST_LOG") != nullptr ? "debug" : "error";  // NOLINT
    c.server_threads = 2;
    return c;
}

json::Document Response::json() const {
    auto doc = json::parse(body);
    EXPECT_TRUE(doc.has_value()) << "not JSON: " << body;
    return doc ? std::move(*doc) : json::Document();
}

struct Client::Impl {
    std::uint16_t port;
    net::io_context ioc;
    net::executor_work_guard<net::io_context::executor_type> work{ioc.get_executor()};
    std::shared_ptr<providers::HttpsClient> http;
    std::thread thread;
};

Client::Client(std::uint16_t port, std::string ca) : impl_(std::make_unique<Impl>()) {
    impl_->port = port;
    auto ctx = std::make_shared<net::ssl::context>(tls::make_client_context({std::move(ca), {}}));
    impl_->http = std::make_shared<providers::HttpsClient>(ctx);
    impl_->thread = std::thread([this] { impl_->ioc.run(); });
}

Client::~Client() {
    impl_->work.reset();
    impl_->http->close_idle();
    impl_->ioc.stop();
    impl_->thread.join();
}

Response Client::request(
    const std::string& method,
    const std::string& path,
    const std::string& body,
    std::vector<std::pair<std::string, std::string>> headers
) {
    providers::ClientRequest req;
    req.method = method;
    req.url = "https://127.0.0.1:" + std::to_string(impl_->port) + path;
    req.body = body;
    req.headers = std::move(headers);
    req.timeout = std::chrono::seconds(20);
    auto future = net::co_spawn(impl_->ioc, impl_->http->request(std::move(req)), net::use_future);
    auto res = future.get();
    return {res.status, std::move(res.headers), std::move(res.body)};
}

Response Client::get(const std::string& path) {
    return request("GET", path, {}, {{"Authorization", std::string("Bearer ") + kToken}});
}

Response Client::post(const std::string& path, const std::string& body) {
    return request(
        "POST",
        path,
        body,
        {{"Authorization", std::string("Bearer ") + kToken}, {"Content-Type", "application/json"}}
    );
}

std::uint64_t Client::handshakes() const { return impl_->http->handshakes(); }

RunningApp::RunningApp(Config config) {
    app_ = std::make_unique<App>(std::move(config));
    app_->start();
    client_ = std::make_unique<Client>(app_->port());
}

RunningApp::~RunningApp() { stop(); }

void RunningApp::stop() {
    if (stopped_) {
        return;
    }
    stopped_ = true;
    client_.reset();
    app_->stop();
    app_->wait();
}

bool eventually(const std::function<bool()>& predicate, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (predicate()) {
            return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return predicate();
}

std::string job_body(const std::string& prompt) {
    json::Writer w;
    w.start_object();
    w.member("model", "seedance-1.5-pro");
    w.member("prompt", prompt);
    w.member("duration", 5);
    w.end_object();
    return w.take();
}

storage::JobRecord sample_job(const std::string& id, std::string status, std::int64_t created_at) {
    storage::JobRecord j;
    j.id = id;
    j.provider = "evolink";
    j.model = "seedance-1.5-pro";
    j.status = std::move(status);
    j.request_json = "{}";
    j.metadata_json = "null";
    j.created_at = created_at;
    j.updated_at = created_at;
    return j;
}

namespace {

net::awaitable<std::optional<providers::ProviderError>> caught_provider_error(net::awaitable<providers::TaskUpdate> aw) {
    std::optional<providers::ProviderError> error;
    try {
        co_await std::move(aw);
    } catch (const providers::ProviderError& e) {
        error.emplace(e);
    }
    co_return error;
}

}  // namespace

std::optional<providers::ProviderError> provider_error_of(net::io_context& ioc, net::awaitable<providers::TaskUpdate> aw) {
    return net::co_spawn(ioc, caught_provider_error(std::move(aw)), net::use_future).get();
}

}  // namespace seedhook::test
