#include "server/providers/acedata/acedata_models.hpp"

#include "common/json.hpp"

#include <array>
#include <cctype>

namespace seedhook::providers::acedata {

namespace {

std::vector<std::string> six_ratios() {
    return {"16:9", "4:3", "1:1", "3:4", "9:16", "21:9"};
}

ModelSpec base_model(std::string_view name) {
    ModelSpec m;
    m.name = std::string(name);
    m.prompt_required = true;
    m.duration_min = 2;
    m.duration_max = 12;
    m.duration_default = 5;
    m.qualities = {"480p", "720p", "1080p"};
    m.quality_default = "720p";
    m.aspect_ratios = six_ratios();
    // The flags table lists adaptive among --rt's values with "adaptive with an image" as the
    // default; for the 1.0 models it is allowed only with an image (Ark's text-to-video 1.0
    // models have no image to adapt to).
    m.image_only_aspect_ratios = {"adaptive"};
    m.aspect_ratio_default = "16:9";
    m.aspect_ratio_default_with_image = "adaptive";
    m.max_images = 2;  // 1: first frame, 2: first and last frame
    m.options = {
        "seed",
        "fps",
        "watermark",
        "camera_fixed",
        "service_tier",
        "execution_expires_after",
        "return_last_frame"};
    return m;
}

using FieldProblem = std::optional<std::pair<std::string, std::string>>;

FieldProblem problem(std::string_view name, std::string message) {
    return std::make_pair("options." + std::string(name), std::move(message));
}

FieldProblem check_int(
    const json::Value& options, std::string_view name, std::int64_t lo, std::int64_t hi
) {
    const json::Value* v = json::find(options, name);
    if (v == nullptr) {
        return std::nullopt;
    }
    if (!v->IsInt64() || v->GetInt64() < lo || v->GetInt64() > hi) {
        return problem(
            name, "must be a whole number from " + std::to_string(lo) + " to " + std::to_string(hi)
        );
    }
    return std::nullopt;
}

FieldProblem check_bool(const json::Value& options, std::string_view name) {
    const json::Value* v = json::find(options, name);
    if (v != nullptr && !v->IsBool()) {
        return problem(name, "must be true or false");
    }
    return std::nullopt;
}

}  // namespace

std::vector<ModelSpec> make_models() {
    // "1.0 pro models: 1080p" in the flags table: both 1.0 pro models, the fast one included.
    ModelSpec pro10 = base_model(kPro10);
    pro10.quality_default = "1080p";

    // Ark's 1.0 pro fast takes a first frame only.
    ModelSpec fast10 = base_model(kProFast10);
    fast10.quality_default = "1080p";
    fast10.max_images = 1;

    ModelSpec pro15 = base_model(kPro15);
    pro15.duration_min = 4;
    pro15.aspect_ratios.emplace_back("adaptive");  // 1.5 pro adapts to the prompt too
    pro15.image_only_aspect_ratios.clear();
    pro15.audio = true;
    pro15.audio_default = false;  // acedata-seedance-videos.ru.txt: generate_audio default false

    // lite-t2v is text to video only. lite-i2v is image to video: its page names no count, so
    // we take what the other models take, a first frame and optionally a last frame (1 or 2
    // images), and require at least one (AcedataProvider::check_request).
    ModelSpec t2v = base_model(kLiteT2v);
    t2v.max_images = 0;
    t2v.image_only_aspect_ratios.clear();
    t2v.aspect_ratio_default_with_image.clear();
    ModelSpec i2v = base_model(kLiteI2v);

    return {pro10, fast10, pro15, t2v, i2v};
}

std::optional<std::pair<std::string, std::string>> check_option_values(std::string_view options_json
) {
    auto options = json::parse(options_json);
    if (!options || !options->IsObject()) {
        return std::make_pair(std::string("options"), std::string("must be an object"));
    }
    if (auto bad = check_int(*options, "seed", -1, kSeedMax)) {
        return bad;
    }
    if (auto bad = check_int(*options, "fps", 24, 24)) {
        return problem("fps", "must be 24 (the only frame rate offered)");
    }
    for (const std::string_view name : {"watermark", "camera_fixed", "return_last_frame"}) {
        if (auto bad = check_bool(*options, name)) {
            return bad;
        }
    }
    if (const json::Value* tier = json::find(*options, "service_tier")) {
        const auto word = json::get_string(*options, "service_tier");
        if (!tier->IsString() || (*word != "default" && *word != "flex")) {
            return problem("service_tier", "must be default or flex");
        }
    }
    return check_int(*options, "execution_expires_after", kExpiresMin, kExpiresMax);
}

bool has_command_flag(std::string_view prompt) {
    static constexpr std::array<std::string_view, 14> kFlags = {
        "rs",
        "resolution",
        "rt",
        "ratio",
        "dur",
        "duration",
        "fps",
        "framespersecond",
        "wm",
        "watermark",
        "seed",
        "cf",
        "camerafixed",
        "camera_fixed"};
    std::size_t i = 0;
    while ((i = prompt.find("--", i)) != std::string_view::npos) {
        const bool word_start =
            i == 0 || std::isspace(static_cast<unsigned char>(prompt[i - 1])) != 0;
        std::size_t end = i + 2;
        std::string name;
        while (end < prompt.size() &&
               (std::isalpha(static_cast<unsigned char>(prompt[end])) != 0 || prompt[end] == '_')) {
            name.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(prompt[end])))
            );
            ++end;
        }
        const bool word_end = end == prompt.size() || prompt[end] == '=' ||
                              std::isspace(static_cast<unsigned char>(prompt[end])) != 0;
        for (const auto flag : kFlags) {
            if (word_start && word_end && name == flag) {
                return true;
            }
        }
        i += 2;
    }
    return false;
}

}  // namespace seedhook::providers::acedata
