#pragma once

/// toapis (https://toapis.com): create `POST /v1/videos/generations`, query
/// `GET /v1/videos/generations/{id}`. Callbacks are signed event envelopes, sent only when a
/// webhook secret is configured (otherwise toapis jobs are followed by polling alone).

#include "common/json.hpp"
#include "server/providers/provider.hpp"
#include "server/providers/provider_http.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace seedhook::providers {

/// The toapis adapter. Immutable after construction; safe to call from any thread.
class ToapisProvider final : public Provider {
public:
    /// The one model toapis serves here.
    static constexpr std::string_view kModel = "doubao-seedance-1-5-pro";

    /// How far a signed delivery's timestamp may be from the receiving time.
    static constexpr std::int64_t kSignatureToleranceMs = std::int64_t{5} * 60 * 1000;

    explicit ToapisProvider(ProviderOptions options);

    std::string_view name() const override { return "toapis"; }

    /// With a webhook secret its callbacks are signed (and checked), so they need no
    /// confirmation query; without one it sends none and jobs are polled.
    bool signs_callbacks() const override { return !options_.webhook_secret.empty(); }

    bool sends_callbacks() const override { return !options_.webhook_secret.empty(); }

    const std::vector<ModelSpec>& models() const override;

    /// Checks `options.image_with_roles` (https URLs, roles first_frame/last_frame, one each).
    std::optional<std::pair<std::string, std::string>> check_options(
        const ModelSpec& model, std::string_view options_json
    ) const override;

    /// check_options plus: image_urls and options.image_with_roles never together.
    std::optional<std::pair<std::string, std::string>> check_request(
        const ModelSpec& model, const VideoRequest& request
    ) const override;

    /// Sends callback_url only when a webhook secret is configured. Throws ProviderError.
    net::awaitable<TaskUpdate> submit(SubmitRequest request) override;

    /// Throws ProviderError.
    net::awaitable<TaskUpdate> query(std::string task_id) override;

    /// With a webhook secret: requires the three X-ToAPIs-Webhook-* headers, a timestamp
    /// within 5 minutes of `now_ms` and one matching `v1=` signature. Without: accepts.
    /// The reason never contains the secret or a signature.
    std::optional<std::string> authenticate_callback(
        const HttpHeaders& headers, std::string_view body, std::int64_t now_ms
    ) const override;

    /// Reads an event envelope; `endpoint.test` is kIgnore; the event id is kept.
    CallbackParse parse_callback(std::string_view body) const override;

    /// Reads toapis' task object (create and query answers, and an event's `data`).
    static std::optional<TaskUpdate> parse_task(const json::Value& task);

    /// The create-task body; `callback_url` is sent only when `with_callback` and non-empty.
    static std::string create_body(const SubmitRequest& request, bool with_callback = true);

    /// Lowercase hex HMAC-SHA256(secret, id + "." + timestamp + "." + body).
    static std::string signature(
        std::string_view secret,
        std::string_view event_id,
        std::string_view timestamp,
        std::string_view body
    );

private:
    ProviderOptions options_;
};

}  // namespace seedhook::providers
