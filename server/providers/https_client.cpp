#include "server/providers/https_client.hpp"

#include <poll.h>

#include <map>
#include <mutex>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "common/url.hpp"

namespace seedhook::providers {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
// beast::ssl_stream coalesces a write of several buffers (head and body) into one TLS record.
using Stream = beast::ssl_stream<beast::tcp_stream>;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::size_t kMaxIdlePerHost = 32;
constexpr std::uint64_t kMaxResponseBody = 16ULL << 20;

struct PooledConnection {
    std::unique_ptr<Stream> stream;
    Clock::time_point idle_since;
};

// Idle connections older than this may have been closed by the peer; drop them.
constexpr auto kMaxIdleAge = std::chrono::seconds(30);

// An idle connection has nothing to read: a readable one was closed or reset by the peer
// (or carries bytes nobody asked for), and is not worth sending a request on.
bool still_quiet(Stream& stream) {
    pollfd p{};
    p.fd = beast::get_lowest_layer(stream).socket().native_handle();
    p.events = POLLIN;
    return ::poll(&p, 1, 0) == 0;
}

// Idle connections are kept per event loop and host. A connection's socket waits in the reactor
// of the loop it was opened on, and a coroutine on another loop that used it would be resumed
// through a cross-thread post after every read and write; so a request only takes connections
// opened on its own loop, and opens new ones there.
using PoolKey = std::pair<const net::execution_context*, std::string>;

}  // namespace

struct HttpsClient::Impl {
    std::shared_ptr<net::ssl::context> ctx;
    std::atomic<std::uint64_t> handshakes{0};
    std::function<void()> on_handshake;
    std::mutex mutex;  // guards `idle` only; held for short stretches that never suspend
    std::map<PoolKey, std::vector<PooledConnection>> idle;

    std::unique_ptr<Stream> take_idle(const PoolKey& key) {
        const std::lock_guard lock(mutex);
        auto& list = idle[key];
        while (!list.empty()) {
            PooledConnection c = std::move(list.back());
            list.pop_back();
            if (Clock::now() - c.idle_since < kMaxIdleAge && still_quiet(*c.stream)) {
                return std::move(c.stream);
            }
        }
        return nullptr;
    }

    void give_back(const PoolKey& key, std::unique_ptr<Stream> stream) {
        const std::lock_guard lock(mutex);
        auto& list = idle[key];
        if (list.size() < kMaxIdlePerHost) {
            list.push_back({std::move(stream), Clock::now()});
        }
    }
};

namespace {

std::chrono::milliseconds remaining(Clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    return left.count() > 0 ? left : std::chrono::milliseconds(1);
}

[[noreturn]] void fail(
    const char* what,
    const boost::system::error_code& ec,
    const AbsoluteUrl& url,
    bool request_sent = false
) {
    const bool timed_out = ec == beast::error::timeout;
    throw TransportError(
        std::string(what) + " " + url.host + ":" + url.port + ": " +
            (timed_out ? std::string("timed out") : ec.message()),
        timed_out,
        request_sent
    );
}

net::awaitable<std::unique_ptr<Stream>> connect(
    HttpsClient::Impl& impl,
    const net::any_io_executor& executor,
    const AbsoluteUrl& url,
    Clock::time_point deadline
) {
    auto stream = std::make_unique<Stream>(executor, *impl.ctx);
    tcp::resolver resolver(executor);
    tcp::resolver::results_type endpoints;
    if (url.host_is_ip) {
        // Nothing to look up: a numeric resolve answers at once, without the thread that asio
        // starts per loop for asynchronous lookups.
        boost::system::error_code rec;
        endpoints = resolver.resolve(url.host, url.port, tcp::resolver::numeric_host | tcp::resolver::numeric_service, rec);
        if (rec) {
            fail("cannot resolve", rec, url);
        }
    } else {
        auto [rec, resolved] = co_await resolver.async_resolve(url.host, url.port, kNoThrow);
        if (rec) {
            fail("cannot resolve", rec, url);
        }
        endpoints = std::move(resolved);
    }
    auto& tcp_stream = beast::get_lowest_layer(*stream);
    tcp_stream.expires_after(remaining(deadline));
    auto [cec, ep] = co_await tcp_stream.async_connect(endpoints, kNoThrow);
    if (cec) {
        fail("cannot connect to", cec, url);
    }
    tcp_stream.socket().set_option(tcp::no_delay(true));
    if (!url.host_is_ip && SSL_set_tlsext_host_name(stream->native_handle(), url.host.c_str()) != 1) {
        throw TransportError("cannot set SNI for " + url.host, false);
    }
    stream->set_verify_callback(net::ssl::host_name_verification(url.host));
    tcp_stream.expires_after(remaining(deadline));
    auto [hec] = co_await stream->async_handshake(net::ssl::stream_base::client, kNoThrow);
    if (hec) {
        fail("TLS handshake with", hec, url);
    }
    impl.handshakes.fetch_add(1, std::memory_order_relaxed);
    if (impl.on_handshake) {
        impl.on_handshake();
    }
    co_return stream;
}

struct Exchange {
    ClientResponse response;
    bool keep_alive = false;
};

// When a pooled connection proves stale, what may be done again on a new one.
enum class OnStale {
    kFail,         // a new connection: nothing to retry
    kResendUnsent, // a failed write only: the peer never got the request whole
    kResend        // also a read that failed before any byte: repeating the request is harmless
};

// Writes the request and reads the answer. Returns nullopt when the request should be sent
// again on a new connection (`on_stale`); otherwise a failure throws TransportError, with
// request_sent() once the request was written whole.
net::awaitable<std::optional<Exchange>> exchange(
    Stream& stream,
    const http::request<http::string_body>& req,
    Clock::time_point deadline,
    const AbsoluteUrl& url,
    OnStale on_stale
) {
    auto& tcp_stream = beast::get_lowest_layer(stream);
    tcp_stream.expires_after(remaining(deadline));
    auto [wec, wn] = co_await http::async_write(stream, req, kNoThrow);
    if (wec) {
        // A write that failed left part of the request at most: the peer cannot act on it.
        if (on_stale != OnStale::kFail && wec != beast::error::timeout) {
            co_return std::nullopt;
        }
        fail("cannot send to", wec, url);
    }
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(kMaxResponseBody);
    tcp_stream.expires_after(remaining(deadline));
    auto [rec, rn] = co_await http::async_read(stream, buffer, parser, kNoThrow);
    if (rec) {
        // A pooled connection the peer had closed answers with EOF or a reset before any byte;
        // but so does a peer that read the request and died on it, so only a request that is
        // harmless to repeat is sent again.
        if (on_stale == OnStale::kResend && rec != beast::error::timeout && !parser.got_some()) {
            co_return std::nullopt;
        }
        fail("no answer from", rec, url, true);
    }
    auto msg = parser.release();
    Exchange out;
    out.response.status = static_cast<int>(msg.result_int());
    for (const auto& field : msg) {
        out.response.headers.add(std::string(field.name_string()), std::string(field.value()));
    }
    out.keep_alive = msg.keep_alive();
    out.response.body = std::move(msg.body());
    co_return out;
}

}  // namespace

HttpsClient::HttpsClient(std::shared_ptr<net::ssl::context> ctx, std::function<void()> on_handshake)
    : impl_(std::make_shared<Impl>()) {
    impl_->ctx = std::move(ctx);
    impl_->on_handshake = std::move(on_handshake);
}

HttpsClient::~HttpsClient() = default;

std::uint64_t HttpsClient::handshakes() const { return impl_->handshakes.load(); }

void HttpsClient::close_idle() {
    const std::lock_guard lock(impl_->mutex);
    impl_->idle.clear();
}

net::awaitable<ClientResponse> HttpsClient::request(ClientRequest request) {
    auto impl = impl_;  // keeps the pool alive while this coroutine runs
    const auto url = parse_absolute_url(request.url);
    if (!url || url->scheme != "https") {
        throw TransportError("not an absolute https URL", false);
    }
    const auto deadline = Clock::now() + request.timeout;
    const std::string host_port = url->host + ":" + url->port;
    const net::any_io_executor executor = co_await net::this_coro::executor;
    const PoolKey key{&net::query(executor, net::execution::context), host_port};

    http::request<http::string_body> req;
    req.method_string(request.method);
    req.target(url->target);
    req.version(11);
    req.set(http::field::host, url->port == "443" ? url->host : host_port);
    req.set(http::field::user_agent, "seedhook/" SEEDHOOK_VERSION);
    for (auto& [name, value] : request.headers) {
        req.set(name, value);
    }
    req.keep_alive(true);
    req.body() = std::move(request.body);
    if (!req.body().empty() || request.method == "POST" || request.method == "PUT") {
        req.prepare_payload();
    }

    const bool repeatable = request.method == "GET" || request.method == "HEAD";
    std::unique_ptr<Stream> stream = impl->take_idle(key);
    std::optional<Exchange> result;
    if (stream) {
        result = co_await exchange(*stream, req, deadline, *url, repeatable ? OnStale::kResend : OnStale::kResendUnsent);
    }
    if (!result) {
        stream = co_await connect(*impl, executor, *url, deadline);
        result = co_await exchange(*stream, req, deadline, *url, OnStale::kFail);
    }
    if (result->keep_alive) {
        impl->give_back(key, std::move(stream));
    } else {
        beast::error_code ignored;
        beast::get_lowest_layer(*stream).socket().shutdown(tcp::socket::shutdown_both, ignored);
    }
    co_return std::move(result->response);
}

}  // namespace seedhook::providers
