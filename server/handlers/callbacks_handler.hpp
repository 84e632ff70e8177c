#pragma once

/// Provider-facing callback route (SPEC §2.2): authenticated by the URL's capability token;
/// answers 2xx only once the delivery is committed.

#include "common/asio.hpp"
#include "common/http_message.hpp"
#include "server/services/job_service.hpp"

namespace seedhook::handlers {

class CallbacksHandler {
public:
    /// `jobs` must outlive the handler.
    explicit CallbacksHandler(services::JobService& jobs) : jobs_(jobs) {}

    /// POST /v1/callbacks/{provider}/{job_id}?token=…
    net::awaitable<HttpResponse> receive(HttpRequest request);

private:
    services::JobService& jobs_;
};

}  // namespace seedhook::handlers
