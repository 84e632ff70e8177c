#include "server/providers/acedata/acedata_provider.hpp"

#include "server/providers/acedata/acedata_models.hpp"

#include <array>

namespace seedhook::providers {

namespace {

constexpr std::string_view kRedacted = "[redacted]";

constexpr std::array<std::pair<std::string_view, JobStatus>, 6> kStatuses = {{
        {"queued", JobStatus::kQueued},
        {"running", JobStatus::kRunning},
        {"succeeded", JobStatus::kSucceeded},
        {"failed", JobStatus::kFailed},
        {"cancelled", JobStatus::kCancelled},
        {"expired", JobStatus::kExpired},
    }};

std::optional<JobStatus> map_status(std::string_view word) {
    return providers::map_status(word, kStatuses);
}

std::string flag_bool(const json::Value& options, std::string_view name) {
    return json::get_bool(options, name).value_or(false) ? "true" : "false";
}

// The URL under `key`, flat (`data.video_url`) or Ark-shaped (`data.content.video_url`).
std::optional<std::string> url_of(const json::Value& data, std::string_view key) {
    if (auto url = json::get_string(data, key)) {
        return std::string(*url);
    }
    if (const auto* content = json::find(data, "content")) {
        if (auto url = json::get_string(*content, key)) {
            return std::string(*url);
        }
    }
    return std::nullopt;
}

void read_error(const json::Value& holder, TaskUpdate& u) {
    if (const auto* error = json::find(holder, "error"); error != nullptr && error->IsObject()) {
        u.error_code = json::get_text(*error, "code");
        if (auto m = json::get_string(*error, "message")) {
            u.error_message = std::string(*m);
        }
    }
}

// Blanks the string value after each "callback_url" key in `text`, escaped (inside a JSON
// string) or not.
std::string redact_text(std::string text) {
    static constexpr std::string_view kKey = "callback_url";
    std::size_t at = 0;
    while ((at = text.find(kKey, at)) != std::string::npos) {
        std::size_t i = at + kKey.size();
        at = i;
        const auto skip = [&text, &i](char c) {
            const bool here = i < text.size() && text[i] == c;
            i += here ? 1 : 0;
            return here;
        };
        const auto skip_space = [&text, &i] {
            while (i < text.size() &&
                   (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r')) {
                ++i;
            }
        };
        skip('\\');
        if (!skip('"')) {
            continue;
        }
        skip_space();
        if (!skip(':')) {
            continue;
        }
        skip_space();
        const bool escaped = skip('\\');
        if (!skip('"')) {
            continue;
        }
        std::size_t end = i;
        if (escaped) {
            end = text.find("\\\"", i);
        } else {
            while (end < text.size() && text[end] != '"') {
                end += text[end] == '\\' ? 2 : 1;
            }
        }
        end = std::min(end, text.size());
        text.replace(i, end - i, kRedacted);
        at = i + kRedacted.size();
    }
    return text;
}

void redact_value(json::Value& v, json::Document::AllocatorType& alloc) {
    if (v.IsObject()) {
        for (auto& m : v.GetObject()) {
            const std::string_view name(m.name.GetString(), m.name.GetStringLength());
            if (name == "callback_url" && m.value.IsString()) {
                m.value.SetString(rapidjson::StringRef(kRedacted.data(), kRedacted.size()));
            } else {
                redact_value(m.value, alloc);
            }
        }
    } else if (v.IsArray()) {
        for (auto& item : v.GetArray()) {
            redact_value(item, alloc);
        }
    } else if (v.IsString()) {
        const std::string_view text(v.GetString(), v.GetStringLength());
        if (text.find("callback_url") != std::string_view::npos) {
            const std::string clean = redact_text(std::string(text));
            v.SetString(clean.data(), static_cast<rapidjson::SizeType>(clean.size()), alloc);
        }
    }
}

}  // namespace

AcedataProvider::AcedataProvider(ProviderOptions options) : options_(std::move(options)) {}

const std::vector<ModelSpec>& AcedataProvider::models() const {
    static const std::vector<ModelSpec> models = acedata::make_models();
    return models;
}

std::optional<std::pair<std::string, std::string>> AcedataProvider::check_options(
    const ModelSpec& model, std::string_view options_json
) const {
    if (auto bad = Provider::check_options(model, options_json)) {
        return bad;
    }
    return acedata::check_option_values(options_json);
}

std::optional<std::pair<std::string, std::string>> AcedataProvider::check_request(
    const ModelSpec& model, const VideoRequest& request
) const {
    if (auto bad = check_options(model, request.options_json)) {
        return bad;
    }
    if (model.name == acedata::kLiteI2v && request.image_urls.empty()) {
        return std::make_pair(
            std::string("image_urls"), "model " + model.name + " needs a first-frame image"
        );
    }
    if (acedata::has_command_flag(request.prompt)) {
        return std::make_pair(
            std::string("prompt"),
            std::string("must not carry text-command flags such as --dur; use the request fields")
        );
    }
    return std::nullopt;
}

std::string AcedataProvider::command_text(const VideoRequest& r) {
    auto parsed = json::parse(r.options_json);
    const json::Document empty(rapidjson::kObjectType);
    const json::Value& options = parsed && parsed->IsObject() ? *parsed : empty;
    std::string text = r.prompt;
    text += " --rs " + r.quality;
    text += " --rt " + r.aspect_ratio;
    text += " --dur " + std::to_string(r.duration);
    text += " --fps " + std::to_string(json::get_int(options, "fps").value_or(24));
    text += " --wm " + flag_bool(options, "watermark");
    text += " --seed " + std::to_string(json::get_int(options, "seed").value_or(-1));
    text += " --cf " + flag_bool(options, "camera_fixed");
    return text;
}

std::string AcedataProvider::create_body(const SubmitRequest& request) {
    const VideoRequest& r = request.request;
    auto parsed = json::parse(r.options_json);
    const json::Document empty(rapidjson::kObjectType);
    const json::Value& options = parsed && parsed->IsObject() ? *parsed : empty;
    json::Writer w;
    w.start_object();
    w.member("model", r.model);
    w.key("content");
    w.start_array();
    w.start_object();
    w.member("type", "text");
    w.member("text", command_text(r));
    w.end_object();
    for (std::size_t i = 0; i < r.image_urls.size(); ++i) {
        w.start_object();
        w.member("type", "image_url");
        w.key("image_url");
        w.start_object();
        w.member("url", r.image_urls[i]);
        w.end_object();
        w.member("role", i == 0 ? "first_frame" : "last_frame");
        w.end_object();
    }
    w.end_array();
    if (r.model == acedata::kPro15 && r.generate_audio) {
        w.member("generate_audio", *r.generate_audio);
    }
    if (!request.callback_url.empty()) {
        w.member("callback_url", request.callback_url);
    } else {
        w.member("async", true);  // never let the call block until the video is done
    }
    w.member("return_last_frame", json::get_bool(options, "return_last_frame").value_or(false));
    w.member("service_tier", json::get_string(options, "service_tier").value_or("default"));
    w.member(
        "execution_expires_after",
        json::get_int(options, "execution_expires_after").value_or(acedata::kExpiresDefault)
    );
    w.end_object();
    return w.take();
}

std::optional<TaskUpdate> AcedataProvider::parse_result(const json::Value& result) {
    const auto task_id = json::get_string(result, "task_id");
    if (!task_id || task_id->empty()) {
        return std::nullopt;
    }
    TaskUpdate u;
    u.task_id = *task_id;
    const json::Value* data = json::find(result, "data");
    if (data != nullptr && data->IsArray()) {
        data = data->Empty() ? nullptr : &(*data)[0];  // the create example wraps one task
    }
    if (data != nullptr && data->IsObject()) {
        if (auto status = json::get_string(*data, "status")) {
            u.provider_status = *status;
        }
        u.video_url = url_of(*data, "video_url");
        u.last_frame_url = url_of(*data, "last_frame_url");
        read_error(*data, u);
    }
    if (json::get_bool(result, "success") == false) {
        // A terminal failure, whatever the data says.
        if (u.provider_status.empty() || map_status(u.provider_status) != JobStatus::kFailed) {
            u.provider_status = "failed";
        }
        read_error(result, u);
    }
    if (u.provider_status.empty()) {
        return std::nullopt;
    }
    u.status = map_status(u.provider_status);
    if (u.status == JobStatus::kSucceeded) {
        u.progress = 100;
    }
    return u;
}

std::optional<TaskUpdate> AcedataProvider::parse_query_answer(const json::Value& answer) {
    const auto outer_id = json::get_string(answer, "id");
    if (const auto* response = json::find(answer, "response");
        response != nullptr && response->IsObject()) {
        if (auto u = parse_result(*response)) {
            return u;
        }
        if (outer_id && json::find(*response, "task_id") == nullptr) {
            json::Document copy;
            copy.CopyFrom(*response, copy.GetAllocator());
            auto& alloc = copy.GetAllocator();
            const auto size = static_cast<rapidjson::SizeType>(outer_id->size());
            json::Value task_id(outer_id->data(), size, alloc);
            copy.AddMember("task_id", task_id, alloc);
            if (auto u = parse_result(copy)) {
                return u;
            }
        }
    }
    if (!outer_id || outer_id->empty()) {
        return std::nullopt;
    }
    // No result yet: the task is waiting or being made. These are Ark's own words for the two
    // states, read from whether acedata has started it.
    TaskUpdate u;
    u.task_id = *outer_id;
    const json::Value* started = json::find(answer, "started_at");
    u.provider_status = started != nullptr && !started->IsNull() ? "running" : "queued";
    u.status = map_status(u.provider_status);
    return u;
}

net::awaitable<TaskUpdate> AcedataProvider::submit(SubmitRequest request) {
    auto doc = co_await call_json(options_, "submit", "POST", "/seedance/videos", create_body(request));
    if (json::get_bool(doc, "success") == false) {
        throw ProviderError(
            ProviderError::Kind::kRejected, provider_message(json::to_string(doc)), 200
        );
    }
    auto task = parse_result(doc);
    if (!task) {
        const auto task_id = json::get_string(doc, "task_id");
        if (!task_id || task_id->empty()) {
            throw ProviderError(
                ProviderError::Kind::kBadAnswer, "the create answer has no task_id"
            );
        }
        // Accepted for later: Ark's first state.
        task.emplace();
        task->task_id = *task_id;
        task->provider_status = "queued";
        task->status = JobStatus::kQueued;
    }
    co_return std::move(*task);
}

net::awaitable<TaskUpdate> AcedataProvider::query(std::string task_id) {
    json::Writer w;
    w.start_object();
    w.member("id", task_id);
    w.member("action", "retrieve");
    w.end_object();
    auto doc = co_await call_json(options_, "query", "POST", "/seedance/tasks", w.take());
    auto task = parse_query_answer(doc);
    if (!task) {
        throw ProviderError(
            ProviderError::Kind::kBadAnswer, "the query answer has no task id and status"
        );
    }
    // The answer repeats our create request, callback_url (and its token) included (SPEC §6).
    task->raw_body = redact_query_answer(json::to_string(doc));
    co_return std::move(*task);
}

CallbackParse AcedataProvider::parse_callback(std::string_view body) const {
    return read_callback(body, [](const json::Value& doc) { return parse_result(doc); });
}

std::string AcedataProvider::redact_query_answer(std::string_view body) {
    auto doc = json::parse(body);
    if (!doc) {
        return redact_text(std::string(body));
    }
    redact_value(*doc, doc->GetAllocator());
    return json::to_string(*doc);
}

}  // namespace seedhook::providers
