#pragma once

#include <cstdint>
#include <string>

namespace seedhook {

/// Milliseconds since the Unix epoch (system clock).
std::int64_t now_ms();

/// "2026-11-21T10:00:00.000Z" for a millisecond timestamp.
std::string format_iso8601(std::int64_t unix_ms);

}  // namespace seedhook
