#include "server/services/request_validator.hpp"

#include <algorithm>

#include "common/url.hpp"

namespace seedhook::services {

namespace {

constexpr std::size_t kMaxImageUrl = 2048;

bool contains(const std::vector<std::string>& list, const std::string& v) {
    return std::find(list.begin(), list.end(), v) != list.end();
}

std::string join(const std::vector<std::string>& list) {
    std::string out;
    for (const auto& item : list) {
        out += (out.empty() ? "" : ", ") + item;
    }
    return out;
}

std::optional<FieldError> check_prompt(const JobInput& in, const providers::ModelSpec& m) {
    const std::string prompt = in.prompt.value_or("");
    if (m.prompt_required && prompt.find_first_not_of(" \t\r\n") == std::string::npos) {
        return FieldError{"prompt", "is required and must not be empty"};
    }
    if (m.prompt_max_chars != 0 && utf8_length(prompt) > m.prompt_max_chars) {
        return FieldError{"prompt", "must have at most " + std::to_string(m.prompt_max_chars) +
                                        " characters for model " + m.name};
    }
    return std::nullopt;
}

std::optional<FieldError> check_images(const JobInput& in, const providers::ModelSpec& m) {
    if (in.image_urls.size() > m.max_images) {
        if (m.max_images == 0) {
            return FieldError{"image_urls", "model " + m.name + " takes no images (text to video only)"};
        }
        return FieldError{"image_urls", "model " + m.name + " takes at most " +
                                            std::to_string(m.max_images) + " image(s)"};
    }
    for (std::size_t i = 0; i < in.image_urls.size(); ++i) {
        const auto& url = in.image_urls[i];
        auto parsed = parse_absolute_url(url);
        if (!parsed || parsed->scheme != "https" || url.size() > kMaxImageUrl) {
            return FieldError{"image_urls[" + std::to_string(i) + "]",
                              "must be an absolute https URL of at most 2048 characters"};
        }
    }
    return std::nullopt;
}

}  // namespace

std::size_t utf8_length(std::string_view text) {
    return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
        return (static_cast<unsigned char>(c) & 0xC0U) != 0x80U;
    }));
}

std::variant<providers::VideoRequest, FieldError> validate_request(
    const JobInput& in,
    const providers::ModelSpec& m,
    const providers::Provider& provider
) {
    if (auto e = check_prompt(in, m)) {
        return *e;
    }
    providers::VideoRequest out;
    out.model = m.name;
    out.prompt = in.prompt.value_or("");
    out.duration = in.duration.value_or(m.duration_default);
    if (out.duration < m.duration_min || out.duration > m.duration_max) {
        return FieldError{"duration", "must be a whole number of seconds from " +
                                          std::to_string(m.duration_min) + " to " +
                                          std::to_string(m.duration_max) + " for model " + m.name};
    }
    out.quality = in.quality.value_or(m.quality_default);
    if (!contains(m.qualities, out.quality)) {
        return FieldError{"quality", "must be one of " + join(m.qualities) + " for model " + m.name};
    }
    if (auto e = check_images(in, m)) {
        return *e;
    }
    out.image_urls = in.image_urls;
    const bool with_image = !out.image_urls.empty();
    const std::string& default_ratio = with_image && !m.aspect_ratio_default_with_image.empty()
                                           ? m.aspect_ratio_default_with_image
                                           : m.aspect_ratio_default;
    out.aspect_ratio = in.aspect_ratio.value_or(default_ratio);
    const bool ratio_ok = contains(m.aspect_ratios, out.aspect_ratio) ||
                          (with_image && contains(m.image_only_aspect_ratios, out.aspect_ratio));
    if (!ratio_ok) {
        std::string allowed = join(m.aspect_ratios);
        if (!m.image_only_aspect_ratios.empty()) {
            allowed += " (with an image also " + join(m.image_only_aspect_ratios) + ")";
        }
        return FieldError{"aspect_ratio", "must be one of " + allowed + " for model " + m.name};
    }
    if (in.generate_audio && !m.audio) {
        return FieldError{"generate_audio", "is not supported by model " + m.name};
    }
    if (m.audio) {
        out.generate_audio = in.generate_audio.value_or(m.audio_default);
    }
    out.options_json = in.options_json;
    if (auto bad = provider.check_request(m, out)) {
        return FieldError{bad->first, bad->second};
    }
    return out;
}

}  // namespace seedhook::services
