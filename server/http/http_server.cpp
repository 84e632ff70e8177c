#include "server/http/http_server.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <cassert>
#include <mutex>
#include <set>

#include <unistd.h>

#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "common/log.hpp"
#include "server/http/request_parser.hpp"
#include "server/http/response_serializer.hpp"
#include "server/http/router.hpp"

namespace seedhook::http {

namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = net::ip::tcp;
using Stream = beast::ssl_stream<tcp::socket>;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto kWriteTimeout = std::chrono::seconds(30);
constexpr auto kShutdownTimeout = std::chrono::seconds(2);

// Per-connection state shared with drain() and the deadline's watch. Touched only on the
// session's executor.
struct SessionState {
    explicit SessionState(net::any_io_executor ex) : executor(ex), timer(std::move(ex)) {}

    net::any_io_executor executor;
    Stream* stream = nullptr;  // null once the session ended
    bool idle = true;

    // The deadline of what the connection does now (handshake, read, write, close), kept by
    // watch_deadline. A deadline after the one the timer is armed for is a store: the watch
    // re-arms when it wakes and finds it moved on, which a kept-alive connection costs once per
    // timeout period rather than on every read and write (beast::tcp_stream's way:
    // bench/README.md). Only a nearer one (the idle timeout after the handshake's, the close
    // after a write) wakes the watch at once.
    void expires_after(Clock::duration d) {
        deadline = Clock::now() + d;
        if (deadline < armed) {
            timer.cancel();  // the watch re-arms for the nearer deadline
        }
    }
    // No deadline while the handler works: time spent answering is not the client's.
    void no_deadline() { deadline = Clock::time_point::max(); }

    net::steady_timer timer;
    Clock::time_point deadline = Clock::time_point::max();
    Clock::time_point armed = Clock::time_point::max();  // what the timer waits for
};

// Closes the connection's socket when its deadline passes, which fails the pending read or
// write (operation_aborted) and ends the session. Ends with the session.
net::awaitable<void> watch_deadline(std::shared_ptr<SessionState> state) {
    while (state->stream != nullptr) {
        const Clock::time_point now = Clock::now();
        if (now >= state->deadline) {
            beast::error_code ignored;
            beast::get_lowest_layer(*state->stream).close(ignored);
            co_return;
        }
        // A day at most: the timer's arithmetic stays away from time_point::max().
        state->armed = std::min(state->deadline, now + std::chrono::hours(24));
        state->timer.expires_at(state->armed);
        co_await state->timer.async_wait(kNoThrow);  // woken at `armed`, or early when the deadline moved nearer or the session ended
    }
}

}  // namespace

struct HttpServer::Impl {
    net::io_context& ioc;
    ServerOptions options;
    RequestHandler handler;
    std::uint16_t port = 0;  // bound by start()
    std::atomic<std::size_t> connections{0};
    // The accept loops' acceptors (each a local of its loop), for stop_accepting. Guarded by
    // `mutex`; an entry is only touched on its own acceptor's executor.
    std::vector<tcp::acceptor*> accepting;
    bool accepting_stopped = false;  // guarded by `mutex`; a loop that starts after it stops at once
    std::atomic<bool> draining{false};
    std::mutex mutex;  // guards `sessions`, `accepting` and `accepting_stopped`; never held across a suspension
    std::set<std::shared_ptr<SessionState>> sessions;

    Impl(net::io_context& io, std::shared_ptr<net::ssl::context> ctx, ServerOptions opts, RequestHandler h)
        : ioc(io), options(std::move(opts)), handler(std::move(h)), tls_(std::move(ctx)) {}

    // The context for the next connection; set_tls swaps it while sessions take copies.
    std::shared_ptr<net::ssl::context> tls() {
        const std::lock_guard lock(tls_mutex_);
        return tls_;
    }

    void set_tls(std::shared_ptr<net::ssl::context> ctx) {
        const std::lock_guard lock(tls_mutex_);
        tls_ = std::move(ctx);
    }

private:
    std::mutex tls_mutex_;  // guards `tls_` only; held for a pointer copy
    std::shared_ptr<net::ssl::context> tls_;
};

namespace {

// Writes `res` as one buffer (response_serializer.hpp), which ssl_stream sends as one TLS record
// when it fits. One allocation per response, no Beast message or serializer. (Head and body as
// two buffers lose the body: flat_stream hands an empty first buffer on as a 0-byte write, and
// async_write ends there.)
net::awaitable<beast::error_code> write_response(Stream& stream, SessionState& state, const HttpResponse& res, bool keep_alive) {
    const std::string wire = serialize_response(res, keep_alive);
    state.expires_after(kWriteTimeout);
    auto [ec, n] = co_await net::async_write(stream, net::buffer(wire), kNoThrow);
    co_return ec;
}

// An answer the session gives by itself (before a handler could run), then closes.
net::awaitable<void> refuse(Stream& stream, SessionState& state, const ReadVerdict& verdict, const ServerOptions& options) {
    auto res = error_response(verdict.status, verdict.code, verdict.message);
    res.headers.set("X-Request-Id", "req_rejected");
    log::info(options.name, "request refused", {{"status", static_cast<std::int64_t>(verdict.status)}, {"code", verdict.code}});
    co_await write_response(stream, state, res, false);
}

// Reads one request. Returns nullopt when the connection is to close (answered or not). The
// verdicts are those of request_parser.hpp, which parse_request (tests, fuzzing) shares.
net::awaitable<std::optional<bhttp::request<bhttp::string_body>>> read_request(
    Stream& stream,
    beast::flat_buffer& buffer,
    HttpServer::Impl& impl,
    SessionState& state
) {
    const ServerOptions& o = impl.options;
    const RequestLimits limits{o.header_limit, o.body_limit};
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(limits.header_limit);
    parser.body_limit(limits.body_limit);
    state.expires_after(buffer.size() == 0 ? o.idle_timeout : o.request_timeout);
    state.idle = buffer.size() == 0;
    auto [hec, hn] = co_await bhttp::async_read_header(stream, buffer, parser, kNoThrow);
    state.idle = false;
    ReadVerdict verdict = read_verdict(hec, ReadStage::kHeader, limits);
    if (verdict.kind == ReadVerdict::Kind::kContinue) {
        verdict = header_verdict(parser.content_length().value_or(0), limits);
    }
    if (verdict.kind == ReadVerdict::Kind::kRefuse) {
        co_await refuse(stream, state, verdict, o);
    }
    if (verdict.kind != ReadVerdict::Kind::kContinue) {
        co_return std::nullopt;
    }
    if (beast::iequals(parser.get()[bhttp::field::expect], "100-continue")) {
        state.expires_after(kWriteTimeout);
        static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
        auto [cec, cn] = co_await net::async_write(stream, net::buffer(kContinue), kNoThrow);
        if (cec) {
            co_return std::nullopt;
        }
    }
    state.expires_after(o.request_timeout);
    auto [bec, bn] = co_await bhttp::async_read(stream, buffer, parser, kNoThrow);
    verdict = read_verdict(bec, ReadStage::kBody, limits);
    if (verdict.kind == ReadVerdict::Kind::kRefuse) {
        co_await refuse(stream, state, verdict, o);
    }
    if (verdict.kind != ReadVerdict::Kind::kContinue) {
        co_return std::nullopt;
    }
    co_return parser.release();
}

net::awaitable<void> serve(Stream& stream, std::shared_ptr<HttpServer::Impl> impl, SessionState& state, std::string remote) {
    auto [hec] = co_await stream.async_handshake(net::ssl::stream_base::server, kNoThrow);
    if (hec) {
        log::debug(impl->options.name, "TLS handshake failed", {{"remote", remote}, {"error", hec.message()}});
        co_return;
    }
    beast::flat_buffer buffer;
    while (!impl->draining.load()) {
        auto req = co_await read_request(stream, buffer, *impl, state);
        if (!req) {
            co_return;  // the peer went away, or was answered and is to be closed
        }
        const bool client_keep_alive = req->keep_alive();
        state.no_deadline();
        HttpResponse res = co_await impl->handler(to_plain(std::move(*req), remote));
        const bool keep_alive = client_keep_alive && !res.close && !impl->draining.load();
        const beast::error_code wec = co_await write_response(stream, state, res, keep_alive);
        if (wec || !keep_alive) {
            break;
        }
    }
    // Best-effort close_notify, then the socket closes: the client's own close_notify is not
    // awaited (RFC 8446 6.1 allows it; nginx does the same). Waiting held the connection and
    // cost a read per connection (bench/README.md). A peer that already left makes this fail.
    state.expires_after(kShutdownTimeout);
    SSL_set_shutdown(stream.native_handle(), SSL_RECEIVED_SHUTDOWN);
    co_await stream.async_shutdown(kNoThrow);
}

net::awaitable<void> run_session(tcp::socket socket, std::shared_ptr<HttpServer::Impl> impl, std::string remote) {
    // The session keeps the context it started with alive, whatever set_tls does meanwhile.
    const std::shared_ptr<net::ssl::context> tls = impl->tls();
    Stream stream(std::move(socket), *tls);
    const net::any_io_executor executor = co_await net::this_coro::executor;
    auto state = std::make_shared<SessionState>(executor);
    state->stream = &stream;
    state->expires_after(impl->options.handshake_timeout);
    net::co_spawn(state->executor, watch_deadline(state), net::detached);
    {
        const std::lock_guard lock(impl->mutex);
        impl->sessions.insert(state);
    }
    struct Unregister {
        std::shared_ptr<HttpServer::Impl>& impl;
        std::shared_ptr<SessionState>& state;
        ~Unregister() {
            state->stream = nullptr;
            state->timer.cancel();  // the watch ends
            const std::lock_guard lock(impl->mutex);
            impl->sessions.erase(state);
            impl->connections.fetch_sub(1);
        }
    } unregister{impl, state};
    co_await serve(stream, impl, *state, std::move(remote));
}

// Accepts on `acceptor` (a copy of the listening socket on this loop's context) and serves each
// connection where it was accepted. Every session context runs one such loop on the same
// listening socket, so a connection is taken by a thread that is free to serve it, with no
// hand-off between threads (nginx's model with its accept_mutex off). `strand`: sessions get a
// strand of their own, for a context that several threads run.
net::awaitable<void> accept_loop(std::shared_ptr<HttpServer::Impl> impl, tcp::acceptor acceptor, bool strand) {
    {
        const std::lock_guard lock(impl->mutex);
        if (impl->accepting_stopped) {
            co_return;  // stop_accepting ran before this loop did; its descriptor closes with it
        }
        impl->accepting.push_back(&acceptor);
    }
    struct Unregister {
        HttpServer::Impl& impl;
        tcp::acceptor* acceptor;
        ~Unregister() {
            const std::lock_guard lock(impl.mutex);
            std::erase(impl.accepting, acceptor);
        }
    } unregister{*impl, &acceptor};
    auto executor = co_await net::this_coro::executor;
    for (;;) {
        // GCC 12: no co_await inside a conditional expression.
        const net::any_io_executor session_executor = strand ? net::any_io_executor(net::make_strand(impl->ioc)) : executor;
        tcp::endpoint peer;  // filled by accept itself: no getpeername per connection
        auto [ec, socket] = co_await acceptor.async_accept(session_executor, peer, kNoThrow);
        if (ec == net::error::operation_aborted || !acceptor.is_open()) {
            co_return;
        }
        if (ec) {
            log::warn(impl->options.name, "accept failed", {{"error", ec.message()}});
            net::steady_timer pause(executor, std::chrono::milliseconds(50));  // e.g. out of descriptors
            co_await pause.async_wait(kNoThrow);
            continue;
        }
        if (impl->connections.load() >= impl->options.max_connections) {
            beast::error_code ignored;
            socket.close(ignored);  // over the connection bound: refuse rather than queue
            continue;
        }
        // Without it, a response written after the TLS 1.3 session tickets (a new connection's
        // first answer) or a close_notify waits for the peer's delayed ACK of what went before,
        // ~40 ms (bench/README.md: "TCP_NODELAY").
        beast::error_code nodelay_ec;
        socket.set_option(tcp::no_delay(true), nodelay_ec);
        impl->connections.fetch_add(1);
        net::co_spawn(session_executor, run_session(std::move(socket), impl, peer.address().to_string()), [name = impl->options.name](std::exception_ptr e) {
            if (!e) {
                return;
            }
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& ex) {
                log::error(name, "session failed", {{"error", ex.what()}});
            }
        });
    }
}

}  // namespace

HttpServer::HttpServer(
    net::io_context& ioc,
    std::shared_ptr<net::ssl::context> tls,
    ServerOptions options,
    RequestHandler handler
)
    : impl_(std::make_shared<Impl>(ioc, std::move(tls), std::move(options), std::move(handler))) {}

HttpServer::~HttpServer() { stop_accepting(); }

void HttpServer::start() {
    const auto& o = impl_->options;
    beast::error_code ec;
    const auto address = net::ip::make_address(o.address, ec);
    if (ec) {
        throw std::runtime_error("listen.address " + o.address + " is not an IP address");
    }
    const tcp::endpoint endpoint(address, o.port);
    const auto cannot_listen = [&o](const std::string& why) {
        return std::runtime_error("cannot listen on " + o.address + ":" + std::to_string(o.port) + ": " + why);
    };
    // Bound and listening here; each accept loop accepts on a descriptor of its own for this
    // socket, and the socket closes with the last of them (stop_accepting).
    tcp::acceptor acceptor(impl_->ioc);
    acceptor.open(endpoint.protocol());
    acceptor.set_option(net::socket_base::reuse_address(true));
    acceptor.bind(endpoint, ec);
    if (ec) {
        throw cannot_listen(ec.message());
    }
    acceptor.listen(net::socket_base::max_listen_connections);
    impl_->port = acceptor.local_endpoint().port();
    std::vector<net::io_context*> contexts = o.session_contexts;
    const bool strand = contexts.empty();  // sessions then share `ioc`, which may run on several threads
    if (strand) {
        contexts.push_back(&impl_->ioc);
    }
    for (net::io_context* context : contexts) {
        // Each loop accepts on its own descriptor of the one listening socket.
        const int copy = ::dup(acceptor.native_handle());
        if (copy < 0) {
            throw cannot_listen(std::strerror(errno));
        }
        // On a context that several threads may run, the loop and stop_accepting's close of its
        // acceptor are serialised by a strand.
        tcp::acceptor loop_acceptor = strand ? tcp::acceptor(net::make_strand(*context)) : tcp::acceptor(*context);
        loop_acceptor.assign(endpoint.protocol(), copy, ec);
        if (ec) {
            ::close(copy);
            throw cannot_listen(ec.message());
        }
        const auto loop_executor = loop_acceptor.get_executor();
        net::co_spawn(loop_executor, accept_loop(impl_, std::move(loop_acceptor), strand), [](std::exception_ptr e) {
            if (e) {
                std::rethrow_exception(e);  // a bug in the accept loop must not go unnoticed
            }
        });
    }
}

std::uint16_t HttpServer::port() const { return impl_->port; }

void HttpServer::stop_accepting() {
    // The listening socket closes with the last accept loop's descriptor. Each is closed on its
    // own loop's context, which cancels the loop's pending accept.
    std::vector<tcp::acceptor*> loops;
    {
        const std::lock_guard lock(impl_->mutex);
        impl_->accepting_stopped = true;
        loops = impl_->accepting;
    }
    for (tcp::acceptor* loop : loops) {
        net::post(loop->get_executor(), [impl = impl_, loop] {
            const std::lock_guard lock(impl->mutex);
            // Still registered: the loop has not ended, and cannot end while this runs on its context.
            if (std::find(impl->accepting.begin(), impl->accepting.end(), loop) != impl->accepting.end()) {
                beast::error_code ignored;
                loop->close(ignored);
            }
        });
    }
}

void HttpServer::drain() {
    impl_->draining.store(true);
    std::set<std::shared_ptr<SessionState>> sessions;
    {
        const std::lock_guard lock(impl_->mutex);
        sessions = impl_->sessions;
    }
    for (const auto& state : sessions) {
        net::post(state->executor, [state] {
            if (state->stream != nullptr && state->idle) {
                beast::get_lowest_layer(*state->stream).cancel();
            }
        });
    }
}

std::size_t HttpServer::connections() const { return impl_->connections.load(); }

void HttpServer::set_tls(std::shared_ptr<net::ssl::context> tls) {
    assert(tls != nullptr);
    impl_->set_tls(std::move(tls));
}

}  // namespace seedhook::http
