#include "server/http/request_parser.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

namespace seedhook::http {

namespace {

namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace asio = boost::asio;

// Ends of a connection that need no answer: the peer closed (before or in the middle of a
// request), the TLS stream was cut, or a timeout or drain cancelled the read.
bool is_routine_close(const boost::system::error_code& ec) {
    return ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message ||
           ec == asio::error::eof || ec == asio::ssl::error::stream_truncated ||
           ec == beast::error::timeout || ec == asio::error::operation_aborted ||
           ec == asio::error::connection_reset;
}

ReadVerdict refuse(int status, std::string code, std::string message) {
    return {ReadVerdict::Kind::kRefuse, status, std::move(code), std::move(message)};
}

ReadVerdict body_too_large(const RequestLimits& limits) {
    return refuse(
        413, "body_too_large", "the body is over " + std::to_string(limits.body_limit) + " bytes"
    );
}

// Feeds `bytes` from `used` on to `parser` until `done` holds, as Beast's read algorithms do
// with what arrives; at the end of `bytes` the peer is taken to have closed.
template <class Parser, class Done>
boost::system::error_code feed(Parser& parser, std::string_view bytes, std::size_t& used, Done done) {
    boost::system::error_code ec;
    while (!done()) {
        const std::size_t n = parser.put(asio::buffer(bytes.data() + used, bytes.size() - used), ec);
        used += n;
        if (ec == bhttp::error::need_more || (!ec && n == 0)) {
            ec = {};
            if (parser.got_some()) {
                parser.put_eof(ec);
            } else {
                ec = bhttp::error::end_of_stream;
            }
            return ec;
        }
        if (ec) {
            return ec;
        }
    }
    return ec;
}

}  // namespace

ReadVerdict read_verdict(
    const boost::system::error_code& ec,
    ReadStage stage,
    const RequestLimits& limits
) {
    if (!ec) {
        return {};
    }
    if (ec == bhttp::error::header_limit) {
        return refuse(431, "headers_too_large", "the request headers are too large");
    }
    if (ec == bhttp::error::body_limit) {  // at the header: Beast checks Content-Length there
        return body_too_large(limits);
    }
    if (is_routine_close(ec)) {
        return {ReadVerdict::Kind::kClose, 0, {}, {}};
    }
    return refuse(
        400,
        "bad_request",
        stage == ReadStage::kHeader ? "the request is not valid HTTP/1.1"
                                    : "the request body is not valid HTTP/1.1"
    );
}

ReadVerdict header_verdict(std::uint64_t content_length, const RequestLimits& limits) {
    if (content_length > limits.body_limit) {
        return body_too_large(limits);
    }
    return {};
}

ParsedRequest parse_request(std::string_view bytes, const RequestLimits& limits) {
    ParsedRequest out;
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(limits.header_limit);
    parser.body_limit(limits.body_limit);
    std::size_t used = 0;
    auto ec = feed(parser, bytes, used, [&parser] { return parser.is_header_done(); });
    out.verdict = read_verdict(ec, ReadStage::kHeader, limits);
    if (out.verdict.kind == ReadVerdict::Kind::kContinue) {
        out.verdict = header_verdict(parser.content_length().value_or(0), limits);
    }
    if (out.verdict.kind != ReadVerdict::Kind::kContinue) {
        return out;
    }
    out.expects_continue = beast::iequals(parser.get()[bhttp::field::expect], "100-continue");
    parser.eager(true);  // as bhttp::async_read sets it
    ec = feed(parser, bytes, used, [&parser] { return parser.is_done(); });
    out.verdict = read_verdict(ec, ReadStage::kBody, limits);
    if (out.verdict.kind != ReadVerdict::Kind::kContinue) {
        return out;
    }
    out.keep_alive = parser.get().keep_alive();
    out.consumed = used;
    out.request = to_plain(parser.release(), {});
    return out;
}

}  // namespace seedhook::http
