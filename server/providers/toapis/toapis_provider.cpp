#include "server/providers/toapis/toapis_provider.hpp"

#include "common/crypto.hpp"
#include "common/url.hpp"

#include <array>
#include <charconv>
#include <cstdlib>
#include <limits>

namespace seedhook::providers {

namespace {

constexpr std::size_t kMaxUrl = 2048;
constexpr std::int64_t kMsPerSecond = 1000;

std::vector<ModelSpec> make_models() {
    ModelSpec m;  // provider-docs/toapis-doubao-seedance-1-5-pro.zh.txt
    m.name = std::string(ToapisProvider::kModel);
    m.duration_min = 4;
    m.duration_max = 12;
    m.qualities = {"480p", "720p", "1080p"};
    m.quality_default = "720p";
    m.aspect_ratios = {"16:9", "9:16", "1:1", "4:3", "3:4", "21:9"};
    m.aspect_ratio_default = "16:9";
    m.max_images = 2;  // 1: first frame, 2: first and last frame
    // The page lists audio generation as 1.5 Pro's own feature and every example sends
    // "audio": true; it names no default, so ours is on, as at evolink for the same model.
    m.audio = true;
    m.audio_default = true;
    m.options = {"image_with_roles"};
    return {m};
}

constexpr std::array<std::pair<std::string_view, JobStatus>, 6> kStatuses = {{
        {"queued", JobStatus::kQueued},
        {"submitted", JobStatus::kQueued},
        {"in_progress", JobStatus::kRunning},
        {"completed", JobStatus::kSucceeded},
        {"failed", JobStatus::kFailed},
        {"cancelled", JobStatus::kCancelled},
    }};

std::optional<JobStatus> map_status(std::string_view word) {
    return providers::map_status(word, kStatuses);
}

using FieldProblem = std::optional<std::pair<std::string, std::string>>;

FieldProblem problem(std::string field, std::string message) {
    return std::make_pair(std::move(field), std::move(message));
}

FieldProblem check_image_with_roles(const json::Value& images) {
    const std::string base = "options.image_with_roles";
    if (!images.IsArray() || images.Empty() || images.Size() > 2) {
        return problem(base, "must be an array of one or two {url, role} objects");
    }
    bool first = false;
    bool last = false;
    for (rapidjson::SizeType i = 0; i < images.Size(); ++i) {
        const std::string at = base + "[" + std::to_string(i) + "]";
        const json::Value& item = images[i];
        if (!item.IsObject()) {
            return problem(at, "must be an object with url and role");
        }
        const auto url = json::get_string(item, "url");
        const auto parsed = url ? parse_absolute_url(*url) : std::nullopt;
        if (!parsed || parsed->scheme != "https" || url->size() > kMaxUrl) {
            return problem(at + ".url", "must be an absolute https URL of at most 2048 characters");
        }
        const auto role = json::get_string(item, "role");
        if (!role || (*role != "first_frame" && *role != "last_frame")) {
            return problem(at + ".role", "must be first_frame or last_frame");
        }
        bool& seen = *role == "first_frame" ? first : last;
        if (seen) {
            return problem(at + ".role", "each of first_frame and last_frame may appear only once");
        }
        seen = true;
    }
    return std::nullopt;
}

// The first `v1=` value equal to `expected`; every candidate is compared in constant time.
bool any_signature_matches(std::string_view header, const std::string& expected) {
    bool matched = false;
    while (!header.empty()) {
        const auto comma = header.find(',');
        std::string_view part = header.substr(0, comma);
        header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
        while (!part.empty() && part.front() == ' ') {
            part.remove_prefix(1);
        }
        while (!part.empty() && part.back() == ' ') {
            part.remove_suffix(1);
        }
        if (part.substr(0, 3) == "v1=") {
            matched = crypto::constant_time_equal(part.substr(3), expected) || matched;
        }
    }
    return matched;
}

// The task status an event type implies ("" when it implies none).
std::string_view status_of_event_type(std::string_view type) {
    if (type == "generation.completed") {
        return "completed";
    }
    if (type == "generation.failed") {
        return "failed";
    }
    return {};
}

std::optional<std::int64_t> parse_unix_seconds(std::string_view text) {
    std::int64_t value = 0;
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() || value < 0) {
        return std::nullopt;
    }
    return value;
}

}  // namespace

ToapisProvider::ToapisProvider(ProviderOptions options) : options_(std::move(options)) {}

const std::vector<ModelSpec>& ToapisProvider::models() const {
    static const std::vector<ModelSpec> models = make_models();
    return models;
}

std::optional<std::pair<std::string, std::string>> ToapisProvider::check_options(
    const ModelSpec& model, std::string_view options_json
) const {
    if (auto bad = Provider::check_options(model, options_json)) {
        return bad;
    }
    auto options = json::parse(options_json);
    if (const auto* images = json::find(*options, "image_with_roles")) {
        return check_image_with_roles(*images);
    }
    return std::nullopt;
}

std::optional<std::pair<std::string, std::string>> ToapisProvider::check_request(
    const ModelSpec& model, const VideoRequest& request
) const {
    if (auto bad = check_options(model, request.options_json)) {
        return bad;
    }
    auto options = json::parse(request.options_json);
    if (json::find(*options, "image_with_roles") != nullptr && !request.image_urls.empty()) {
        return problem("options.image_with_roles", "cannot be used together with image_urls");
    }
    return std::nullopt;
}

std::string ToapisProvider::create_body(const SubmitRequest& request, bool with_callback) {
    const VideoRequest& r = request.request;
    json::Writer w;
    w.start_object();
    w.member("model", r.model);
    w.member("prompt", r.prompt);
    w.member("duration", r.duration);
    w.member("aspect_ratio", r.aspect_ratio);
    w.key("metadata");
    w.start_object();
    w.member("resolution", r.quality);
    if (r.generate_audio) {
        w.member("audio", *r.generate_audio);
    }
    w.end_object();
    if (!r.image_urls.empty()) {
        w.key("image_urls");
        w.start_array();
        for (const auto& url : r.image_urls) {
            w.string(url);
        }
        w.end_array();
    }
    if (auto options = json::parse(r.options_json)) {
        if (const auto* images = json::find(*options, "image_with_roles")) {
            w.key("image_with_roles");
            w.value(*images);
        }
    }
    if (!request.job_id.empty()) {
        w.member("client_business_id", request.job_id);
    }
    if (with_callback && !request.callback_url.empty()) {
        w.member("callback_url", request.callback_url);
    }
    w.end_object();
    return w.take();
}

std::optional<TaskUpdate> ToapisProvider::parse_task(const json::Value& task) {
    auto id = json::get_string(task, "id");
    if (!id) {
        id = json::get_string(task, "task_id");  // an event's data names it task_id
    }
    const auto status = json::get_string(task, "status");
    if (!id || id->empty() || !status) {
        return std::nullopt;
    }
    TaskUpdate u;
    u.task_id = *id;
    u.provider_status = *status;
    u.status = map_status(*status);
    if (auto progress = json::get_int(task, "progress");
        progress && *progress >= 0 && *progress <= 100) {
        u.progress = *progress;
    }
    if (const auto* result = json::find(task, "result")) {
        const auto* data = json::find(*result, "data");
        if (data != nullptr && data->IsArray() && !data->Empty()) {
            const json::Value& first = (*data)[0];
            if (auto url = json::get_string(first, "url")) {
                u.video_url = std::string(*url);
            }
            if (auto frame = json::get_string(first, "last_frame_url")) {
                u.last_frame_url = std::string(*frame);
            }
        }
    }
    // An expiry past what milliseconds can hold is no expiry (and would overflow).
    if (auto expires = json::get_int(task, "expires_at");
        expires && *expires > 0 && *expires <= std::numeric_limits<std::int64_t>::max() / kMsPerSecond) {
        u.video_url_expires_at = *expires * kMsPerSecond;
    }
    if (const auto* error = json::find(task, "error"); error != nullptr && error->IsObject()) {
        u.error_code = json::get_text(*error, "code");
        if (auto m = json::get_string(*error, "message")) {
            u.error_message = std::string(*m);
        }
    }
    return u;
}

net::awaitable<TaskUpdate> ToapisProvider::submit(SubmitRequest request) {
    // toapis refuses a callback_url unless webhooks are set up on the API token; the secret is
    // ours to know that they are.
    const bool with_callback = !options_.webhook_secret.empty();
    auto doc = co_await call_json(
        options_, "submit", "POST", "/v1/videos/generations", create_body(request, with_callback)
    );
    auto task = parse_task(doc);
    if (!task) {
        throw ProviderError(
            ProviderError::Kind::kBadAnswer, "the create answer has no task id and status"
        );
    }
    co_return std::move(*task);
}

net::awaitable<TaskUpdate> ToapisProvider::query(std::string task_id) {
    auto doc = co_await call_json(
        options_, "query", "GET", "/v1/videos/generations/" + encode_query_value(task_id), {}
    );
    auto task = parse_task(doc);
    if (!task) {
        throw ProviderError(
            ProviderError::Kind::kBadAnswer, "the query answer has no task id and status"
        );
    }
    task->raw_body = json::to_string(doc);
    co_return std::move(*task);
}

std::string ToapisProvider::signature(
    std::string_view secret,
    std::string_view event_id,
    std::string_view timestamp,
    std::string_view body
) {
    std::string signed_text;
    signed_text.reserve(event_id.size() + timestamp.size() + body.size() + 2);
    signed_text.append(event_id).append(".").append(timestamp).append(".").append(body);
    return crypto::hex(crypto::as_view(crypto::hmac_sha256(secret, signed_text)));
}

std::optional<std::string> ToapisProvider::authenticate_callback(
    const HttpHeaders& headers, std::string_view body, std::int64_t now_ms
) const {
    if (options_.webhook_secret.empty()) {
        return std::nullopt;
    }
    const auto id = headers.get("X-ToAPIs-Webhook-Id");
    const auto timestamp = headers.get("X-ToAPIs-Webhook-Timestamp");
    const auto signatures = headers.get("X-ToAPIs-Webhook-Signature");
    if (id.empty() || timestamp.empty() || signatures.empty()) {
        return "missing X-ToAPIs-Webhook-Id, -Timestamp or -Signature header";
    }
    const auto seconds = parse_unix_seconds(timestamp);
    if (!seconds) {
        return "malformed X-ToAPIs-Webhook-Timestamp";
    }
    // Compared in seconds first so that an absurd timestamp cannot overflow the product.
    if (std::llabs(*seconds - now_ms / kMsPerSecond) > kSignatureToleranceMs / kMsPerSecond + 1 ||
        std::llabs(*seconds * kMsPerSecond - now_ms) > kSignatureToleranceMs) {
        return "webhook timestamp more than 5 minutes from now";
    }
    if (!any_signature_matches(
            signatures, signature(options_.webhook_secret, id, timestamp, body)
        )) {
        return "webhook signature does not verify";
    }
    return std::nullopt;
}

CallbackParse ToapisProvider::parse_callback(std::string_view body) const {
    CallbackParse out;
    auto doc = json::parse(body);
    if (!doc) {
        return out;
    }
    out.kind = CallbackParse::Kind::kNotTaskPayload;
    const auto type = json::get_string(*doc, "type");
    if (type && *type == "endpoint.test") {
        out.kind = CallbackParse::Kind::kIgnore;
        return out;
    }
    const auto* data = json::find(*doc, "data");
    if (data == nullptr || !data->IsObject()) {
        return out;
    }
    auto task = parse_task(*data);
    const std::string_view word = type ? status_of_event_type(*type) : std::string_view();
    if (!task && !word.empty() && json::find(*data, "status") == nullptr) {
        // The status is in `type` alone: read the data as if it said so.
        json::Document copy;
        copy.CopyFrom(*data, copy.GetAllocator());
        auto& alloc = copy.GetAllocator();
        json::Value status(word.data(), static_cast<rapidjson::SizeType>(word.size()), alloc);
        copy.AddMember("status", status, alloc);
        task = parse_task(copy);
    }
    if (!task) {
        return out;
    }
    if (auto event_id = json::get_string(*doc, "id"); event_id && !event_id->empty()) {
        task->event_id = std::string(*event_id);
    }
    out.kind = CallbackParse::Kind::kUpdate;
    out.update = std::move(*task);
    return out;
}

}  // namespace seedhook::providers
