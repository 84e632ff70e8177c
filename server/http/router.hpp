#pragma once

/// Maps method and path to a handler, and gives every answer the same frame: the SPEC's JSON
/// error shape for every failure, an X-Request-Id, and one JSON log line per request (the
/// query string, which may hold a callback token, is never logged). Beast-free.

#include <functional>
#include <string>
#include <vector>

#include "common/asio.hpp"
#include "common/http_message.hpp"
#include "common/metrics.hpp"

namespace seedhook::http {

using Handler = std::function<net::awaitable<HttpResponse>(HttpRequest)>;

/// One registered route: an HTTP method and its path pattern, e.g. {"GET", "/v1/jobs/{id}"}.
struct RouteInfo {
    std::string method;
    std::string pattern;
};

class Router {
public:
    /// `component` names the log lines of this router ("http" for the service).
    explicit Router(std::string component = "http") : component_(std::move(component)) {}

    /// `pattern` is a path of literal segments and `{name}` captures, e.g. "/v1/jobs/{id}".
    /// Captures arrive in HttpRequest::path_params in order. Register before serving.
    void add(std::string method, const std::string& pattern, Handler handler);

    /// Counts every request into `metrics` (which must outlive the router) from now on.
    void set_metrics(Metrics* metrics) { metrics_ = metrics; }

    /// Every registered route, in registration order: what the server answers (the OpenAPI
    /// description is checked against it). Read-only; call once registration is done.
    std::vector<RouteInfo> routes() const;

    /// Routes one request; never throws.
    net::awaitable<HttpResponse> handle(HttpRequest request) const;

private:
    struct Route {
        std::string method;
        std::string pattern;
        std::vector<std::string> segments;
        Handler handler;
    };

    /// Sets `route` to the matched pattern ("unmatched" when none is).
    net::awaitable<HttpResponse> dispatch(HttpRequest& request, std::string& route) const;

    std::string component_;
    Metrics* metrics_ = nullptr;
    std::vector<Route> routes_;
};

/// An error answer in the SPEC's shape.
HttpResponse error_response(int status, std::string_view code, std::string_view message);

}  // namespace seedhook::http
