#pragma once

/// URL handling over Boost.URL: absolute URLs for configuration and outbound calls, request
/// targets for routing, and the providers' rule that callback hosts must not be private.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace seedhook {

/// An absolute http(s) URL, split for connecting.
struct AbsoluteUrl {
    std::string scheme;  ///< "http" or "https", lowercase
    std::string host;    ///< without brackets for IPv6
    std::string port;    ///< explicit or the scheme's default
    std::string target;  ///< path and query, at least "/"
    bool host_is_ip = false;
};

/// Parses an absolute http or https URL with a host; nullopt otherwise (including userinfo
/// and fragments, which no provider or callback URL may carry).
std::optional<AbsoluteUrl> parse_absolute_url(std::string_view text);

/// True when the host is a loopback, private, link-local, unspecified or otherwise
/// non-public address literal, or a name that always means this machine ("localhost").
bool is_private_host(const AbsoluteUrl& url);

/// An origin-form request target: the decoded path segments and query parameters.
struct RequestTarget {
    std::vector<std::string> segments;
    std::vector<std::pair<std::string, std::string>> query;

    /// The first value of query parameter `key`.
    std::optional<std::string_view> param(std::string_view key) const;
};

/// Parses "/a/b?x=1"; nullopt when it is not a valid origin-form target.
std::optional<RequestTarget> parse_request_target(std::string_view target);

/// Percent-encodes a value for use inside a query string.
std::string encode_query_value(std::string_view value);

}  // namespace seedhook
