#pragma once

/// HTTPS/1.1 server: a listener that spawns one coroutine session per connection. Sessions
/// enforce the header and body limits (a body over the limit is refused from its
/// Content-Length, unread), handshake/read/idle timeouts and keep-alive, and answer
/// `Expect: 100-continue`. Beast stays inside http_server.cpp.
///
/// Threading: start/stop_accepting/drain/set_tls may be called from any thread. Each of
/// `ServerOptions::session_contexts`, each run by one thread, accepts connections from the one
/// listening socket for itself and runs their sessions, as nginx's workers do: a connection is
/// taken by a thread free to take it, its work stays on that thread, and the threads share no
/// scheduler queue. Without them, the listener's context accepts, and each session runs on a
/// strand of it. The handler may be called concurrently for different connections.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/asio.hpp"
#include "common/http_message.hpp"

namespace seedhook::http {

struct ServerOptions {
    std::string address = "127.0.0.1";
    std::uint16_t port = 0;  ///< 0: any free port (read it back with port())
    std::uint32_t header_limit = 16 * 1024;
    std::uint64_t body_limit = 1024 * 1024;
    std::chrono::milliseconds handshake_timeout{10000};
    std::chrono::milliseconds request_timeout{30000};  ///< to read a request once it started
    std::chrono::milliseconds idle_timeout{60000};     ///< keep-alive wait for the next request
    std::size_t max_connections = 10000;
    std::string name = "http";  ///< log component
    /// Where sessions run (see above); each must outlive the server and run while it serves.
    std::vector<net::io_context*> session_contexts;
};

using RequestHandler = std::function<net::awaitable<HttpResponse>(HttpRequest)>;

class HttpServer {
public:
    /// `ioc` must outlive the server and run while it serves.
    HttpServer(
        net::io_context& ioc,
        std::shared_ptr<net::ssl::context> tls,
        ServerOptions options,
        RequestHandler handler
    );
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;
    ~HttpServer();

    /// Binds and starts accepting. Throws std::runtime_error naming the address on failure.
    void start();

    /// The bound port.
    std::uint16_t port() const;

    /// Closes the listening socket: new connections are refused from now on.
    void stop_accepting();

    /// Asks every session to finish: idle ones close now, busy ones after their current
    /// response. Returns at once; watch connections() to see them go.
    void drain();

    /// Open connections.
    std::size_t connections() const;

    /// Serves connections accepted from now on with `tls` (a reloaded certificate). Open
    /// connections keep the context they were accepted with: each session holds its own
    /// reference, so the old context lives until its last connection closes.
    void set_tls(std::shared_ptr<net::ssl::context> tls);

    struct Impl;  ///< opaque; public only so the implementation's free functions can name it

private:
    std::shared_ptr<Impl> impl_;
};

}  // namespace seedhook::http
