#include "server/providers/acedata/acedata_provider.hpp"

#include "common/json.hpp"

#include <string>
#include <utility>

#include <gtest/gtest.h>

namespace json = seedhook::json;
using seedhook::providers::AcedataProvider;
using seedhook::providers::CallbackParse;
using seedhook::providers::JobStatus;
using seedhook::providers::ModelSpec;
using seedhook::providers::ProviderOptions;
using seedhook::providers::SubmitRequest;
using seedhook::providers::VideoRequest;

namespace {

// The completed callback as published (PROVIDERS.md).
constexpr const char* kCompletedCallback =
    R"({"success": true, "task_id": "f7096c6c-9430-4392-8201-d259632d7afd",
 "trace_id": "4a4a3721-00fb-43d2-aff2-3b516ac01a8a",
 "data": {"task_id": "cgt-20251222073134-54qcw", "status": "succeeded",
          "video_url": "https://platform.cdn.acedata.cloud/seedance/95f9f5f0.mp4",
          "model": "doubao-seedance-1-0-pro-250528"}})";

// The create answer of provider-docs/acedata-seedance-videos.ru.txt (a blocking call).
constexpr const char* kCreateAnswer = R"({
  "success": true,
  "task_id": "93f11baf-347b-4bb4-9520-8653cb46d6a3",
  "trace_id": "a9063166-26ed-4451-85b5-54e896817c69",
  "data": [
    {
      "id": "cgt-2025******-***",
      "model": "doubao-seedance-1-0-pro-250528",
      "status": "succeeded",
      "content": {
        "video_url": "https://ark-content-generation-cn-beijing.tos-cn-beijing.volces.com/doubao-seedance-1-0-pro/****"
      },
      "seed": 10,
      "resolution": "720p",
      "ratio": "16:9",
      "duration": 5,
      "framespersecond": 24,
      "service_tier": "default",
      "execution_expires_after": 172800,
      "usage": {
        "completion_tokens": 108900,
        "total_tokens": 108900
      },
      "created_at": 1743414619,
      "updated_at": 1743414673
    }
  ]
})";

// A query answer in the shape PROVIDERS.md lists (reconstructed from its field list).
constexpr const char* kQueryAnswer =
    R"({"id": "93f11baf-347b-4bb4-9520-8653cb46d6a3", "type": "videos",
  "created_at": 1743414600, "started_at": 1743414601, "finished_at": 1743414673, "elapsed": 72,
  "trace_id": "a9063166",
  "request": {"model": "doubao-seedance-1-0-pro-250528", "content": [{"type": "text", "text": "a cat"}],
              "callback_url": "https://hooks.example.com/v1/callbacks/acedata/job_1?token=SECRET-TOKEN"},
  "response": {"success": true, "task_id": "93f11baf-347b-4bb4-9520-8653cb46d6a3",
               "data": {"id": "cgt-1", "status": "succeeded",
                        "content": {"video_url": "https://cdn.example.com/v.mp4",
                                    "last_frame_url": "https://cdn.example.com/f.png"}}}})";

const AcedataProvider& provider() {
    static const AcedataProvider p{ProviderOptions{}};
    return p;
}

const ModelSpec& model(std::string_view name) {
    for (const auto& m : provider().models()) {
        if (m.name == name) {
            return m;
        }
    }
    throw std::runtime_error("no model " + std::string(name));
}

SubmitRequest submit_request() {
    // The request of the acedata page's example, as seedhook holds it.
    SubmitRequest s;
    s.job_id = "job_1";
    s.request.model = "doubao-seedance-1-0-pro-250528";
    s.request.prompt = "A kitten yawning at the camera.";
    s.request.duration = 5;
    s.request.quality = "720p";
    s.request.aspect_ratio = "16:9";
    s.request.options_json = R"({"fps": 24, "watermark": true, "seed": 11, "camera_fixed": false})";
    s.callback_url = "https://hooks.example.com/v1/callbacks/acedata/job_1?token=abc";
    return s;
}

json::Document body_of(const SubmitRequest& s) {
    auto doc = json::parse(AcedataProvider::create_body(s));
    EXPECT_TRUE(doc && doc->IsObject());
    return doc ? std::move(*doc) : json::Document{};
}

std::optional<std::pair<std::string, std::string>> check(
    std::string_view model_name,
    std::string options,
    std::vector<std::string> images = {},
    std::string prompt = "a cat"
) {
    VideoRequest r;
    r.model = std::string(model_name);
    r.prompt = std::move(prompt);
    r.image_urls = std::move(images);
    r.options_json = std::move(options);
    return provider().check_request(model(model_name), r);
}

CallbackParse parse(std::string_view body) {
    return provider().parse_callback(body);
}

}  // namespace

TEST(AcedataProvider, ServesTheFiveModelsWithTheFlagsTableRules) {
    ASSERT_EQ(provider().models().size(), 5U);
    EXPECT_EQ(model("doubao-seedance-1-0-pro-250528").quality_default, "1080p");
    EXPECT_EQ(model("doubao-seedance-1-0-pro-fast-251015").quality_default, "1080p");
    EXPECT_EQ(model("doubao-seedance-1-5-pro-251215").quality_default, "720p");
    EXPECT_EQ(model("doubao-seedance-1-0-lite-t2v-250428").quality_default, "720p");
    EXPECT_EQ(model("doubao-seedance-1-0-lite-i2v-250428").quality_default, "720p");
    EXPECT_EQ(model("doubao-seedance-1-5-pro-251215").duration_min, 4);
    EXPECT_EQ(model("doubao-seedance-1-0-pro-250528").duration_min, 2);
    EXPECT_EQ(model("doubao-seedance-1-0-pro-250528").duration_max, 12);
    EXPECT_EQ(model("doubao-seedance-1-0-pro-250528").aspect_ratio_default_with_image, "adaptive");
    EXPECT_EQ(model("doubao-seedance-1-0-lite-t2v-250428").max_images, 0U);
    for (const auto& m : provider().models()) {
        EXPECT_EQ(m.audio, m.name == "doubao-seedance-1-5-pro-251215") << m.name;
        EXPECT_TRUE(m.prompt_required) << m.name;
        EXPECT_EQ(m.duration_default, 5) << m.name;
        EXPECT_EQ(m.aspect_ratio_default, "16:9") << m.name;
    }
}

TEST(AcedataProvider, CompletedCallbackFixtureIsSucceeded) {
    const auto parsed = parse(kCompletedCallback);
    ASSERT_EQ(parsed.kind, CallbackParse::Kind::kUpdate);
    EXPECT_EQ(parsed.update.task_id, "f7096c6c-9430-4392-8201-d259632d7afd");
    EXPECT_EQ(parsed.update.status, JobStatus::kSucceeded);
    EXPECT_EQ(parsed.update.provider_status, "succeeded");
    EXPECT_EQ(parsed.update.video_url, "https://platform.cdn.acedata.cloud/seedance/95f9f5f0.mp4");
    EXPECT_EQ(parsed.update.progress, 100);
}

TEST(AcedataProvider, CreateAnswerFixtureReadsTheArkArray) {
    auto doc = json::parse(kCreateAnswer);
    ASSERT_TRUE(doc);
    auto task = AcedataProvider::parse_result(*doc);
    ASSERT_TRUE(task);
    EXPECT_EQ(task->task_id, "93f11baf-347b-4bb4-9520-8653cb46d6a3");
    EXPECT_EQ(task->status, JobStatus::kSucceeded);
    EXPECT_EQ(
        task->video_url,
        "https://ark-content-generation-cn-beijing.tos-cn-beijing.volces.com/"
        "doubao-seedance-1-0-pro/****"
    );
}

TEST(AcedataProvider, AsyncCreateAnswerHasNoStatusToRead) {
    auto doc = json::parse(R"({"success": true, "task_id": "t-1", "trace_id": "x"})");
    EXPECT_FALSE(AcedataProvider::parse_result(*doc));
}

TEST(AcedataProvider, ArkShapedCallbackReadsTheContent) {
    const auto parsed = parse(R"({"success": true, "task_id": "t-2", "trace_id": "x",
        "data": {"id": "cgt-2", "status": "succeeded", "content": {"video_url": "https://c.example.com/v.mp4",
                 "last_frame_url": "https://c.example.com/f.png"}, "seed": 3, "ratio": "16:9"}})");
    ASSERT_EQ(parsed.kind, CallbackParse::Kind::kUpdate);
    EXPECT_EQ(parsed.update.task_id, "t-2");
    EXPECT_EQ(parsed.update.video_url, "https://c.example.com/v.mp4");
    EXPECT_EQ(parsed.update.last_frame_url, "https://c.example.com/f.png");
}

TEST(AcedataProvider, UnsuccessfulCallbackIsAFailureWithTheError) {
    const auto parsed = parse(R"({"success": false, "task_id": "t-3", "trace_id": "x",
        "error": {"code": "content_policy", "message": "refused"}})");
    ASSERT_EQ(parsed.kind, CallbackParse::Kind::kUpdate);
    EXPECT_EQ(parsed.update.status, JobStatus::kFailed);
    EXPECT_EQ(parsed.update.error_code, "content_policy");
    EXPECT_EQ(parsed.update.error_message, "refused");
    const auto with_data = parse(R"({"success": false, "task_id": "t-3",
        "data": {"status": "running"}, "error": {"code": 500, "message": "boom"}})");
    EXPECT_EQ(with_data.update.status, JobStatus::kFailed);
    EXPECT_EQ(with_data.update.error_code, "500");
}

TEST(AcedataProvider, CallbackWithoutTopLevelTaskIdIsNotATaskPayload) {
    EXPECT_EQ(
        parse(R"({"success": true, "data": {"task_id": "cgt-1", "status": "succeeded"}})").kind,
        CallbackParse::Kind::kNotTaskPayload
    );
    EXPECT_EQ(
        parse(R"({"success": true, "task_id": "t"})").kind, CallbackParse::Kind::kNotTaskPayload
    );
    EXPECT_EQ(parse("nope").kind, CallbackParse::Kind::kMalformed);
}

TEST(AcedataProvider, StatusWordsMapToNormalizedStatuses) {
    const std::pair<const char*, std::optional<JobStatus>> cases[] = {
        {"queued", JobStatus::kQueued},
        {"running", JobStatus::kRunning},
        {"succeeded", JobStatus::kSucceeded},
        {"failed", JobStatus::kFailed},
        {"cancelled", JobStatus::kCancelled},
        {"expired", JobStatus::kExpired},
        {"completed", std::nullopt},
    };
    for (const auto& [word, status] : cases) {
        const auto parsed = parse(
            R"({"success": true, "task_id": "t", "data": {"status": ")" + std::string(word) +
            R"("}})"
        );
        ASSERT_EQ(parsed.kind, CallbackParse::Kind::kUpdate) << word;
        EXPECT_EQ(parsed.update.status, status) << word;
        EXPECT_EQ(parsed.update.provider_status, word);
    }
}

TEST(AcedataProvider, QueryAnswerReadsTheResponse) {
    auto doc = json::parse(kQueryAnswer);
    ASSERT_TRUE(doc);
    auto task = AcedataProvider::parse_query_answer(*doc);
    ASSERT_TRUE(task);
    EXPECT_EQ(task->task_id, "93f11baf-347b-4bb4-9520-8653cb46d6a3");
    EXPECT_EQ(task->status, JobStatus::kSucceeded);
    EXPECT_EQ(task->video_url, "https://cdn.example.com/v.mp4");
    EXPECT_EQ(task->last_frame_url, "https://cdn.example.com/f.png");
}

TEST(AcedataProvider, QueryAnswerWithoutAResultIsQueuedOrRunning) {
    auto queued =
        json::parse(R"({"id": "t-9", "created_at": 1, "started_at": null, "request": {}})");
    EXPECT_EQ(AcedataProvider::parse_query_answer(*queued)->status, JobStatus::kQueued);
    auto running = json::parse(R"({"id": "t-9", "created_at": 1, "started_at": 2, "request": {}})");
    EXPECT_EQ(AcedataProvider::parse_query_answer(*running)->status, JobStatus::kRunning);
    auto nothing = json::parse(R"({"request": {}})");
    EXPECT_FALSE(AcedataProvider::parse_query_answer(*nothing));
}

TEST(AcedataProvider, CommandTextMatchesTheDocumentedExample) {
    EXPECT_EQ(
        AcedataProvider::command_text(submit_request().request),
        "A kitten yawning at the camera. --rs 720p --rt 16:9 --dur 5 --fps 24 --wm true --seed 11 "
        "--cf false"
    );
}

TEST(AcedataProvider, CommandTextAppliesTheOptionDefaults) {
    SubmitRequest s = submit_request();
    s.request.options_json = "{}";
    EXPECT_EQ(
        AcedataProvider::command_text(s.request),
        "A kitten yawning at the camera. --rs 720p --rt 16:9 --dur 5 --fps 24 --wm false --seed -1 "
        "--cf false"
    );
}

TEST(AcedataProvider, CreateBodyMapsEveryField) {
    SubmitRequest s = submit_request();
    s.request.image_urls = {"https://img.example.com/a.png", "https://img.example.com/b.png"};
    s.request.options_json =
        R"({"service_tier": "flex", "execution_expires_after": 3600, "return_last_frame": true})";
    const auto body = body_of(s);
    EXPECT_EQ(json::get_string(body, "model"), "doubao-seedance-1-0-pro-250528");
    EXPECT_EQ(
        json::get_string(body, "callback_url"),
        "https://hooks.example.com/v1/callbacks/acedata/job_1?token=abc"
    );
    EXPECT_EQ(json::get_string(body, "service_tier"), "flex");
    EXPECT_EQ(json::get_int(body, "execution_expires_after"), 3600);
    EXPECT_EQ(json::get_bool(body, "return_last_frame"), true);
    EXPECT_EQ(json::find(body, "generate_audio"), nullptr);
    EXPECT_EQ(json::find(body, "async"), nullptr);
    const auto* content = json::find(body, "content");
    ASSERT_TRUE(content && content->IsArray());
    ASSERT_EQ(content->Size(), 3U);
    EXPECT_EQ(json::get_string((*content)[0], "type"), "text");
    EXPECT_EQ(json::get_string((*content)[1], "type"), "image_url");
    EXPECT_EQ(
        json::get_string(*json::find((*content)[1], "image_url"), "url"),
        "https://img.example.com/a.png"
    );
    EXPECT_EQ(json::get_string((*content)[1], "role"), "first_frame");
    EXPECT_EQ(json::get_string((*content)[2], "role"), "last_frame");
}

TEST(AcedataProvider, CreateBodyDefaults) {
    SubmitRequest s = submit_request();
    s.request.options_json = "{}";
    const auto body = body_of(s);
    EXPECT_EQ(json::get_string(body, "service_tier"), "default");
    EXPECT_EQ(json::get_int(body, "execution_expires_after"), 172800);
    EXPECT_EQ(json::get_bool(body, "return_last_frame"), false);
    s.callback_url.clear();
    EXPECT_EQ(json::get_bool(body_of(s), "async"), true);
}

TEST(AcedataProvider, CreateBodySendsGenerateAudioOnlyFor15Pro) {
    SubmitRequest s = submit_request();
    s.request.generate_audio = true;
    EXPECT_EQ(json::find(body_of(s), "generate_audio"), nullptr);
    s.request.model = "doubao-seedance-1-5-pro-251215";
    EXPECT_EQ(json::get_bool(body_of(s), "generate_audio"), true);
}

TEST(AcedataProvider, CheckOptionsAcceptsTheDocumentedValues) {
    EXPECT_FALSE(check("doubao-seedance-1-0-pro-250528", "{}"));
    EXPECT_FALSE(check(
        "doubao-seedance-1-0-pro-250528", R"({"seed": -1, "fps": 24, "watermark": true,
        "camera_fixed": true, "service_tier": "flex", "execution_expires_after": 259200, "return_last_frame": false})"
    ));
    EXPECT_FALSE(check(
        "doubao-seedance-1-0-pro-250528", R"({"seed": 4294967295, "execution_expires_after": 3600})"
    ));
}

TEST(AcedataProvider, CheckOptionsNamesTheFaultyField) {
    const std::pair<const char*, const char*> cases[] = {
        {R"({"seed": -2})", "options.seed"},
        {R"({"seed": 4294967296})", "options.seed"},
        {R"({"seed": "1"})", "options.seed"},
        {R"({"fps": 30})", "options.fps"},
        {R"({"watermark": "yes"})", "options.watermark"},
        {R"({"camera_fixed": 1})", "options.camera_fixed"},
        {R"({"return_last_frame": null})", "options.return_last_frame"},
        {R"({"service_tier": "fast"})", "options.service_tier"},
        {R"({"service_tier": 1})", "options.service_tier"},
        {R"({"execution_expires_after": 3599})", "options.execution_expires_after"},
        {R"({"execution_expires_after": 259201})", "options.execution_expires_after"},
        {R"({"model_params": {}})", "options.model_params"},
        {R"([])", "options"},
    };
    for (const auto& [options, field] : cases) {
        const auto bad = check("doubao-seedance-1-0-pro-250528", options);
        ASSERT_TRUE(bad) << options;
        EXPECT_EQ(bad->first, field) << options;
    }
}

TEST(AcedataProvider, LiteI2vNeedsAnImage) {
    const auto bad = check("doubao-seedance-1-0-lite-i2v-250428", "{}");
    ASSERT_TRUE(bad);
    EXPECT_EQ(bad->first, "image_urls");
    EXPECT_FALSE(
        check("doubao-seedance-1-0-lite-i2v-250428", "{}", {"https://img.example.com/a.png"})
    );
}

TEST(AcedataProvider, PromptMayNotCarryItsOwnFlags) {
    for (const char* prompt :
         {"a cat --dur 12", "--rs 1080p a cat", "a cat --Seed=3", "a cat --camera_fixed true"}) {
        const auto bad = check("doubao-seedance-1-0-pro-250528", "{}", {}, prompt);
        ASSERT_TRUE(bad) << prompt;
        EXPECT_EQ(bad->first, "prompt");
    }
    EXPECT_FALSE(check("doubao-seedance-1-0-pro-250528", "{}", {}, "a cat -- durable, --duress"));
}

TEST(AcedataProvider, RedactsTheCallbackUrlOfAQueryAnswer) {
    const std::string clean = AcedataProvider::redact_query_answer(kQueryAnswer);
    EXPECT_EQ(clean.find("SECRET-TOKEN"), std::string::npos);
    EXPECT_EQ(clean.find("hooks.example.com"), std::string::npos);
    auto doc = json::parse(clean);
    ASSERT_TRUE(doc);
    EXPECT_EQ(json::get_string(*json::find(*doc, "request"), "callback_url"), "[redacted]");
    auto task = AcedataProvider::parse_query_answer(*doc);
    ASSERT_TRUE(task);
    EXPECT_EQ(task->video_url, "https://cdn.example.com/v.mp4");
}

TEST(AcedataProvider, RedactsCallbackUrlsNestedAndInsideJsonStrings) {
    const std::string body = R"({"a": [{"callback_url": "https://h.example.com/?token=T1"}],
        "request": "{\"callback_url\": \"https://h.example.com/?token=T2\", \"model\": \"m\"}"})";
    const std::string clean = AcedataProvider::redact_query_answer(body);
    EXPECT_EQ(clean.find("T1"), std::string::npos);
    EXPECT_EQ(clean.find("T2"), std::string::npos);
    EXPECT_NE(clean.find("model"), std::string::npos);
    EXPECT_TRUE(json::parse(clean));
}

TEST(AcedataProvider, RedactsCallbackUrlsInBodiesThatAreNotJson) {
    const std::string clean = AcedataProvider::redact_query_answer(
        R"(oops {"callback_url" : "https://h.example.com/?token=T3", "x": 1 and {\"callback_url\":\"https://h/?token=T4\"})"
    );
    EXPECT_EQ(clean.find("T3"), std::string::npos);
    EXPECT_EQ(clean.find("T4"), std::string::npos);
    EXPECT_NE(clean.find("\"x\": 1"), std::string::npos);
}

TEST(AcedataProvider, RedactionLeavesOtherBodiesAlone) {
    const std::string body = R"({"callback_url": null, "b": "callback_url is a word"})";
    EXPECT_EQ(AcedataProvider::redact_query_answer(body), json::to_string(*json::parse(body)));
}
