#include "common/metrics.hpp"

#include <gtest/gtest.h>

#include <sstream>

namespace {

using seedhook::Metrics;

bool has_line(const std::string& text, const std::string& line) {
    return text.find("\n" + line + "\n") != std::string::npos || text.starts_with(line + "\n");
}

TEST(Metrics, CountersCarryTheirLabelsAndHelp) {
    Metrics m;
    m.count_callback("evolink", "applied");
    m.count_callback("evolink", "applied");
    m.count_callback("toapis", "duplicate");
    const std::string text = m.render({});
    EXPECT_TRUE(has_line(text, "# TYPE seedhook_callbacks_total counter")) << text;
    EXPECT_TRUE(has_line(text, R"(seedhook_callbacks_total{provider="evolink",outcome="applied"} 2)")) << text;
    EXPECT_TRUE(has_line(text, R"(seedhook_callbacks_total{provider="toapis",outcome="duplicate"} 1)")) << text;
}

TEST(Metrics, HistogramBucketsAreCumulativeWithSumAndCount) {
    Metrics m;
    m.observe_commit(0.0002, 1);
    m.observe_commit(0.003, 40);
    m.observe_commit(7.0, 300);
    const std::string text = m.render({});
    EXPECT_TRUE(has_line(text, "# TYPE seedhook_storage_commit_duration_seconds histogram")) << text;
    EXPECT_TRUE(has_line(text, R"(seedhook_storage_commit_duration_seconds_bucket{le="0.00050000000000000001"} 1)")) << text;
    EXPECT_TRUE(has_line(text, R"(seedhook_storage_commit_duration_seconds_bucket{le="0.0050000000000000001"} 2)")) << text;
    EXPECT_TRUE(has_line(text, R"(seedhook_storage_commit_duration_seconds_bucket{le="5"} 2)")) << text;
    EXPECT_TRUE(has_line(text, R"(seedhook_storage_commit_duration_seconds_bucket{le="+Inf"} 3)")) << text;
    EXPECT_TRUE(has_line(text, "seedhook_storage_commit_duration_seconds_count 3")) << text;
}

// Requests are counted by route, method and status; their durations by route alone, whatever
// the requests before them on this thread left in the label buffer.
TEST(Metrics, RequestsAreCountedByRouteMethodAndStatusAndTimedByRouteAlone) {
    Metrics m;
    m.observe_request("/v1/callbacks/{provider}/{job_id}", "POST", 200, 0.001);
    m.observe_request("/v1/jobs/{id}", "GET", 200, 0.002);
    m.observe_request("/v1/jobs/{id}", "GET", 404, 0.003);
    m.observe_request("/v1/jobs/{id}", "DELETE", 405, 0.004);
    const std::string text = m.render({});
    EXPECT_TRUE(has_line(text, R"(seedhook_http_requests_total{route="/v1/jobs/{id}",method="GET",status="200"} 1)")) << text;
    EXPECT_TRUE(has_line(text, R"(seedhook_http_requests_total{route="/v1/jobs/{id}",method="GET",status="404"} 1)")) << text;
    EXPECT_TRUE(has_line(text, R"(seedhook_http_requests_total{route="/v1/jobs/{id}",method="DELETE",status="405"} 1)")) << text;
    EXPECT_TRUE(has_line(text, R"(seedhook_http_requests_total{route="/v1/callbacks/{provider}/{job_id}",method="POST",status="200"} 1)")) << text;
    EXPECT_TRUE(has_line(text, R"(seedhook_http_request_duration_seconds_count{route="/v1/jobs/{id}"} 3)")) << text;
    EXPECT_TRUE(has_line(text, R"(seedhook_http_request_duration_seconds_count{route="/v1/callbacks/{provider}/{job_id}"} 1)")) << text;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
        if (line.starts_with("seedhook_http_request_duration_seconds")) {
            EXPECT_EQ(line.find("method="), std::string::npos) << line;
            EXPECT_EQ(line.find("status="), std::string::npos) << line;
        }
    }
}

TEST(Metrics, LabelValuesAreEscaped) {
    EXPECT_EQ(Metrics::label("route", "a\"b\\c\nd"), R"(route="a\"b\\c\nd")");
}

TEST(Metrics, GaugesAreRenderedAfterTheRecordedFamilies) {
    Metrics m;
    const std::string text = m.render({{"seedhook_open_connections", "Open HTTPS connections.", {{"", 3}}}});
    EXPECT_TRUE(has_line(text, "# TYPE seedhook_open_connections gauge")) << text;
    EXPECT_TRUE(has_line(text, "seedhook_open_connections 3")) << text;
}

}  // namespace
