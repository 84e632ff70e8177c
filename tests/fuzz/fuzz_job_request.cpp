// Fuzzes a POST /v1/jobs body through parse_job_input and the model rules (validate_request),
// then through what a valid request becomes: the stored request, each provider's create body
// and the job object served. Invariants: a refusal is 400 exactly when the body is not JSON,
// else 422, in the SPEC's error shape; the options and metadata kept are JSON objects; a
// broken rule names a field; a valid request obeys its model's row of SPEC §4 (duration range,
// qualities, ratios, image count and form, audio), its defaults applied; everything it is
// written into is JSON; acedata's redaction removes the callback token from a query answer
// that repeats the create body.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <variant>

#include "common/error.hpp"
#include "common/json.hpp"
#include "common/url.hpp"
#include "server/handlers/job_json.hpp"
#include "server/handlers/jobs_handler.hpp"
#include "server/providers/acedata/acedata_provider.hpp"
#include "server/providers/evolink/evolink_provider.hpp"
#include "server/providers/toapis/toapis_provider.hpp"
#include "server/services/request_validator.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace {

using seedhook::fuzz::check;
using seedhook::providers::ModelSpec;
using seedhook::providers::Provider;
using seedhook::providers::SubmitRequest;
using seedhook::providers::VideoRequest;
using seedhook::services::FieldError;
using seedhook::services::JobInput;
namespace json = seedhook::json;
namespace providers = seedhook::providers;

constexpr std::string_view kCallbackUrl =
    "https://hooks.example.com/v1/callbacks/acedata/job_fuzz?token=TOKEN-7f3a9c";

const std::vector<std::unique_ptr<Provider>>& all_providers() {
    static const auto list = [] {
        std::vector<std::unique_ptr<Provider>> out;
        out.push_back(std::make_unique<providers::EvolinkProvider>(providers::ProviderOptions{}));
        out.push_back(std::make_unique<providers::ToapisProvider>(providers::ProviderOptions{}));
        out.push_back(std::make_unique<providers::AcedataProvider>(providers::ProviderOptions{}));
        return out;
    }();
    return list;
}

bool contains(const std::vector<std::string>& list, const std::string& v) {
    return std::find(list.begin(), list.end(), v) != list.end();
}

bool is_json_object(std::string_view text) {
    auto doc = json::parse(text);
    return doc && doc->IsObject();
}

// parse_job_input either reads the body or refuses it in the SPEC's shape.
std::optional<JobInput> read_input(std::string_view body) {
    try {
        return seedhook::handlers::parse_job_input(body);
    } catch (const seedhook::HttpError& e) {
        const bool json_text = json::parse(body).has_value();
        check(e.status() == (json_text ? 422 : 400), "400 for text that is not JSON, else 422", body);
        check(seedhook::fuzz::is_error_shape(seedhook::error_body(e)), "a refusal has the SPEC's error shape", seedhook::error_body(e));
        check(e.code() != "invalid_field" || !e.field().empty(), "an invalid field is named", body);
        return std::nullopt;
    }
}

void check_rules(const JobInput& in, const ModelSpec& m, const VideoRequest& r, std::string_view body) {
    check(r.model == m.name, "the request names its model", body);
    check(r.duration == in.duration.value_or(m.duration_default), "duration defaults to the model's", body);
    check(r.duration >= m.duration_min && r.duration <= m.duration_max, "duration is within the model's range", body);
    check(r.quality == in.quality.value_or(m.quality_default) && contains(m.qualities, r.quality), "quality is the model's", body);
    const bool with_image = !r.image_urls.empty();
    check(contains(m.aspect_ratios, r.aspect_ratio) || (with_image && contains(m.image_only_aspect_ratios, r.aspect_ratio)), "aspect_ratio is the model's", body);
    check(r.image_urls == in.image_urls && r.image_urls.size() <= m.max_images, "images are within the model's count", body);
    for (const auto& url : r.image_urls) {
        const auto parsed = seedhook::parse_absolute_url(url);
        check(parsed && parsed->scheme == "https" && url.size() <= 2048, "images are https URLs", url);
    }
    check(r.generate_audio.has_value() == m.audio, "generate_audio is set exactly for models with audio", body);
    check(!in.generate_audio || m.audio, "generate_audio is refused for models without audio", body);
    if (m.prompt_required) {
        check(r.prompt.find_first_not_of(" \t\r\n") != std::string::npos, "a required prompt is not blank", body);
    }
    if (m.prompt_max_chars != 0) {
        check(seedhook::services::utf8_length(r.prompt) <= m.prompt_max_chars, "the prompt is within the model's length", body);
    }
    check(r.options_json == in.options_json, "the options are kept as sent", body);
}

void check_outputs(const JobInput& in, const Provider& provider, const VideoRequest& r, std::string_view body) {
    const std::string stored = providers::to_json(r);
    check(is_json_object(stored), "the stored request is a JSON object", stored);
    seedhook::storage::JobRecord job;
    job.id = "job_fuzz";
    job.provider = std::string(provider.name());
    job.model = r.model;
    job.status = "submitting";
    job.request_json = stored;
    job.metadata_json = in.metadata_json;
    const std::string served = seedhook::handlers::job_json(job);
    check(is_json_object(served), "the job object served is a JSON object", served);

    const SubmitRequest submit{"job_fuzz", r, std::string(kCallbackUrl)};
    std::string create;
    if (provider.name() == "evolink") {
        create = providers::EvolinkProvider::create_body(submit);
    } else if (provider.name() == "toapis") {
        create = providers::ToapisProvider::create_body(submit);
    } else {
        create = providers::AcedataProvider::create_body(submit);
        // The query answer repeats the create body, callback_url (and its token) included.
        const std::string answer = R"({"id": "t-1", "request": )" + create + "}";
        const auto redacted = json::parse(providers::AcedataProvider::redact_query_answer(answer));
        const json::Value* repeated = redacted ? json::find(*redacted, "request") : nullptr;
        check(repeated != nullptr && json::get_string(*repeated, "callback_url") == "[redacted]", "redaction removes the callback URL", answer);
    }
    check(is_json_object(create), "the create body is a JSON object", body);
    check(create.find(kCallbackUrl) != std::string::npos, "the create body carries the callback URL", create);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view body = seedhook::fuzz::as_text(data, size);
    const auto in = read_input(body);
    if (!in) {
        return 0;
    }
    check(is_json_object(in->options_json), "the options kept are a JSON object", in->options_json);
    check(in->metadata_json == "null" || is_json_object(in->metadata_json), "the metadata kept is a JSON object", in->metadata_json);
    const Provider* provider = nullptr;
    const ModelSpec* model = nullptr;
    for (const auto& p : all_providers()) {
        for (const auto& m : p->models()) {
            if (in->model && m.name == *in->model) {
                provider = p.get();
                model = &m;
            }
        }
    }
    if (model == nullptr) {
        return 0;  // unknown model: JobService refuses it before any rule
    }
    auto checked = seedhook::services::validate_request(*in, *model, *provider);
    if (const auto* bad = std::get_if<FieldError>(&checked)) {
        check(!bad->field.empty() && !bad->message.empty(), "a broken rule names a field and says why", body);
        return 0;
    }
    const auto& request = std::get<VideoRequest>(checked);
    check_rules(*in, *model, request, body);
    check_outputs(*in, *provider, request, body);
    return 0;
}
