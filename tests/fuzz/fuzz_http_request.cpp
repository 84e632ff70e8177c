// Fuzzes the HTTP request path without a network: the bytes a connection delivers (one or more
// pipelined requests) through the server's request parser and limits (parse_request), and each
// request through a Router carrying the service's routes, whose POST /v1/jobs runs the real
// auth, content-type and body checks. Invariants: the parser never throws and always makes
// progress; it refuses only with 400, 413 or 431 in the SPEC's error shape; what small limits
// accept, the server's limits accept alike; a body never exceeds the limit; the router answers
// every request (never a 500) with a status from the SPEC's list, the error shape on every
// failure, a safe X-Request-Id (the client's when acceptable), Allow on 405 and
// WWW-Authenticate on 401; every log line written meanwhile is one JSON object.

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <set>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include "common/asio.hpp"
#include "common/error.hpp"
#include "common/json.hpp"
#include "server/handlers/jobs_handler.hpp"
#include "server/handlers/request_helpers.hpp"
#include "server/http/http_server.hpp"
#include "server/http/request_parser.hpp"
#include "server/http/router.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace {

using seedhook::HttpRequest;
using seedhook::HttpResponse;
using seedhook::fuzz::check;
using seedhook::http::ParsedRequest;
using seedhook::http::ReadVerdict;
using seedhook::http::RequestLimits;
namespace json = seedhook::json;
namespace net = seedhook::net;

constexpr std::string_view kBearer = "fuzz-token";
constexpr std::size_t kMaxRequests = 8;
constexpr std::size_t kMaxRequestIdLength = 128;
constexpr RequestLimits kSmallLimits{512, 256};

RequestLimits server_limits() {
    const seedhook::http::ServerOptions defaults;
    return {defaults.header_limit, defaults.body_limit};
}

net::awaitable<HttpResponse> echo(HttpRequest request) {
    json::Writer w;
    w.start_object();
    w.key("params");
    w.start_array();
    for (const auto& p : request.path_params) {
        w.string(p);
    }
    w.end_array();
    w.member("query", static_cast<std::int64_t>(request.query.size()));
    w.end_object();
    co_return seedhook::handlers::json_response(200, w.take());
}

// POST /v1/jobs up to the point where JobService would take over.
net::awaitable<HttpResponse> create_job(HttpRequest request) {
    const std::vector<std::string> tokens = {std::string(kBearer)};
    seedhook::handlers::require_bearer(request, tokens);
    seedhook::handlers::require_json_content_type(request);
    const auto input = seedhook::handlers::parse_job_input(request.body);
    co_return seedhook::handlers::json_response(201, input.options_json);
}

// The service's routes (App), with echo standing in for the handlers that need storage.
const seedhook::http::Router& router() {
    static const seedhook::http::Router r = [] {
        seedhook::http::Router out;
        out.add("POST", "/v1/jobs", create_job);
        out.add("GET", "/v1/jobs", echo);
        out.add("GET", "/v1/jobs/{id}", echo);
        out.add("GET", "/v1/jobs/{id}/callbacks", echo);
        out.add("POST", "/v1/callbacks/{provider}/{job_id}", echo);
        out.add("GET", "/healthz", echo);
        out.add("GET", "/readyz", echo);
        out.add("GET", "/metrics", echo);
        return out;
    }();
    return r;
}

HttpResponse route(HttpRequest request) {
    static net::io_context ioc;
    std::optional<HttpResponse> out;
    bool threw = false;
    net::co_spawn(ioc, router().handle(std::move(request)), [&](std::exception_ptr e, HttpResponse r) {
        threw = e != nullptr;
        out = std::move(r);
    });
    ioc.restart();
    ioc.run();
    check(!threw && out.has_value(), "the router answers and never throws");
    return std::move(*out);
}

bool safe_request_id(std::string_view id) {
    return !id.empty() && id.size() <= kMaxRequestIdLength &&
           std::all_of(id.begin(), id.end(), [](char c) {
               return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_' || c == '.' || c == ':';
           });
}

void check_response(const HttpRequest& request, const HttpResponse& response, std::string_view input) {
    static const std::set<int> kStatuses = {200, 201, 400, 401, 404, 405, 415, 422};
    check(kStatuses.count(response.status) == 1, "the status is one the routes give", std::to_string(response.status) + " " + std::string(input));
    if (response.status >= 400) {
        check(seedhook::fuzz::is_error_shape(response.body), "a failure has the SPEC's error shape", response.body);
    }
    const std::string_view id = response.headers.get("X-Request-Id");
    check(safe_request_id(id), "the X-Request-Id is safe to echo", id);
    const std::string_view sent = request.headers.get("X-Request-Id");
    check(!safe_request_id(sent) || id == sent, "an acceptable X-Request-Id is echoed", input);
    check(response.status != 405 || !response.headers.get("Allow").empty(), "405 says what is allowed", input);
    check(response.status != 401 || response.headers.get("WWW-Authenticate") == "Bearer", "401 asks for a bearer token", input);
    check(response.content_type == "application/json", "the answer is JSON", input);
}

bool same_request(const ParsedRequest& a, const ParsedRequest& b) {
    return a.request.method == b.request.method && a.request.target == b.request.target &&
           a.request.headers.all() == b.request.headers.all() && a.request.body == b.request.body &&
           a.keep_alive == b.keep_alive && a.consumed == b.consumed &&
           a.expects_continue == b.expects_continue;
}

// Parses one request; nullopt when the connection ends there.
std::optional<ParsedRequest> parse(std::string_view bytes, std::string_view input) {
    const RequestLimits limits = server_limits();
    ParsedRequest parsed = seedhook::http::parse_request(bytes, limits);
    const ParsedRequest small = seedhook::http::parse_request(bytes, kSmallLimits);
    if (small.verdict.kind == ReadVerdict::Kind::kContinue) {
        check(parsed.verdict.kind == ReadVerdict::Kind::kContinue && same_request(parsed, small), "what small limits accept, the server's limits accept alike", input);
    }
    for (const ParsedRequest* p : std::initializer_list<const ParsedRequest*>{&parsed, &small}) {
        if (p->verdict.kind == ReadVerdict::Kind::kRefuse) {
            const int status = p->verdict.status;
            check(status == 400 || status == 413 || status == 431, "a refusal is 400, 413 or 431", input);
            const HttpResponse refusal = seedhook::http::error_response(status, p->verdict.code, p->verdict.message);
            check(refusal.status == status && seedhook::fuzz::is_error_shape(refusal.body), "a refusal has the SPEC's error shape", refusal.body);
        }
    }
    if (parsed.verdict.kind != ReadVerdict::Kind::kContinue) {
        return std::nullopt;
    }
    check(parsed.consumed > 0 && parsed.consumed <= bytes.size(), "a request consumes bytes, within what arrived", input);
    check(!parsed.request.method.empty() && !parsed.request.target.empty(), "a request has a method and a target", input);
    check(parsed.request.body.size() <= limits.body_limit, "a body is within the limit", input);
    check(small.verdict.kind == ReadVerdict::Kind::kContinue || small.verdict.kind == ReadVerdict::Kind::kRefuse, "small limits refuse what they do not accept", input);
    return parsed;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input = seedhook::fuzz::as_text(data, size);
    std::string_view rest = input;
    for (std::size_t n = 0; n < kMaxRequests && !rest.empty(); ++n) {
        auto parsed = parse(rest, input);
        if (!parsed) {
            break;
        }
        rest.remove_prefix(parsed->consumed);
        const HttpRequest sent = parsed->request;
        const HttpResponse response = route(std::move(parsed->request));
        check_response(sent, response, input);
        if (!parsed->keep_alive) {
            break;
        }
    }
    return 0;
}
