#include "server/simulator/simulator.hpp"

#include <atomic>
#include <map>
#include <mutex>

#include <boost/asio/steady_timer.hpp>

#include "common/crypto.hpp"
#include "common/json.hpp"
#include "common/log.hpp"
#include "common/time.hpp"
#include "server/http/http_server.hpp"
#include "server/http/router.hpp"
#include "server/providers/https_client.hpp"

namespace seedhook::simulator {

namespace {

constexpr int kCallbackRetries = 3;  // evolink: up to 3 retries, 1/2/4 s after a failure

struct Task {
    std::string id;
    std::string model;
    std::string status = "pending";
    std::int64_t progress = 0;
    std::int64_t created = 0;  // unix s
    std::string callback_url;
    std::string video_url;
    std::string error_code;
    std::string error_message;
    bool no_callback = false;
    bool fail = false;
};

std::string random_alnum(std::size_t n) {
    static constexpr char kChars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    const std::string bytes = crypto::random_bytes(n);
    std::string out;
    for (const char b : bytes) {
        out.push_back(kChars[static_cast<unsigned char>(b) % (sizeof(kChars) - 1)]);
    }
    return out;
}

std::string evolink_task_json(const Task& t) {
    json::Writer w;
    w.start_object();
    w.member("id", t.id);
    w.member("object", "video.generation.task");
    w.member("created", t.created);
    w.member("model", t.model);
    w.member("status", t.status);
    w.member("progress", t.progress);
    if (t.status == "completed") {
        w.key("results");
        w.start_array();
        w.string(t.video_url);
        w.end_array();
    }
    if (t.status == "failed") {
        w.key("error");
        w.start_object();
        w.member("code", t.error_code);
        w.member("message", t.error_message);
        w.end_object();
    }
    w.member("type", "video");
    w.key("task_info");
    w.start_object();
    w.member("can_cancel", t.status == "pending");
    w.end_object();
    w.key("usage");
    w.start_object();
    w.member("billing_rule", "per_call");
    w.member("credits_reserved", static_cast<std::int64_t>(8));
    w.member("user_group", "default");
    w.end_object();
    w.end_object();
    return w.take();
}

HttpResponse json_answer(int status, std::string body) {
    HttpResponse r;
    r.status = status;
    r.body = std::move(body);
    return r;
}

HttpResponse evolink_error(int status, std::string_view code, std::string_view message) {
    json::Writer w;
    w.start_object();
    w.key("error");
    w.start_object();
    w.member("code", code);
    w.member("message", message);
    w.member("type", "invalid_request_error");
    w.end_object();
    w.end_object();
    return json_answer(status, w.take());
}

bool authorized(const HttpRequest& r) {
    const auto header = r.headers.get("Authorization");
    return header.size() > 7 && header.substr(0, 7) == "Bearer ";
}

}  // namespace

struct Simulator::Impl {
    net::io_context& ioc;
    SimulatorOptions options;
    tls::CertificatePem certificate;
    std::unique_ptr<http::HttpServer> server;
    http::Router router{"simulator"};
    std::shared_ptr<providers::HttpsClient> client;
    std::mutex mutex;  // guards `tasks`
    std::map<std::string, Task> tasks;
    std::atomic<bool> stopped{false};
    std::atomic<std::uint64_t> callback_attempts{0};
    std::atomic<std::uint64_t> tasks_created{0};

    Impl(net::io_context& io, SimulatorOptions o) : ioc(io), options(std::move(o)) {}

    std::optional<Task> find(const std::string& id) {
        const std::lock_guard lock(mutex);
        auto it = tasks.find(id);
        return it == tasks.end() ? std::nullopt : std::optional<Task>(it->second);
    }

    Task update(const std::string& id, const std::function<void(Task&)>& change) {
        const std::lock_guard lock(mutex);
        Task& t = tasks.at(id);
        change(t);
        return t;
    }
};

namespace {

net::awaitable<void> sleep_for(net::io_context& ioc, std::chrono::milliseconds d) {
    net::steady_timer timer(ioc, d);
    co_await timer.async_wait(kNoThrow);
}

net::awaitable<bool> deliver(std::shared_ptr<Simulator::Impl> impl, const Task& task) {
    providers::ClientRequest req;
    req.method = "POST";
    req.url = task.callback_url;
    req.headers.emplace_back("Content-Type", "application/json");
    req.body = evolink_task_json(task);
    req.timeout = impl->options.callback_timeout;
    impl->callback_attempts.fetch_add(1);
    try {
        auto res = co_await impl->client->request(std::move(req));
        co_return res.status >= 200 && res.status < 300;
    } catch (const providers::TransportError& e) {
        log::info("simulator", "callback attempt failed", {{"task_id", task.id}, {"error", e.what()}});
        co_return false;
    }
}

// A task's life: pending, processing halfway, then completed (or failed), then the callback
// with evolink's retry schedule.
net::awaitable<void> run_task(std::shared_ptr<Simulator::Impl> impl, std::string id) {
    const auto half = impl->options.complete_after / 2;
    co_await sleep_for(impl->ioc, half);
    impl->update(id, [](Task& t) {
        t.status = "processing";
        t.progress = 50;
    });
    co_await sleep_for(impl->ioc, impl->options.complete_after - half);
    const Task done = impl->update(id, [](Task& t) {
        if (t.fail) {
            t.status = "failed";
            t.error_code = "content_policy_violation";
            t.error_message = "the simulated task failed as asked";
        } else {
            t.status = "completed";
            t.progress = 100;
            t.video_url = "https://cdn.simulator.invalid/videos/" + t.id + ".mp4";
        }
    });
    if (done.callback_url.empty() || done.no_callback) {
        co_return;
    }
    for (int attempt = 0; attempt <= kCallbackRetries && !impl->stopped.load(); ++attempt) {
        if (attempt > 0) {
            co_await sleep_for(impl->ioc, impl->options.retry_unit * (1 << (attempt - 1)));
        }
        const bool delivered = co_await deliver(impl, done);
        if (delivered) {
            co_return;
        }
    }
    log::warn("simulator", "callback given up after retries", {{"task_id", id}});
}

void add_evolink_routes(const std::shared_ptr<Simulator::Impl>& impl) {
    std::weak_ptr<Simulator::Impl> weak = impl;
    impl->router.add("POST", "/v1/videos/generations", [weak](HttpRequest r) -> net::awaitable<HttpResponse> {
        auto self = weak.lock();
        if (!self || !authorized(r)) {
            co_return evolink_error(401, "unauthorized", "invalid API key");
        }
        auto body = json::parse(r.body);
        if (!body || !body->IsObject()) {
            co_return evolink_error(400, "invalid_request", "the body is not a JSON object");
        }
        const auto model = json::get_string(*body, "model");
        const auto prompt = json::get_string(*body, "prompt");
        if (!model || !prompt) {
            co_return evolink_error(400, "invalid_parameter", "model and prompt are required");
        }
        const std::string text(*prompt);
        if (text.find("[sim:reject]") != std::string::npos) {
            co_return evolink_error(400, "invalid_parameter", "the prompt was refused by the simulator");
        }
        Task t;
        t.created = now_ms() / 1000;
        t.id = "task-unified-" + std::to_string(t.created) + "-" + random_alnum(8);
        t.model = std::string(*model);
        t.callback_url = std::string(json::get_string(*body, "callback_url").value_or(""));
        t.fail = text.find("[sim:fail]") != std::string::npos;
        t.no_callback = text.find("[sim:no-callback]") != std::string::npos;
        {
            const std::lock_guard lock(self->mutex);
            self->tasks[t.id] = t;
        }
        self->tasks_created.fetch_add(1);
        net::co_spawn(self->ioc, run_task(self, t.id), [](std::exception_ptr e) {
            if (e) {
                log::error("simulator", "a simulated task failed to run");
            }
        });
        co_return json_answer(200, evolink_task_json(t));
    });
    impl->router.add("GET", "/v1/tasks/{id}", [weak](HttpRequest r) -> net::awaitable<HttpResponse> {
        auto self = weak.lock();
        if (!self || !authorized(r)) {
            co_return evolink_error(401, "unauthorized", "invalid API key");
        }
        auto task = self->find(r.path_params.at(0));
        if (!task) {
            co_return evolink_error(404, "task_not_found", "no such task");
        }
        co_return json_answer(200, evolink_task_json(*task));
    });
}

}  // namespace

Simulator::Simulator(net::io_context& ioc, SimulatorOptions options)
    : impl_(std::make_shared<Impl>(ioc, std::move(options))) {
    impl_->certificate = tls::make_self_signed({"127.0.0.1", "localhost"});
    auto client_ctx = std::make_shared<net::ssl::context>(tls::make_client_context(impl_->options.callback_tls));
    impl_->client = std::make_shared<providers::HttpsClient>(ioc.get_executor(), client_ctx);
    add_evolink_routes(impl_);
    http::ServerOptions server_options;
    server_options.address = impl_->options.address;
    server_options.port = impl_->options.port;
    server_options.name = "simulator";
    auto server_ctx = std::make_shared<net::ssl::context>(tls::make_server_context(impl_->certificate));
    std::weak_ptr<Impl> weak = impl_;
    impl_->server = std::make_unique<http::HttpServer>(ioc, server_ctx, server_options, [weak](HttpRequest r) -> net::awaitable<HttpResponse> {
        auto self = weak.lock();
        if (!self) {
            co_return http::error_response(503, "stopped", "the simulator stopped");
        }
        HttpResponse response = co_await self->router.handle(std::move(r));
        co_return response;
    });
}

Simulator::~Simulator() { stop(); }

void Simulator::start() {
    impl_->server->start();
    log::warn("simulator", "PROVIDER SIMULATOR RUNNING: jobs go to a simulated provider, not a real one", {{"base_url", base_url()}});
}

void Simulator::stop() {
    impl_->stopped.store(true);
    impl_->server->stop_accepting();
    impl_->server->drain();
}

std::string Simulator::base_url() const {
    return "https://127.0.0.1:" + std::to_string(impl_->server->port());
}

const std::string& Simulator::certificate_pem() const { return impl_->certificate.cert; }

std::uint64_t Simulator::callback_attempts() const { return impl_->callback_attempts.load(); }

std::uint64_t Simulator::tasks_created() const { return impl_->tasks_created.load(); }

}  // namespace seedhook::simulator
