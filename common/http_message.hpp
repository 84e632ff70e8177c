#pragma once

/// Plain HTTP request and response values, free of Beast, so that handlers and services can be
/// written and tested without the server. server/http converts to and from Beast's types.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace seedhook {

/// Header list with case-insensitive lookup.
class HttpHeaders {
public:
    /// The first value of header `name`, or an empty view.
    std::string_view get(std::string_view name) const;
    bool has(std::string_view name) const;
    void add(std::string name, std::string value);
    void set(std::string name, std::string value);

    const std::vector<std::pair<std::string, std::string>>& all() const { return items_; }

private:
    std::vector<std::pair<std::string, std::string>> items_;
};

/// An inbound request as the router sees it.
struct HttpRequest {
    std::string method;  ///< "GET", "POST", ...
    std::string target;  ///< origin-form, with the query
    HttpHeaders headers;
    std::string body;
    std::string remote_address;
    std::string request_id;                   ///< set by the router
    std::vector<std::string> path_params;     ///< captured by the router, in pattern order
    std::vector<std::pair<std::string, std::string>> query;  ///< decoded, set by the router
};

/// An outbound response; `content_type` defaults to JSON.
struct HttpResponse {
    int status = 200;
    std::string body;
    std::string content_type = "application/json";
    HttpHeaders headers;
    bool close = false;  ///< close the connection after writing
    /// What the handler learnt (job id, provider, outcome), for the request's log line.
    std::vector<std::pair<std::string, std::string>> log_fields;
};

/// Case-insensitive ASCII comparison.
bool iequals(std::string_view a, std::string_view b);

}  // namespace seedhook
