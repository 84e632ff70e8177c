#include "server/simulator/evolink_sim.hpp"

#include "common/json.hpp"
#include "common/time.hpp"

namespace seedhook::simulator {

namespace {

constexpr std::string_view kProvider = "evolink";

constexpr StatusWords kWords = {"pending", "processing", "completed", "failed"};

std::string task_json(const SimTask& t) {
    json::Writer w;
    w.start_object();
    w.member("id", t.id);
    w.member("object", "video.generation.task");
    w.member("created", t.created);
    w.member("model", t.model);
    w.member("status", status_word(t.phase, kWords));
    w.member("progress", t.progress);
    if (t.phase == SimPhase::kSucceeded) {
        w.key("results");
        w.start_array();
        w.string(t.video_url);
        w.end_array();
    }
    if (t.phase == SimPhase::kFailed) {
        w.key("error");
        w.start_object();
        w.member("code", t.error_code);
        w.member("message", t.error_message);
        w.end_object();
    }
    w.member("type", "video");
    w.key("task_info");
    w.start_object();
    w.member("can_cancel", t.phase == SimPhase::kQueued);
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


providers::ClientRequest callback_request(const SimTask& t) {
    providers::ClientRequest req;
    req.method = "POST";
    req.url = t.callback_url;
    req.headers.emplace_back("Content-Type", "application/json");
    req.body = task_json(t);
    return req;
}

}  // namespace

HttpResponse evolink_create(const std::shared_ptr<SimCore>& core, const HttpRequest& request) {
    if (!has_bearer(request)) {
        return typed_error(401, "unauthorized", "invalid API key");
    }
    auto body = json::parse(request.body);
    if (!body || !body->IsObject()) {
        return typed_error(400, "invalid_request", "the body is not a JSON object");
    }
    const auto model = json::get_string(*body, "model");
    const auto prompt = json::get_string(*body, "prompt");
    if (!model || !prompt) {
        return typed_error(400, "invalid_parameter", "model and prompt are required");
    }
    if (has_hook(*prompt, "[sim:reject]")) {
        return typed_error(400, "invalid_parameter", "the prompt was refused by the simulator");
    }
    SimTask t;
    t.provider = std::string(kProvider);
    t.created = now_ms() / 1000;
    t.id = "task-unified-" + std::to_string(t.created) + "-" + random_alnum(8);
    t.model = std::string(*model);
    t.prompt = std::string(*prompt);
    t.callback_url = std::string(json::get_string(*body, "callback_url").value_or(""));
    t.fail = has_hook(*prompt, "[sim:fail]");
    t.no_callback = has_hook(*prompt, "[sim:no-callback]");
    std::string answer = task_json(t);
    core->start_task(std::move(t), callback_request);
    return json_answer(200, std::move(answer));
}

HttpResponse evolink_query(const SimCore& core, const HttpRequest& request) {
    if (!has_bearer(request)) {
        return typed_error(401, "unauthorized", "invalid API key");
    }
    auto task = core.find(kProvider, request.path_params.at(0));
    if (!task) {
        return typed_error(404, "task_not_found", "no such task");
    }
    return json_answer(200, task_json(*task));
}

}  // namespace seedhook::simulator
