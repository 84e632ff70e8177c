#include "server/services/request_validator.hpp"

#include "server/providers/evolink/evolink_provider.hpp"

#include <string>
#include <variant>

#include <gtest/gtest.h>

using seedhook::providers::EvolinkProvider;
using seedhook::providers::ModelSpec;
using seedhook::providers::ProviderOptions;
using seedhook::providers::VideoRequest;
using seedhook::services::FieldError;
using seedhook::services::JobInput;
using seedhook::services::utf8_length;
using seedhook::services::validate_request;

namespace {

constexpr const char* kPro15 = "seedance-1.5-pro";
constexpr const char* kFast10 = "doubao-seedance-1.0-pro-fast";
constexpr const char* kFast20 = "seedance-2.0-fast-text-to-video";
constexpr const char* kImage1 = "https://img.example.com/a.png";
constexpr const char* kImage2 = "https://img.example.com/b.png";

class RequestValidatorTest : public testing::Test {
protected:
    const ModelSpec& model(std::string_view name) const {
        for (const auto& m : provider_.models()) {
            if (m.name == name) {
                return m;
            }
        }
        throw std::runtime_error("no model " + std::string(name));
    }

    static JobInput input(const char* prompt = "A cat playing piano") {
        JobInput in;
        in.prompt = prompt;
        return in;
    }

    /// The validated request; fails the test when a field was refused.
    VideoRequest accepted(const JobInput& in, std::string_view model_name) const {
        auto result = validate_request(in, model(model_name), provider_);
        if (const auto* error = std::get_if<FieldError>(&result)) {
            ADD_FAILURE() << "refused: " << error->field << " " << error->message;
            return {};
        }
        return std::get<VideoRequest>(result);
    }

    /// The refused field's path; fails the test when the request was accepted.
    std::string refused_field(const JobInput& in, std::string_view model_name) const {
        auto result = validate_request(in, model(model_name), provider_);
        if (const auto* error = std::get_if<FieldError>(&result)) {
            EXPECT_FALSE(error->message.empty());
            return error->field;
        }
        ADD_FAILURE() << "accepted, but a field should have been refused";
        return {};
    }

    EvolinkProvider provider_{ProviderOptions{}};
};

std::string repeat(std::string_view unit, std::size_t n) {
    std::string out;
    for (std::size_t i = 0; i < n; ++i) {
        out += unit;
    }
    return out;
}

}  // namespace

TEST_F(RequestValidatorTest, EvolinkServesTheThreeModels) {
    EXPECT_NO_THROW(model(kPro15));
    EXPECT_NO_THROW(model(kFast10));
    EXPECT_NO_THROW(model(kFast20));
}

TEST_F(RequestValidatorTest, Seedance15ProAppliesTheDefaults) {
    const VideoRequest r = accepted(input(), kPro15);
    EXPECT_EQ(r.model, kPro15);
    EXPECT_EQ(r.prompt, "A cat playing piano");
    EXPECT_EQ(r.duration, 5);
    EXPECT_EQ(r.quality, "720p");
    EXPECT_EQ(r.aspect_ratio, "16:9");
    EXPECT_EQ(r.generate_audio, true);
    EXPECT_TRUE(r.image_urls.empty());
}

TEST_F(RequestValidatorTest, Seedance15ProKeepsTheCallersChoices) {
    JobInput in = input();
    in.duration = 10;
    in.quality = "1080p";
    in.aspect_ratio = "9:16";
    in.generate_audio = false;
    const VideoRequest r = accepted(in, kPro15);
    EXPECT_EQ(r.duration, 10);
    EXPECT_EQ(r.quality, "1080p");
    EXPECT_EQ(r.aspect_ratio, "9:16");
    EXPECT_EQ(r.generate_audio, false);
}

TEST_F(RequestValidatorTest, Seedance15ProDurationMustBeFourToTwelve) {
    for (std::int64_t d : {3, 13, 0, -5}) {
        JobInput in = input();
        in.duration = d;
        EXPECT_EQ(refused_field(in, kPro15), "duration") << d;
    }
    for (std::int64_t d : {4, 12}) {
        JobInput in = input();
        in.duration = d;
        EXPECT_EQ(accepted(in, kPro15).duration, d);
    }
}

TEST_F(RequestValidatorTest, Seedance15ProRefusesAnUnknownQuality) {
    JobInput in = input();
    in.quality = "4k";
    EXPECT_EQ(refused_field(in, kPro15), "quality");
}

TEST_F(RequestValidatorTest, Seedance15ProRefusesAnUnknownAspectRatio) {
    JobInput in = input();
    in.aspect_ratio = "2:1";
    EXPECT_EQ(refused_field(in, kPro15), "aspect_ratio");
    in.aspect_ratio = "adaptive";
    EXPECT_EQ(accepted(in, kPro15).aspect_ratio, "adaptive");
}

TEST_F(RequestValidatorTest, Seedance15ProTakesAtMostTwoImages) {
    JobInput in = input();
    in.image_urls = {kImage1, kImage2, "https://img.example.com/c.png"};
    EXPECT_EQ(refused_field(in, kPro15), "image_urls");
    in.image_urls.pop_back();
    EXPECT_EQ(accepted(in, kPro15).image_urls.size(), 2U);
}

TEST_F(RequestValidatorTest, ImageUrlMustBeHttps) {
    JobInput in = input();
    in.image_urls = {"http://img.example.com/a.png"};
    EXPECT_EQ(refused_field(in, kPro15), "image_urls[0]");
    in.image_urls = {kImage1, "ftp://img.example.com/b.png"};
    EXPECT_EQ(refused_field(in, kPro15), "image_urls[1]");
    in.image_urls = {"not a url"};
    EXPECT_EQ(refused_field(in, kPro15), "image_urls[0]");
}

TEST_F(RequestValidatorTest, Seedance15ProPromptLimitCountsCharactersNotBytes) {
    const std::string at_limit = repeat("\xe7\x8c\xab", 2000);  // "猫" x 2000, 6000 bytes
    JobInput in = input();
    in.prompt = at_limit;
    EXPECT_EQ(accepted(in, kPro15).prompt, at_limit);
    in.prompt = at_limit + "\xe7\x8c\xab";
    EXPECT_EQ(refused_field(in, kPro15), "prompt");
}

TEST_F(RequestValidatorTest, EmptyOrWhitespacePromptIsRefused) {
    for (const char* prompt : {"", " ", " \t\r\n "}) {
        EXPECT_EQ(refused_field(input(prompt), kPro15), "prompt") << '"' << prompt << '"';
    }
    JobInput missing;
    EXPECT_EQ(refused_field(missing, kPro15), "prompt");
}

TEST_F(RequestValidatorTest, UnknownOptionIsRefusedWithItsPath) {
    JobInput in = input();
    in.options_json = R"({"x": 1})";
    EXPECT_EQ(refused_field(in, kPro15), "options.x");
}

TEST_F(RequestValidatorTest, FastModelDefaultsTo1080pAndHasNoAudio) {
    const VideoRequest r = accepted(input(), kFast10);
    EXPECT_EQ(r.quality, "1080p");
    EXPECT_EQ(r.duration, 5);
    EXPECT_EQ(r.aspect_ratio, "16:9");
    EXPECT_FALSE(r.generate_audio.has_value());
}

TEST_F(RequestValidatorTest, FastModelRefuses480p) {
    JobInput in = input();
    in.quality = "480p";
    EXPECT_EQ(refused_field(in, kFast10), "quality");
    in.quality = "720p";
    EXPECT_EQ(accepted(in, kFast10).quality, "720p");
}

TEST_F(RequestValidatorTest, FastModelAcceptsTwoSeconds) {
    JobInput in = input();
    in.duration = 2;
    EXPECT_EQ(accepted(in, kFast10).duration, 2);
    in.duration = 1;
    EXPECT_EQ(refused_field(in, kFast10), "duration");
}

TEST_F(RequestValidatorTest, FastModelTakesAtMostOneImage) {
    JobInput in = input();
    in.image_urls = {kImage1};
    EXPECT_EQ(accepted(in, kFast10).image_urls, std::vector<std::string>{kImage1});
    in.image_urls = {kImage1, kImage2};
    EXPECT_EQ(refused_field(in, kFast10), "image_urls");
}

TEST_F(RequestValidatorTest, FastModelKeepRatioNeedsAnImage) {
    JobInput in = input();
    in.aspect_ratio = "keep_ratio";
    EXPECT_EQ(refused_field(in, kFast10), "aspect_ratio");
    in.image_urls = {kImage1};
    EXPECT_EQ(accepted(in, kFast10).aspect_ratio, "keep_ratio");
}

TEST_F(RequestValidatorTest, FastModelAdaptiveNeedsAnImage) {
    JobInput in = input();
    in.aspect_ratio = "adaptive";
    EXPECT_EQ(refused_field(in, kFast10), "aspect_ratio");
}

TEST_F(RequestValidatorTest, FastModelDefaultRatioDependsOnTheImage) {
    JobInput in = input();
    EXPECT_EQ(accepted(in, kFast10).aspect_ratio, "16:9");
    in.image_urls = {kImage1};
    EXPECT_EQ(accepted(in, kFast10).aspect_ratio, "adaptive");
}

TEST_F(RequestValidatorTest, FastModelRefusesGenerateAudio) {
    for (bool audio : {true, false}) {
        JobInput in = input();
        in.generate_audio = audio;
        EXPECT_EQ(refused_field(in, kFast10), "generate_audio") << audio;
    }
}

TEST_F(RequestValidatorTest, FastModelPromptIsAtMostOneThousandCharacters) {
    JobInput in = input();
    in.prompt = std::string(1000, 'a');
    EXPECT_EQ(accepted(in, kFast10).prompt.size(), 1000U);
    in.prompt = std::string(1001, 'a');
    EXPECT_EQ(refused_field(in, kFast10), "prompt");
}

TEST_F(RequestValidatorTest, TextToVideoModelRefusesAnyImage) {
    JobInput in = input();
    in.image_urls = {kImage1};
    EXPECT_EQ(refused_field(in, kFast20), "image_urls");
}

TEST_F(RequestValidatorTest, TextToVideoModelDurationUpToFifteen) {
    JobInput in = input();
    in.duration = 15;
    EXPECT_EQ(accepted(in, kFast20).duration, 15);
    in.duration = 16;
    EXPECT_EQ(refused_field(in, kFast20), "duration");
}

TEST_F(RequestValidatorTest, TextToVideoModelRefuses1080p) {
    JobInput in = input();
    in.quality = "1080p";
    EXPECT_EQ(refused_field(in, kFast20), "quality");
}

TEST_F(RequestValidatorTest, TextToVideoModelHasAudioByDefault) {
    const VideoRequest r = accepted(input(), kFast20);
    EXPECT_EQ(r.generate_audio, true);
    EXPECT_EQ(r.quality, "720p");
}

TEST_F(RequestValidatorTest, TextToVideoModelParamsMustBeAnObject) {
    JobInput in = input();
    in.options_json = R"({"model_params": "fast"})";
    EXPECT_EQ(refused_field(in, kFast20), "options.model_params");
    in.options_json = R"({"model_params": [1]})";
    EXPECT_EQ(refused_field(in, kFast20), "options.model_params");
    in.options_json = R"({"model_params": {"seed": 7}})";
    EXPECT_EQ(accepted(in, kFast20).options_json, in.options_json);
}

TEST_F(RequestValidatorTest, ModelParamsIsNotAnOptionOfOtherModels) {
    JobInput in = input();
    in.options_json = R"({"model_params": {"seed": 7}})";
    EXPECT_EQ(refused_field(in, kPro15), "options.model_params");
}

TEST_F(RequestValidatorTest, OptionsThatAreNotAnObjectAreRefused) {
    JobInput in = input();
    in.options_json = "[]";
    EXPECT_EQ(refused_field(in, kFast20), "options");
}

TEST(Utf8Length, CountsCodePoints) {
    EXPECT_EQ(utf8_length(""), 0U);
    EXPECT_EQ(utf8_length("abc"), 3U);
    EXPECT_EQ(utf8_length("\xc3\xa9"), 1U);                  // é
    EXPECT_EQ(utf8_length("\xe7\x8c\xab\xe7\x8c\xab"), 2U);  // 猫猫
    EXPECT_EQ(utf8_length("\xf0\x9f\x90\xb1"), 1U);          // cat emoji
    EXPECT_EQ(
        utf8_length("a\xe7\x8c\xab"
                    "b"),
        3U
    );
}
