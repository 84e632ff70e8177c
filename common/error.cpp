#include "common/error.hpp"

#include "common/json.hpp"

namespace seedhook {

HttpError::HttpError(int status, std::string code, std::string public_message, std::string field)
    : std::runtime_error(public_message),
      status_(status),
      code_(std::move(code)),
      public_message_(std::move(public_message)),
      field_(std::move(field)) {}

HttpError to_http_error(const ServiceError& error) {
    int status = 500;
    switch (error.kind()) {
        case ServiceError::Kind::kInvalid:
            status = 422;
            break;
        case ServiceError::Kind::kNotFound:
            status = 404;
            break;
        case ServiceError::Kind::kConflict:
            status = 409;
            break;
        case ServiceError::Kind::kUnauthorized:
            status = 401;
            break;
        case ServiceError::Kind::kMalformed:
            status = 400;
            break;
        case ServiceError::Kind::kProviderRejected:
            status = 502;
            break;
        case ServiceError::Kind::kProviderUnavailable:
        case ServiceError::Kind::kUnavailable:
            status = 503;
            break;
        case ServiceError::Kind::kProviderTimeout:
            status = 504;
            break;
    }
    HttpError http(status, error.code(), error.message(), error.field());
    http.provider_status = error.provider_status;
    http.provider_message = error.provider_message;
    http.job_id = error.job_id;
    return http;
}

std::string error_body(const HttpError& error) {
    json::Writer w;
    w.start_object();
    w.key("error");
    w.start_object();
    w.member("code", error.code());
    w.member("message", error.public_message());
    if (!error.field().empty()) {
        w.member("field", error.field());
    }
    if (error.provider_status != 0) {
        w.member("provider_status", static_cast<std::int64_t>(error.provider_status));
        w.member("provider_message", error.provider_message);
    }
    if (!error.job_id.empty()) {
        w.member("job_id", error.job_id);
    }
    w.end_object();
    w.end_object();
    return w.take();
}

}  // namespace seedhook
