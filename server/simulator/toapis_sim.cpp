#include "server/simulator/toapis_sim.hpp"

#include "common/crypto.hpp"
#include "common/json.hpp"
#include "common/time.hpp"

namespace seedhook::simulator {

namespace {

constexpr std::string_view kProvider = "toapis";
constexpr std::int64_t kUrlLifetimeS = std::int64_t{24} * 3600;

constexpr StatusWords kWords = {"queued", "in_progress", "completed", "failed"};

void write_result(json::Writer& w, const SimTask& t) {
    w.key("result");
    w.start_object();
    w.member("type", "video");
    w.key("data");
    w.start_array();
    w.start_object();
    w.member("url", t.video_url);
    w.member("format", "mp4");
    if (!t.last_frame_url.empty()) {
        w.member("last_frame_url", t.last_frame_url);
    }
    w.end_object();
    w.end_array();
    w.end_object();
}

void write_error(json::Writer& w, const SimTask& t) {
    w.key("error");
    w.start_object();
    w.member("code", t.error_code);
    w.member("message", t.error_message);
    w.end_object();
}

std::string task_json(const SimTask& t) {
    json::Writer w;
    w.start_object();
    w.member("id", t.id);
    w.member("object", "generation.task");
    w.member("model", t.model);
    w.member("status", status_word(t.phase, kWords));
    w.member("progress", t.progress);
    w.member("created_at", t.created);
    w.key("metadata");
    w.start_object();
    w.end_object();
    if (t.phase == SimPhase::kSucceeded) {
        w.member("completed_at", t.finished);
        w.member("expires_at", t.finished + kUrlLifetimeS);
        write_result(w, t);
    }
    if (t.phase == SimPhase::kFailed) {
        write_error(w, t);
    }
    w.end_object();
    return w.take();
}

std::string event_json(const SimTask& t) {
    const bool ok = t.phase == SimPhase::kSucceeded;
    json::Writer w;
    w.start_object();
    w.member("id", t.event_id);
    w.member("type", ok ? "generation.completed" : "generation.failed");
    w.member("api_version", "v1");
    w.member("created_at", t.finished);
    w.key("data");
    w.start_object();
    w.member("task_id", t.id);
    w.member("client_business_id", t.client_business_id);
    w.member("task_type", "video");
    w.member("model", t.model);
    w.member("status", status_word(t.phase, kWords));
    w.member("progress", t.progress);
    if (ok) {
        write_result(w, t);
        w.member_null("error");
    } else {
        w.member_null("result");
        write_error(w, t);
    }
    w.member("submitted_at", t.created);
    w.member("finished_at", t.finished);
    w.end_object();
    w.end_object();
    return w.take();
}


// Signed per attempt: the same event id and body, a fresh timestamp.
CallbackBuilder signed_callback(std::string secret) {
    return [secret = std::move(secret)](const SimTask& t) {
        providers::ClientRequest req;
        req.method = "POST";
        req.url = t.callback_url;
        req.body = event_json(t);
        const std::string timestamp = std::to_string(now_ms() / 1000);
        const std::string signed_text = t.event_id + "." + timestamp + "." + req.body;
        const std::string signature =
            crypto::hex(crypto::as_view(crypto::hmac_sha256(secret, signed_text)));
        req.headers.emplace_back("Content-Type", "application/json");
        req.headers.emplace_back("X-ToAPIs-Webhook-Id", t.event_id);
        req.headers.emplace_back("X-ToAPIs-Webhook-Timestamp", timestamp);
        req.headers.emplace_back("X-ToAPIs-Webhook-Signature", "v1=" + signature);
        return req;
    };
}

}  // namespace

HttpResponse toapis_create(const std::shared_ptr<SimCore>& core, const HttpRequest& request) {
    if (!has_bearer(request)) {
        return typed_error(401, "unauthorized", "invalid API key");
    }
    auto body = json::parse(request.body);
    if (!body || !body->IsObject()) {
        return typed_error(400, "invalid_request", "the body is not a JSON object");
    }
    const auto prompt = json::get_string(*body, "prompt");
    if (!prompt || prompt->empty()) {
        return typed_error(400, "invalid_request", "prompt is required");
    }
    if (json::find(*body, "image_urls") != nullptr &&
        json::find(*body, "image_with_roles") != nullptr) {
        return typed_error(
            400, "invalid_request", "image_urls and image_with_roles cannot be used together"
        );
    }
    const std::string& secret = core->options().toapis_webhook_secret;
    const auto callback_url = json::get_string(*body, "callback_url");
    if (callback_url && secret.empty()) {
        return typed_error(400, "webhook_not_configured", "callbacks are not set up on this API token");
    }
    if (has_hook(*prompt, "[sim:reject]")) {
        return typed_error(422, "content_policy_violation", "the prompt was refused by the simulator");
    }
    SimTask t;
    t.provider = std::string(kProvider);
    t.created = now_ms() / 1000;
    t.id = "task_vid_" + random_alnum(12);
    t.event_id = "evt_" + random_alnum(16);
    t.model = std::string(kToapisModel);
    t.prompt = std::string(*prompt);
    t.client_business_id = std::string(json::get_string(*body, "client_business_id").value_or(""));
    t.callback_url = std::string(callback_url.value_or(""));
    t.fail = has_hook(*prompt, "[sim:fail]");
    t.no_callback = has_hook(*prompt, "[sim:no-callback]");
    t.last_frame = true;
    std::string answer = task_json(t);
    core->start_task(std::move(t), secret.empty() ? CallbackBuilder() : signed_callback(secret));
    return json_answer(200, std::move(answer));
}

HttpResponse toapis_query(const SimCore& core, const HttpRequest& request) {
    if (!has_bearer(request)) {
        return typed_error(401, "unauthorized", "invalid API key");
    }
    const std::string& id = request.path_params.at(0);
    auto task = core.find(kProvider, id);
    if (!task) {
        task = core.find_by_business_id(kProvider, id);
    }
    if (!task) {
        return typed_error(404, "task_not_found", "no such task");
    }
    return json_answer(200, task_json(*task));
}

}  // namespace seedhook::simulator
