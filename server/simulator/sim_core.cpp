#include "server/simulator/sim_core.hpp"

#include "common/crypto.hpp"
#include "common/json.hpp"
#include "common/log.hpp"
#include "common/time.hpp"

#include <boost/asio/steady_timer.hpp>

namespace seedhook::simulator {

namespace {

constexpr int kCallbackRetries = 3;  // up to 3 retries, 1/2/4 units after a failure
constexpr std::chrono::milliseconds kWaitStep{20};

std::string key_of(std::string_view provider, std::string_view id) {
    std::string key(provider);
    key.append(":").append(id);
    return key;
}

}  // namespace

std::string random_alnum(std::size_t n) {
    static constexpr std::string_view kChars = "abcdefghijklmnopqrstuvwxyz0123456789";
    const std::string bytes = crypto::random_bytes(n);
    std::string out;
    for (const char b : bytes) {
        out.push_back(kChars[static_cast<unsigned char>(b) % kChars.size()]);
    }
    return out;
}

std::string random_uuid() {
    const std::string hex = crypto::hex(crypto::random_bytes(16));
    return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
           hex.substr(16, 4) + "-" + hex.substr(20);
}

std::string_view status_word(SimPhase phase, const StatusWords& words) {
    return words.at(static_cast<std::size_t>(phase));
}

HttpResponse typed_error(int status, std::string_view code, std::string_view message) {
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

HttpResponse json_answer(int status, std::string body) {
    HttpResponse r;
    r.status = status;
    r.body = std::move(body);
    return r;
}

bool has_bearer(const HttpRequest& request) {
    const auto header = request.headers.get("Authorization");
    return header.size() > 7 && header.substr(0, 7) == "Bearer ";
}

bool has_hook(std::string_view prompt, std::string_view tag) {
    return prompt.find(tag) != std::string_view::npos;
}

SimCore::SimCore(
    net::io_context& ioc, SimulatorOptions options, std::shared_ptr<providers::HttpsClient> client
)
    : ioc_(ioc), options_(std::move(options)), client_(std::move(client)) {}

void SimCore::start_task(SimTask task, CallbackBuilder callback) {
    const std::string key = key_of(task.provider, task.id);
    {
        const std::lock_guard lock(mutex_);
        tasks_[key] = std::move(task);
    }
    tasks_created_.fetch_add(1);
    net::co_spawn(
        ioc_,
        run_task(shared_from_this(), key, std::move(callback)),
        [](const std::exception_ptr& e) {
            if (e) {
                log::error("simulator", "a simulated task failed to run");
            }
        }
    );
}

std::optional<SimTask> SimCore::find(std::string_view provider, std::string_view id) const {
    const std::lock_guard lock(mutex_);
    auto it = tasks_.find(key_of(provider, id));
    return it == tasks_.end() ? std::nullopt : std::optional<SimTask>(it->second);
}

std::optional<SimTask> SimCore::find_by_business_id(
    std::string_view provider, std::string_view business_id
) const {
    const std::lock_guard lock(mutex_);
    for (const auto& [key, task] : tasks_) {
        if (task.provider == provider && !business_id.empty() &&
            task.client_business_id == business_id) {
            return task;
        }
    }
    return std::nullopt;
}

SimTask SimCore::update(const std::string& key, const std::function<void(SimTask&)>& change) {
    const std::lock_guard lock(mutex_);
    SimTask& t = tasks_.at(key);
    change(t);
    return t;
}

net::awaitable<void> SimCore::sleep_for(std::chrono::milliseconds d) {
    net::steady_timer timer(ioc_, d);
    co_await timer.async_wait(kNoThrow);
}

net::awaitable<std::optional<SimTask>> SimCore::wait_done(
    std::string provider, std::string id, std::chrono::milliseconds limit
) {
    for (auto waited = std::chrono::milliseconds(0); waited < limit; waited += kWaitStep) {
        auto task = find(provider, id);
        if (!task || task->phase == SimPhase::kSucceeded || task->phase == SimPhase::kFailed) {
            co_return task;
        }
        co_await sleep_for(kWaitStep);
    }
    auto last = find(provider, id);
    co_return last;
}

net::awaitable<bool> SimCore::deliver(providers::ClientRequest request, std::string id) {
    request.timeout = options_.callback_timeout;
    callback_attempts_.fetch_add(1);
    try {
        auto res = co_await client_->request(std::move(request));
        co_return res.status >= 200 && res.status < 300;
    } catch (const providers::TransportError& e) {
        log::info("simulator", "callback attempt failed", {{"task", id}, {"error", e.what()}});
        co_return false;
    }
}

// A task's life: queued, running halfway, then succeeded (or failed), then the callback with
// the 1/2/4 retry schedule.
net::awaitable<void> SimCore::run_task(
    std::shared_ptr<SimCore> self, std::string key, CallbackBuilder callback
) {
    const auto half = self->options_.complete_after / 2;
    co_await self->sleep_for(half);
    self->update(key, [](SimTask& t) {
        t.phase = SimPhase::kRunning;
        t.progress = 50;
        t.started = now_ms() / 1000;
    });
    co_await self->sleep_for(self->options_.complete_after - half);
    const SimTask done = self->update(key, [](SimTask& t) {
        t.finished = now_ms() / 1000;
        if (t.fail) {
            t.phase = SimPhase::kFailed;
            t.error_code = "content_policy_violation";
            t.error_message = "the simulated task failed as asked";
        } else {
            t.phase = SimPhase::kSucceeded;
            t.progress = 100;
            t.video_url = "https://cdn.simulator.invalid/videos/" + t.id + ".mp4";
            if (t.last_frame) {
                t.last_frame_url = "https://cdn.simulator.invalid/frames/" + t.id + ".png";
            }
        }
    });
    if (done.callback_url.empty() || done.no_callback || !callback) {
        co_return;
    }
    for (int attempt = 0; attempt <= kCallbackRetries && !self->stopped_.load(); ++attempt) {
        if (attempt > 0) {
            co_await self->sleep_for(self->options_.retry_unit * (1 << (attempt - 1)));
        }
        providers::ClientRequest request = callback(done);
        std::string id = done.id;
        const bool delivered = co_await self->deliver(std::move(request), std::move(id));
        if (delivered) {
            co_return;
        }
    }
    log::warn("simulator", "callback given up after retries", {{"task", done.id}});
}

}  // namespace seedhook::simulator
