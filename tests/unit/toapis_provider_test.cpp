#include "server/providers/toapis/toapis_provider.hpp"

#include "common/http_message.hpp"
#include "common/json.hpp"

#include <string>
#include <utility>

#include <gtest/gtest.h>

namespace json = seedhook::json;
using seedhook::HttpHeaders;
using seedhook::providers::CallbackParse;
using seedhook::providers::JobStatus;
using seedhook::providers::ModelSpec;
using seedhook::providers::ProviderOptions;
using seedhook::providers::SubmitRequest;
using seedhook::providers::ToapisProvider;
using seedhook::providers::VideoRequest;

namespace {

constexpr const char* kSecret = "whsec_test_secret";
constexpr std::int64_t kNowMs = 1768380515000;
constexpr const char* kNowS = "1768380515";

// The webhook body of PROVIDERS.md (reconstructed there from the published field list).
constexpr const char* kWebhook =
    R"({"id": "evt_01", "type": "generation.completed", "api_version": "v1", "created_at": 1768380515,
 "data": {"task_id": "task_vid_xyz789ghi012", "client_business_id": "job_1", "task_type": "video",
          "model": "doubao-seedance-1-5-pro", "status": "completed", "progress": 100,
          "result": {"type": "video", "data": [{"url": "https://cdn.example.com/v.mp4", "format": "mp4"}]},
          "error": null, "submitted_at": 1768380222, "finished_at": 1768380514}})";

// The create answer of provider-docs/toapis-doubao-seedance-1-5-pro.zh.txt.
constexpr const char* kCreateAnswer = R"({
  "id": "task_vid_xyz789ghi012",
  "object": "generation.task",
  "model": "doubao-seedance-1-5-pro",
  "status": "queued",
  "progress": 0,
  "created_at": 1703884800,
  "metadata": {}
})";

ToapisProvider provider(std::string secret = kSecret) {
    ProviderOptions o;
    o.webhook_secret = std::move(secret);
    return ToapisProvider(std::move(o));
}

const ModelSpec& model() {
    return provider().models().at(0);
}

HttpHeaders signed_headers(
    std::string_view body, std::string timestamp = kNowS, std::string secret = kSecret
) {
    HttpHeaders h;
    h.add("X-ToAPIs-Webhook-Id", "evt_01");
    h.add("X-ToAPIs-Webhook-Timestamp", timestamp);
    h.add(
        "X-ToAPIs-Webhook-Signature",
        "v1=" + ToapisProvider::signature(secret, "evt_01", timestamp, body)
    );
    return h;
}

SubmitRequest submit_request() {
    SubmitRequest s;
    s.job_id = "job_1";
    s.request.model = "doubao-seedance-1-5-pro";
    s.request.prompt = "海滩日落";
    s.request.duration = 5;
    s.request.quality = "1080p";
    s.request.aspect_ratio = "9:16";
    s.request.generate_audio = false;
    s.callback_url = "https://hooks.example.com/v1/callbacks/toapis/job_1?token=abc";
    return s;
}

json::Document body_of(const SubmitRequest& s, bool with_callback = true) {
    auto doc = json::parse(ToapisProvider::create_body(s, with_callback));
    EXPECT_TRUE(doc && doc->IsObject());
    return doc ? std::move(*doc) : json::Document{};
}

std::optional<std::pair<std::string, std::string>> check(
    std::string options, std::vector<std::string> images = {}
) {
    VideoRequest r;
    r.model = "doubao-seedance-1-5-pro";
    r.prompt = "x";
    r.image_urls = std::move(images);
    r.options_json = std::move(options);
    return provider().check_request(model(), r);
}

}  // namespace

TEST(ToapisProvider, ServesOneModelWithTheDocumentedRules) {
    const auto& m = model();
    EXPECT_EQ(m.name, "doubao-seedance-1-5-pro");
    EXPECT_EQ(m.duration_min, 4);
    EXPECT_EQ(m.duration_max, 12);
    EXPECT_EQ(m.duration_default, 5);
    EXPECT_EQ(m.quality_default, "720p");
    EXPECT_EQ(m.qualities, (std::vector<std::string>{"480p", "720p", "1080p"}));
    EXPECT_EQ(m.aspect_ratios.size(), 6U);
    EXPECT_EQ(m.aspect_ratio_default, "16:9");
    EXPECT_EQ(m.max_images, 2U);
    EXPECT_TRUE(m.audio);
    EXPECT_TRUE(m.audio_default);
}

TEST(ToapisProvider, WebhookFixtureIsASucceededUpdateWithTheEventId) {
    const auto parsed = provider().parse_callback(kWebhook);
    ASSERT_EQ(parsed.kind, CallbackParse::Kind::kUpdate);
    EXPECT_EQ(parsed.update.task_id, "task_vid_xyz789ghi012");
    EXPECT_EQ(parsed.update.status, JobStatus::kSucceeded);
    EXPECT_EQ(parsed.update.provider_status, "completed");
    EXPECT_EQ(parsed.update.progress, 100);
    EXPECT_EQ(parsed.update.video_url, "https://cdn.example.com/v.mp4");
    EXPECT_EQ(parsed.update.event_id, "evt_01");
    EXPECT_FALSE(parsed.update.error_code.has_value());
}

TEST(ToapisProvider, EndpointTestEventIsIgnored) {
    const auto parsed =
        provider().parse_callback(R"({"id": "evt_t", "type": "endpoint.test", "data": {}})");
    EXPECT_EQ(parsed.kind, CallbackParse::Kind::kIgnore);
}

TEST(ToapisProvider, FailedEventCarriesTheError) {
    const auto parsed = provider().parse_callback(R"({"id": "evt_2", "type": "generation.failed",
        "data": {"task_id": "task_vid_1", "status": "failed",
                 "error": {"code": 422, "message": "content_policy_violation"}}})");
    ASSERT_EQ(parsed.kind, CallbackParse::Kind::kUpdate);
    EXPECT_EQ(parsed.update.status, JobStatus::kFailed);
    EXPECT_EQ(parsed.update.error_code, "422");
    EXPECT_EQ(parsed.update.error_message, "content_policy_violation");
}

TEST(ToapisProvider, EventWithoutDataStatusTakesItFromTheType) {
    const auto parsed = provider().parse_callback(
        R"({"id": "evt_3", "type": "generation.failed", "data": {"task_id": "task_vid_1"}})"
    );
    ASSERT_EQ(parsed.kind, CallbackParse::Kind::kUpdate);
    EXPECT_EQ(parsed.update.status, JobStatus::kFailed);
}

TEST(ToapisProvider, MalformedAndForeignBodies) {
    EXPECT_EQ(provider().parse_callback("{").kind, CallbackParse::Kind::kMalformed);
    EXPECT_EQ(provider().parse_callback(R"({"a": 1})").kind, CallbackParse::Kind::kNotTaskPayload);
    EXPECT_EQ(
        provider().parse_callback(R"({"id": "e", "data": {"status": "completed"}})").kind,
        CallbackParse::Kind::kNotTaskPayload
    );
    EXPECT_EQ(provider().parse_callback(R"([1])").kind, CallbackParse::Kind::kNotTaskPayload);
}

TEST(ToapisProvider, CreateAnswerFixtureIsQueued) {
    auto doc = json::parse(kCreateAnswer);
    ASSERT_TRUE(doc);
    auto task = ToapisProvider::parse_task(*doc);
    ASSERT_TRUE(task);
    EXPECT_EQ(task->task_id, "task_vid_xyz789ghi012");
    EXPECT_EQ(task->status, JobStatus::kQueued);
    EXPECT_EQ(task->progress, 0);
}

TEST(ToapisProvider, AnExpiryTooLargeForMillisecondsIsIgnored) {
    // Seen while writing the fuzz targets (tests/fuzz/corpus/fuzz_toapis/huge_expiry.json makes
    // UBSan stop fuzz_toapis without the fix): the product with 1000 overflowed.
    auto doc = json::parse(R"({"id": "task_vid_1", "status": "completed", "expires_at": 9223372036854775807})");
    ASSERT_TRUE(doc);
    auto task = ToapisProvider::parse_task(*doc);
    ASSERT_TRUE(task);
    EXPECT_FALSE(task->video_url_expires_at.has_value());
    doc = json::parse(R"({"id": "task_vid_1", "status": "completed", "expires_at": 9223372036854775})");
    task = ToapisProvider::parse_task(*doc);
    EXPECT_EQ(task->video_url_expires_at, 9223372036854775000);
}

TEST(ToapisProvider, CompletedQueryAnswerReadsUrlsAndExpiry) {
    auto doc =
        json::parse(R"({"id": "task_vid_1", "object": "generation.task", "status": "completed",
        "progress": 100, "completed_at": 1703884900, "expires_at": 1703971300,
        "result": {"type": "video", "data": [{"url": "https://cdn.example.com/v.mp4", "format": "mp4",
                   "last_frame_url": "https://cdn.example.com/f.png"}]}})");
    ASSERT_TRUE(doc);
    auto task = ToapisProvider::parse_task(*doc);
    ASSERT_TRUE(task);
    EXPECT_EQ(task->status, JobStatus::kSucceeded);
    EXPECT_EQ(task->video_url, "https://cdn.example.com/v.mp4");
    EXPECT_EQ(task->last_frame_url, "https://cdn.example.com/f.png");
    EXPECT_EQ(task->video_url_expires_at, 1703971300000);
}

TEST(ToapisProvider, StatusWordsMapToNormalizedStatuses) {
    const std::pair<const char*, std::optional<JobStatus>> cases[] = {
        {"queued", JobStatus::kQueued},
        {"submitted", JobStatus::kQueued},
        {"in_progress", JobStatus::kRunning},
        {"completed", JobStatus::kSucceeded},
        {"failed", JobStatus::kFailed},
        {"cancelled", JobStatus::kCancelled},
        {"thinking", std::nullopt},
    };
    for (const auto& [word, status] : cases) {
        auto doc = json::parse(R"({"id": "task_vid_1", "status": ")" + std::string(word) + R"("})");
        auto task = ToapisProvider::parse_task(*doc);
        ASSERT_TRUE(task) << word;
        EXPECT_EQ(task->status, status) << word;
        EXPECT_EQ(task->provider_status, word);
    }
}

TEST(ToapisProvider, CreateBodyMapsEveryField) {
    const auto body = body_of(submit_request());
    EXPECT_EQ(json::get_string(body, "model"), "doubao-seedance-1-5-pro");
    EXPECT_EQ(json::get_string(body, "prompt"), "海滩日落");
    EXPECT_EQ(json::get_int(body, "duration"), 5);
    EXPECT_EQ(json::get_string(body, "aspect_ratio"), "9:16");
    const auto* metadata = json::find(body, "metadata");
    ASSERT_NE(metadata, nullptr);
    EXPECT_EQ(json::get_string(*metadata, "resolution"), "1080p");
    EXPECT_EQ(json::get_bool(*metadata, "audio"), false);
    EXPECT_EQ(json::find(body, "quality"), nullptr);
    EXPECT_EQ(json::find(body, "generate_audio"), nullptr);
    EXPECT_EQ(json::get_string(body, "client_business_id"), "job_1");
    EXPECT_EQ(
        json::get_string(body, "callback_url"),
        "https://hooks.example.com/v1/callbacks/toapis/job_1?token=abc"
    );
    EXPECT_EQ(json::find(body, "image_urls"), nullptr);
}

TEST(ToapisProvider, CreateBodyOmitsTheCallbackWithoutAWebhookSecret) {
    EXPECT_EQ(json::find(body_of(submit_request(), false), "callback_url"), nullptr);
}

TEST(ToapisProvider, CreateBodyCarriesImages) {
    SubmitRequest s = submit_request();
    s.request.image_urls = {"https://img.example.com/a.png", "https://img.example.com/b.png"};
    const auto body = body_of(s);
    const auto* images = json::find(body, "image_urls");
    ASSERT_NE(images, nullptr);
    ASSERT_EQ(images->Size(), 2U);
    EXPECT_STREQ((*images)[1].GetString(), "https://img.example.com/b.png");

    s.request.image_urls.clear();
    s.request.options_json =
        R"({"image_with_roles": [{"url": "https://img.example.com/l.png", "role": "last_frame"}]})";
    const auto roles_body = body_of(s);
    const auto* roles = json::find(roles_body, "image_with_roles");
    ASSERT_NE(roles, nullptr);
    ASSERT_EQ(roles->Size(), 1U);
    EXPECT_EQ(json::get_string((*roles)[0], "role"), "last_frame");
    EXPECT_EQ(json::find(roles_body, "image_urls"), nullptr);
    EXPECT_EQ(json::find(roles_body, "options"), nullptr);
}

TEST(ToapisProvider, CheckOptionsAcceptsValidImageRoles) {
    EXPECT_FALSE(check("{}"));
    EXPECT_FALSE(check("{}", {"https://img.example.com/a.png"}));
    EXPECT_FALSE(check(
        R"({"image_with_roles": [{"url": "https://a.example.com/1.png", "role": "first_frame"},
                                                {"url": "https://a.example.com/2.png", "role": "last_frame"}]})"
    ));
}

TEST(ToapisProvider, CheckOptionsNamesTheFaultyField) {
    const std::pair<std::string, std::string> cases[] = {
        {R"({"image_with_roles": "x"})", "options.image_with_roles"},
        {R"({"image_with_roles": []})", "options.image_with_roles"},
        {R"({"image_with_roles": [{"url": "http://a.example.com/1.png", "role": "first_frame"}]})",
         "options.image_with_roles[0].url"},
        {R"({"image_with_roles": [{"url": "https://a.example.com/1.png", "role": "reference_image"}]})",
         "options.image_with_roles[0].role"},
        {R"({"image_with_roles": [{"url": "https://a.example.com/1.png", "role": "first_frame"},
                                  {"url": "https://a.example.com/2.png", "role": "first_frame"}]})",
         "options.image_with_roles[1].role"},
        {R"({"image_with_roles": [{"url": "https://a.example.com/1.png", "role": "first_frame"}, 1]})",
         "options.image_with_roles[1]"},
        {R"({"seed": 1})", "options.seed"},
    };
    for (const auto& [options, field] : cases) {
        const auto bad = check(options);
        ASSERT_TRUE(bad) << options;
        EXPECT_EQ(bad->first, field) << options;
    }
}

TEST(ToapisProvider, ImageUrlsAndImageWithRolesNeverTogether) {
    const auto bad = check(
        R"({"image_with_roles": [{"url": "https://a.example.com/1.png", "role": "first_frame"}]})",
        {"https://img.example.com/a.png"}
    );
    ASSERT_TRUE(bad);
    EXPECT_EQ(bad->first, "options.image_with_roles");
}

TEST(ToapisProvider, AcceptsAValidSignature) {
    EXPECT_FALSE(provider().authenticate_callback(signed_headers(kWebhook), kWebhook, kNowMs));
}

TEST(ToapisProvider, HeaderNamesAreCaseInsensitive) {
    HttpHeaders h;
    const HttpHeaders original = signed_headers(kWebhook);
    for (const auto& [name, value] : original.all()) {
        std::string lower = name;
        for (char& c : lower) {
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        }
        h.add(lower, value);
    }
    EXPECT_FALSE(provider().authenticate_callback(h, kWebhook, kNowMs));
}

TEST(ToapisProvider, AcceptsWhenTheSecondOfTwoSignaturesMatches) {
    HttpHeaders h;
    h.add("X-ToAPIs-Webhook-Id", "evt_01");
    h.add("X-ToAPIs-Webhook-Timestamp", kNowS);
    h.add(
        "X-ToAPIs-Webhook-Signature",
        "v1=" + ToapisProvider::signature("old-secret", "evt_01", kNowS, kWebhook) +
            ",v1=" + ToapisProvider::signature(kSecret, "evt_01", kNowS, kWebhook)
    );
    EXPECT_FALSE(provider().authenticate_callback(h, kWebhook, kNowMs));
}

TEST(ToapisProvider, RefusesAWrongSecret) {
    const auto reason = provider().authenticate_callback(
        signed_headers(kWebhook, kNowS, "other"), kWebhook, kNowMs
    );
    ASSERT_TRUE(reason);
    EXPECT_EQ(reason->find(kSecret), std::string::npos);
}

TEST(ToapisProvider, RefusesATamperedBody) {
    std::string tampered = kWebhook;
    tampered.replace(tampered.find("completed"), 9, "cancelled");
    EXPECT_TRUE(provider().authenticate_callback(signed_headers(kWebhook), tampered, kNowMs));
}

TEST(ToapisProvider, RefusesATimestampSixMinutesOffEitherWay) {
    for (const std::int64_t offset : {-360, 360}) {
        const std::string ts = std::to_string(kNowMs / 1000 + offset);
        EXPECT_TRUE(provider().authenticate_callback(signed_headers(kWebhook, ts), kWebhook, kNowMs)
        ) << offset;
    }
    const std::string near = std::to_string(kNowMs / 1000 - 240);
    EXPECT_FALSE(provider().authenticate_callback(signed_headers(kWebhook, near), kWebhook, kNowMs)
    );
    EXPECT_TRUE(provider().authenticate_callback(
        signed_headers(kWebhook, "99999999999999999999"), kWebhook, kNowMs
    ));
    EXPECT_TRUE(provider().authenticate_callback(signed_headers(kWebhook, "12ab"), kWebhook, kNowMs)
    );
}

TEST(ToapisProvider, RefusesMissingHeaders) {
    for (const char* drop :
         {"X-ToAPIs-Webhook-Id", "X-ToAPIs-Webhook-Timestamp", "X-ToAPIs-Webhook-Signature"}) {
        HttpHeaders h;
        const HttpHeaders all = signed_headers(kWebhook);
        for (const auto& [name, value] : all.all()) {
            if (name != drop) {
                h.add(name, value);
            }
        }
        EXPECT_TRUE(provider().authenticate_callback(h, kWebhook, kNowMs)) << drop;
    }
    HttpHeaders bad_scheme;
    bad_scheme.add("X-ToAPIs-Webhook-Id", "evt_01");
    bad_scheme.add("X-ToAPIs-Webhook-Timestamp", kNowS);
    bad_scheme.add(
        "X-ToAPIs-Webhook-Signature", ToapisProvider::signature(kSecret, "evt_01", kNowS, kWebhook)
    );
    EXPECT_TRUE(provider().authenticate_callback(bad_scheme, kWebhook, kNowMs));
}

TEST(ToapisProvider, WithoutASecretEveryDeliveryIsAccepted) {
    EXPECT_FALSE(provider("").authenticate_callback(HttpHeaders{}, kWebhook, kNowMs));
}

TEST(ToapisProvider, SignatureIsLowercaseHexHmacOfIdDotTimestampDotBody) {
    // printf '%s' 'evt_01.1768380515.{}' | openssl dgst -sha256 -hmac 'whsec_test_secret'
    EXPECT_EQ(
        ToapisProvider::signature(kSecret, "evt_01", kNowS, "{}"),
        "a8e172e281c6c8be6c70ca352d63790097843b2091c6e033badb7a0b00a4c630"
    );
}
