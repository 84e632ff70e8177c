#include "server/app.hpp"

#include <sys/resource.h>

#include <map>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_future.hpp>

#include "common/crypto.hpp"
#include "common/error.hpp"
#include "common/log.hpp"
#include "common/thread_name.hpp"
#include "common/tls.hpp"
#include "server/handlers/callbacks_handler.hpp"
#include "server/handlers/health_handler.hpp"
#include "server/handlers/jobs_handler.hpp"
#include "server/handlers/metrics_handler.hpp"
#include "server/http/http_server.hpp"
#include "server/http/router.hpp"
#include "server/providers/registry.hpp"
#include "server/services/job_service.hpp"
#include "server/simulator/simulator.hpp"
#include "server/storage/database.hpp"
#include "server/storage/job_store.hpp"
#include "server/tls_reloader.hpp"

namespace seedhook {

namespace {

constexpr auto kDrainLimit = std::chrono::seconds(10);
constexpr auto kDrainPoll = std::chrono::milliseconds(20);

void register_secrets(const Config& c) {
    for (const auto& t : c.auth_api_tokens) {
        log::add_secret(t);
    }
    for (const auto* p : {&c.evolink, &c.toapis, &c.acedata}) {
        log::add_secret(p->api_key);
        log::add_secret(p->webhook_secret);
    }
    log::add_secret(c.callbacks_secret);
}

tls::CertificatePem load_certificate(const Config& c) {
    if (!c.tls_cert_file.empty()) {
        return {tls::read_pem_file(c.tls_cert_file), tls::read_pem_file(c.tls_key_file)};
    }
    log::warn("app", "serving a self-signed certificate (tls.self_signed): for development only");
    return tls::make_self_signed({"127.0.0.1", "localhost", "::1"});
}

// An io_context whose pending handlers can be destroyed while every other context still
// exists. A handler waiting in one context may hold objects bound to another (a coroutine
// spawned on io0 by a request served on io1 holds what that request handed it): destroyed one
// after the other, the last context's handlers would touch a context already gone.
class IoContext : public net::io_context {
public:
    using net::io_context::io_context;
    void destroy_handlers() { shutdown(); }
};

}  // namespace

struct App::Parts {
    Config config;
    // The first I/O thread runs `ioc` (timers, background tasks, the simulator) and the others
    // one context each; every one of them accepts HTTP connections and serves their sessions.
    IoContext ioc{1};
    std::vector<std::unique_ptr<IoContext>> more_contexts;
    std::vector<net::executor_work_guard<net::io_context::executor_type>> keep_running;  // idle contexts too
    std::vector<std::thread> threads;
    std::atomic<bool> stopping{false};
    Metrics metrics;
    tls::CertificatePem certificate;
    std::unique_ptr<storage::Database> db;
    std::unique_ptr<storage::JobStore> store;
    std::unique_ptr<simulator::Simulator> sim;
    std::unique_ptr<services::JobService> jobs;
    std::unique_ptr<handlers::JobsHandler> jobs_handler;
    std::unique_ptr<handlers::CallbacksHandler> callbacks_handler;
    std::unique_ptr<handlers::HealthHandler> health_handler;
    std::unique_ptr<handlers::MetricsHandler> metrics_handler;
    http::Router router;
    std::unique_ptr<http::HttpServer> server;
    std::unique_ptr<TlsReloader> tls_reloader;
    std::unique_ptr<net::signal_set> signals;
    bool handle_signals = false;

    explicit Parts(Config c) : config(std::move(c)) {}
    Parts(const Parts&) = delete;
    Parts& operator=(const Parts&) = delete;

    // The threads have been joined (App::wait). Every context's pending handlers go first,
    // while all the contexts exist (see IoContext); the members, contexts last, after.
    ~Parts() {
        for (auto& context : more_contexts) {
            context->destroy_handlers();
        }
        ioc.destroy_handlers();
    }

    unsigned io_threads() const {
        return config.server_threads > 0 ? static_cast<unsigned>(config.server_threads) : std::max(1U, std::thread::hardware_concurrency());
    }

    std::map<std::string, providers::ProviderOptions> provider_options() {
        std::map<std::string, providers::ProviderOptions> out;
        const std::pair<const char*, const ProviderConfig*> all[] = {
            {"evolink", &config.evolink}, {"toapis", &config.toapis}, {"acedata", &config.acedata}};
        for (const auto& [name, pc] : all) {
            tls::ClientTlsOptions tls_options{pc->ca_file, {}};
            providers::ProviderOptions o{pc->base_url, pc->api_key, std::chrono::milliseconds(pc->timeout_ms), nullptr, pc->webhook_secret, name, &metrics};
            if (sim) {
                o.base_url = sim->base_url();
                tls_options = {{}, {sim->certificate_pem()}};
                if (o.api_key.empty()) {
                    o.api_key = "simulator-key";
                }
            }
            auto ctx = std::make_shared<net::ssl::context>(tls::make_client_context(tls_options));
            auto counted = [m = &metrics, name = std::string(name)] { m->count_provider_handshake(name); };
            o.client = std::make_shared<providers::HttpsClient>(ctx, counted);
            out.emplace(name, std::move(o));
        }
        return out;
    }

    template <typename H>
    http::Handler bind(H* handler, net::awaitable<HttpResponse> (H::*method)(HttpRequest)) {
        return [handler, method](HttpRequest r) { return (handler->*method)(std::move(r)); };
    }

    void add_routes() {
        router.add("POST", "/v1/jobs", bind(jobs_handler.get(), &handlers::JobsHandler::create));
        router.add("GET", "/v1/jobs", bind(jobs_handler.get(), &handlers::JobsHandler::list));
        router.add("GET", "/v1/jobs/{id}", bind(jobs_handler.get(), &handlers::JobsHandler::get));
        router.add("GET", "/v1/jobs/{id}/callbacks", bind(jobs_handler.get(), &handlers::JobsHandler::callbacks));
        router.add("POST", "/v1/callbacks/{provider}/{job_id}", bind(callbacks_handler.get(), &handlers::CallbacksHandler::receive));
        router.add("GET", "/healthz", bind(health_handler.get(), &handlers::HealthHandler::healthz));
        router.add("GET", "/readyz", bind(health_handler.get(), &handlers::HealthHandler::readyz));
        router.add("GET", "/metrics", bind(metrics_handler.get(), &handlers::MetricsHandler::render));
        router.set_metrics(&metrics);
    }

    std::string callback_secret() {
        if (!config.callbacks_secret.empty()) {
            return config.callbacks_secret;
        }
        // The I/O threads are not running yet: run on the database thread and block until done.
        auto secret = net::co_spawn(
            db->executor(),
            store->setting_or_create("callbacks_secret", [] { return crypto::base64url(crypto::random_bytes(32)); }),
            net::use_future
        );
        std::string value = secret.get();
        log::add_secret(value);
        return value;
    }

    // Resolves interrupted submissions, then polls due jobs every tick until the stop.
    net::awaitable<void> reconcile() {
        constexpr auto kTick = std::chrono::milliseconds(250);
        constexpr std::size_t kBatch = 64;
        try {
            co_await jobs->recover_interrupted();
        } catch (const StorageError& e) {
            log::error("poll", "cannot resolve interrupted submissions", {{"error", e.what()}});
        }
        net::steady_timer timer(ioc);
        while (!stopping.load() && config.polling_enabled) {
            std::size_t polled = 0;
            try {
                polled = co_await jobs->poll_due(kBatch);
            } catch (const StorageError& e) {
                log::error("poll", "cannot read due jobs", {{"error", e.what()}});
            }
            if (polled < kBatch) {
                timer.expires_after(kTick);
                co_await timer.async_wait(kNoThrow);
            }
        }
    }

    // Retention: deletes old callback deliveries at startup and then every sweep interval.
    net::awaitable<void> retain() {
        const std::chrono::milliseconds max_age = std::chrono::hours(24) * config.retention_days;
        net::steady_timer timer(ioc);
        while (!stopping.load() && config.retention_days > 0) {
            try {
                const std::int64_t pruned = co_await jobs->prune_old_deliveries(max_age);
                if (pruned > 0) {
                    log::info("retention", "deleted old callback deliveries", {{"deliveries", pruned}, {"days", config.retention_days}});
                }
            } catch (const StorageError& e) {
                log::warn("retention", "cannot delete old callback deliveries now", {{"error", e.what()}});
            }
            timer.expires_after(std::chrono::milliseconds(config.retention_sweep_interval_ms));
            co_await timer.async_wait(kNoThrow);
        }
    }

    net::awaitable<void> shutdown() {
        tls_reloader->stop();
        server->stop_accepting();
        server->drain();
        jobs->watch().close();  // long polls answer now instead of holding the drain
        net::steady_timer timer(ioc);
        const auto deadline = std::chrono::steady_clock::now() + kDrainLimit;
        while (server->connections() > 0 && std::chrono::steady_clock::now() < deadline) {
            timer.expires_after(kDrainPoll);
            co_await timer.async_wait(kNoThrow);
        }
        if (server->connections() > 0) {
            log::warn("app", "stopping with connections still open", {{"connections", static_cast<std::int64_t>(server->connections())}});
        }
        if (sim) {
            sim->stop();
        }
        for (auto& context : more_contexts) {
            context->stop();
        }
        ioc.stop();
    }
};

namespace {

// The connection bound must fit the process's file limit, with room for the database, the
// provider connections and the log: the soft limit is raised as far as the hard one allows,
// and the bound lowered (loudly) when even that is not enough.
std::size_t connection_bound(std::size_t wanted) {
    constexpr rlim_t kReserve = 256;
    rlimit files{};
    if (::getrlimit(RLIMIT_NOFILE, &files) != 0) {
        return wanted;
    }
    const rlim_t needed = static_cast<rlim_t>(wanted) + kReserve;
    if (files.rlim_cur < needed) {
        rlimit raised = files;
        raised.rlim_cur = files.rlim_max == RLIM_INFINITY ? needed : std::min(needed, files.rlim_max);
        if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) {
            files = raised;
        }
    }
    if (files.rlim_cur != RLIM_INFINITY && files.rlim_cur < needed) {
        const std::size_t bound = files.rlim_cur > 2 * kReserve ? static_cast<std::size_t>(files.rlim_cur - kReserve) : static_cast<std::size_t>(files.rlim_cur / 2);
        log::warn("app", "server.max_connections lowered to fit the open-file limit", {{"wanted", static_cast<std::int64_t>(wanted)}, {"max_connections", static_cast<std::int64_t>(bound)}, {"file_limit", static_cast<std::int64_t>(files.rlim_cur)}});
        return bound;
    }
    return wanted;
}

}  // namespace

App::App(Config config, bool handle_signals) : parts_(std::make_unique<Parts>(std::move(config))) {
    Parts& p = *parts_;
    p.handle_signals = handle_signals;
    const Config& c = p.config;
    log::set_level(log::parse_level(c.log_level).value_or(log::Level::kInfo));
    register_secrets(c);
    // Built before the files are read, so that a change in between is seen and reloaded.
    p.tls_reloader = std::make_unique<TlsReloader>(
        p.ioc,
        TlsReloadOptions{.cert_file = c.tls_cert_file, .key_file = c.tls_key_file, .handle_sighup = handle_signals},
        [&p](std::shared_ptr<net::ssl::context> ctx) { p.server->set_tls(std::move(ctx)); }
    );
    p.certificate = load_certificate(c);
    auto server_ctx = std::make_shared<net::ssl::context>(tls::make_server_context(p.certificate));
    storage::DatabaseOptions dbo;
    dbo.path = c.database_path;
    dbo.synchronous = c.database_synchronous;
    dbo.metrics = &p.metrics;
    p.db = std::make_unique<storage::Database>(dbo);
    p.store = std::make_unique<storage::JobStore>(*p.db);
    if (c.simulator_enabled) {
        simulator::SimulatorOptions so;
        // Like the real toapis: signed callbacks once a secret is set up, else none at all.
        so.toapis_webhook_secret = c.toapis.webhook_secret;
        so.complete_after = std::chrono::milliseconds(c.simulator_complete_after_ms);
        so.callback_tls.trusted_pems = {p.certificate.cert};
        p.sim = std::make_unique<simulator::Simulator>(p.ioc, so);
        p.sim->start();
    }
    services::JobServiceOptions jo;
    jo.public_base_url = c.public_base_url;
    jo.callback_secret = p.callback_secret();
    jo.submit_retry.base = std::chrono::milliseconds(c.submission_retry_base_ms);
    jo.metrics = &p.metrics;
    jo.polling = {c.polling_enabled, c.polling_grace_ms, c.polling_interval_ms, c.polling_max_interval_ms};
    p.jobs = std::make_unique<services::JobService>(*p.store, providers::make_providers(p.provider_options()), jo);
    p.jobs_handler = std::make_unique<handlers::JobsHandler>(*p.jobs, c.auth_api_tokens);
    p.callbacks_handler = std::make_unique<handlers::CallbacksHandler>(*p.jobs);
    p.health_handler = std::make_unique<handlers::HealthHandler>(*p.jobs, p.stopping);
    p.metrics_handler = std::make_unique<handlers::MetricsHandler>(*p.jobs, p.metrics, [&p] {
        return p.server ? p.server->connections() : std::size_t{0};
    });
    p.add_routes();
    http::ServerOptions so;
    so.address = c.listen_address;
    so.port = static_cast<std::uint16_t>(c.listen_port);
    so.body_limit = static_cast<std::uint64_t>(c.callbacks_max_body_bytes);
    so.max_connections = connection_bound(static_cast<std::size_t>(c.server_max_connections));
    so.session_contexts.push_back(&p.ioc);
    for (unsigned i = 1; i < p.io_threads(); ++i) {
        p.more_contexts.push_back(std::make_unique<IoContext>(1));
        p.keep_running.push_back(net::make_work_guard(*p.more_contexts.back()));
        so.session_contexts.push_back(p.more_contexts.back().get());
    }
    p.server = std::make_unique<http::HttpServer>(p.ioc, server_ctx, so, [&router = p.router](HttpRequest r) {
        return router.handle(std::move(r));
    });
}

App::~App() {
    if (!parts_->threads.empty()) {
        stop();
        wait();
    }
}

void App::start() {
    Parts& p = *parts_;
    p.server->start();
    p.tls_reloader->start();
    if (p.handle_signals) {
        p.signals = std::make_unique<net::signal_set>(p.ioc, SIGTERM, SIGINT);
        p.signals->async_wait([this](const boost::system::error_code& ec, int signal) {
            if (!ec) {
                log::info("app", "signal received, stopping", {{"signal", static_cast<std::int64_t>(signal)}});
                stop();
            }
        });
    }
    net::co_spawn(p.ioc, p.reconcile(), [](std::exception_ptr e) {
        if (e) {
            log::error("poll", "reconciliation stopped unexpectedly");
        }
    });
    net::co_spawn(p.ioc, p.retain(), [](std::exception_ptr e) {
        if (e) {
            log::error("retention", "retention stopped unexpectedly");
        }
    });
    const auto& c = p.config;
    const unsigned n = p.io_threads();
    p.threads.emplace_back([&ioc = p.ioc] {
        name_this_thread("seedhook-io0");
        ioc.run();
    });
    for (std::size_t i = 0; i < p.more_contexts.size(); ++i) {
        p.threads.emplace_back([&ioc = *p.more_contexts[i], name = "seedhook-io" + std::to_string(i + 1)] {
            name_this_thread(name);
            ioc.run();
        });
    }
    log::info("app", "seedhook ready", {{"port", static_cast<std::int64_t>(port())}, {"public_base_url", c.public_base_url}, {"threads", static_cast<std::int64_t>(n)}, {"simulator", p.sim != nullptr}});
}

void App::stop() {
    Parts& p = *parts_;
    if (p.stopping.exchange(true)) {
        return;
    }
    net::co_spawn(p.ioc, p.shutdown(), [](std::exception_ptr e) {
        if (e) {
            log::error("app", "shutdown failed");
        }
    });
}

void App::wait() {
    Parts& p = *parts_;
    for (auto& t : p.threads) {
        if (t.joinable()) {
            t.join();
        }
    }
    p.threads.clear();
    p.db->close();
    log::info("app", "seedhook stopped");
}

std::uint16_t App::port() const { return parts_->server->port(); }

const std::string& App::certificate_pem() const { return parts_->certificate.cert; }

simulator::Simulator* App::simulator() const { return parts_->sim.get(); }

const http::Router& App::router() const { return parts_->router; }

std::size_t App::long_polls() const {
    return parts_->jobs->watch().waiting();
}

std::string App::simulator_url() const { return parts_->sim ? parts_->sim->base_url() : std::string(); }

}  // namespace seedhook
