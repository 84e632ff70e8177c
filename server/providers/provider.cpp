#include "server/providers/provider.hpp"

#include <array>
#include <utility>

#include "common/json.hpp"

namespace seedhook::providers {

namespace {
constexpr std::array<std::pair<JobStatus, std::string_view>, 8> kStatusWords = {{
    {JobStatus::kSubmitting, "submitting"},
    {JobStatus::kQueued, "queued"},
    {JobStatus::kRunning, "running"},
    {JobStatus::kSucceeded, "succeeded"},
    {JobStatus::kFailed, "failed"},
    {JobStatus::kCancelled, "cancelled"},
    {JobStatus::kExpired, "expired"},
    {JobStatus::kSubmitFailed, "submit_failed"},
}};
}  // namespace

std::string_view to_string(JobStatus status) {
    for (const auto& [s, word] : kStatusWords) {
        if (s == status) {
            return word;
        }
    }
    return "unknown";
}

std::optional<JobStatus> parse_status(std::string_view word) {
    for (const auto& [s, w] : kStatusWords) {
        if (w == word) {
            return s;
        }
    }
    return std::nullopt;
}

std::optional<JobStatus> map_status(std::string_view word, StatusTable table) {
    for (const auto& [w, s] : table) {
        if (w == word) {
            return s;
        }
    }
    return std::nullopt;
}

bool is_terminal(JobStatus status) {
    return status == JobStatus::kSucceeded || status == JobStatus::kFailed ||
           status == JobStatus::kCancelled || status == JobStatus::kExpired ||
           status == JobStatus::kSubmitFailed;
}

std::string to_json(const VideoRequest& r) {
    json::Writer w;
    w.start_object();
    w.member("model", r.model);
    w.member("prompt", r.prompt);
    w.member("duration", r.duration);
    w.member("quality", r.quality);
    w.member("aspect_ratio", r.aspect_ratio);
    w.key("image_urls");
    w.start_array();
    for (const auto& url : r.image_urls) {
        w.string(url);
    }
    w.end_array();
    if (r.generate_audio) {
        w.member("generate_audio", *r.generate_audio);
    } else {
        w.member_null("generate_audio");
    }
    w.key("options");
    w.raw(r.options_json);
    w.end_object();
    return w.take();
}

std::optional<std::string> Provider::authenticate_callback(
    const HttpHeaders& /*headers*/,
    std::string_view /*body*/,
    std::int64_t /*now_ms*/
) const {
    return std::nullopt;
}

std::optional<std::pair<std::string, std::string>> Provider::check_options(
    const ModelSpec& model,
    std::string_view options_json
) const {
    auto options = json::parse(options_json);
    if (!options || !options->IsObject()) {
        return std::make_pair(std::string("options"), std::string("must be an object"));
    }
    for (const auto& m : options->GetObject()) {
        const std::string name(m.name.GetString(), m.name.GetStringLength());
        bool allowed = false;
        for (const auto& o : model.options) {
            allowed = allowed || o == name;
        }
        if (!allowed) {
            return std::make_pair("options." + name, "is not an option of model " + model.name);
        }
    }
    return std::nullopt;
}

std::optional<std::pair<std::string, std::string>> Provider::check_request(
    const ModelSpec& model,
    const VideoRequest& request
) const {
    return check_options(model, request.options_json);
}

}  // namespace seedhook::providers
