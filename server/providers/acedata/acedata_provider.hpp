#pragma once

/// acedata (https://api.acedata.cloud): create `POST /seedance/videos` (parameters ride in the
/// prompt as text flags), query `POST /seedance/tasks` with `{"id", "action": "retrieve"}`.
/// Callbacks carry `{success, task_id, trace_id, data}` and are not signed.

#include "common/json.hpp"
#include "server/providers/provider.hpp"
#include "server/providers/provider_http.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace seedhook::providers {

/// The acedata adapter. Immutable after construction; safe to call from any thread.
class AcedataProvider final : public Provider {
public:
    explicit AcedataProvider(ProviderOptions options);

    std::string_view name() const override { return "acedata"; }

    const std::vector<ModelSpec>& models() const override;

    /// Checks seed, fps, watermark, camera_fixed, service_tier, execution_expires_after and
    /// return_last_frame (a 422 naming e.g. "options.seed").
    std::optional<std::pair<std::string, std::string>> check_options(
        const ModelSpec& model, std::string_view options_json
    ) const override;

    /// check_options plus: lite-i2v needs an image, and the prompt may not carry its own
    /// text-command flags (they would override the checked fields).
    std::optional<std::pair<std::string, std::string>> check_request(
        const ModelSpec& model, const VideoRequest& request
    ) const override;

    /// Always asks for a callback (without one acedata blocks until the video is done; with an
    /// empty callback_url it sends `"async": true`). Throws ProviderError.
    net::awaitable<TaskUpdate> submit(SubmitRequest request) override;

    /// Throws ProviderError.
    net::awaitable<TaskUpdate> query(std::string task_id) override;

    /// Reads `{success, task_id, trace_id, data}` with flat or Ark-shaped `data`.
    CallbackParse parse_callback(std::string_view body) const override;

    /// Reads a result `{success, task_id, data | error}` (create answer, the query answer's
    /// `response`, callback body). `data` may be flat, Ark-shaped, or an array of either.
    /// nullopt when there is no task id or no status to be read.
    static std::optional<TaskUpdate> parse_result(const json::Value& result);

    /// Reads the query answer `{id, request, response, started_at, ...}`.
    static std::optional<TaskUpdate> parse_query_answer(const json::Value& answer);

    /// The create-task body for `request` (exposed for tests).
    static std::string create_body(const SubmitRequest& request);

    /// The prompt with the text-command flags appended ("... --rs 720p --rt 16:9 ...").
    static std::string command_text(const VideoRequest& request);

    /// `body` with every `callback_url` value (which holds our URL token) replaced by
    /// "[redacted]", also inside string values that hold JSON; for bodies not JSON the value
    /// after each "callback_url" key is blanked textually. Safe to store and serve.
    static std::string redact_query_answer(std::string_view body);

private:
    ProviderOptions options_;
};

}  // namespace seedhook::providers
