#pragma once

/// An HTTP/1.1 response as the server writes it, serialised straight from the plain
/// HttpResponse into one string: no Beast message, field list or serializer per response
/// (bench/README.md, "Responses without Beast's serializer"). Beast-free: Beast stays in the
/// .cpp files.

#include <string>

#include "common/http_message.hpp"

namespace seedhook::http {

/// Status line, header fields, the empty line, then the body (none for 1xx, 204 and 304).
/// Adds `Server`, `Content-Type` and `Cache-Control: no-store` unless `res.headers` sets them,
/// `Connection: close` when `keep_alive` is false, and `Content-Length` (not for the statuses
/// without a body). The server owns framing: a `Content-Length`, `Transfer-Encoding` or
/// `Connection` in `res.headers` is not written, and neither is a field whose name is not an
/// RFC 9110 token or whose value holds CR, LF or NUL (it could end the head early).
std::string serialize_response(const HttpResponse& res, bool keep_alive);

}  // namespace seedhook::http
