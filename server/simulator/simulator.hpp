#pragma once

/// The built-in provider simulator (SPEC §5): an HTTPS server on loopback that speaks the
/// create-task, query-task and callback protocols of evolink, toapis and acedata as
/// documented, all on one base URL, including callback retries 1, 2 and 4 s after a non-2xx
/// (toapis' with a stable event id and fresh signatures). For the tests and the embedded
/// default; never started unless simulator.enabled is set. Each provider's protocol lives in
/// its own file (evolink_sim, toapis_sim, acedata_sim) over a shared core (sim_core).
///
/// Behaviour can be steered from the prompt: "[sim:reject]" makes the create call fail with
/// a 4xx, "[sim:fail]" makes the task fail, "[sim:no-callback]" suppresses the callback, and
/// "[sim:ark]" makes acedata's callback carry Ark-shaped rather than flat data.

#include "common/asio.hpp"
#include "common/tls.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace seedhook::simulator {

struct SimulatorOptions {
    std::string address = "127.0.0.1";
    std::uint16_t port = 0;
    std::chrono::milliseconds complete_after{2000};  ///< how long a task takes
    tls::ClientTlsOptions callback_tls;              ///< whom its callbacks trust
    std::chrono::milliseconds callback_timeout{10000};
    std::chrono::milliseconds retry_unit{1000};  ///< retries after 1, 2 and 4 units
    /// The secret the simulated toapis signs its callbacks with. Empty: as at toapis without
    /// webhooks set up, a create call with a callback_url is refused (webhook_not_configured)
    /// and no callback is ever sent.
    std::string toapis_webhook_secret;
};

class Simulator {
public:
    /// `ioc` must outlive the simulator and run while it serves.
    Simulator(net::io_context& ioc, SimulatorOptions options);
    Simulator(const Simulator&) = delete;
    Simulator& operator=(const Simulator&) = delete;
    ~Simulator();

    /// Binds and starts serving. Throws std::runtime_error on failure.
    void start();
    void stop();

    /// "https://127.0.0.1:<port>", the base URL every simulated provider answers at.
    std::string base_url() const;

    /// The simulator's self-signed certificate, for clients to trust.
    const std::string& certificate_pem() const;

    /// Tasks created so far (refused create calls do not count).
    std::uint64_t tasks_created() const;

    /// Callback attempts made so far (each retry counts).
    std::uint64_t callback_attempts() const;

    struct Impl;  ///< opaque

private:
    std::shared_ptr<Impl> impl_;
};

}  // namespace seedhook::simulator
