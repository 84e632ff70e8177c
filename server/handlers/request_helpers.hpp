#pragma once

/// Checks shared by the handlers: bearer auth, JSON content type, JSON answers.

#include <string>
#include <string_view>
#include <vector>

#include "common/http_message.hpp"

namespace seedhook::handlers {

/// Throws HttpError 401 unless the request carries `Authorization: Bearer <t>` with `t` one
/// of `tokens` (compared in constant time, every token every time).
void require_bearer(const HttpRequest& request, const std::vector<std::string>& tokens);

/// Throws HttpError 415 when the body is declared as something other than JSON.
/// A missing Content-Type is read as JSON.
void require_json_content_type(const HttpRequest& request);

/// A response with a JSON body.
HttpResponse json_response(int status, std::string body);

}  // namespace seedhook::handlers
