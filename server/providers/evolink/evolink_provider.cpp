#include "server/providers/evolink/evolink_provider.hpp"

#include <array>

#include "common/json.hpp"

namespace seedhook::providers {

namespace {

const std::vector<std::string> kSixRatios = {"16:9", "9:16", "1:1", "4:3", "3:4", "21:9"};

std::vector<std::string> six_and(std::initializer_list<const char*> more) {
    std::vector<std::string> out = kSixRatios;
    out.insert(out.end(), more.begin(), more.end());
    return out;
}

std::vector<ModelSpec> make_models() {
    ModelSpec fast;  // provider-docs/evolink-doubao-seedance-1.0-pro-fast.zh.txt
    fast.name = "doubao-seedance-1.0-pro-fast";
    fast.prompt_max_chars = 1000;
    fast.duration_min = 2;
    fast.duration_max = 12;
    fast.qualities = {"720p", "1080p"};
    fast.quality_default = "1080p";
    fast.aspect_ratios = kSixRatios;
    fast.image_only_aspect_ratios = {"keep_ratio", "adaptive"};
    fast.aspect_ratio_default = "16:9";
    fast.aspect_ratio_default_with_image = "adaptive";
    fast.max_images = 1;

    ModelSpec pro15;  // provider-docs/evolink-seedance-1.5-pro.es.txt
    pro15.name = "seedance-1.5-pro";
    pro15.prompt_max_chars = 2000;
    pro15.duration_min = 4;
    pro15.duration_max = 12;
    pro15.qualities = {"480p", "720p", "1080p"};
    pro15.quality_default = "720p";
    pro15.aspect_ratios = six_and({"adaptive"});
    pro15.aspect_ratio_default = "16:9";
    pro15.max_images = 2;
    pro15.audio = true;
    pro15.audio_default = true;

    ModelSpec fast20;  // provider-docs/evolink-seedance-2.0-fast-text-to-video.ja.txt
    fast20.name = "seedance-2.0-fast-text-to-video";
    fast20.duration_min = 4;
    fast20.duration_max = 15;
    fast20.qualities = {"480p", "720p"};
    fast20.quality_default = "720p";
    fast20.aspect_ratios = six_and({"adaptive"});
    fast20.aspect_ratio_default = "16:9";
    fast20.max_images = 0;
    fast20.audio = true;
    fast20.audio_default = true;
    fast20.options = {"model_params"};

    return {fast, pro15, fast20};
}

constexpr std::array<std::pair<std::string_view, JobStatus>, 5> kStatuses = {{
        {"pending", JobStatus::kQueued},
        {"processing", JobStatus::kRunning},
        {"completed", JobStatus::kSucceeded},
        {"failed", JobStatus::kFailed},
        {"cancelled", JobStatus::kCancelled},
    }};

std::optional<JobStatus> map_status(std::string_view word) {
    return providers::map_status(word, kStatuses);
}

}  // namespace

EvolinkProvider::EvolinkProvider(ProviderOptions options) : options_(std::move(options)) {}

const std::vector<ModelSpec>& EvolinkProvider::models() const {
    static const std::vector<ModelSpec> models = make_models();
    return models;
}

std::optional<std::pair<std::string, std::string>> EvolinkProvider::check_options(
    const ModelSpec& model,
    std::string_view options_json
) const {
    if (auto bad = Provider::check_options(model, options_json)) {
        return bad;
    }
    auto options = json::parse(options_json);
    if (const auto* params = json::find(*options, "model_params"); params && !params->IsObject()) {
        return std::make_pair(std::string("options.model_params"), std::string("must be an object"));
    }
    return std::nullopt;
}

std::string EvolinkProvider::create_body(const SubmitRequest& request) {
    const VideoRequest& r = request.request;
    json::Writer w;
    w.start_object();
    w.member("model", r.model);
    w.member("prompt", r.prompt);
    w.member("duration", r.duration);
    w.member("quality", r.quality);
    w.member("aspect_ratio", r.aspect_ratio);
    if (!r.image_urls.empty()) {
        w.key("image_urls");
        w.start_array();
        for (const auto& url : r.image_urls) {
            w.string(url);
        }
        w.end_array();
    }
    if (r.generate_audio) {
        w.member("generate_audio", *r.generate_audio);
    }
    if (auto options = json::parse(r.options_json)) {
        if (const auto* params = json::find(*options, "model_params")) {
            w.key("model_params");
            w.value(*params);
        }
    }
    if (!request.callback_url.empty()) {
        w.member("callback_url", request.callback_url);
    }
    w.end_object();
    return w.take();
}

std::optional<TaskUpdate> EvolinkProvider::parse_task(const json::Value& task) {
    auto id = json::get_string(task, "id");
    auto status = json::get_string(task, "status");
    if (!id || id->empty() || !status) {
        return std::nullopt;
    }
    if (auto object = json::get_string(task, "object"); object && *object != "video.generation.task") {
        return std::nullopt;
    }
    TaskUpdate u;
    u.task_id = *id;
    u.provider_status = *status;
    u.status = map_status(*status);
    if (auto progress = json::get_int(task, "progress"); progress && *progress >= 0 && *progress <= 100) {
        u.progress = *progress;
    }
    if (const auto* results = json::find(task, "results"); results && results->IsArray() &&
                                                           !results->Empty() &&
                                                           (*results)[0].IsString()) {
        u.video_url = std::string((*results)[0].GetString(), (*results)[0].GetStringLength());
    }
    if (const auto* error = json::find(task, "error"); error && error->IsObject()) {
        u.error_code = json::get_text(*error, "code");
        if (auto m = json::get_string(*error, "message")) {
            u.error_message = std::string(*m);
        }
    }
    return u;
}

net::awaitable<TaskUpdate> EvolinkProvider::submit(SubmitRequest request) {
    auto doc = co_await call_json(options_, "submit", "POST", "/v1/videos/generations", create_body(request));
    auto task = parse_task(doc);
    if (!task) {
        throw ProviderError(ProviderError::Kind::kBadAnswer, "the create answer has no task id and status");
    }
    co_return std::move(*task);
}

net::awaitable<TaskUpdate> EvolinkProvider::query(std::string task_id) {
    auto doc = co_await call_json(options_, "query", "GET", "/v1/tasks/" + task_id, {});
    auto task = parse_task(doc);
    if (!task) {
        throw ProviderError(ProviderError::Kind::kBadAnswer, "the query answer has no task id and status");
    }
    task->raw_body = json::to_string(doc);
    co_return std::move(*task);
}

CallbackParse EvolinkProvider::parse_callback(std::string_view body) const {
    return read_callback(body, [](const json::Value& doc) { return parse_task(doc); });
}

}  // namespace seedhook::providers
