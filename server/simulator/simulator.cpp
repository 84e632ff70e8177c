#include "server/simulator/simulator.hpp"

#include "common/json.hpp"
#include "common/log.hpp"
#include "server/http/http_server.hpp"
#include "server/http/router.hpp"
#include "server/providers/https_client.hpp"
#include "server/simulator/acedata_sim.hpp"
#include "server/simulator/evolink_sim.hpp"
#include "server/simulator/sim_core.hpp"
#include "server/simulator/toapis_sim.hpp"

namespace seedhook::simulator {

struct Simulator::Impl {
    tls::CertificatePem certificate;
    std::shared_ptr<SimCore> core;
    http::Router router{"simulator"};
    std::unique_ptr<http::HttpServer> server;
};

namespace {

// evolink and toapis share POST /v1/videos/generations: the body's model tells them apart.
bool is_toapis_create(const HttpRequest& r) {
    auto body = json::parse(r.body);
    return body && json::get_string(*body, "model") == kToapisModel;
}

void add_routes(http::Router& router, const std::shared_ptr<SimCore>& core) {
    router.add(
        "POST",
        "/v1/videos/generations",
        [core](HttpRequest r) -> net::awaitable<HttpResponse> {
            co_return is_toapis_create(r) ? toapis_create(core, r) : evolink_create(core, r);
        }
    );
    router.add("GET", "/v1/tasks/{id}", [core](HttpRequest r) -> net::awaitable<HttpResponse> {
        co_return evolink_query(*core, r);
    });
    router.add(
        "GET",
        "/v1/videos/generations/{id}",
        [core](HttpRequest r) -> net::awaitable<HttpResponse> { co_return toapis_query(*core, r); }
    );
    router.add("POST", "/seedance/videos", [core](HttpRequest r) -> net::awaitable<HttpResponse> {
        HttpResponse response = co_await acedata_create(core, std::move(r));
        co_return response;
    });
    router.add("POST", "/seedance/tasks", [core](HttpRequest r) -> net::awaitable<HttpResponse> {
        co_return acedata_query(*core, r);
    });
}

}  // namespace

Simulator::Simulator(net::io_context& ioc, SimulatorOptions options)
    : impl_(std::make_shared<Impl>()) {
    impl_->certificate = tls::make_self_signed({"127.0.0.1", "localhost"});
    auto client_ctx =
        std::make_shared<net::ssl::context>(tls::make_client_context(options.callback_tls));
    auto client = std::make_shared<providers::HttpsClient>(client_ctx);
    http::ServerOptions server_options;
    server_options.address = options.address;
    server_options.port = options.port;
    server_options.name = "simulator";
    impl_->core = std::make_shared<SimCore>(ioc, std::move(options), std::move(client));
    add_routes(impl_->router, impl_->core);
    auto server_ctx =
        std::make_shared<net::ssl::context>(tls::make_server_context(impl_->certificate));
    std::weak_ptr<Impl> weak = impl_;
    impl_->server = std::make_unique<http::HttpServer>(
        ioc,
        server_ctx,
        server_options,
        [weak](HttpRequest r) -> net::awaitable<HttpResponse> {
            auto self = weak.lock();
            if (!self) {
                co_return http::error_response(503, "stopped", "the simulator stopped");
            }
            HttpResponse response = co_await self->router.handle(std::move(r));
            co_return response;
        }
    );
}

Simulator::~Simulator() {
    stop();
}

void Simulator::start() {
    impl_->server->start();
    log::warn(
        "simulator",
        "PROVIDER SIMULATOR RUNNING: jobs go to a simulated provider, not a real one",
        {{"base_url", base_url()}}
    );
}

void Simulator::stop() {
    impl_->core->stop();
    impl_->server->stop_accepting();
    impl_->server->drain();
}

std::string Simulator::base_url() const {
    return "https://127.0.0.1:" + std::to_string(impl_->server->port());
}

const std::string& Simulator::certificate_pem() const {
    return impl_->certificate.cert;
}

std::uint64_t Simulator::callback_attempts() const {
    return impl_->core->callback_attempts();
}

std::uint64_t Simulator::tasks_created() const {
    return impl_->core->tasks_created();
}

}  // namespace seedhook::simulator
