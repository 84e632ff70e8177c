#pragma once

/// The model rules of SPEC §4, checked before anything is sent to a provider.

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "server/providers/provider.hpp"

namespace seedhook::services {

/// A create-job body as the caller sent it, types already checked by the handler.
struct JobInput {
    std::optional<std::string> model;
    std::optional<std::string> provider;
    std::optional<std::string> prompt;
    std::optional<std::int64_t> duration;
    std::optional<std::string> quality;
    std::optional<std::string> aspect_ratio;
    std::vector<std::string> image_urls;
    std::optional<bool> generate_audio;
    std::string options_json = "{}";
    std::string metadata_json = "null";
    std::optional<std::string> idempotency_key;  ///< from the Idempotency-Key header
};

/// One broken rule: the JSON path of the field and a sentence about it.
struct FieldError {
    std::string field;
    std::string message;
};

/// Checks `input` against `model`'s rules and applies the defaults.
std::variant<providers::VideoRequest, FieldError> validate_request(
    const JobInput& input,
    const providers::ModelSpec& model,
    const providers::Provider& provider
);

/// Number of Unicode code points in valid UTF-8 text.
std::size_t utf8_length(std::string_view text);

}  // namespace seedhook::services
