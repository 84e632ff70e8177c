#pragma once

/// Leveled logger: one JSON object per line on stdout, each with UTC time, level, component
/// and message. Thread-safe; a background thread writes the lines in batches. Every registered secret is replaced by "[redacted]" before a
/// line is written, as a second line of defence behind never passing secrets in.

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>

namespace seedhook::log {

enum class Level { kDebug, kInfo, kWarn, kError };

/// A structured field of a log line.
struct Field {
    std::string_view key;
    std::variant<std::string_view, std::int64_t, double, bool> value;
};

void set_level(Level level);
std::optional<Level> parse_level(std::string_view name);
bool enabled(Level level);

/// Registers a value that must never appear in a log line (empty values are ignored).
void add_secret(std::string secret);

/// `text` with every registered secret replaced by "[redacted]" (for text from outside, such
/// as provider messages, before it is shown or stored).
std::string redact(std::string text);

/// Writes the lines still pending to stdout (they are otherwise written within a few
/// milliseconds, at once for warnings and errors, and at exit).
void flush();

/// Redirects output (tests); nullptr restores stdout.
void set_sink(void (*sink)(std::string_view line));

void write(Level level, std::string_view component, std::string_view message, std::span<const Field> fields);

inline void write(
    Level level,
    std::string_view component,
    std::string_view message,
    std::initializer_list<Field> fields = {}
) {
    write(level, component, message, std::span<const Field>(fields.begin(), fields.size()));
}

inline void debug(std::string_view c, std::string_view m, std::initializer_list<Field> f = {}) {
    write(Level::kDebug, c, m, f);
}

inline void info(std::string_view c, std::string_view m, std::initializer_list<Field> f = {}) {
    write(Level::kInfo, c, m, f);
}

inline void warn(std::string_view c, std::string_view m, std::initializer_list<Field> f = {}) {
    write(Level::kWarn, c, m, f);
}

inline void error(std::string_view c, std::string_view m, std::initializer_list<Field> f = {}) {
    write(Level::kError, c, m, f);
}

}  // namespace seedhook::log
