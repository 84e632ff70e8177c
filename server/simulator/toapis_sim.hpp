#pragma once

/// toapis' simulated protocol: create `POST /v1/videos/generations` (model
/// doubao-seedance-1-5-pro), query `GET /v1/videos/generations/{id}` (the id or the
/// client_business_id), and signed event-envelope callbacks, only when
/// SimulatorOptions::toapis_webhook_secret is set.

#include "common/http_message.hpp"
#include "server/simulator/sim_core.hpp"

#include <memory>

namespace seedhook::simulator {

/// The model the create dispatch sends here.
inline constexpr std::string_view kToapisModel = "doubao-seedance-1-5-pro";

/// Answers toapis' create call. Never throws for bad input: it answers toapis' error shape.
HttpResponse toapis_create(const std::shared_ptr<SimCore>& core, const HttpRequest& request);

/// Answers toapis' query call; the id is the request's first path parameter.
HttpResponse toapis_query(const SimCore& core, const HttpRequest& request);

}  // namespace seedhook::simulator
