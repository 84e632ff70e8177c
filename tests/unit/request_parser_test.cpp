#include "server/http/request_parser.hpp"

#include <string>

#include <gtest/gtest.h>

using seedhook::http::ParsedRequest;
using seedhook::http::ReadVerdict;
using seedhook::http::RequestLimits;
using seedhook::http::parse_request;

namespace {

constexpr RequestLimits kLimits{1024, 64};

}  // namespace

TEST(RequestParser, ReadsARequestAndWhatItConsumed) {
    const std::string first = "POST /v1/jobs?x=1 HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\n{}";
    const std::string second = "GET /healthz HTTP/1.1\r\nHost: h\r\n\r\n";
    const ParsedRequest parsed = parse_request(first + second, kLimits);
    ASSERT_EQ(parsed.verdict.kind, ReadVerdict::Kind::kContinue);
    EXPECT_EQ(parsed.request.method, "POST");
    EXPECT_EQ(parsed.request.target, "/v1/jobs?x=1");
    EXPECT_EQ(parsed.request.headers.get("host"), "h");
    EXPECT_EQ(parsed.request.body, "{}");
    EXPECT_TRUE(parsed.keep_alive);
    EXPECT_EQ(parsed.consumed, first.size());
    const ParsedRequest next = parse_request(std::string_view(first + second).substr(parsed.consumed), kLimits);
    ASSERT_EQ(next.verdict.kind, ReadVerdict::Kind::kContinue);
    EXPECT_EQ(next.request.target, "/healthz");
}

TEST(RequestParser, ReadsAChunkedBody) {
    const ParsedRequest parsed = parse_request(
        "POST /v1/callbacks/a/b HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
        kLimits
    );
    ASSERT_EQ(parsed.verdict.kind, ReadVerdict::Kind::kContinue);
    EXPECT_EQ(parsed.request.body, "abcde");
}

TEST(RequestParser, RefusesHeadersOverTheLimitWith431) {
    const std::string big = "GET / HTTP/1.1\r\nX-Big: " + std::string(2000, 'a') + "\r\n\r\n";
    const ParsedRequest parsed = parse_request(big, kLimits);
    ASSERT_EQ(parsed.verdict.kind, ReadVerdict::Kind::kRefuse);
    EXPECT_EQ(parsed.verdict.status, 431);
    EXPECT_EQ(parsed.verdict.code, "headers_too_large");
}

TEST(RequestParser, RefusesADeclaredBodyOverTheLimitUnreadWith413) {
    const ParsedRequest parsed = parse_request("POST / HTTP/1.1\r\nContent-Length: 65\r\n\r\n", kLimits);
    ASSERT_EQ(parsed.verdict.kind, ReadVerdict::Kind::kRefuse);
    EXPECT_EQ(parsed.verdict.status, 413);
    EXPECT_EQ(parsed.verdict.code, "body_too_large");
}

TEST(RequestParser, RefusesAChunkedBodyOverTheLimitWith413) {
    const std::string chunk(40, 'x');
    const std::string text = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n28\r\n" + chunk +
                             "\r\n28\r\n" + chunk + "\r\n0\r\n\r\n";
    const ParsedRequest parsed = parse_request(text, kLimits);
    ASSERT_EQ(parsed.verdict.kind, ReadVerdict::Kind::kRefuse);
    EXPECT_EQ(parsed.verdict.status, 413);
}

TEST(RequestParser, RefusesWhatIsNotHttpWith400) {
    const ParsedRequest parsed = parse_request("HELLO THERE\r\n\r\n", kLimits);
    ASSERT_EQ(parsed.verdict.kind, ReadVerdict::Kind::kRefuse);
    EXPECT_EQ(parsed.verdict.status, 400);
    EXPECT_EQ(parsed.verdict.code, "bad_request");
}

TEST(RequestParser, ClosesSilentlyOnARequestCutShortOrNothingAtAll) {
    EXPECT_EQ(parse_request("", kLimits).verdict.kind, ReadVerdict::Kind::kClose);
    EXPECT_EQ(parse_request("GET / HTTP/1.1\r\nHost:", kLimits).verdict.kind, ReadVerdict::Kind::kClose);
    EXPECT_EQ(
        parse_request("POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nab", kLimits).verdict.kind,
        ReadVerdict::Kind::kClose
    );
}

TEST(RequestParser, NotesExpectContinueAndConnectionClose) {
    const ParsedRequest parsed = parse_request(
        "POST / HTTP/1.1\r\nExpect: 100-continue\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx",
        kLimits
    );
    ASSERT_EQ(parsed.verdict.kind, ReadVerdict::Kind::kContinue);
    EXPECT_TRUE(parsed.expects_continue);
    EXPECT_FALSE(parsed.keep_alive);
}
