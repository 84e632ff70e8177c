#pragma once

/// acedata's simulated protocol: create `POST /seedance/videos` (asynchronous with a
/// callback_url or `"async": true`, otherwise blocking until the video is done), query
/// `POST /seedance/tasks` with `{"id", "action": "retrieve"}` (echoing the create request,
/// callback_url included, as acedata does), and unsigned `{success, task_id, trace_id, data}`
/// callbacks whose data is flat, or Ark-shaped when the prompt holds "[sim:ark]".

#include "common/asio.hpp"
#include "common/http_message.hpp"
#include "server/simulator/sim_core.hpp"

#include <memory>

namespace seedhook::simulator {

/// Answers acedata's create call. Runs on any executor; never throws for bad input.
net::awaitable<HttpResponse> acedata_create(std::shared_ptr<SimCore> core, HttpRequest request);

/// Answers acedata's query call.
HttpResponse acedata_query(const SimCore& core, const HttpRequest& request);

}  // namespace seedhook::simulator
