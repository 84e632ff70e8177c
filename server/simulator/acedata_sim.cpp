#include "server/simulator/acedata_sim.hpp"

#include "common/json.hpp"
#include "common/time.hpp"

#include <charconv>

namespace seedhook::simulator {

namespace {

constexpr std::string_view kProvider = "acedata";

constexpr StatusWords kWords = {"queued", "running", "succeeded", "failed"};

// The value of text flag `flag` ("--rs") in the prompt, or `fallback`.
std::string flag_value(std::string_view text, std::string_view flag, std::string_view fallback) {
    const std::string needle = std::string(flag) + " ";
    const auto at = text.find(needle);
    if (at == std::string_view::npos) {
        return std::string(fallback);
    }
    const auto start = at + needle.size();
    const auto end = text.find(' ', start);
    return std::string(
        text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start)
    );
}

std::int64_t duration_of(std::string_view prompt) {
    const std::string text = flag_value(prompt, "--dur", "5");
    std::int64_t value = 0;
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    return ec == std::errc() && ptr == text.data() + text.size() ? value : 5;
}

void write_error(json::Writer& w, const SimTask& t) {
    w.key("error");
    w.start_object();
    w.member("code", t.error_code);
    w.member("message", t.error_message);
    w.end_object();
}

// The Ark task object, as acedata relays it.
void write_ark(json::Writer& w, const SimTask& t) {
    w.start_object();
    w.member("id", t.inner_id);
    w.member("model", t.model);
    w.member("status", status_word(t.phase, kWords));
    if (t.phase == SimPhase::kSucceeded) {
        w.key("content");
        w.start_object();
        w.member("video_url", t.video_url);
        if (!t.last_frame_url.empty()) {
            w.member("last_frame_url", t.last_frame_url);
        }
        w.end_object();
    }
    w.member("seed", static_cast<std::int64_t>(11));
    w.member("resolution", flag_value(t.prompt, "--rs", "720p"));
    w.member("ratio", flag_value(t.prompt, "--rt", "16:9"));
    w.member("duration", duration_of(t.prompt));
    w.member("framespersecond", static_cast<std::int64_t>(24));
    w.key("usage");
    w.start_object();
    w.member("completion_tokens", static_cast<std::int64_t>(108900));
    w.member("total_tokens", static_cast<std::int64_t>(108900));
    w.end_object();
    w.member("created_at", t.created);
    w.member("updated_at", t.finished != 0 ? t.finished : t.created);
    if (t.phase == SimPhase::kFailed) {
        write_error(w, t);
    }
    w.end_object();
}

void write_flat(json::Writer& w, const SimTask& t) {
    w.start_object();
    w.member("task_id", t.inner_id);
    w.member("status", status_word(t.phase, kWords));
    if (t.phase == SimPhase::kSucceeded) {
        w.member("video_url", t.video_url);
        if (!t.last_frame_url.empty()) {
            w.member("last_frame_url", t.last_frame_url);
        }
    }
    w.member("model", t.model);
    w.end_object();
}

// {success, task_id, trace_id, data} (+ error when failed); data as an array in answers.
std::string result_json(const SimTask& t, bool ark, bool data_array) {
    json::Writer w;
    w.start_object();
    w.member("success", t.phase != SimPhase::kFailed);
    w.member("task_id", t.id);
    w.member("trace_id", t.trace_id);
    w.key("data");
    if (data_array) {
        w.start_array();
    }
    if (ark) {
        write_ark(w, t);
    } else {
        write_flat(w, t);
    }
    if (data_array) {
        w.end_array();
    }
    if (t.phase == SimPhase::kFailed) {
        write_error(w, t);
    }
    w.end_object();
    return w.take();
}

std::string query_json(const SimTask& t) {
    const bool done = t.phase == SimPhase::kSucceeded || t.phase == SimPhase::kFailed;
    json::Writer w;
    w.start_object();
    w.member("id", t.id);
    w.member("type", "videos");
    w.member("created_at", t.created);
    w.member_or_null(
        "started_at", t.started != 0 ? std::optional<std::int64_t>(t.started) : std::nullopt
    );
    w.member_or_null("finished_at", done ? std::optional<std::int64_t>(t.finished) : std::nullopt);
    w.member_or_null(
        "elapsed", done ? std::optional<std::int64_t>(t.finished - t.created) : std::nullopt
    );
    w.member("trace_id", t.trace_id);
    w.key("request");
    w.raw(t.request_json);
    if (done) {  // the final result, once there is one
        w.key("response");
        w.raw(result_json(t, true, true));
    }
    w.end_object();
    return w.take();
}

HttpResponse error(int status, std::string_view code, std::string_view message) {
    json::Writer w;
    w.start_object();
    w.member("success", false);
    w.key("error");
    w.start_object();
    w.member("code", code);
    w.member("message", message);
    w.end_object();
    w.member("trace_id", random_uuid());
    w.end_object();
    return json_answer(status, w.take());
}

providers::ClientRequest callback_request(const SimTask& t) {
    providers::ClientRequest req;
    req.method = "POST";
    req.url = t.callback_url;
    req.headers.emplace_back("Content-Type", "application/json");
    req.body = result_json(t, t.ark_shape, false);
    return req;
}

// The prompt text of content[{type: text}], or nullopt.
std::optional<std::string> prompt_of(const json::Value& body) {
    const auto* content = json::find(body, "content");
    if (content == nullptr || !content->IsArray()) {
        return std::nullopt;
    }
    for (const auto& item : content->GetArray()) {
        if (json::get_string(item, "type") == "text") {
            if (auto text = json::get_string(item, "text")) {
                return std::string(*text);
            }
        }
    }
    return std::nullopt;
}

}  // namespace

net::awaitable<HttpResponse> acedata_create(std::shared_ptr<SimCore> core, HttpRequest request) {
    if (!has_bearer(request)) {
        co_return error(401, "invalid_token", "invalid API key");
    }
    auto body = json::parse(request.body);
    if (!body || !body->IsObject()) {
        co_return error(400, "bad_request", "the body is not a JSON object");
    }
    const auto model = json::get_string(*body, "model");
    const auto prompt = prompt_of(*body);
    if (!model || !prompt) {
        co_return error(400, "bad_request", "model and a text content item are required");
    }
    if (has_hook(*prompt, "[sim:reject]")) {
        co_return error(400, "bad_request", "the prompt was refused by the simulator");
    }
    SimTask t;
    t.provider = std::string(kProvider);
    t.created = now_ms() / 1000;
    t.id = random_uuid();
    t.inner_id = "cgt-" + std::to_string(t.created) + "-" + random_alnum(5);
    t.trace_id = random_uuid();
    t.model = std::string(*model);
    t.prompt = *prompt;
    t.request_json = json::to_string(*body);
    t.callback_url = std::string(json::get_string(*body, "callback_url").value_or(""));
    t.fail = has_hook(*prompt, "[sim:fail]");
    t.no_callback = has_hook(*prompt, "[sim:no-callback]");
    t.ark_shape = has_hook(*prompt, "[sim:ark]");
    t.last_frame = json::get_bool(*body, "return_last_frame").value_or(false);
    const bool blocking = t.callback_url.empty() && !json::get_bool(*body, "async").value_or(false);
    const std::string id = t.id;
    json::Writer w;
    w.start_object();
    w.member("success", true);
    w.member("task_id", t.id);
    w.member("trace_id", t.trace_id);
    w.end_object();
    std::string answer = w.take();
    core->start_task(std::move(t), callback_request);
    if (!blocking) {
        co_return json_answer(200, std::move(answer));
    }
    // Without a callback acedata answers only when the video is done.
    const auto limit = core->options().complete_after * 2 + std::chrono::seconds(5);
    std::string provider(kProvider);
    auto done = co_await core->wait_done(std::move(provider), id, limit);
    if (!done) {
        co_return error(500, "internal_error", "the simulated task vanished");
    }
    co_return json_answer(200, result_json(*done, true, true));
}

HttpResponse acedata_query(const SimCore& core, const HttpRequest& request) {
    if (!has_bearer(request)) {
        return error(401, "invalid_token", "invalid API key");
    }
    auto body = json::parse(request.body);
    const auto id = body ? json::get_string(*body, "id") : std::nullopt;
    if (!id || json::get_string(*body, "action") != "retrieve") {
        return error(400, "bad_request", "id and action \"retrieve\" are required");
    }
    auto task = core.find(kProvider, *id);
    if (!task) {
        return error(404, "not_found", "no such task");
    }
    return json_answer(200, query_json(*task));
}

}  // namespace seedhook::simulator
