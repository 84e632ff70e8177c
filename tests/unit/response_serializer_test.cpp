#include "server/http/response_serializer.hpp"

#include <string>

#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <gtest/gtest.h>

using seedhook::HttpResponse;
using seedhook::http::serialize_response;

namespace {

namespace bhttp = boost::beast::http;

// What a client's HTTP parser makes of what the server writes.
struct Parsed {
    boost::system::error_code ec;
    bhttp::response<bhttp::string_body> message;
    std::size_t consumed = 0;
};

Parsed parse(const HttpResponse& res, bool keep_alive) {
    const std::string wire = serialize_response(res, keep_alive);
    bhttp::response_parser<bhttp::string_body> parser;
    parser.eager(true);
    Parsed out;
    out.consumed = parser.put(boost::asio::buffer(wire), out.ec);
    if (!out.ec && !parser.is_done()) {
        parser.put_eof(out.ec);
    }
    out.message = parser.release();
    return out;
}

}  // namespace

TEST(ResponseSerializer, FramesTheBodyAndNamesTheDefaults) {
    HttpResponse res;
    res.status = 201;
    res.body = R"({"id":"job_1"})";
    res.headers.set("X-Request-Id", "req_1");
    const Parsed p = parse(res, true);
    ASSERT_FALSE(p.ec) << p.ec.message();
    EXPECT_EQ(p.message.result_int(), 201u);
    EXPECT_EQ(p.message.reason(), "Created");
    EXPECT_EQ(p.message.body(), res.body);
    EXPECT_EQ(p.message[bhttp::field::content_length], std::to_string(res.body.size()));
    EXPECT_EQ(p.message[bhttp::field::content_type], "application/json");
    EXPECT_EQ(p.message[bhttp::field::cache_control], "no-store");
    EXPECT_EQ(p.message[bhttp::field::server], "seedhook");
    EXPECT_EQ(p.message["X-Request-Id"], "req_1");
    EXPECT_TRUE(p.message.keep_alive());
    EXPECT_EQ(p.consumed, serialize_response(res, true).size());
}

TEST(ResponseSerializer, SaysCloseWhenTheConnectionEnds) {
    HttpResponse res;
    res.status = 503;
    res.body = "{}";
    const Parsed p = parse(res, false);
    ASSERT_FALSE(p.ec) << p.ec.message();
    EXPECT_FALSE(p.message.keep_alive());
    EXPECT_EQ(p.message[bhttp::field::connection], "close");
    EXPECT_EQ(p.message.reason(), "Service Unavailable");
}

TEST(ResponseSerializer, HandlerHeadersReplaceTheDefaults) {
    HttpResponse res;
    res.content_type = "application/json";
    res.headers.set("Content-Type", "text/plain; version=0.0.4");
    res.headers.set("Cache-Control", "max-age=5");
    res.body = "x";
    const std::string head = serialize_response(res, true);
    const Parsed p = parse(res, true);
    ASSERT_FALSE(p.ec) << p.ec.message();
    EXPECT_EQ(p.message[bhttp::field::content_type], "text/plain; version=0.0.4");
    EXPECT_EQ(p.message[bhttp::field::cache_control], "max-age=5");
    EXPECT_EQ(head.find("application/json"), std::string::npos);
    EXPECT_EQ(head.find("no-store"), std::string::npos);
}

TEST(ResponseSerializer, NotModifiedHasNoBodyAndNoLength) {
    HttpResponse res;
    res.status = 304;
    res.body = "ignored";
    res.headers.set("ETag", "\"v3\"");
    const std::string head = serialize_response(res, true);
    EXPECT_EQ(head.find("Content-Length"), std::string::npos);
    EXPECT_TRUE(head.starts_with("HTTP/1.1 304 Not Modified\r\n"));
    EXPECT_TRUE(head.ends_with("\r\n\r\n"));
    EXPECT_NE(head.find("ETag: \"v3\"\r\n"), std::string::npos);
}

TEST(ResponseSerializer, LeavesOutAFieldThatWouldSplitTheHead) {
    HttpResponse res;
    res.body = "{}";
    res.headers.set("X-Echo", "a\r\nSet-Cookie: stolen=1");
    res.headers.set("Bad Name", "v");
    res.headers.set("Content-Length", "999");
    res.headers.set("X-Fine", "ok");
    const std::string head = serialize_response(res, true);
    EXPECT_EQ(head.find("Set-Cookie"), std::string::npos);
    EXPECT_EQ(head.find("Bad Name"), std::string::npos);
    EXPECT_EQ(head.find("999"), std::string::npos);
    const Parsed p = parse(res, true);
    ASSERT_FALSE(p.ec) << p.ec.message();
    EXPECT_EQ(p.message["X-Fine"], "ok");
    EXPECT_EQ(p.message.body(), "{}");
}
