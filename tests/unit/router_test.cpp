#include "server/http/router.hpp"

#include "common/error.hpp"
#include "common/json.hpp"
#include "common/log.hpp"

#include <stdexcept>
#include <string>
#include <vector>

#include <boost/asio/use_future.hpp>
#include <gtest/gtest.h>

namespace json = seedhook::json;
namespace net = boost::asio;
using seedhook::HttpError;
using seedhook::HttpRequest;
using seedhook::HttpResponse;
using seedhook::ServiceError;
using seedhook::http::Router;

namespace {

std::vector<std::string>& log_lines() {
    static std::vector<std::string> lines;
    return lines;
}

void capture_log(std::string_view line) {
    log_lines().emplace_back(line);
}

/// Answers with the captured path parameters as a JSON array.
net::awaitable<HttpResponse> echo_params(HttpRequest request) {
    json::Writer w;
    w.start_array();
    for (const auto& p : request.path_params) {
        w.string(p);
    }
    w.end_array();
    HttpResponse r;
    r.body = w.take();
    co_return r;
}

/// Answers with the decoded query as a JSON object (first value of each key).
net::awaitable<HttpResponse> echo_query(HttpRequest request) {
    json::Writer w;
    w.start_object();
    for (const auto& [k, v] : request.query) {
        w.member(k, v);
    }
    w.end_object();
    HttpResponse r;
    r.body = w.take();
    co_return r;
}

net::awaitable<HttpResponse> throws_http_error(HttpRequest /*request*/) {
    throw HttpError(422, "invalid_field", "duration must be from 4 to 12", "duration");
    co_return HttpResponse{};
}

net::awaitable<HttpResponse> throws_provider_rejected(HttpRequest /*request*/) {
    ServiceError e(
        ServiceError::Kind::kProviderRejected, "provider_rejected", "the provider refused the job"
    );
    e.provider_status = 400;
    e.provider_message = "prompt is too long";
    throw e;
    co_return HttpResponse{};
}

net::awaitable<HttpResponse> throws_runtime_error(HttpRequest /*request*/) {
    throw std::runtime_error("sqlite exploded at /var/lib/secret.db");
    co_return HttpResponse{};
}

/// Throws the ServiceError whose kind the query's `kind` names.
net::awaitable<HttpResponse> throws_service_error(HttpRequest request) {
    using Kind = ServiceError::Kind;
    const std::pair<std::string_view, Kind> kinds[] = {
        {"invalid", Kind::kInvalid},
        {"not_found", Kind::kNotFound},
        {"conflict", Kind::kConflict},
        {"unauthorized", Kind::kUnauthorized},
        {"malformed", Kind::kMalformed},
        {"provider_unavailable", Kind::kProviderUnavailable},
        {"provider_timeout", Kind::kProviderTimeout},
        {"unavailable", Kind::kUnavailable},
    };
    for (const auto& [name, kind] : kinds) {
        if (!request.query.empty() && request.query[0].second == name) {
            throw ServiceError(kind, std::string(name), "refused: " + std::string(name), "prompt");
        }
    }
    co_return HttpResponse{};
}

net::awaitable<HttpResponse> names_its_job(HttpRequest request) {
    HttpResponse r;
    r.log_fields = {{"job_id", request.path_params.at(0)}, {"provider", "evolink"}};
    co_return r;
}

class RouterTest : public testing::Test {
protected:
    void SetUp() override {
        log_lines().clear();
        seedhook::log::set_level(seedhook::log::Level::kInfo);
        seedhook::log::set_sink(&capture_log);
        router_.add("GET", "/v1/jobs/{id}", echo_params);
        router_.add("GET", "/v1/jobs", echo_query);
        router_.add("POST", "/v1/jobs", echo_query);
        router_.add("POST", "/v1/callbacks/{provider}/{job_id}", echo_params);
        router_.add("GET", "/named/{id}", names_its_job);
        router_.add("GET", "/fail/http", throws_http_error);
        router_.add("GET", "/fail/provider", throws_provider_rejected);
        router_.add("GET", "/fail/runtime", throws_runtime_error);
        router_.add("GET", "/fail/service", throws_service_error);
    }

    void TearDown() override { seedhook::log::set_sink(nullptr); }

    HttpResponse send(std::string method, std::string target, std::string request_id = {}) const {
        HttpRequest request;
        request.method = std::move(method);
        request.target = std::move(target);
        request.remote_address = "127.0.0.1";
        if (!request_id.empty()) {
            request.headers.set("X-Request-Id", std::move(request_id));
        }
        net::io_context ioc;
        auto answer = net::co_spawn(ioc, router_.handle(std::move(request)), net::use_future);
        ioc.run();
        return answer.get();
    }

    Router router_;
};

/// The "error" object of an error body; fails the test when the body is not in the SPEC's shape.
json::Document error_of(const HttpResponse& response) {
    auto doc = json::parse(response.body);
    EXPECT_TRUE(doc.has_value()) << response.body;
    if (!doc) {
        return {};
    }
    EXPECT_EQ(response.content_type, "application/json");
    const json::Value* error = json::find(*doc, "error");
    EXPECT_TRUE(error != nullptr && error->IsObject()) << response.body;
    json::Document out;
    if (error != nullptr && error->IsObject()) {
        out.CopyFrom(*error, out.GetAllocator());
    }
    return out;
}

}  // namespace

TEST_F(RouterTest, CaptureReachesTheHandler) {
    const auto r = send("GET", "/v1/jobs/job_42");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, R"(["job_42"])");
}

TEST_F(RouterTest, CapturesArriveInPatternOrder) {
    const auto r = send("POST", "/v1/callbacks/evolink/job_7?token=abc");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, R"(["evolink","job_7"])");
}

TEST_F(RouterTest, LiteralRouteIsNotTakenByACapture) {
    const auto r = send("GET", "/v1/jobs?limit=2");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, R"({"limit":"2"})");
}

TEST_F(RouterTest, UnknownPathIsNotFoundInTheSpecShape) {
    const auto r = send("GET", "/v1/nothing/here");
    EXPECT_EQ(r.status, 404);
    const auto error = error_of(r);
    EXPECT_EQ(json::get_string(error, "code"), "not_found");
    EXPECT_FALSE(json::get_string(error, "message").value_or("").empty());
}

TEST_F(RouterTest, ExtraSegmentIsNotFound) {
    EXPECT_EQ(send("GET", "/v1/jobs/job_1/extra/more").status, 404);
}

TEST_F(RouterTest, KnownPathWithWrongMethodIsMethodNotAllowedWithAllow) {
    const auto r = send("DELETE", "/v1/jobs");
    EXPECT_EQ(r.status, 405);
    const std::string allow(r.headers.get("Allow"));
    EXPECT_NE(allow.find("GET"), std::string::npos) << allow;
    EXPECT_NE(allow.find("POST"), std::string::npos) << allow;
    EXPECT_FALSE(json::get_string(error_of(r), "code").value_or("").empty());
}

TEST_F(RouterTest, WrongMethodOnACapturedPathListsItsMethod) {
    const auto r = send("PUT", "/v1/jobs/job_1");
    EXPECT_EQ(r.status, 405);
    EXPECT_EQ(r.headers.get("Allow"), "GET");
}

TEST_F(RouterTest, RequestIdIsEchoedWhenSent) {
    const auto r = send("GET", "/v1/jobs/job_1", "client-req-123");
    EXPECT_EQ(r.headers.get("X-Request-Id"), "client-req-123");
}

TEST_F(RouterTest, RequestIdIsEchoedOnErrorsToo) {
    const auto r = send("GET", "/v1/nothing", "client-req-404");
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(r.headers.get("X-Request-Id"), "client-req-404");
}

TEST_F(RouterTest, RequestIdIsGeneratedWhenAbsent) {
    const auto a = send("GET", "/v1/jobs/job_1");
    const auto b = send("GET", "/v1/jobs/job_1");
    EXPECT_FALSE(a.headers.get("X-Request-Id").empty());
    EXPECT_NE(a.headers.get("X-Request-Id"), b.headers.get("X-Request-Id"));
}

TEST_F(RouterTest, OverlongRequestIdIsReplaced) {
    const std::string sent(500, 'a');
    const auto r = send("GET", "/v1/jobs/job_1", sent);
    const std::string id(r.headers.get("X-Request-Id"));
    EXPECT_FALSE(id.empty());
    EXPECT_NE(id, sent);
    EXPECT_LE(id.size(), 128U);
}

TEST_F(RouterTest, RequestIdWithSpacesIsReplaced) {
    const auto r = send("GET", "/v1/jobs/job_1", "has spaces in it");
    const std::string id(r.headers.get("X-Request-Id"));
    EXPECT_FALSE(id.empty());
    EXPECT_NE(id, "has spaces in it");
    EXPECT_EQ(id.find(' '), std::string::npos);
}

TEST_F(RouterTest, HttpErrorBecomesItsStatusAndFieldInTheBody) {
    const auto r = send("GET", "/fail/http");
    EXPECT_EQ(r.status, 422);
    const auto error = error_of(r);
    EXPECT_EQ(json::get_string(error, "code"), "invalid_field");
    EXPECT_EQ(json::get_string(error, "message"), "duration must be from 4 to 12");
    EXPECT_EQ(json::get_string(error, "field"), "duration");
}

TEST_F(RouterTest, ProviderRejectionIs502WithTheProviderStatus) {
    const auto r = send("GET", "/fail/provider");
    EXPECT_EQ(r.status, 502);
    const auto error = error_of(r);
    EXPECT_EQ(json::get_string(error, "code"), "provider_rejected");
    EXPECT_EQ(json::get_int(error, "provider_status"), 400);
    EXPECT_EQ(json::get_string(error, "provider_message"), "prompt is too long");
}

TEST_F(RouterTest, UnknownExceptionIsA500WithoutItsText) {
    const auto r = send("GET", "/fail/runtime");
    EXPECT_EQ(r.status, 500);
    EXPECT_EQ(r.body.find("sqlite exploded"), std::string::npos) << r.body;
    EXPECT_EQ(r.body.find("secret.db"), std::string::npos) << r.body;
    EXPECT_FALSE(json::get_string(error_of(r), "code").value_or("").empty());
    EXPECT_FALSE(r.headers.get("X-Request-Id").empty());
}

TEST_F(RouterTest, QueryParamsAreDecoded) {
    const auto r = send("GET", "/v1/jobs?status=running&model=seedance-1.5-pro&cursor=a%2Fb%3D%3D");
    EXPECT_EQ(r.status, 200);
    const auto doc = json::parse(r.body);
    ASSERT_TRUE(doc.has_value()) << r.body;
    EXPECT_EQ(json::get_string(*doc, "status"), "running");
    EXPECT_EQ(json::get_string(*doc, "model"), "seedance-1.5-pro");
    EXPECT_EQ(json::get_string(*doc, "cursor"), "a/b==");
}

TEST_F(RouterTest, InvalidTargetIsABadRequest) {
    const auto r = send("GET", "/v1/jobs/%zz");
    EXPECT_EQ(r.status, 400);
    EXPECT_FALSE(json::get_string(error_of(r), "code").value_or("").empty());
}

TEST_F(RouterTest, TheRequestLineCarriesWhatTheHandlerLearnt) {
    send("GET", "/named/job_9", "req-abc");
    ASSERT_EQ(log_lines().size(), 1U);
    auto line = json::parse(log_lines().front());
    ASSERT_TRUE(line) << log_lines().front();
    EXPECT_EQ(json::get_string(*line, "msg"), "request");
    EXPECT_EQ(json::get_string(*line, "level"), "info");
    EXPECT_EQ(json::get_string(*line, "request_id"), "req-abc");
    EXPECT_EQ(json::get_string(*line, "job_id"), "job_9");
    EXPECT_EQ(json::get_string(*line, "provider"), "evolink");
    EXPECT_EQ(json::get_string(*line, "path"), "/named/job_9");
}

TEST_F(RouterTest, QueryStringIsNeverLogged) {
    const auto r = send("POST", "/v1/callbacks/evolink/job_7?token=SuperSecretToken123");
    EXPECT_EQ(r.status, 200);
    ASSERT_FALSE(log_lines().empty());
    for (const auto& line : log_lines()) {
        EXPECT_EQ(line.find("SuperSecretToken123"), std::string::npos) << line;
    }
}

TEST_F(RouterTest, ServiceErrorKindsMapToTheSpecStatuses) {
    const std::pair<const char*, int> cases[] = {
        {"invalid", 422},
        {"not_found", 404},
        {"conflict", 409},
        {"unauthorized", 401},
        {"malformed", 400},
        {"provider_unavailable", 503},
        {"provider_timeout", 504},
        {"unavailable", 503},
    };
    for (const auto& [kind, status] : cases) {
        const auto r = send("GET", std::string("/fail/service?kind=") + kind);
        EXPECT_EQ(r.status, status) << kind;
        const auto error = error_of(r);
        EXPECT_EQ(json::get_string(error, "code"), kind);
        EXPECT_EQ(json::get_string(error, "field"), "prompt") << kind;
    }
}

TEST_F(RouterTest, UnauthorizedCarriesABearerChallenge) {
    const auto r = send("GET", "/fail/service?kind=unauthorized");
    EXPECT_EQ(r.status, 401);
    EXPECT_EQ(r.headers.get("WWW-Authenticate"), "Bearer");
}

TEST_F(RouterTest, RequestIdHeaderNameIsCaseInsensitive) {
    HttpRequest request;
    request.method = "GET";
    request.target = "/v1/jobs/job_1";
    request.headers.add("x-request-id", "lower-case-id");
    net::io_context ioc;
    auto answer = net::co_spawn(ioc, router_.handle(std::move(request)), net::use_future);
    ioc.run();
    EXPECT_EQ(answer.get().headers.get("X-Request-Id"), "lower-case-id");
}
