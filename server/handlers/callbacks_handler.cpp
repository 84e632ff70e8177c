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
    in.headers = std::move(request.headers);
    auto ack = co_await jobs_.receive_callback(std::move(in));
    json::Writer w;
    w.start_object();
    w.member("received", true);
    if (ack.ignored) {
        w.member("outcome", "ignored");
    } else {
        w.member("outcome", services::to_string(ack.outcome));
        w.member("status", ack.job.status);
    }
    w.end_object();
    co_return json_response(200, w.take());
}

}  // namespace seedhook::handlers
