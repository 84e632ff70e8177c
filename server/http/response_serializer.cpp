#include "server/http/response_serializer.hpp"

#include <algorithm>
#include <charconv>
#include <ostream>  // boost/beast/http/status.hpp needs it and does not include it

#include <boost/beast/http/status.hpp>

namespace seedhook::http {

namespace {

// RFC 9110 5.6.2: tchar.
bool is_token(std::string_view s) {
    constexpr std::string_view extra = "!#$%&'*+-.^_`|~";
    return !s.empty() && std::all_of(s.begin(), s.end(), [&](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
               extra.find(c) != std::string_view::npos;
    });
}

bool is_field_value(std::string_view s) {
    return std::none_of(s.begin(), s.end(), [](char c) { return c == '\r' || c == '\n' || c == '\0'; });
}

void append_field(std::string& out, std::string_view name, std::string_view value) {
    out.append(name).append(": ").append(value).append("\r\n");
}

void append_number(std::string& out, std::size_t n) {
    char digits[24];
    const auto end = std::to_chars(std::begin(digits), std::end(digits), n).ptr;
    out.append(digits, end);
}

bool status_has_body(int status) { return !(status / 100 == 1 || status == 204 || status == 304); }

}  // namespace

std::string serialize_response(const HttpResponse& res, bool keep_alive) {
    const auto& headers = res.headers;
    const bool has_body = status_has_body(res.status);
    std::string out;
    out.reserve(160 + res.content_type.size() + (has_body ? res.body.size() : 0) + [&] {
        std::size_t n = 0;
        for (const auto& [name, value] : headers.all()) {
            n += name.size() + value.size() + 4;
        }
        return n;
    }());
    out.append("HTTP/1.1 ");
    append_number(out, static_cast<std::size_t>(res.status));
    out.push_back(' ');
    out.append(boost::beast::http::obsolete_reason(static_cast<boost::beast::http::status>(res.status)));
    out.append("\r\n");
    if (!headers.has("Server")) {
        append_field(out, "Server", "seedhook");
    }
    if (!headers.has("Content-Type") && is_field_value(res.content_type)) {
        append_field(out, "Content-Type", res.content_type);
    }
    if (!headers.has("Cache-Control")) {
        append_field(out, "Cache-Control", "no-store");
    }
    for (const auto& [name, value] : headers.all()) {
        // The server owns framing and connection management.
        if (iequals(name, "Content-Length") || iequals(name, "Transfer-Encoding") || iequals(name, "Connection")) {
            continue;
        }
        if (is_token(name) && is_field_value(value)) {
            append_field(out, name, value);
        }
    }
    if (!keep_alive) {
        append_field(out, "Connection", "close");
    }
    if (has_body) {
        out.append("Content-Length: ");
        append_number(out, res.body.size());
        out.append("\r\n");
    }
    out.append("\r\n");
    if (has_body) {
        out.append(res.body);
    }
    return out;
}

}  // namespace seedhook::http
