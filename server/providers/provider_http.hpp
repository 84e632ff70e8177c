#pragma once

/// The JSON-over-HTTPS exchange that every adapter makes, with the providers' shared error
/// conventions mapped to ProviderError.

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "common/json.hpp"
#include "common/metrics.hpp"
#include "server/providers/https_client.hpp"
#include "server/providers/provider.hpp"

namespace seedhook::providers {

/// What every adapter needs to reach its provider.
struct ProviderOptions {
    std::string base_url;  ///< no trailing slash
    std::string api_key;
    std::chrono::milliseconds timeout{30000};
    std::shared_ptr<HttpsClient> client;
    std::string webhook_secret;  ///< for providers that sign their callbacks (toapis)
    std::string name;            ///< the provider's name, for metrics
    Metrics* metrics = nullptr;  ///< counts calls when set; must outlive the provider
};

/// Sends `body` (empty: none) with bearer auth (`operation` names the call in metrics) and returns the parsed 2xx answer.
/// Throws ProviderError: kRejected for 4xx other than 408/429 (with the provider's status and
/// message), kUnavailable for 408, 429, 5xx and failures before the request was sent whole
/// (connect, TLS), kTimeout when that took too long, kInDoubt when the request was sent whole
/// but no HTTP answer came back (timeout, reset, bytes that are not HTTP), kBadAnswer for a
/// 2xx that is not JSON.
net::awaitable<json::Document> call_json(
    const ProviderOptions& options,
    std::string_view operation,
    std::string method,
    std::string path,
    std::string body
);

/// Reads a callback body with `read_task`: kMalformed when it is not JSON, kNotTaskPayload
/// when `read_task` finds no task in it, else kUpdate with the task.
CallbackParse read_callback(
    std::string_view body,
    const std::function<std::optional<TaskUpdate>(const json::Value&)>& read_task
);

/// The provider's error message in `{"error": {"message"}}` (or a short excerpt of the body).
std::string provider_message(std::string_view body);

}  // namespace seedhook::providers
