#include "common/json.hpp"

#include <cstdio>
#include <optional>
#include <string>

#include <gtest/gtest.h>

namespace json = seedhook::json;

namespace {

json::Document parsed(std::string_view text) {
    auto doc = json::parse(text);
    EXPECT_TRUE(doc.has_value()) << text;
    return doc ? std::move(*doc) : json::Document{};
}

}  // namespace

TEST(JsonParse, AcceptsAnObject) {
    auto doc = json::parse(R"({"a": 1, "b": "two"})");
    ASSERT_TRUE(doc.has_value());
    EXPECT_TRUE(doc->IsObject());
    EXPECT_EQ(json::get_int(*doc, "a"), 1);
    EXPECT_EQ(json::get_string(*doc, "b"), "two");
}

TEST(JsonParse, RejectsInvalidUtf8InsideAString) {
    EXPECT_FALSE(json::parse("\"\xff\"").has_value());
    EXPECT_FALSE(json::parse("{\"k\": \"\xc3\x28\"}").has_value());
}

TEST(JsonParse, AcceptsValidMultiByteUtf8) {
    auto doc = json::parse("{\"k\": \"\xe7\x8c\xab\"}");
    ASSERT_TRUE(doc.has_value());
    EXPECT_EQ(json::get_string(*doc, "k"), "\xe7\x8c\xab");
}

TEST(JsonParse, RefusesNestingDeeperThanTheLimitAndCountsOnlyOutsideStrings) {
    auto nested = [](std::size_t depth, const char* open, const char* close) {
        std::string s;
        for (std::size_t i = 0; i < depth; ++i) {
            s += open;
        }
        s += "1";
        for (std::size_t i = 0; i < depth; ++i) {
            s += close;
        }
        return s;
    };
    EXPECT_TRUE(json::parse(nested(json::kMaxDepth, "[", "]")));
    EXPECT_FALSE(json::parse(nested(json::kMaxDepth + 1, "[", "]")));
    EXPECT_TRUE(json::parse(nested(json::kMaxDepth, R"({"a":)", "}")));
    EXPECT_FALSE(json::parse(nested(json::kMaxDepth + 1, R"({"a":)", "}")));
    EXPECT_FALSE(json::parse(nested(300000, "[", "]")));
    // Brackets inside strings (escaped quotes included) are text, not nesting.
    const std::string in_string = R"({"a":"\")" + std::string(1000, '[') + R"("})";
    EXPECT_TRUE(json::parse(in_string));
    // Many siblings are not depth.
    std::string wide = "[";
    for (int i = 0; i < 1000; ++i) {
        wide += i == 0 ? "[]" : ",[]";
    }
    EXPECT_TRUE(json::parse(wide + "]"));
}

TEST(JsonParse, RejectsTrailingJunk) {
    EXPECT_FALSE(json::parse("{} x").has_value());
    EXPECT_FALSE(json::parse("{}{}").has_value());
    EXPECT_FALSE(json::parse("[1] ]").has_value());
}

TEST(JsonParse, RejectsTrailingJunkAfterANulByte) {
    // A body is bytes, not a C string: whatever follows a NUL is still part of it.
    EXPECT_FALSE(json::parse(std::string_view("{}\0x", 4)).has_value());
    EXPECT_FALSE(json::parse(std::string_view("{\"a\": 1} \0 {\"b\": 2}", 19)).has_value());
}

TEST(JsonParse, AcceptsSurroundingWhitespace) {
    auto doc = json::parse(" \n\t {\"a\": true} \r\n ");
    ASSERT_TRUE(doc.has_value());
    EXPECT_EQ(json::get_bool(*doc, "a"), true);
}

TEST(JsonParse, RejectsEmptyAndGarbageInput) {
    EXPECT_FALSE(json::parse("").has_value());
    EXPECT_FALSE(json::parse("   ").has_value());
    EXPECT_FALSE(json::parse("not json").has_value());
    EXPECT_FALSE(json::parse("{\"a\": }").has_value());
    EXPECT_FALSE(json::parse("{\"a\": 1,}").has_value());
}

TEST(JsonParse, DeeplyNestedUnclosedArraysAreRejectedWithoutCrashing) {
    const std::string text(200000, '[');
    EXPECT_FALSE(json::parse(text).has_value());
}

TEST(JsonParse, DeeplyNestedClosedArraysDoNotCrash) {
    const std::string text = std::string(200000, '[') + std::string(200000, ']');
    auto doc = json::parse(text);
    if (doc) {
        EXPECT_TRUE(doc->IsArray());
    }
}

TEST(JsonGet, GetStringReturnsOnlyStrings) {
    const auto doc = parsed(R"({"s": "text", "n": 5, "b": true, "z": null})");
    EXPECT_EQ(json::get_string(doc, "s"), "text");
    EXPECT_FALSE(json::get_string(doc, "n").has_value());
    EXPECT_FALSE(json::get_string(doc, "b").has_value());
    EXPECT_FALSE(json::get_string(doc, "z").has_value());
    EXPECT_FALSE(json::get_string(doc, "missing").has_value());
}

TEST(JsonGet, GetIntReturnsOnlyIntegers) {
    const auto doc = parsed(R"({"n": 42, "neg": -7, "big": 9007199254740993, "f": 1.5, "s": "3"})");
    EXPECT_EQ(json::get_int(doc, "n"), 42);
    EXPECT_EQ(json::get_int(doc, "neg"), -7);
    EXPECT_EQ(json::get_int(doc, "big"), 9007199254740993LL);
    EXPECT_FALSE(json::get_int(doc, "f").has_value());
    EXPECT_FALSE(json::get_int(doc, "s").has_value());
    EXPECT_FALSE(json::get_int(doc, "missing").has_value());
}

TEST(JsonGet, GetBoolReturnsOnlyBooleans) {
    const auto doc = parsed(R"({"t": true, "f": false, "n": 1, "s": "true"})");
    EXPECT_EQ(json::get_bool(doc, "t"), true);
    EXPECT_EQ(json::get_bool(doc, "f"), false);
    EXPECT_FALSE(json::get_bool(doc, "n").has_value());
    EXPECT_FALSE(json::get_bool(doc, "s").has_value());
    EXPECT_FALSE(json::get_bool(doc, "missing").has_value());
}

TEST(JsonGet, GetTextRendersNumbersAsText) {
    const auto doc =
        parsed(R"({"code": 500, "name": "quota_exceeded", "neg": -3, "b": true, "o": {}})");
    EXPECT_EQ(json::get_text(doc, "code"), "500");
    EXPECT_EQ(json::get_text(doc, "neg"), "-3");
    EXPECT_EQ(json::get_text(doc, "name"), "quota_exceeded");
    EXPECT_FALSE(json::get_text(doc, "b").has_value());
    EXPECT_FALSE(json::get_text(doc, "o").has_value());
    EXPECT_FALSE(json::get_text(doc, "missing").has_value());
}

TEST(JsonGet, GettersOnANonObjectReturnNothing) {
    const auto doc = parsed(R"([1, 2, 3])");
    EXPECT_EQ(json::find(doc, "a"), nullptr);
    EXPECT_FALSE(json::get_string(doc, "a").has_value());
    EXPECT_FALSE(json::get_int(doc, "a").has_value());
    EXPECT_FALSE(json::get_bool(doc, "a").has_value());
    EXPECT_FALSE(json::get_text(doc, "a").has_value());
}

TEST(JsonGet, FindReturnsTheNestedValue) {
    const auto doc = parsed(R"({"error": {"code": "bad", "message": "no"}})");
    const json::Value* error = json::find(doc, "error");
    ASSERT_NE(error, nullptr);
    EXPECT_EQ(json::get_string(*error, "message"), "no");
}

TEST(JsonToString, SerialisesCompactly) {
    const auto doc = parsed(R"( { "a" : [ 1 , 2 ] , "b" : null } )");
    EXPECT_EQ(json::to_string(doc), R"({"a":[1,2],"b":null})");
}

TEST(JsonParse, RejectsALoneLowSurrogateEscape) {
    // Seen while writing the fuzz targets, which now check it (a parsed answer re-serialised is
    // JSON; tests/fuzz/corpus/fuzz_evolink/lone_surrogate.json reproduces it): RapidJSON
    // decoded "\udc00" into bytes that are not UTF-8, and to_string wrote them out.
    EXPECT_FALSE(json::parse(R"({"k": "\udc00"})"));
    EXPECT_FALSE(json::parse(R"({"k": "\ud83d\ude00\uDFFF"})"));
    EXPECT_FALSE(json::parse(R"(["\\\udc00"])"));  // an escaped backslash, then the escape
    const auto pair = parsed(R"({"k": "\ud83d\ude00", "l": "\\udc00"})");
    EXPECT_EQ(json::get_string(pair, "k"), "\xF0\x9F\x98\x80");
    EXPECT_EQ(json::get_string(pair, "l"), "\\udc00");  // text, not an escape
    EXPECT_TRUE(json::parse(json::to_string(pair)));
}

TEST(JsonParse, RejectsNumbersTooLargeForADouble) {
    // Found by tests/fuzz/fuzz_acedata: RapidJSON read these as infinity, and to_string stopped
    // at them, writing {"a": and no more.
    EXPECT_FALSE(json::parse(R"({"a": 11511111000000000007886563913514347008E0274})"));
    EXPECT_FALSE(json::parse(R"([1, [99999999999999999999e300]])"));
    const auto fine = parsed(R"({"a": 1.7976931348623157e308, "b": 2e-400, "c": "10e308"})");
    EXPECT_EQ(json::to_string(fine), R"({"a":1.7976931348623157e308,"b":0.0,"c":"10e308"})");
}

TEST(JsonParse, ReadsOnlyTheViewAtEveryLengthAndAlignment) {
    // parse() takes a view into a larger buffer (a request body, a provider answer), and its
    // string scans read 16 bytes at a time: every length and offset must read exactly the
    // view, never the bytes after it (here a ']' that would make the document invalid).
    for (std::size_t offset = 0; offset < 16; ++offset) {
        for (std::size_t length = 0; length < 70; ++length) {
            std::string value(length, 'v');
            if (length > 2) {
                value[length / 2] = '\\';
                value.insert(length / 2 + 1, 1, '"');
            }
            const std::string text = "{\"k\":\"" + value + "\"}";
            const std::string buffer = std::string(offset, ' ') + text + "]";
            const auto doc = json::parse(std::string_view(buffer).substr(offset, text.size()));
            ASSERT_TRUE(doc.has_value()) << "offset " << offset << ", length " << length;
            std::string expected(length, 'v');
            if (length > 2) {
                expected[length / 2] = '"';
            }
            EXPECT_EQ(json::get_string(*doc, "k"), expected) << "offset " << offset << ", length " << length;
        }
    }
}

TEST(JsonParse, RejectsEveryRawControlCharacterInAStringAtAnyPlace) {
    // Found by tests/fuzz/fuzz_evolink and fuzz_job_request: RapidJSON 1.1.0's SSE2 string scan
    // let 0x1A-0x1F through unescaped, in keys and values, once a string was 16 bytes long.
    for (int c = 1; c < 0x20; ++c) {
        for (std::size_t at = 0; at < 40; ++at) {
            std::string value(40, 'v');
            value[at] = static_cast<char>(c);
            EXPECT_FALSE(json::parse("{\"k\":\"" + value + "\"}")) << "byte " << c << " at " << at;
            EXPECT_FALSE(json::parse("{\"" + value + "\":1}")) << "byte " << c << " at " << at << " in a key";
        }
    }
    EXPECT_EQ(json::get_string(parsed(R"({"k":"\u001f tab\t"})"), "k"), "\x1f tab\t");  // escaped, fine
}

TEST(JsonParse, RejectsAnIntegerTooLargeForADoubleWithoutAnExponent) {
    EXPECT_FALSE(json::parse("[1" + std::string(400, '0') + "]"));
    const auto fine = parsed("[1" + std::string(300, '0') + "]");
    EXPECT_NEAR(fine[0].GetDouble() / 1e300, 1.0, 1e-12);
}

TEST(JsonWriter, EscapesQuotesBackslashesAndControlCharacters) {
    json::Writer w;
    w.start_object();
    w.member("k", std::string_view("say \"hi\"\\\n\t\x01"));
    w.end_object();
    const std::string text = w.take();
    EXPECT_EQ(text.find('\n'), std::string::npos) << text;
    EXPECT_EQ(text.find('\x01'), std::string::npos) << text;
    EXPECT_NE(text.find("\\\""), std::string::npos) << text;
    EXPECT_NE(text.find("\\u0001"), std::string::npos) << text;
    const auto doc = parsed(text);
    EXPECT_EQ(json::get_string(doc, "k"), "say \"hi\"\\\n\t\x01");
}

TEST(JsonWriter, OutputStaysValidJsonWhenAStringIsNotValidUtf8) {
    // Text from outside (a provider's message cut to a length) can end inside a character;
    // the answer built from it must still be valid UTF-8 JSON.
    json::Writer w;
    w.start_object();
    w.member("cut", std::string_view("\xe7\x8c\xab\xe7\x8c"));
    w.member(
        "bad",
        std::string_view("a\xff"
                         "b")
    );
    w.end_object();
    const std::string text = w.take();
    auto doc = json::parse(text);
    ASSERT_TRUE(doc.has_value()) << "not valid JSON: " << text;
    EXPECT_EQ(json::get_string(*doc, "cut").value_or("").substr(0, 3), "\xe7\x8c\xab");
}

TEST(JsonWriter, ABadByteAnywhereInALongAsciiRunIsReplaced) {
    // ASCII is checked eight bytes at a time: the bad byte at every offset, in every lane.
    for (std::size_t at = 0; at < 20; ++at) {
        std::string text(20, 'a');
        text[at] = '\xff';
        json::Writer w;
        w.start_object();
        w.member("s", std::string_view(text));
        w.end_object();
        const std::string out = w.take();
        const auto doc = json::parse(out);
        ASSERT_TRUE(doc.has_value()) << "offset " << at << ": " << out;
        std::string expected = text;
        expected.replace(at, 1, "\xEF\xBF\xBD");
        EXPECT_EQ(json::get_string(*doc, "s").value_or(""), expected) << "offset " << at;
    }
    const std::string long_then_wide = std::string(17, 'a') + "\xe7\x8c\xab";
    EXPECT_EQ(json::get_string(*json::parse("{\"s\":\"" + long_then_wide + "\"}"), "s").value_or(""), long_then_wide);
}

TEST(JsonWriter, EscapesKeysToo) {
    json::Writer w;
    w.start_object();
    w.member("a\"b", std::int64_t{1});
    w.end_object();
    const auto doc = parsed(w.take());
    EXPECT_EQ(json::get_int(doc, "a\"b"), 1);
}

TEST(JsonWriter, MemberOrNullWritesNullWhenEmpty) {
    json::Writer w;
    w.start_object();
    w.member_or_null("s", std::optional<std::string>{});
    w.member_or_null("i", std::optional<std::int64_t>{});
    w.member_or_null("s2", std::optional<std::string>{"v"});
    w.member_or_null("i2", std::optional<std::int64_t>{7});
    w.end_object();
    EXPECT_EQ(w.take(), R"({"s":null,"i":null,"s2":"v","i2":7})");
}

TEST(JsonWriter, WritesEveryValueKind) {
    json::Writer w;
    w.start_object();
    w.member("s", "text");
    w.member("i", 3);
    w.member("b", false);
    w.member_null("n");
    w.key("a");
    w.start_array();
    w.int64(-1);
    w.boolean(true);
    w.null();
    w.string("x");
    w.end_array();
    w.key("raw");
    w.raw(R"({"nested":[1]})");
    w.end_object();
    EXPECT_EQ(
        w.take(),
        R"({"s":"text","i":3,"b":false,"n":null,"a":[-1,true,null,"x"],"raw":{"nested":[1]}})"
    );
}

TEST(JsonWriter, TakeResetsTheWriter) {
    json::Writer w;
    w.start_array();
    w.end_array();
    EXPECT_EQ(w.take(), "[]");
    w.start_object();
    w.end_object();
    EXPECT_EQ(w.take(), "{}");
}

TEST(JsonWriter, ValueCopiesAParsedDocument) {
    const auto doc = parsed(R"({"seed": 7, "tags": ["a"]})");
    json::Writer w;
    w.start_object();
    w.key("params");
    w.value(doc);
    w.end_object();
    EXPECT_EQ(w.take(), R"({"params":{"seed":7,"tags":["a"]}})");
}

namespace {

// What one string value and one key must become: RapidJSON's escapes (the short ones JSON has,
// \u00XX with upper-case hex for the other control characters, every other byte as it is),
// written out here rather than taken from RapidJSON, whose SSE2 writer in Debian's 1.1.0 would
// copy 0x1A-0x1F raw.
std::string expected_text(std::string_view s) {
    std::string quoted = "\"";
    for (const char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        switch (c) {
            case '"': quoted += "\\\""; break;
            case '\\': quoted += "\\\\"; break;
            case '\b': quoted += "\\b"; break;
            case '\f': quoted += "\\f"; break;
            case '\n': quoted += "\\n"; break;
            case '\r': quoted += "\\r"; break;
            case '\t': quoted += "\\t"; break;
            default:
                if (c < 0x20) {
                    char escape[8];
                    std::snprintf(escape, sizeof escape, "\\u%04X", c);
                    quoted += escape;
                } else {
                    quoted += ch;
                }
        }
    }
    quoted += '"';
    return "{" + quoted + ":" + quoted + "}";
}

std::string fast_text(std::string_view s) {
    rapidjson::StringBuffer buffer;
    json::FastWriter writer(buffer);
    writer.StartObject();
    writer.Key(s.data(), static_cast<rapidjson::SizeType>(s.size()));
    writer.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
    writer.EndObject();
    return {buffer.GetString(), buffer.GetSize()};
}

}  // namespace

TEST(JsonWriter, WritesEveryByteAtEveryPlaceEscapedAsJsonRequires) {
    // Strings are checked eight bytes at a time (and RapidJSON's SSE2 writer, which this one
    // must not fall back to, went sixteen at a time): every byte value, in every lane of
    // several words and of the tail, amid bytes that need no escape.
    for (int byte = 0; byte < 256; ++byte) {
        for (std::size_t length = 1; length <= 40; ++length) {
            for (std::size_t at = 0; at < length; ++at) {
                std::string s(length, 'x');
                s[at] = static_cast<char>(byte);
                const bool escaped = byte < 0x20 || byte == '"' || byte == '\\';
                ASSERT_EQ(json::needs_escape(s), escaped) << "byte " << byte << " at " << at << " of " << length;
                ASSERT_EQ(fast_text(s), expected_text(s)) << "byte " << byte << " at " << at << " of " << length;
            }
        }
    }
    EXPECT_FALSE(json::needs_escape(""));
    EXPECT_EQ(fast_text(""), R"({"":""})");
    // Bytes just past each boundary need no escape: 0x20, '!' and '#' beside '"', '[' and ']'
    // beside '\\', 0x7F and above.
    EXPECT_FALSE(json::needs_escape(" !#[]\x7f\x80\xff !#[]\x7f\x80\xff"));
}

TEST(JsonWriter, ParsedDocumentsAreWrittenBackWithTheirEscapes) {
    // 0x1F 42 bytes into a 73-byte string, inside a whole aligned 16-byte block wherever the
    // string lies: where RapidJSON's own SSE2 writer would copy it raw.
    const std::string text =
        R"({"plain":"a slow dolly shot across a street","quote\"key":"say \"hi\"","tab":"a\tb",)"
        R"("nested":[{"k":"\\path\\to"},"\u0001\u001f","caf\u00e9 \u732b"],"n":1.5,"b":true,)"
        R"("long":"0123456789abcdef0123456789abcdef0123456789\u001f0123456789abcdef0123456789"})";
    const std::string expected =
        R"({"plain":"a slow dolly shot across a street","quote\"key":"say \"hi\"","tab":"a\tb",)"
        R"("nested":[{"k":"\\path\\to"},"\u0001\u001F",)"
        "\"caf\xc3\xa9 \xe7\x8c\xab\""  // UTF-8 is written as it is
        R"(],"n":1.5,"b":true,"long":"0123456789abcdef0123456789abcdef0123456789\u001F0123456789abcdef0123456789"})";
    const auto doc = parsed(text);
    EXPECT_EQ(json::to_string(doc), expected);
    json::Writer w;
    w.value(doc);
    EXPECT_EQ(w.take(), expected);
}

TEST(JsonWriter, WritesAnEmptyViewWithoutItsPointer) {
    json::Writer w;
    w.start_object();
    w.member(std::string_view{}, std::string_view{});
    w.end_object();
    EXPECT_EQ(w.take(), R"({"":""})");
    EXPECT_FALSE(json::needs_escape(std::string_view{}));
}
