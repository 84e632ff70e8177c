#pragma once

/// evolink (https://api.evolink.ai): create `POST /v1/videos/generations`, query
/// `GET /v1/tasks/{id}`, callbacks carry the task object and are not signed.

#include "server/providers/provider.hpp"
#include "server/providers/provider_http.hpp"

namespace seedhook::providers {

class EvolinkProvider final : public Provider {
public:
    explicit EvolinkProvider(ProviderOptions options);

    std::string_view name() const override { return "evolink"; }

    const std::vector<ModelSpec>& models() const override;
    std::optional<std::pair<std::string, std::string>> check_options(
        const ModelSpec& model,
        std::string_view options_json
    ) const override;
    net::awaitable<TaskUpdate> submit(SubmitRequest request) override;
    net::awaitable<TaskUpdate> query(std::string task_id) override;
    CallbackParse parse_callback(std::string_view body) const override;

    /// Reads evolink's task object (create answer, query answer and callback body alike).
    static std::optional<TaskUpdate> parse_task(const json::Value& task);

    /// The create-task body for `request` (exposed for tests).
    static std::string create_body(const SubmitRequest& request);

private:
    ProviderOptions options_;
};

}  // namespace seedhook::providers
