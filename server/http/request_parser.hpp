#pragma once

/// How the server reads one HTTP/1.1 request under its header and body limits, and the answers
/// it gives by itself to requests it will not pass on. The sessions of http_server.cpp and the
/// fuzz targets (tests/fuzz) share these rules. Beast-free: Beast stays in the .cpp files.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <boost/system/error_code.hpp>

#include "common/http_message.hpp"

namespace seedhook::http {

/// The parser's limits (ServerOptions::header_limit and body_limit).
struct RequestLimits {
    std::uint32_t header_limit = 16 * 1024;
    std::uint64_t body_limit = 1024 * 1024;
};

/// What a session does once part of a request is read.
struct ReadVerdict {
    enum class Kind {
        kContinue,  ///< read on (or, after the body, hand the request to the router)
        kClose,     ///< close without an answer: the peer left, or the connection timed out
        kRefuse     ///< answer `status` with the SPEC's error shape, then close
    };
    Kind kind = Kind::kContinue;
    int status = 0;  ///< kRefuse: 400, 413 or 431
    std::string code;
    std::string message;
};

/// Which part of the request a read was for.
enum class ReadStage { kHeader, kBody };

/// The verdict on a read of `stage` that ended with `ec` (Beast's or Asio's error code).
ReadVerdict read_verdict(
    const boost::system::error_code& ec,
    ReadStage stage,
    const RequestLimits& limits
);

/// The verdict on a complete header: a body declared (Content-Length; 0 when there is none)
/// over the limit is refused unread.
ReadVerdict header_verdict(std::uint64_t content_length, const RequestLimits& limits);

/// One request read from the start of a byte string.
struct ParsedRequest {
    ReadVerdict verdict;  ///< kContinue: `request` is complete
    HttpRequest request;
    bool keep_alive = false;
    bool expects_continue = false;  ///< `Expect: 100-continue`
    std::size_t consumed = 0;       ///< bytes the request took (the rest is the next one)
};

/// Reads one request from `bytes`, everything the peer sent before closing, with the parser,
/// limits and verdicts of a session (a request cut short is kClose). Never throws. For tests
/// and fuzzing: the server itself reads from the connection.
ParsedRequest parse_request(std::string_view bytes, const RequestLimits& limits);

/// `message` (a parsed Beast request with a string body) as the router's HttpRequest. A
/// template so that this header needs no Beast.
template <class Message>
HttpRequest to_plain(Message&& message, std::string remote) {
    static_assert(!std::is_lvalue_reference_v<Message>, "to_plain takes the body: pass an rvalue");
    HttpRequest out;
    out.method = std::string(message.method_string());
    out.target = std::string(message.target());
    for (const auto& field : message) {
        out.headers.add(std::string(field.name_string()), std::string(field.value()));
    }
    out.body = std::move(message.body());
    out.remote_address = std::move(remote);
    return out;
}

}  // namespace seedhook::http
