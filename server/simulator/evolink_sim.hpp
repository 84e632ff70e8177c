#pragma once

/// evolink's simulated protocol: create `POST /v1/videos/generations`, query
/// `GET /v1/tasks/{id}`, and callbacks carrying the task object (unsigned).

#include "common/http_message.hpp"
#include "server/simulator/sim_core.hpp"

#include <memory>

namespace seedhook::simulator {

/// Answers evolink's create call (the request's model is one of evolink's). Never throws for
/// bad input: it answers evolink's error shape.
HttpResponse evolink_create(const std::shared_ptr<SimCore>& core, const HttpRequest& request);

/// Answers evolink's query call; the task id is the request's first path parameter.
HttpResponse evolink_query(const SimCore& core, const HttpRequest& request);

}  // namespace seedhook::simulator
