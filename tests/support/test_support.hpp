#pragma once

/// Shared pieces of the integration tests: temporary folders, test certificates, a
/// configuration for a real TLS server on 127.0.0.1, a synchronous HTTPS client, and a
/// running App.

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>


#include "common/asio.hpp"
#include "common/http_message.hpp"
#include "common/json.hpp"
#include "server/app.hpp"
#include "server/config.hpp"
#include "server/providers/provider.hpp"
#include "server/storage/job_store.hpp"

namespace seedhook::test {

inline constexpr const char* kToken = "test-token-0123456789";
inline constexpr const char* kToapisSecret = "toapis-webhook-secret-for-tests";

/// A fresh folder, removed with everything in it when the object goes.
class TempDir {
public:
    TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    ~TempDir();

    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

std::string certs_dir();
std::string ca_file();

/// A port on 127.0.0.1 that was free a moment ago, below the kernel's ephemeral range (for
/// configurations that must name their own port).
std::uint16_t free_port();

/// A valid configuration: test certificate, database in `dir`, the simulator on with fast
/// tasks, public_base_url pointing at `port` on 127.0.0.1.
Config base_config(const TempDir& dir, std::uint16_t port);

struct Response {
    int status = 0;
    HttpHeaders headers;
    std::string body;

    /// The body parsed as JSON (fails the test when it is not).
    json::Document json() const;
};

/// A synchronous HTTPS client that trusts the test CA, running its own I/O thread.
class Client {
public:
    explicit Client(std::uint16_t port, std::string ca = ca_file());
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;
    ~Client();

    Response request(
        const std::string& method,
        const std::string& path,
        const std::string& body = {},
        std::vector<std::pair<std::string, std::string>> headers = {}
    );
    /// GET with the test bearer token.
    Response get(const std::string& path);
    /// POST of JSON with the test bearer token.
    Response post(const std::string& path, const std::string& body);

    /// TLS handshakes this client made.
    std::uint64_t handshakes() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

/// An App started on `config`, stopped and waited for on destruction.
class RunningApp {
public:
    explicit RunningApp(Config config);
    RunningApp(const RunningApp&) = delete;
    RunningApp& operator=(const RunningApp&) = delete;
    ~RunningApp();

    App& app() { return *app_; }

    Client& client() { return *client_; }

    std::uint16_t port() const { return app_->port(); }

    /// Stops the app now (idempotent).
    void stop();

private:
    std::unique_ptr<App> app_;
    std::unique_ptr<Client> client_;
    bool stopped_ = false;
};

/// Polls `predicate` every 20 ms until it holds or `timeout` passes; returns its last value.
bool eventually(const std::function<bool()>& predicate, std::chrono::milliseconds timeout);

/// A job request body for seedance-1.5-pro with `prompt`.
std::string job_body(const std::string& prompt = "A cat playing piano");

/// A stored evolink job row with the given status, created (and last updated) at `created_at`.
storage::JobRecord sample_job(const std::string& id, std::string status = "queued", std::int64_t created_at = 1000);

/// Runs `aw` on `ioc` (run by another thread) and returns a copy of the provider error it ended
/// with, if any. The error is caught on the I/O thread: an exception handed over through a future
/// is freed by whichever thread lets go of it last, under a reference count that libstdc++ keeps
/// out of ThreadSanitizer's sight, which then reports the reads of the other thread as a race.
/// Not a header template: GCC 12's link-time optimiser reports the coroutine frame of one
/// instantiated in several test files as an ODR violation.
std::optional<providers::ProviderError> provider_error_of(net::io_context& ioc, net::awaitable<providers::TaskUpdate> aw);

}  // namespace seedhook::test
