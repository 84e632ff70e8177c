#include "server/handlers/callbacks_handler.hpp"

#include "common/json.hpp"
#include "server/handlers/request_helpers.hpp"

namespace seedhook::handlers {

net::awaitable<HttpResponse> CallbacksHandler::receive(HttpRequest request) {
    require_json_content_type(request);
    services::CallbackInput in;
    in.provider = request.path_params.at(0);
    in.job_id = request.path_params.at(1);
    for (const auto& [key, value] : request.query) {
        if (key == "token") {
            in.token = value;
        }
    }
    in.body = std::move(request.body);
    const std::string in_job_id = in.job_id;
    const std::string in_provider = in.provider;
    in.headers = std::move(request.headers);
    auto ack = co_await jobs_.receive_callback(std::move(in));
    HttpResponse response;
    response.log_fields = {{"job_id", in_job_id}, {"provider", in_provider}};
    json::Writer w;
    w.start_object();
    w.member("received", true);
    if (ack.ignored) {
        w.member("outcome", "ignored");
    } else {
        w.member("outcome", services::to_string(ack.outcome));
        w.member("status", ack.job->status);
        response.log_fields.emplace_back("outcome", services::to_string(ack.outcome));
        response.log_fields.emplace_back("job_status", ack.job->status);
    }
    w.end_object();
    response.body = w.take();
    co_return response;
}

}  // namespace seedhook::handlers
