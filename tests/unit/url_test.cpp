#include "common/url.hpp"

#include <string>

#include <gtest/gtest.h>

using seedhook::AbsoluteUrl;
using seedhook::is_private_host;
using seedhook::parse_absolute_url;
using seedhook::parse_request_target;

namespace {

/// The URL "https://<host>/" with IPv6 literals in brackets; fails the test when it does not parse.
AbsoluteUrl url_for_host(const std::string& host) {
    const bool v6 = host.find(':') != std::string::npos;
    const std::string text = "https://" + (v6 ? "[" + host + "]" : host) + "/";
    auto url = parse_absolute_url(text);
    EXPECT_TRUE(url.has_value()) << text;
    return url.value_or(AbsoluteUrl{});
}

}  // namespace

TEST(ParseAbsoluteUrl, HttpsDefaultsToPort443) {
    auto url = parse_absolute_url("https://api.evolink.ai/v1/videos/generations");
    ASSERT_TRUE(url.has_value());
    EXPECT_EQ(url->scheme, "https");
    EXPECT_EQ(url->host, "api.evolink.ai");
    EXPECT_EQ(url->port, "443");
    EXPECT_EQ(url->target, "/v1/videos/generations");
    EXPECT_FALSE(url->host_is_ip);
}

TEST(ParseAbsoluteUrl, HttpDefaultsToPort80) {
    auto url = parse_absolute_url("http://example.com");
    ASSERT_TRUE(url.has_value());
    EXPECT_EQ(url->scheme, "http");
    EXPECT_EQ(url->port, "80");
    EXPECT_EQ(url->target, "/");
}

TEST(ParseAbsoluteUrl, KeepsAnExplicitPort) {
    auto url = parse_absolute_url("https://127.0.0.1:8443/x");
    ASSERT_TRUE(url.has_value());
    EXPECT_EQ(url->host, "127.0.0.1");
    EXPECT_EQ(url->port, "8443");
    EXPECT_EQ(url->target, "/x");
    EXPECT_TRUE(url->host_is_ip);
}

TEST(ParseAbsoluteUrl, SchemeIsLowercased) {
    auto url = parse_absolute_url("HTTPS://example.com/");
    ASSERT_TRUE(url.has_value());
    EXPECT_EQ(url->scheme, "https");
    EXPECT_EQ(url->port, "443");
}

TEST(ParseAbsoluteUrl, Ipv6LiteralHostHasNoBrackets) {
    auto url = parse_absolute_url("https://[2001:db8::1]:9443/cb");
    ASSERT_TRUE(url.has_value());
    EXPECT_EQ(url->host, "2001:db8::1");
    EXPECT_EQ(url->port, "9443");
    EXPECT_EQ(url->target, "/cb");
    EXPECT_TRUE(url->host_is_ip);
}

TEST(ParseAbsoluteUrl, TargetKeepsTheQuery) {
    auto url = parse_absolute_url("https://host.example/v1/callbacks/evolink/job_1?token=abc-_");
    ASSERT_TRUE(url.has_value());
    EXPECT_EQ(url->target, "/v1/callbacks/evolink/job_1?token=abc-_");
}

TEST(ParseAbsoluteUrl, RejectsOtherSchemes) {
    EXPECT_FALSE(parse_absolute_url("ftp://example.com/file").has_value());
    EXPECT_FALSE(parse_absolute_url("file:///etc/passwd").has_value());
    EXPECT_FALSE(parse_absolute_url("javascript:alert(1)").has_value());
}

TEST(ParseAbsoluteUrl, RejectsUserinfo) {
    EXPECT_FALSE(parse_absolute_url("https://user:pw@example.com/").has_value());
    EXPECT_FALSE(parse_absolute_url("https://user@example.com/").has_value());
}

TEST(ParseAbsoluteUrl, RejectsFragment) {
    EXPECT_FALSE(parse_absolute_url("https://example.com/a#frag").has_value());
}

TEST(ParseAbsoluteUrl, RejectsRelativeUrls) {
    EXPECT_FALSE(parse_absolute_url("/v1/jobs").has_value());
    EXPECT_FALSE(parse_absolute_url("example.com/v1").has_value());
    EXPECT_FALSE(parse_absolute_url("//example.com/v1").has_value());
    EXPECT_FALSE(parse_absolute_url("").has_value());
}

TEST(ParseAbsoluteUrl, RejectsMissingHost) {
    EXPECT_FALSE(parse_absolute_url("https:///path").has_value());
    EXPECT_FALSE(parse_absolute_url("https:").has_value());
}

TEST(ParseAbsoluteUrl, RejectsPortZero) {
    EXPECT_FALSE(parse_absolute_url("https://example.com:0/").has_value());
}

TEST(ParseAbsoluteUrl, RejectsPortsAbove65535) {
    EXPECT_FALSE(parse_absolute_url("https://example.com:65536/").has_value());
    EXPECT_FALSE(parse_absolute_url("https://example.com:99999999999/").has_value());
    auto url = parse_absolute_url("https://example.com:65535/");
    ASSERT_TRUE(url.has_value());
    EXPECT_EQ(url->port, "65535");
}

TEST(ParseAbsoluteUrl, RejectsSpacesAndGarbage) {
    EXPECT_FALSE(parse_absolute_url("https://exa mple.com/").has_value());
    EXPECT_FALSE(parse_absolute_url("not a url").has_value());
}

TEST(IsPrivateHost, LoopbackPrivateAndLinkLocalIpv4AreRefused) {
    for (const char* host :
         {"127.0.0.1",
          "10.1.2.3",
          "172.16.0.1",
          "172.31.255.255",
          "192.168.1.1",
          "169.254.1.1",
          "100.64.0.1",
          "0.0.0.0"}) {
        EXPECT_TRUE(is_private_host(url_for_host(host))) << host;
    }
}

TEST(IsPrivateHost, LoopbackUniqueLocalAndLinkLocalIpv6AreRefused) {
    for (const char* host :
         {"::1", "fe80::1", "fc00::1", "fd12:3456::1", "::ffff:10.0.0.1", "::"}) {
        EXPECT_TRUE(is_private_host(url_for_host(host))) << host;
    }
}

TEST(IsPrivateHost, NumericIpv4ShorthandsAreRefused) {
    // URL parsers (WHATWG) and inet_aton read these hosts as 127.0.0.1 and 10.0.0.1.
    for (const char* host :
         {"127.1", "2130706433", "0x7f000001", "0x7f.0.0.1", "0177.0.0.1", "10.1"}) {
        EXPECT_TRUE(is_private_host(url_for_host(host))) << host;
    }
}

TEST(IsPrivateHost, LocalhostNamesAreRefused) {
    for (const char* host : {"localhost", "foo.localhost", "LOCALHOST"}) {
        EXPECT_TRUE(is_private_host(url_for_host(host))) << host;
    }
}

TEST(IsPrivateHost, PublicAddressesAndNamesAreAllowed) {
    for (const char* host :
         {"8.8.8.8",
          "172.32.0.1",
          "172.15.255.255",
          "100.128.0.1",
          "example.com",
          "localhost.example.com",
          "2001:4860::8888",
          "::ffff:8.8.8.8"}) {
        EXPECT_FALSE(is_private_host(url_for_host(host))) << host;
    }
}

TEST(ParseRequestTarget, SplitsAndDecodesSegments) {
    auto target = parse_request_target("/v1/jobs/job%20x/callbacks");
    ASSERT_TRUE(target.has_value());
    const std::vector<std::string> expected = {"v1", "jobs", "job x", "callbacks"};
    EXPECT_EQ(target->segments, expected);
    EXPECT_TRUE(target->query.empty());
}

TEST(ParseRequestTarget, DecodesQueryParameters) {
    auto target = parse_request_target("/v1/jobs?status=running&cursor=a%2Fb%3D&limit=5&flag");
    ASSERT_TRUE(target.has_value());
    const std::vector<std::string> expected = {"v1", "jobs"};
    EXPECT_EQ(target->segments, expected);
    EXPECT_EQ(target->param("status"), "running");
    EXPECT_EQ(target->param("cursor"), "a/b=");
    EXPECT_EQ(target->param("limit"), "5");
    EXPECT_EQ(target->param("flag"), "");
    EXPECT_FALSE(target->param("missing").has_value());
    ASSERT_EQ(target->query.size(), 4U);
    EXPECT_EQ(target->query[0].first, "status");
}

// A form-encoded query's '+' is a space; in the path it is a plus, and %2B is a plus in both.
TEST(ParseRequestTarget, ReadsPlusAsSpaceOnlyInTheQuery) {
    auto target = parse_request_target("/a+b/c%2Bd?k+1=b+c&p=%2B%20+&plain=x");
    ASSERT_TRUE(target.has_value());
    const std::vector<std::string> expected = {"a+b", "c+d"};
    EXPECT_EQ(target->segments, expected);
    EXPECT_EQ(target->param("k 1"), "b c");
    EXPECT_EQ(target->param("p"), "+  ");
    EXPECT_EQ(target->param("plain"), "x");
    EXPECT_FALSE(target->param("k+1").has_value());
}

TEST(ParseRequestTarget, ParamReturnsTheFirstValue) {
    auto target = parse_request_target("/x?a=1&a=2");
    ASSERT_TRUE(target.has_value());
    EXPECT_EQ(target->param("a"), "1");
}

TEST(ParseRequestTarget, RootHasNoSegments) {
    auto target = parse_request_target("/");
    ASSERT_TRUE(target.has_value());
    EXPECT_TRUE(target->segments.empty());
}

TEST(ParseRequestTarget, RejectsAnAbsoluteUrl) {
    EXPECT_FALSE(parse_request_target("https://example.com/v1/jobs").has_value());
}

TEST(ParseRequestTarget, RejectsGarbage) {
    EXPECT_FALSE(parse_request_target("").has_value());
    EXPECT_FALSE(parse_request_target("v1/jobs").has_value());
    EXPECT_FALSE(parse_request_target("/a b").has_value());
    EXPECT_FALSE(parse_request_target("/bad%zzescape").has_value());
    EXPECT_FALSE(parse_request_target("*").has_value());
}

TEST(EncodeQueryValue, RoundTripsThroughParseRequestTarget) {
    const std::string value = "a b/c?d=e&f+g";
    const std::string encoded = seedhook::encode_query_value(value);
    EXPECT_EQ(encoded.find_first_of(" /?=&+"), std::string::npos) << encoded;
    auto target = parse_request_target("/x?v=" + encoded);
    ASSERT_TRUE(target.has_value());
    EXPECT_EQ(target->param("v"), value);
}
