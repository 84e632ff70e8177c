#include "server/providers/evolink/evolink_provider.hpp"

#include "common/json.hpp"

#include <string>
#include <utility>

#include <gtest/gtest.h>

namespace json = seedhook::json;
using seedhook::providers::CallbackParse;
using seedhook::providers::EvolinkProvider;
using seedhook::providers::JobStatus;
using seedhook::providers::ProviderOptions;
using seedhook::providers::SubmitRequest;

namespace {

// The completed callback as published (PROVIDERS.md).
constexpr const char* kCompleted =
    R"({"id": "task-unified-1756817821-4x3rx6ny", "object": "video.generation.task",
 "created": 1756817821, "model": "seedance-1.5-pro", "status": "completed", "progress": 100,
 "results": ["https://cdn.example.com/videos/task-unified-1756817821-4x3rx6ny.mp4"],
 "type": "video", "task_info": {"can_cancel": false}})";

CallbackParse parse(std::string_view body) {
    const EvolinkProvider provider{ProviderOptions{}};
    return provider.parse_callback(body);
}

std::string task_with_status(std::string_view status) {
    return R"({"id": "task-unified-1", "object": "video.generation.task", "status": ")" +
           std::string(status) + R"(", "progress": 0})";
}

SubmitRequest submit_request() {
    SubmitRequest s;
    s.job_id = "job_1";
    s.request.model = "seedance-1.5-pro";
    s.request.prompt = "A cat playing piano";
    s.request.duration = 8;
    s.request.quality = "1080p";
    s.request.aspect_ratio = "9:16";
    s.request.image_urls = {
        "https://img.example.com/first.png", "https://img.example.com/last.png"};
    s.request.generate_audio = true;
    s.callback_url = "https://hooks.example.com/v1/callbacks/evolink/job_1?token=abc";
    return s;
}

json::Document body_of(const SubmitRequest& s) {
    auto doc = json::parse(EvolinkProvider::create_body(s));
    EXPECT_TRUE(doc.has_value());
    EXPECT_TRUE(doc && doc->IsObject());
    return doc ? std::move(*doc) : json::Document{};
}

}  // namespace

TEST(EvolinkProvider, CompletedCallbackIsASucceededUpdateWithTheVideoUrl) {
    const auto parsed = parse(kCompleted);
    ASSERT_EQ(parsed.kind, CallbackParse::Kind::kUpdate);
    EXPECT_EQ(parsed.update.task_id, "task-unified-1756817821-4x3rx6ny");
    EXPECT_EQ(parsed.update.status, JobStatus::kSucceeded);
    EXPECT_EQ(parsed.update.provider_status, "completed");
    EXPECT_EQ(parsed.update.progress, 100);
    EXPECT_EQ(
        parsed.update.video_url,
        "https://cdn.example.com/videos/task-unified-1756817821-4x3rx6ny.mp4"
    );
    EXPECT_FALSE(parsed.update.error_code.has_value());
}

TEST(EvolinkProvider, FailedCallbackReadsANumericErrorCodeAsText) {
    const auto parsed = parse(R"({"id": "task-unified-2", "object": "video.generation.task",
        "status": "failed", "progress": 0,
        "error": {"code": 500, "message": "generation failed", "type": "server_error"}})");
    ASSERT_EQ(parsed.kind, CallbackParse::Kind::kUpdate);
    EXPECT_EQ(parsed.update.task_id, "task-unified-2");
    EXPECT_EQ(parsed.update.status, JobStatus::kFailed);
    EXPECT_EQ(parsed.update.error_code, "500");
    EXPECT_EQ(parsed.update.error_message, "generation failed");
    EXPECT_FALSE(parsed.update.video_url.has_value());
}

TEST(EvolinkProvider, NullErrorIsNoError) {
    const auto parsed = parse(R"({"id": "task-unified-5", "status": "completed", "progress": 100,
        "results": ["https://cdn.example.com/v.mp4"], "error": null})");
    ASSERT_EQ(parsed.kind, CallbackParse::Kind::kUpdate);
    EXPECT_EQ(parsed.update.status, JobStatus::kSucceeded);
    EXPECT_FALSE(parsed.update.error_code.has_value());
    EXPECT_FALSE(parsed.update.error_message.has_value());
}

TEST(EvolinkProvider, FailedCallbackReadsATextErrorCode) {
    const auto parsed = parse(R"({"id": "task-unified-2", "status": "failed",
        "error": {"code": "content_policy_violation", "message": "refused"}})");
    ASSERT_EQ(parsed.kind, CallbackParse::Kind::kUpdate);
    EXPECT_EQ(parsed.update.error_code, "content_policy_violation");
    EXPECT_EQ(parsed.update.error_message, "refused");
}

TEST(EvolinkProvider, ProcessingIsRunningWithProgress) {
    const auto parsed = parse(R"({"id": "task-unified-3", "object": "video.generation.task",
        "status": "processing", "progress": 45, "task_info": {"can_cancel": true}})");
    ASSERT_EQ(parsed.kind, CallbackParse::Kind::kUpdate);
    EXPECT_EQ(parsed.update.status, JobStatus::kRunning);
    EXPECT_EQ(parsed.update.provider_status, "processing");
    EXPECT_EQ(parsed.update.progress, 45);
    EXPECT_FALSE(parsed.update.video_url.has_value());
}

TEST(EvolinkProvider, MalformedBodyIsMalformed) {
    EXPECT_EQ(parse("not json at all").kind, CallbackParse::Kind::kMalformed);
    EXPECT_EQ(parse("").kind, CallbackParse::Kind::kMalformed);
    EXPECT_EQ(
        parse(R"({"id": "task-unified-1", "status": "completed")").kind,
        CallbackParse::Kind::kMalformed
    );
}

TEST(EvolinkProvider, JsonWithoutIdOrStatusIsNotATaskPayload) {
    EXPECT_EQ(parse(R"({"hello": "world"})").kind, CallbackParse::Kind::kNotTaskPayload);
    EXPECT_EQ(parse(R"({"id": "task-unified-1"})").kind, CallbackParse::Kind::kNotTaskPayload);
    EXPECT_EQ(parse(R"({"status": "completed"})").kind, CallbackParse::Kind::kNotTaskPayload);
    EXPECT_EQ(parse(R"([1, 2])").kind, CallbackParse::Kind::kNotTaskPayload);
    EXPECT_EQ(parse(R"("completed")").kind, CallbackParse::Kind::kNotTaskPayload);
}

TEST(EvolinkProvider, UnknownStatusWordHasNoNormalizedStatus) {
    const auto parsed = parse(task_with_status("thinking"));
    ASSERT_EQ(parsed.kind, CallbackParse::Kind::kUpdate);
    EXPECT_EQ(parsed.update.provider_status, "thinking");
    EXPECT_FALSE(parsed.update.status.has_value());
}

TEST(EvolinkProvider, StatusWordsMapToNormalizedStatuses) {
    const std::pair<const char*, JobStatus> cases[] = {
        {"pending", JobStatus::kQueued},
        {"processing", JobStatus::kRunning},
        {"completed", JobStatus::kSucceeded},
        {"failed", JobStatus::kFailed},
        {"cancelled", JobStatus::kCancelled},
    };
    for (const auto& [word, status] : cases) {
        const auto parsed = parse(task_with_status(word));
        ASSERT_EQ(parsed.kind, CallbackParse::Kind::kUpdate) << word;
        EXPECT_EQ(parsed.update.status, status) << word;
        EXPECT_EQ(parsed.update.provider_status, word);
    }
}

TEST(EvolinkProvider, UnknownFieldsAreIgnored) {
    const auto parsed =
        parse(R"({"id": "task-unified-4", "status": "pending", "brand_new": {"x": [1]},
        "usage": {"billing_rule": "per_second", "credits_reserved": 12.5}})");
    ASSERT_EQ(parsed.kind, CallbackParse::Kind::kUpdate);
    EXPECT_EQ(parsed.update.status, JobStatus::kQueued);
}

TEST(EvolinkProvider, CreateBodyMapsEveryField) {
    const auto body = body_of(submit_request());
    EXPECT_EQ(json::get_string(body, "model"), "seedance-1.5-pro");
    EXPECT_EQ(json::get_string(body, "prompt"), "A cat playing piano");
    EXPECT_EQ(json::get_int(body, "duration"), 8);
    EXPECT_EQ(json::get_string(body, "quality"), "1080p");
    EXPECT_EQ(json::get_string(body, "aspect_ratio"), "9:16");
    EXPECT_EQ(json::get_bool(body, "generate_audio"), true);
    EXPECT_EQ(
        json::get_string(body, "callback_url"),
        "https://hooks.example.com/v1/callbacks/evolink/job_1?token=abc"
    );
    const json::Value* images = json::find(body, "image_urls");
    ASSERT_NE(images, nullptr);
    ASSERT_TRUE(images->IsArray());
    ASSERT_EQ(images->Size(), 2U);
    EXPECT_STREQ((*images)[0].GetString(), "https://img.example.com/first.png");
    EXPECT_STREQ((*images)[1].GetString(), "https://img.example.com/last.png");
}

TEST(EvolinkProvider, CreateBodyKeepsGenerateAudioFalse) {
    SubmitRequest s = submit_request();
    s.request.generate_audio = false;
    EXPECT_EQ(json::get_bool(body_of(s), "generate_audio"), false);
}

TEST(EvolinkProvider, CreateBodyOmitsGenerateAudioForModelsWithoutAudio) {
    SubmitRequest s = submit_request();
    s.request.model = "doubao-seedance-1.0-pro-fast";
    s.request.generate_audio.reset();
    EXPECT_EQ(json::find(body_of(s), "generate_audio"), nullptr);
}

TEST(EvolinkProvider, CreateBodyOmitsAnEmptyCallbackUrl) {
    SubmitRequest s = submit_request();
    s.callback_url.clear();
    EXPECT_EQ(json::find(body_of(s), "callback_url"), nullptr);
}

TEST(EvolinkProvider, CreateBodyOmitsImageUrlsWhenThereAreNone) {
    SubmitRequest s = submit_request();
    s.request.image_urls.clear();
    EXPECT_EQ(json::find(body_of(s), "image_urls"), nullptr);
}

TEST(EvolinkProvider, CreateBodyCarriesModelParamsFromTheOptions) {
    SubmitRequest s = submit_request();
    s.request.model = "seedance-2.0-fast-text-to-video";
    s.request.image_urls.clear();
    s.request.options_json = R"({"model_params": {"seed": 7, "style": "anime"}})";
    const auto body = body_of(s);
    const json::Value* params = json::find(body, "model_params");
    ASSERT_NE(params, nullptr);
    ASSERT_TRUE(params->IsObject());
    EXPECT_EQ(json::get_int(*params, "seed"), 7);
    EXPECT_EQ(json::get_string(*params, "style"), "anime");
    EXPECT_EQ(json::find(body, "options"), nullptr);
}

TEST(EvolinkProvider, CreateBodyHasNoModelParamsWithoutOptions) {
    EXPECT_EQ(json::find(body_of(submit_request()), "model_params"), nullptr);
}

TEST(EvolinkProvider, CreateBodyEscapesThePrompt) {
    SubmitRequest s = submit_request();
    s.request.prompt = "a \"quoted\" cat\non two lines \xe7\x8c\xab";
    EXPECT_EQ(json::get_string(body_of(s), "prompt"), s.request.prompt);
}
