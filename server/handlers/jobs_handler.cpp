#include "server/handlers/jobs_handler.hpp"

#include <array>
#include <charconv>
#include <chrono>
#include <memory>

#include "common/error.hpp"
#include "common/json.hpp"
#include "server/handlers/job_json.hpp"
#include "server/handlers/request_helpers.hpp"

namespace seedhook::handlers {

namespace {

constexpr std::array<std::string_view, 10> kFields = {
    "model",
    "provider",
    "prompt",
    "duration",
    "quality",
    "aspect_ratio",
    "image_urls",
    "generate_audio",
    "options",
    "metadata"};

[[noreturn]] void bad_field(const std::string& field, const std::string& message) {
    throw HttpError(422, "invalid_field", field + " " + message, field);
}

std::optional<std::string> string_field(const json::Value& body, const char* name) {
    const json::Value* v = json::find(body, name);
    if (v == nullptr || v->IsNull()) {
        return std::nullopt;
    }
    if (!v->IsString()) {
        bad_field(name, "must be a string");
    }
    return std::string(v->GetString(), v->GetStringLength());
}

void read_images(const json::Value& body, services::JobInput& in) {
    const json::Value* v = json::find(body, "image_urls");
    if (v == nullptr || v->IsNull()) {
        return;
    }
    if (!v->IsArray()) {
        bad_field("image_urls", "must be a list of URLs");
    }
    for (rapidjson::SizeType i = 0; i < v->Size(); ++i) {
        if (!(*v)[i].IsString()) {
            bad_field("image_urls[" + std::to_string(i) + "]", "must be a string");
        }
        in.image_urls.emplace_back((*v)[i].GetString(), (*v)[i].GetStringLength());
    }
}

void read_scalars(const json::Value& body, services::JobInput& in) {
    in.model = string_field(body, "model");
    in.provider = string_field(body, "provider");
    in.prompt = string_field(body, "prompt");
    in.quality = string_field(body, "quality");
    in.aspect_ratio = string_field(body, "aspect_ratio");
    if (const json::Value* v = json::find(body, "duration"); v != nullptr && !v->IsNull()) {
        if (!v->IsInt64()) {
            bad_field("duration", "must be a whole number of seconds");
        }
        in.duration = v->GetInt64();
    }
    if (const json::Value* v = json::find(body, "generate_audio"); v != nullptr && !v->IsNull()) {
        if (!v->IsBool()) {
            bad_field("generate_audio", "must be true or false");
        }
        in.generate_audio = v->GetBool();
    }
}

void read_objects(const json::Value& body, services::JobInput& in) {
    if (const json::Value* v = json::find(body, "options"); v != nullptr && !v->IsNull()) {
        if (!v->IsObject()) {
            bad_field("options", "must be an object");
        }
        in.options_json = json::to_string(*v);
    }
    if (const json::Value* v = json::find(body, "metadata"); v != nullptr && !v->IsNull()) {
        if (!v->IsObject()) {
            bad_field("metadata", "must be an object");
        }
        in.metadata_json = json::to_string(*v);
    }
}

// The long-poll `wait` (whole seconds, 0 to kMaxWait): how long GET /v1/jobs/{id} may hold
// the answer for a change. Any other query parameter is refused.
std::chrono::seconds wait_parameter(const std::vector<std::pair<std::string, std::string>>& query) {
    constexpr int kMaxWait = 30;
    std::chrono::seconds wait{0};
    for (const auto& [key, value] : query) {
        if (key != "wait") {
            throw HttpError(422, "invalid_parameter", key + " is not a parameter of this route", key);
        }
        int seconds = -1;
        const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
        if (ec != std::errc{} || end != value.data() + value.size() || seconds < 0 || seconds > kMaxWait) {
            throw HttpError(422, "invalid_parameter", "wait must be whole seconds from 0 to " + std::to_string(kMaxWait), "wait");
        }
        wait = std::chrono::seconds(seconds);
    }
    return wait;
}

// True when an If-None-Match header value ("*", or a list of entity tags) matches `etag`.
bool if_none_match(std::string_view header, std::string_view etag) {
    if (header.empty()) {
        return false;
    }
    std::size_t start = 0;
    while (start <= header.size()) {
        const auto comma = header.find(',', start);
        auto item = header.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
        while (!item.empty() && item.front() == ' ') {
            item.remove_prefix(1);
        }
        while (!item.empty() && item.back() == ' ') {
            item.remove_suffix(1);
        }
        if (item.starts_with("W/")) {
            item.remove_prefix(2);  // weak comparison, as RFC 9110 asks for If-None-Match
        }
        if (item == "*" || item == etag) {
            return true;
        }
        if (comma == std::string_view::npos) {
            break;
        }
        start = comma + 1;
    }
    return false;
}

}  // namespace

services::JobInput parse_job_input(std::string_view text) {
    auto doc = json::parse(text);
    if (!doc) {
        throw HttpError(400, "malformed_json", "the body is not valid JSON (UTF-8)");
    }
    if (!doc->IsObject()) {
        throw HttpError(422, "invalid_body", "the body must be a JSON object");
    }
    for (const auto& m : doc->GetObject()) {
        const std::string_view name(m.name.GetString(), m.name.GetStringLength());
        if (std::find(kFields.begin(), kFields.end(), name) == kFields.end()) {
            // The empty key is named in bracket notation, or the error would name nothing.
            bad_field(name.empty() ? std::string(R"([""])") : std::string(name), "is not a field of a job");
        }
    }
    services::JobInput in;
    read_scalars(*doc, in);
    read_images(*doc, in);
    read_objects(*doc, in);
    return in;
}

JobsHandler::JobsHandler(services::JobService& jobs, std::vector<std::string> api_tokens)
    : jobs_(jobs), api_tokens_(std::move(api_tokens)) {}

net::awaitable<HttpResponse> JobsHandler::create(HttpRequest request) {
    require_bearer(request, api_tokens_);
    require_json_content_type(request);
    auto input = parse_job_input(request.body);
    if (request.headers.has("Idempotency-Key")) {
        input.idempotency_key = std::string(request.headers.get("Idempotency-Key"));
    }
    auto created = co_await jobs_.create(std::move(input));
    auto response = json_response(created.replayed ? 200 : 201, job_json(created.job));
    response.headers.set("Location", "/v1/jobs/" + created.job.id);
    response.log_fields = {{"job_id", created.job.id}, {"provider", created.job.provider}};
    if (created.replayed) {
        response.headers.set("Idempotent-Replayed", "true");
    }
    co_return response;
}

net::awaitable<HttpResponse> JobsHandler::list(HttpRequest request) {
    require_bearer(request, api_tokens_);
    services::JobListQuery q;
    for (const auto& [key, value] : request.query) {
        if (key == "status") {
            q.status = value;
        } else if (key == "provider") {
            q.provider = value;
        } else if (key == "model") {
            q.model = value;
        } else if (key == "limit") {
            q.limit = value;
        } else if (key == "cursor") {
            q.cursor = value;
        } else {
            throw HttpError(422, "invalid_parameter", key + " is not a parameter of this list", key);
        }
    }
    auto page = co_await jobs_.list(std::move(q));
    co_return json_response(200, job_page_json(page.jobs, page.next_cursor));
}

net::awaitable<HttpResponse> JobsHandler::get(HttpRequest request) {
    require_bearer(request, api_tokens_);
    const std::chrono::seconds wait = wait_parameter(request.query);
    const std::string& id = request.path_params.at(0);
    const std::string_view seen = request.headers.get("If-None-Match");
    // Subscribed before the first read, so a write between that read and the wait still wakes us.
    std::unique_ptr<services::JobWatch::Subscription> subscription;
    if (wait.count() > 0) {
        auto executor = co_await net::this_coro::executor;
        subscription = jobs_.watch().subscribe(id, executor);
    }
    const auto deadline = std::chrono::steady_clock::now() + wait;
    std::string first_etag;
    for (;;) {
        const auto job = co_await jobs_.get(id);
        const auto shown = rendered_.render(job);
        auto response = json_response(200, shown->body);
        response.log_fields = {{"job_id", job->id}, {"provider", job->provider}};
        // A strong validator of exactly what is served, so pollers can ask "has it changed?".
        const std::string& etag = shown->etag;
        if (first_etag.empty()) {
            first_etag = etag;
        }
        const bool unchanged = seen.empty() ? etag == first_etag : if_none_match(seen, etag);
        const bool done = !subscription || !unchanged || jobs_.watch().closed() ||
                          std::chrono::steady_clock::now() >= deadline;
        if (done) {
            if (if_none_match(seen, etag)) {
                response.status = 304;
                response.body.clear();
            }
            response.headers.set("ETag", etag);
            co_return response;
        }
        // Woken, timed out or closed: read again and decide above. A spurious wake costs a read.
        co_await subscription->wait_until(deadline);
    }
}

net::awaitable<HttpResponse> JobsHandler::callbacks(HttpRequest request) {
    require_bearer(request, api_tokens_);
    auto deliveries = co_await jobs_.deliveries(request.path_params.at(0));
    co_return json_response(200, deliveries_json(deliveries));
}

}  // namespace seedhook::handlers
