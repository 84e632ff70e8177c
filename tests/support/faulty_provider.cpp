#include "tests/support/faulty_provider.hpp"

#include <array>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <gtest/gtest.h>

#include "common/asio.hpp"
#include "common/json.hpp"
#include "common/tls.hpp"
#include "tests/support/test_support.hpp"

namespace seedhook::test {

namespace {

namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = net::ip::tcp;

constexpr std::pair<Fault, const char*> kFaultNames[] = {
    {Fault::kNone, "none"},
    {Fault::kResetOnAccept, "reset_on_accept"},
    {Fault::kHang, "hang"},
    {Fault::kResetAfterRequest, "reset_after_request"},
    {Fault::kGarbage200, "garbage_200"},
    {Fault::kNotHttp, "not_http"},
    {Fault::kStatus500, "status_500"},
    {Fault::kStatus502, "status_502"},
    {Fault::kStatus503, "status_503"},
    {Fault::kSlow, "slow"},
};

}  // namespace

std::string fault_name(Fault f) {
    for (const auto& [fault, name] : kFaultNames) {
        if (fault == f) {
            return name;
        }
    }
    return "unknown";
}

std::optional<Fault> fault_in(std::string_view prompt) {
    for (const auto& [fault, name] : kFaultNames) {
        if (prompt.find("[fault:" + std::string(name) + "]") != std::string_view::npos) {
            return fault;
        }
    }
    return std::nullopt;
}

std::string evolink_task_json(const std::string& id, const char* status) {
    const bool done = std::string_view(status) == "completed";
    return R"({"id":")" + id + R"(","object":"video.generation.task","status":")" + status +
           R"(","progress":)" + (done ? "100" : "0") +
           (done ? R"(,"results":["https://cdn.example.com/)" + id + R"(.mp4"])" : std::string()) + "}";
}

namespace {

/// State shared by the peer's coroutines, kept alive by each of them (their frames may be
/// destroyed with the io_context, after the rest of the Impl).
struct PeerState {
    std::mutex mutex;
    std::condition_variable changed;
    PeerCounts counts;
    Fault submit_fault = Fault::kNone;
    Fault query_fault = Fault::kNone;
    std::map<std::string, Fault> query_faults_by_task;  ///< wins over query_fault
    Fault accept_fault = Fault::kNone;
    bool keep_alive = true;
    std::chrono::milliseconds late_by{0};

    template <typename F>
    void update(F&& f) {
        {
            const std::lock_guard lock(mutex);
            f(counts);
        }
        changed.notify_all();
    }
};

using Stream = net::ssl::stream<beast::tcp_stream>;

void reset(tcp::socket& socket) {
    boost::system::error_code ignored;
    socket.set_option(net::socket_base::linger(true, 0), ignored);
    socket.close(ignored);  // with linger 0: an RST, not a FIN
}

std::string raw_answer(int status, const char* reason, const char* type, const std::string& body) {
    return "HTTP/1.1 " + std::to_string(status) + " " + reason + "\r\nContent-Type: " + type +
           "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
}

/// Decrements the open count when a connection's coroutine ends, however it ends.
struct OpenGuard {
    explicit OpenGuard(std::shared_ptr<PeerState> s) : state(std::move(s)) {
        state->update([](PeerCounts& c) {
            ++c.accepted;
            ++c.open;
        });
    }
    OpenGuard(const OpenGuard&) = delete;
    OpenGuard& operator=(const OpenGuard&) = delete;
    ~OpenGuard() {
        state->update([](PeerCounts& c) { --c.open; });
    }
    std::shared_ptr<PeerState> state;
};

/// Closes our side gracefully and waits (bounded) for the client to close its own, so that
/// the peer lets go of the connection only once the client did.
net::awaitable<void> finish(Stream& stream) {
    auto& tcp_stream = beast::get_lowest_layer(stream);
    boost::system::error_code ignored;
    tcp_stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    tcp_stream.expires_after(std::chrono::seconds(5));
    std::array<char, 1024> sink{};
    for (;;) {
        auto [ec, n] = co_await tcp_stream.async_read_some(net::buffer(sink), kNoThrow);
        if (ec) {
            co_return;
        }
    }
}

/// The task a query asks for (the last segment of its path).
std::string task_of(const bhttp::request<bhttp::string_body>& req) {
    return std::string(req.target().substr(req.target().rfind('/') + 1));
}

/// Counts a fault carried out to its end.
void fault_done(PeerState& state, const bhttp::request<bhttp::string_body>& req) {
    const bool query = req.method() == bhttp::verb::get;
    state.update([&](PeerCounts& c) {
        ++c.faults;
        if (query) {
            ++c.faults_by_task[task_of(req)];
        }
    });
}

/// What the peer makes of a request it read whole.
struct Verdict {
    Fault fault = Fault::kNone;
    std::size_t serial = 0;  ///< numbers the peer's task ids
};

/// Records a request read whole and decides the fault to answer it with: the one set for its
/// kind of call, or for a submission the one its prompt asks for.
Verdict record(PeerState& state, const bhttp::request<bhttp::string_body>& req) {
    constexpr std::string_view kCallbackPath = "/v1/callbacks/evolink/";
    const bool submit = req.method() == bhttp::verb::post && req.target() == "/v1/videos/generations";
    std::optional<Fault> asked;
    std::string job_id;
    std::string callback_path;
    if (auto body = submit ? json::parse(req.body()) : std::nullopt) {
        const std::string url(json::get_string(*body, "callback_url").value_or(""));
        if (const auto at = url.find(kCallbackPath); at != std::string::npos) {
            callback_path = url.substr(at);
            job_id = callback_path.substr(kCallbackPath.size());
            job_id = job_id.substr(0, job_id.find('?'));
        }
        asked = fault_in(json::get_string(*body, "prompt").value_or(""));
    }
    Verdict verdict;
    state.update([&](PeerCounts& c) {
        if (submit) {
            verdict.fault = asked.value_or(state.submit_fault);
            ++c.submissions;
            ++c.submissions_by_job[job_id];
            c.callback_paths[job_id] = callback_path;
        } else {
            const auto task = state.query_faults_by_task.find(task_of(req));
            verdict.fault = task != state.query_faults_by_task.end() ? task->second : state.query_fault;
            ++c.queries;
            ++c.queries_by_task[task_of(req)];
        }
        verdict.serial = c.submissions + c.queries;
    });
    return verdict;
}

/// Answers one request as `fault` says. Returns true when the connection may serve another.
net::awaitable<bool> answer(
    std::shared_ptr<PeerState> state,
    Stream& stream,
    Fault fault,
    bhttp::request<bhttp::string_body> req,
    std::size_t serial
) {
    const bool submit = req.method() == bhttp::verb::post;
    const std::string task_id = submit ? "task-fault-" + std::to_string(serial) : task_of(req);
    const std::string healthy = evolink_task_json(task_id, submit ? "pending" : "completed");
    auto& tcp_stream = beast::get_lowest_layer(stream);
    tcp_stream.expires_after(std::chrono::seconds(10));
    std::string raw;
    switch (fault) {
        case Fault::kNone:
        case Fault::kResetOnAccept: {
            bhttp::response<bhttp::string_body> res{bhttp::status::ok, 11};
            res.set(bhttp::field::content_type, "application/json");
            res.keep_alive(state->keep_alive);
            res.body() = healthy;
            res.prepare_payload();
            auto [ec, n] = co_await bhttp::async_write(stream, res, kNoThrow);
            if (!ec && state->keep_alive) {
                co_return true;
            }
            co_await finish(stream);
            co_return false;
        }
        case Fault::kHang: {
            // Never answer; notice only the client giving up (EOF, reset or truncation).
            tcp_stream.expires_never();
            std::array<char, 1024> sink{};
            for (;;) {
                auto [ec, n] = co_await stream.async_read_some(net::buffer(sink), kNoThrow);
                if (ec) {
                    break;
                }
            }
            fault_done(*state, req);
            co_return false;
        }
        case Fault::kResetAfterRequest:
            reset(tcp_stream.socket());
            fault_done(*state, req);
            co_return false;
        case Fault::kGarbage200:
            raw = raw_answer(200, "OK", "text/html", "<html><body>502 Bad Gateway (nginx)</body></html>");
            break;
        case Fault::kNotHttp:
            raw = "SSH-2.0-OpenSSH_9.2\r\n\x01\x02\x03 this is not HTTP\r\n\r\n";
            break;
        case Fault::kStatus500:
            raw = raw_answer(500, "Internal Server Error", "application/json", R"({"error":{"code":"internal","message":"boom"}})");
            break;
        case Fault::kStatus502:
            raw = raw_answer(502, "Bad Gateway", "text/html", "<html>bad gateway</html>");
            break;
        case Fault::kStatus503:
            raw = raw_answer(503, "Service Unavailable", "application/json", R"({"error":{"code":"overloaded","message":"try later"}})");
            break;
        case Fault::kSlow: {
            auto executor = co_await net::this_coro::executor;
            net::steady_timer timer(executor, state->late_by);
            co_await timer.async_wait(kNoThrow);
            raw = raw_answer(200, "OK", "application/json", healthy);
            break;
        }
    }
    auto [wec, wn] = co_await net::async_write(stream, net::buffer(raw), kNoThrow);
    if (!wec) {
        co_await finish(stream);
    }
    fault_done(*state, req);
    co_return false;
}

net::awaitable<void> serve(std::shared_ptr<PeerState> state, net::ssl::context& ctx, tcp::socket socket) {
    const OpenGuard open(state);
    Fault at_accept = Fault::kNone;
    {
        const std::lock_guard lock(state->mutex);
        at_accept = state->accept_fault;
    }
    if (at_accept == Fault::kResetOnAccept) {
        reset(socket);
        state->update([](PeerCounts& c) { ++c.faults; });
        co_return;
    }
    Stream stream(std::move(socket), ctx);
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(10));
    auto [hec] = co_await stream.async_handshake(net::ssl::stream_base::server, kNoThrow);
    if (hec) {
        co_return;
    }
    beast::flat_buffer buffer;
    for (;;) {
        bhttp::request<bhttp::string_body> req;
        // An idle pooled connection waits for its next request as long as the client keeps it.
        beast::get_lowest_layer(stream).expires_never();
        auto [rec, rn] = co_await bhttp::async_read(stream, buffer, req, kNoThrow);
        if (rec) {
            co_return;
        }
        const Verdict verdict = record(*state, req);
        const bool again = co_await answer(state, stream, verdict.fault, std::move(req), verdict.serial);
        if (!again) {
            co_return;
        }
    }
}

net::awaitable<void> accept_loop(std::shared_ptr<PeerState> state, net::ssl::context& ctx, tcp::acceptor& acceptor) {
    for (;;) {
        auto [ec, socket] = co_await acceptor.async_accept(kNoThrow);
        if (ec) {
            co_return;
        }
        net::co_spawn(acceptor.get_executor(), serve(state, ctx, std::move(socket)), [](const std::exception_ptr& e) {
            if (e) {
                ADD_FAILURE() << "a peer session threw";
            }
        });
    }
}

}  // namespace

struct FaultyProvider::Impl {
    explicit Impl(std::chrono::milliseconds late_by)
        : ctx(tls::make_server_context({tls::read_pem_file(certs_dir() + "/server.crt"), tls::read_pem_file(certs_dir() + "/server.key")})),
          acceptor(ioc, {net::ip::make_address("127.0.0.1"), 0}) {
        state->late_by = late_by;
    }

    net::io_context ioc;  // first: destroyed last, after the coroutine frames that use the rest
    std::shared_ptr<PeerState> state = std::make_shared<PeerState>();
    net::ssl::context ctx;
    tcp::acceptor acceptor;
    std::thread thread;
};

FaultyProvider::FaultyProvider(std::chrono::milliseconds late_by) : impl_(std::make_unique<Impl>(late_by)) {
    net::co_spawn(impl_->ioc, accept_loop(impl_->state, impl_->ctx, impl_->acceptor), [](const std::exception_ptr& e) {
        if (e) {
            ADD_FAILURE() << "the peer's accept loop threw";
        }
    });
    impl_->thread = std::thread([impl = impl_.get()] { impl->ioc.run(); });
}

FaultyProvider::~FaultyProvider() {
    impl_->ioc.stop();
    impl_->thread.join();
}

std::string FaultyProvider::base_url() const {
    return "https://127.0.0.1:" + std::to_string(impl_->acceptor.local_endpoint().port());
}

void FaultyProvider::fail_submissions(Fault f) {
    const std::lock_guard lock(impl_->state->mutex);
    impl_->state->submit_fault = f == Fault::kResetOnAccept ? Fault::kNone : f;
    impl_->state->accept_fault = f == Fault::kResetOnAccept ? f : Fault::kNone;
}

void FaultyProvider::fail_queries(Fault f) {
    const std::lock_guard lock(impl_->state->mutex);
    impl_->state->query_fault = f == Fault::kResetOnAccept ? Fault::kNone : f;
    impl_->state->accept_fault = f == Fault::kResetOnAccept ? f : Fault::kNone;
}

void FaultyProvider::fail_queries_of(const std::string& task_id, Fault f) {
    const std::lock_guard lock(impl_->state->mutex);
    impl_->state->query_faults_by_task[task_id] = f;
}

void FaultyProvider::keep_alive(bool on) {
    const std::lock_guard lock(impl_->state->mutex);
    impl_->state->keep_alive = on;
}

PeerCounts FaultyProvider::counts() const {
    const std::lock_guard lock(impl_->state->mutex);
    return impl_->state->counts;
}

bool FaultyProvider::wait_for(const std::function<bool(const PeerCounts&)>& done, std::chrono::milliseconds timeout) const {
    std::unique_lock lock(impl_->state->mutex);
    return impl_->state->changed.wait_for(lock, timeout, [&] { return done(impl_->state->counts); });
}

}  // namespace seedhook::test
