#pragma once

/// The only file that includes RapidJSON. Parsing is strict UTF-8 and iterative, so deeply
/// nested input cannot exhaust the stack.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

// RapidJSON's SSE2 paths (every x86-64 has SSE2) scan strings and whitespace 16 bytes at a
// time. Defined here, before its first include, so every file sees the same RapidJSON.
// Debian's RapidJSON 1.1.0 gets one thing wrong in them: its string scans stop at bytes up to
// 0x19, not 0x1F, so the reader would accept raw 0x1A-0x1F inside a string and the writer
// would copy them unescaped. parse() therefore refuses every raw control character JSON does
// not allow before RapidJSON sees the text, and FastWriter escapes every string itself.
#if defined(__SSE2__) && !defined(RAPIDJSON_SSE2)
#define RAPIDJSON_SSE2
#endif
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace seedhook::json {

using Document = rapidjson::Document;
using Value = rapidjson::Value;

/// Arrays and objects nested deeper than this are refused by parse().
inline constexpr std::size_t kMaxDepth = 64;

/// Parses `text`; nullopt when it is not valid JSON (or not valid UTF-8, a lone surrogate
/// escape included), nests deeper than kMaxDepth, or holds a number too large for a double:
/// whatever parses can be written back as JSON.
std::optional<Document> parse(std::string_view text);

/// The member `key` of `object`, or nullptr when absent (or `object` is not an object).
const Value* find(const Value& object, std::string_view key);

/// The member as a string when present and a string.
std::optional<std::string_view> get_string(const Value& object, std::string_view key);

/// The member as an integer when present and an integral number.
std::optional<std::int64_t> get_int(const Value& object, std::string_view key);

/// The member as a bool when present and a bool.
std::optional<bool> get_bool(const Value& object, std::string_view key);

/// A string or a number rendered as text (providers send error codes as either).
std::optional<std::string> get_text(const Value& object, std::string_view key);

/// Serialises a value compactly.
std::string to_string(const Value& value);

/// RapidJSON's writer, with strings and keys written by its own code: copied in one piece when
/// they need no escape (RapidJSON goes byte by byte, ~10 instructions each), escaped as
/// RapidJSON escapes them otherwise (short escapes, else \u00XX), minus its SSE2 scan's gap.
class FastWriter : public rapidjson::Writer<rapidjson::StringBuffer> {
    using Base = rapidjson::Writer<rapidjson::StringBuffer>;

public:
    using Base::Base;

    // Only these two: RapidJSON's other String and Key overloads (NUL-terminated, std::string)
    // call its own String, and would bring its SSE2 writer back.
    bool String(const char* str, rapidjson::SizeType length, bool copy = false);
    bool Key(const char* str, rapidjson::SizeType length, bool copy = false) { return String(str, length, copy); }

private:
    void write_escaped(std::string_view s);
};

/// True when `s` holds a byte a JSON string must escape: '"', '\\' or one below 0x20.
bool needs_escape(std::string_view s);

/// Streaming JSON writer over an owned buffer.
class Writer {
public:
    Writer();
    Writer(const Writer&) = delete;
    Writer& operator=(const Writer&) = delete;
    ~Writer();

    void start_object() { writer_.StartObject(); }

    void end_object() { writer_.EndObject(); }

    void start_array() { writer_.StartArray(); }

    void end_array() { writer_.EndArray(); }

    void key(std::string_view k);
    void string(std::string_view v);
    void int64(std::int64_t v) { writer_.Int64(v); }
    void boolean(bool v) { writer_.Bool(v); }
    void null() { writer_.Null(); }
    /// Inserts already-serialised JSON as a value (it must be valid JSON).
    void raw(std::string_view json_text);
    void value(const Value& v);

    void member(std::string_view k, std::string_view v);
    void member(std::string_view k, const char* v) { member(k, std::string_view(v)); }
    void member(std::string_view k, const std::string& v) { member(k, std::string_view(v)); }
    void member(std::string_view k, std::int64_t v);
    void member(std::string_view k, int v) { member(k, static_cast<std::int64_t>(v)); }
    void member(std::string_view k, bool v);
    /// Writes the member, or `null` when the optional is empty.
    void member_or_null(std::string_view k, const std::optional<std::string>& v);
    void member_or_null(std::string_view k, const std::optional<std::int64_t>& v);
    void member_null(std::string_view k);

    /// The text written so far; the writer is reset.
    std::string take();
    /// The text written so far, valid until the next call; the writer is not reset.
    std::string_view view() const { return {buffer_.GetString(), buffer_.GetSize()}; }
    /// Forgets what was written (and any unfinished value), keeping the memory for the next.
    void clear();

private:
    rapidjson::StringBuffer buffer_;
    FastWriter writer_;
};

}  // namespace seedhook::json
