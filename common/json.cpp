#include "common/json.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace seedhook::json {

namespace {
// Strict UTF-8; iterative so nesting depth cannot overflow the stack; trailing junk is an error.
constexpr unsigned kParseFlags = rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag;

rapidjson::SizeType size_of(std::string_view s) {
    return static_cast<rapidjson::SizeType>(s.size());
}

// Length of the valid UTF-8 sequence at `s[i]`, or 0 when it is not one.
std::size_t utf8_sequence(std::string_view s, std::size_t i) {
    const auto byte = [&s](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char c = byte(i);
    std::size_t n = 0;
    unsigned min = 0;
    if (c < 0x80) {
        return 1;
    }
    if ((c & 0xE0U) == 0xC0) {
        n = 2;
        min = 0x80;
    } else if ((c & 0xF0U) == 0xE0) {
        n = 3;
        min = 0x800;
    } else if ((c & 0xF8U) == 0xF0) {
        n = 4;
        min = 0x10000;
    } else {
        return 0;
    }
    if (i + n > s.size()) {
        return 0;
    }
    unsigned cp = c & (0x7FU >> n);
    for (std::size_t k = 1; k < n; ++k) {
        if ((byte(i + k) & 0xC0U) != 0x80) {
            return 0;
        }
        cp = (cp << 6U) | (byte(i + k) & 0x3FU);
    }
    const bool surrogate = cp >= 0xD800 && cp <= 0xDFFF;
    return cp < min || cp > 0x10FFFF || surrogate ? 0 : n;
}

// `s` with every invalid UTF-8 sequence replaced by U+FFFD, so the output stays valid JSON.
std::string valid_utf8(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size();) {
        const std::size_t n = utf8_sequence(s, i);
        if (n == 0) {
            out += "\xEF\xBF\xBD";
            ++i;
        } else {
            out.append(s.substr(i, n));
            i += n;
        }
    }
    return out;
}

// Scans that look at text eight bytes at a time, one 64-bit word each (Hacker's Delight).
constexpr std::size_t kWord = sizeof(std::uint64_t);
constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
constexpr std::uint64_t kHighs = 0x8080808080808080ULL;

std::uint64_t word_at(std::string_view s, std::size_t i) {
    std::uint64_t w = 0;
    std::memcpy(&w, s.data() + i, kWord);
    return w;
}

// Non-zero when a byte of `w` is below `n` (at most 0x80): "haslessthan", exact for whether any
// byte is, which is all these scans ask.
constexpr std::uint64_t bytes_below(std::uint64_t w, std::uint64_t n) { return (w - kOnes * n) & ~w & kHighs; }

// The end of the run of ASCII bytes that starts at `s[i]`: eight bytes at a time while no
// byte has its high bit set, as most text is ASCII.
std::size_t ascii_prefix(std::string_view s, std::size_t i) {
    while (i + kWord <= s.size() && (word_at(s, i) & kHighs) == 0) {
        i += kWord;
    }
    while (i < s.size() && (static_cast<unsigned char>(s[i]) & 0x80U) == 0) {
        ++i;
    }
    return i;
}

// How many times `c` occurs in `text`, counting no further than `limit`.
std::size_t count_up_to(std::string_view text, char c, std::size_t limit) {
    std::size_t n = 0;
    for (std::size_t at = text.find(c); at != std::string_view::npos && n < limit; at = text.find(c, at + 1)) {
        ++n;
    }
    return n;
}

bool is_valid_utf8(std::string_view s) {
    for (std::size_t i = 0; i < s.size();) {
        i = ascii_prefix(s, i);
        if (i == s.size()) {
            break;
        }
        const std::size_t n = utf8_sequence(s, i);
        if (n == 0) {
            return false;
        }
        i += n;
    }
    return true;
}

// True when arrays and objects nest deeper than kMaxDepth outside of strings.
bool too_deep(std::string_view text) {
    std::size_t depth = 0;
    bool in_string = false;
    bool escaped = false;
    for (const char c : text) {
        if (in_string) {
            if (escaped) {
                escaped = false;
            } else if (c == '\\') {
                escaped = true;
            } else if (c == '"') {
                in_string = false;
            }
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > kMaxDepth) {
                return true;
            }
        } else if ((c == ']' || c == '}') && depth > 0) {
            --depth;
        }
    }
    return false;
}

// True when a `\uDC00`-`\uDFFF` escape does not complete a `\uD800`-`\uDBFF` one: RapidJSON
// 1.1.0 decodes such a lone low surrogate into bytes that are not UTF-8, which every writer
// would then copy out (it refuses a lone high surrogate itself).
bool has_lone_low_surrogate(std::string_view text) {
    std::size_t high_end = std::string_view::npos;  // just past the last high-surrogate escape
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '\\') {
            continue;
        }
        unsigned code = 0;
        std::size_t k = i + 2;
        for (; k < i + 6 && k < text.size() && std::isxdigit(static_cast<unsigned char>(text[k])) != 0; ++k) {
            const char c = static_cast<char>(std::tolower(static_cast<unsigned char>(text[k])));
            code = code * 16 + static_cast<unsigned>(c <= '9' ? c - '0' : c - 'a' + 10);
        }
        if (i + 1 < text.size() && text[i + 1] == 'u' && k == i + 6) {
            if (code >= 0xDC00 && code <= 0xDFFF && high_end != i) {
                return true;
            }
            high_end = code >= 0xD800 && code <= 0xDBFF ? k : high_end;
            i = k - 1;
        } else {
            ++i;  // the escaped character, which may be a backslash
        }
    }
    return false;
}

// True when `text` holds a raw control character JSON allows nowhere: below 0x20 and not tab,
// line feed or carriage return (which are whitespace between tokens, and refused by RapidJSON
// inside strings). Eight bytes at a time; a word with any byte below 0x20 is looked at bytewise.
bool has_forbidden_control(std::string_view text) {
    const auto forbidden = [](unsigned char c) { return c < 0x20 && c != '\t' && c != '\n' && c != '\r'; };
    std::size_t i = 0;
    for (; i + kWord <= text.size(); i += kWord) {
        if (bytes_below(word_at(text, i), 0x20) == 0) {
            continue;
        }
        for (std::size_t j = i; j < i + kWord; ++j) {
            if (forbidden(static_cast<unsigned char>(text[j]))) {
                return true;
            }
        }
    }
    for (; i < text.size(); ++i) {
        if (forbidden(static_cast<unsigned char>(text[i]))) {
            return true;
        }
    }
    return false;
}

// True when a number in `v` is infinite: RapidJSON 1.1.0 reads 10e308 as infinity, and its
// writer then stops short, leaving text that is not JSON.
bool has_infinite_number(const Value& v) {
    if (v.IsDouble()) {
        return !std::isfinite(v.GetDouble());
    }
    if (v.IsArray()) {
        return std::any_of(v.Begin(), v.End(), [](const Value& item) { return has_infinite_number(item); });
    }
    if (v.IsObject()) {
        return std::any_of(v.MemberBegin(), v.MemberEnd(), [](const auto& m) { return has_infinite_number(m.value); });
    }
    return false;
}
}  // namespace

std::optional<Document> parse(std::string_view text) {
    // A raw control character other than JSON's whitespace is never valid JSON; RapidJSON's
    // SSE2 string scan would let 0x1A-0x1F through, and its reader stops at NUL. These scans go
    // eight bytes (or memchr's) at a time: a byte-at-a-time pass cost more than the parse itself.
    if (has_forbidden_control(text)) {
        return std::nullopt;
    }
    // Deep nesting is refused before it is parsed: code that walks a document (writers,
    // redaction) recurses, and a 1 MiB body of brackets would overflow the stack.
    if (count_up_to(text, '[', kMaxDepth + 1) + count_up_to(text, '{', kMaxDepth + 1) > kMaxDepth && too_deep(text)) {
        return std::nullopt;
    }
    // RapidJSON's SIMD scans need a NUL-terminated string, and read whole aligned 16-byte
    // blocks: up to 15 bytes past the NUL, which this copy's capacity covers.
    std::string terminated;
    terminated.reserve(text.size() + 16);
    terminated.assign(text);
    Document doc;
    if (ascii_prefix(text, 0) == text.size()) {
        doc.Parse<kParseFlags & ~rapidjson::kParseValidateEncodingFlag>(terminated.c_str());
    } else {
        doc.Parse<kParseFlags>(terminated.c_str());
    }
    if (doc.HasParseError()) {
        return std::nullopt;
    }
    if ((text.find('\\') != std::string_view::npos && has_lone_low_surrogate(text)) || has_infinite_number(doc)) {
        return std::nullopt;
    }
    return doc;
}

const Value* find(const Value& object, std::string_view key) {
    if (!object.IsObject()) {
        return nullptr;
    }
    const auto it = object.FindMember(Value(rapidjson::StringRef(key.data(), size_of(key))));
    return it == object.MemberEnd() ? nullptr : &it->value;
}

std::optional<std::string_view> get_string(const Value& object, std::string_view key) {
    const Value* v = find(object, key);
    if (v == nullptr || !v->IsString()) {
        return std::nullopt;
    }
    return std::string_view(v->GetString(), v->GetStringLength());
}

std::optional<std::int64_t> get_int(const Value& object, std::string_view key) {
    const Value* v = find(object, key);
    if (v == nullptr || !v->IsInt64()) {
        return std::nullopt;
    }
    return v->GetInt64();
}

std::optional<bool> get_bool(const Value& object, std::string_view key) {
    const Value* v = find(object, key);
    if (v == nullptr || !v->IsBool()) {
        return std::nullopt;
    }
    return v->GetBool();
}

std::optional<std::string> get_text(const Value& object, std::string_view key) {
    const Value* v = find(object, key);
    if (v == nullptr) {
        return std::nullopt;
    }
    if (v->IsString()) {
        return std::string(v->GetString(), v->GetStringLength());
    }
    if (v->IsNumber()) {
        return to_string(*v);
    }
    return std::nullopt;
}

std::string to_string(const Value& value) {
    rapidjson::StringBuffer buffer;
    FastWriter writer(buffer);
    value.Accept(writer);
    return {buffer.GetString(), buffer.GetSize()};
}

bool needs_escape(std::string_view s) {
    // A byte below 0x20 shows in bytes_below(w, 0x20), one equal to '"' or '\\' as a zero byte
    // of w ^ '"'.. or w ^ '\\'..
    const auto any = [](std::uint64_t w) {
        return (bytes_below(w, 0x20) | bytes_below(w ^ (kOnes * '"'), 1) | bytes_below(w ^ (kOnes * '\\'), 1)) != 0;
    };
    if (s.empty()) {
        return false;
    }
    if (s.size() < kWord) {
        std::uint64_t w = kOnes * ' ';  // what pads a short string: spaces need no escape
        std::memcpy(&w, s.data(), s.size());
        return any(w);
    }
    for (std::size_t i = 0; i + kWord < s.size(); i += kWord) {
        if (any(word_at(s, i))) {
            return true;
        }
    }
    return any(word_at(s, s.size() - kWord));  // the last word, overlapping the one before
}

bool FastWriter::String(const char* str, rapidjson::SizeType length, bool /*copy*/) {
    Prefix(rapidjson::kStringType);
    if (needs_escape({str, length})) {
        write_escaped({str, length});
    } else {
        char* out = os_->Push(std::size_t{length} + 2);
        out[0] = '"';
        if (length > 0) {  // an empty string may come with a null pointer
            std::memcpy(out + 1, str, length);
        }
        out[length + 1] = '"';
    }
    return EndValue(true);
}

void FastWriter::write_escaped(std::string_view s) {
    // RapidJSON's table: the short escapes JSON has, \u00XX (upper-case hex) for the other
    // control characters, everything else as it is.
    static constexpr char kHex[] = "0123456789ABCDEF";
    os_->Reserve(s.size() * 6 + 2);
    os_->PutUnsafe('"');
    for (const char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        char short_escape = 0;
        switch (c) {
            case '"': short_escape = '"'; break;
            case '\\': short_escape = '\\'; break;
            case '\b': short_escape = 'b'; break;
            case '\f': short_escape = 'f'; break;
            case '\n': short_escape = 'n'; break;
            case '\r': short_escape = 'r'; break;
            case '\t': short_escape = 't'; break;
            default: break;
        }
        if (short_escape != 0) {
            os_->PutUnsafe('\\');
            os_->PutUnsafe(short_escape);
        } else if (c < 0x20) {
            for (const char out : {'\\', 'u', '0', '0', kHex[c >> 4U], kHex[c & 0xFU]}) {
                os_->PutUnsafe(out);
            }
        } else {
            os_->PutUnsafe(ch);
        }
    }
    os_->PutUnsafe('"');
}

Writer::Writer() : writer_(buffer_) {}

Writer::~Writer() = default;

void Writer::key(std::string_view k) { writer_.Key(k.data(), size_of(k)); }

void Writer::string(std::string_view v) {
    if (is_valid_utf8(v)) {
        writer_.String(v.data(), size_of(v));
        return;
    }
    const std::string fixed = valid_utf8(v);
    writer_.String(fixed.data(), size_of(fixed));
}

void Writer::raw(std::string_view json_text) {
    writer_.RawValue(json_text.data(), json_text.size(), rapidjson::kObjectType);
}

void Writer::value(const Value& v) { v.Accept(writer_); }

void Writer::member(std::string_view k, std::string_view v) {
    key(k);
    string(v);
}

void Writer::member(std::string_view k, std::int64_t v) {
    key(k);
    writer_.Int64(v);
}

void Writer::member(std::string_view k, bool v) {
    key(k);
    writer_.Bool(v);
}

void Writer::member_or_null(std::string_view k, const std::optional<std::string>& v) {
    key(k);
    if (v) {
        string(*v);
    } else {
        writer_.Null();
    }
}

void Writer::member_or_null(std::string_view k, const std::optional<std::int64_t>& v) {
    key(k);
    if (v) {
        writer_.Int64(*v);
    } else {
        writer_.Null();
    }
}

void Writer::member_null(std::string_view k) {
    key(k);
    writer_.Null();
}

std::string Writer::take() {
    std::string out(view());
    clear();
    return out;
}

void Writer::clear() {
    buffer_.Clear();
    writer_.Reset(buffer_);
}

}  // namespace seedhook::json
