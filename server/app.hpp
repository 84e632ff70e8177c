#pragma once

/// The composition root: owns the io_context and its threads, the database, the TLS
/// contexts, the providers, the service, the handlers and the HTTPS server, and wires them.
/// Only App reads Config.
///
/// Lifecycle: construct (throws on any startup failure) -> start() -> wait(). stop() may be
/// called from any thread, including an I/O thread, and SIGTERM/SIGINT call it when
/// `handle_signals` is set: it refuses new connections, turns /readyz red, lets requests in
/// flight finish (at most 10 s), then wait() returns and the database is closed. With
/// `handle_signals`, SIGHUP reloads the TLS certificate and key from their files, as a change
/// of either file does (TlsReloader); open connections keep the certificate they began with.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "server/config.hpp"

namespace seedhook {

namespace simulator {
class Simulator;
}

namespace http {
class Router;
}

class App {
public:
    explicit App(Config config, bool handle_signals = false);
    App(const App&) = delete;
    App& operator=(const App&) = delete;
    ~App();

    /// Starts the I/O threads and the server. Throws when it cannot listen.
    void start();

    /// Begins a graceful stop; returns at once.
    void stop();

    /// Blocks until stopped, then closes the database.
    void wait();

    /// The HTTPS port actually bound.
    std::uint16_t port() const;

    /// The server's certificate (PEM) as loaded at startup, e.g. for a client to trust a
    /// self-signed one. The built-in simulator trusts this one for its callbacks.
    const std::string& certificate_pem() const;

    /// The simulator's base URL, or empty when it is not running.
    std::string simulator_url() const;

    /// Long-poll reads now waiting for their job to change.
    std::size_t long_polls() const;

    /// The running simulator, or nullptr.
    simulator::Simulator* simulator() const;

    /// The router with every route registered (read-only; it lives as long as the App).
    const http::Router& router() const;

    struct Parts;  ///< opaque

private:
    std::unique_ptr<Parts> parts_;
};

}  // namespace seedhook
