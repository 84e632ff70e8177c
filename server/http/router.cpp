#include "server/http/router.hpp"

#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <sstream>

#include "common/crypto.hpp"
#include "common/error.hpp"
#include "common/log.hpp"
#include "common/url.hpp"

namespace seedhook::http {

namespace {

constexpr std::size_t kMaxRequestIdLength = 128;

bool acceptable_request_id(std::string_view id) {
    return !id.empty() && id.size() <= kMaxRequestIdLength &&
           std::all_of(id.begin(), id.end(), [](char c) {
               return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_' ||
                      c == '.' || c == ':';
           });
}

// Request ids need to be unique, not secret: a per-thread generator seeded from the CSPRNG
// spares every request a trip through OpenSSL's RAND (and its getpid() fork check).
std::string new_request_id() {
    thread_local std::mt19937_64 engine = [] {
        std::uint64_t seed = 0;
        const std::string bytes = crypto::random_bytes(sizeof seed);
        std::memcpy(&seed, bytes.data(), sizeof seed);
        return std::mt19937_64(seed);
    }();
    const std::uint64_t v = engine();
    char out[4 + 16 + 1];
    std::snprintf(out, sizeof out, "req_%016llx", static_cast<unsigned long long>(v));
    return std::string(out, 20);
}

std::vector<std::string> split_path(const std::string& pattern) {
    std::vector<std::string> out;
    std::stringstream in(pattern);
    for (std::string part; std::getline(in, part, '/');) {
        if (!part.empty()) {
            out.push_back(part);
        }
    }
    return out;
}

bool is_param(const std::string& pattern_segment) { return pattern_segment.starts_with('{'); }

bool matches(const std::vector<std::string>& pattern, const std::vector<std::string>& path) {
    if (pattern.size() != path.size()) {
        return false;
    }
    for (std::size_t i = 0; i < pattern.size(); ++i) {
        if (!is_param(pattern[i]) && pattern[i] != path[i]) {
            return false;
        }
    }
    return true;
}

// The path's segments where the pattern has parameters, moved out of `path`.
std::vector<std::string> take_params(const std::vector<std::string>& pattern, std::vector<std::string>& path) {
    std::vector<std::string> params;
    for (std::size_t i = 0; i < pattern.size(); ++i) {
        if (is_param(pattern[i])) {
            params.push_back(std::move(path[i]));
        }
    }
    return params;
}

HttpResponse from_error(const HttpError& e) {
    HttpResponse r;
    r.status = e.status();
    r.body = error_body(e);
    if (e.status() == 401) {
        r.headers.set("WWW-Authenticate", "Bearer");
    }
    return r;
}

std::string_view path_of(std::string_view target) { return target.substr(0, target.find('?')); }

}  // namespace

HttpResponse error_response(int status, std::string_view code, std::string_view message) {
    return from_error(HttpError(status, std::string(code), std::string(message)));
}

void Router::add(std::string method, const std::string& pattern, Handler handler) {
    routes_.push_back({std::move(method), pattern, split_path(pattern), std::move(handler)});
}

std::vector<RouteInfo> Router::routes() const {
    std::vector<RouteInfo> out;
    out.reserve(routes_.size());
    for (const auto& route : routes_) {
        out.push_back({route.method, route.pattern});
    }
    return out;
}

net::awaitable<HttpResponse> Router::dispatch(HttpRequest& request, std::string& route_label) const {
    auto target = parse_request_target(request.target);
    if (!target) {
        throw HttpError(400, "bad_target", "the request target is not a valid path");
    }
    request.query = std::move(target->query);
    std::string allowed;
    for (const auto& route : routes_) {
        if (!matches(route.segments, target->segments)) {
            continue;
        }
        route_label = route.pattern;
        if (route.method != request.method) {
            allowed += (allowed.empty() ? "" : ", ") + route.method;
            continue;
        }
        request.path_params = take_params(route.segments, target->segments);
        auto pending = route.handler(std::move(request));
        HttpResponse response = co_await std::move(pending);
        co_return response;
    }
    if (!allowed.empty()) {
        HttpError e(405, "method_not_allowed", "this path allows " + allowed);
        auto r = from_error(e);
        r.headers.set("Allow", allowed);
        co_return r;
    }
    throw HttpError(404, "not_found", "no such route");
}

net::awaitable<HttpResponse> Router::handle(HttpRequest request) const {
    const auto started = std::chrono::steady_clock::now();
    const std::string method = request.method;
    const std::string path(path_of(request.target));
    const std::string remote = request.remote_address;
    std::string request_id(request.headers.get("X-Request-Id"));
    if (!acceptable_request_id(request_id)) {
        request_id = new_request_id();
    }
    request.request_id = request_id;
    HttpResponse response;
    std::string route = "unmatched";
    try {
        response = co_await dispatch(request, route);
    } catch (const HttpError& e) {
        response = from_error(e);
    } catch (const ServiceError& e) {
        response = from_error(to_http_error(e));
    } catch (const std::exception& e) {
        log::error(component_, "unhandled error", {{"request_id", request_id}, {"error", e.what()}});
        response = error_response(500, "internal", "an internal error occurred");
    }
    response.headers.set("X-Request-Id", request_id);
    const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started).count();
    if (metrics_ != nullptr) {
        metrics_->observe_request(route, method, response.status, static_cast<double>(micros) / 1e6);
    }
    if (log::enabled(log::Level::kInfo)) {
        std::vector<log::Field> fields = {{"request_id", request_id}, {"method", method}, {"path", path}, {"status", static_cast<std::int64_t>(response.status)}, {"duration_us", static_cast<std::int64_t>(micros)}, {"remote", remote}};
        for (const auto& [key, value] : response.log_fields) {
            fields.push_back({key, value});
        }
        log::write(log::Level::kInfo, component_, "request", fields);
    }
    co_return response;
}

}  // namespace seedhook::http
