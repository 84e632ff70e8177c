#pragma once

/// acedata's five Seedance models and the rules of their `options` (PROVIDERS.md, the
/// text-command flags table; SPEC §4). Plain functions, no I/O.

#include "server/providers/provider.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace seedhook::providers::acedata {

inline constexpr std::string_view kPro10 = "doubao-seedance-1-0-pro-250528";
inline constexpr std::string_view kProFast10 = "doubao-seedance-1-0-pro-fast-251015";
inline constexpr std::string_view kPro15 = "doubao-seedance-1-5-pro-251215";
inline constexpr std::string_view kLiteT2v = "doubao-seedance-1-0-lite-t2v-250428";
inline constexpr std::string_view kLiteI2v = "doubao-seedance-1-0-lite-i2v-250428";

inline constexpr std::int64_t kExpiresMin = 3600;
inline constexpr std::int64_t kExpiresMax = 259200;
inline constexpr std::int64_t kExpiresDefault = 172800;
inline constexpr std::int64_t kSeedMax = 4294967295;

/// The five models with their rules.
std::vector<ModelSpec> make_models();

/// Checks the acedata option values (names were checked by Provider::check_options); returns
/// the faulty field's path ("options.seed") and a sentence.
std::optional<std::pair<std::string, std::string>> check_option_values(std::string_view options_json
);

/// True when `prompt` carries one of the text-command flags (--rs, --ratio, ...) as a word.
bool has_command_flag(std::string_view prompt);

}  // namespace seedhook::providers::acedata
