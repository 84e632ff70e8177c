#pragma once

/// Backend-facing job routes (SPEC §2.1): bearer auth, JSON in and out.

#include <string>
#include <vector>

#include "common/asio.hpp"
#include "common/http_message.hpp"
#include "server/handlers/rendered_jobs.hpp"
#include "server/services/job_service.hpp"

namespace seedhook::handlers {

class JobsHandler {
public:
    /// `jobs` must outlive the handler.
    JobsHandler(services::JobService& jobs, std::vector<std::string> api_tokens);

    /// POST /v1/jobs
    net::awaitable<HttpResponse> create(HttpRequest request);
    /// GET /v1/jobs?status=&provider=&model=&limit=&cursor=
    net::awaitable<HttpResponse> list(HttpRequest request);
    /// GET /v1/jobs/{id}
    net::awaitable<HttpResponse> get(HttpRequest request);
    /// GET /v1/jobs/{id}/callbacks
    net::awaitable<HttpResponse> callbacks(HttpRequest request);

private:
    services::JobService& jobs_;
    std::vector<std::string> api_tokens_;
    RenderedJobs rendered_;
};

/// Reads a create-job body into a JobInput; throws HttpError 400/422 naming the field.
services::JobInput parse_job_input(std::string_view body);

}  // namespace seedhook::handlers
