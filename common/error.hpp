#pragma once

#include <stdexcept>
#include <string>

namespace seedhook {

/// An error that a request handler raises to answer the client.
/// `public_message` is what the client sees; `log_detail` goes only to the log.
class HttpError : public std::runtime_error {
public:
    HttpError(int status, std::string code, std::string public_message, std::string field = {});

    int status() const { return status_; }

    const std::string& code() const { return code_; }

    const std::string& public_message() const { return public_message_; }

    const std::string& field() const { return field_; }

    /// For 502s: the provider's own HTTP status and message, shown to the client.
    int provider_status = 0;
    std::string provider_message;
    /// The job the failure concerns, when one was stored (e.g. a submission that failed).
    std::string job_id;

private:
    int status_;
    std::string code_;
    std::string public_message_;
    std::string field_;
};

/// A business rule refused the operation. Handlers turn it into an HttpError (http_status()).
class ServiceError : public std::runtime_error {
public:
    enum class Kind {
        kInvalid,              ///< 422: a rule of the request is broken
        kNotFound,             ///< 404
        kConflict,             ///< 409
        kUnauthorized,         ///< 401
        kMalformed,            ///< 400
        kProviderRejected,     ///< 502, with the provider's status and message
        kProviderUnavailable,  ///< 503
        kProviderTimeout,      ///< 504
        kUnavailable           ///< 503: storage cannot commit
    };

    ServiceError(Kind kind, std::string code, std::string message, std::string field = {})
        : std::runtime_error(message),
          kind_(kind),
          code_(std::move(code)),
          message_(std::move(message)),
          field_(std::move(field)) {}

    Kind kind() const { return kind_; }

    const std::string& code() const { return code_; }

    const std::string& message() const { return message_; }

    const std::string& field() const { return field_; }

    int provider_status = 0;
    std::string provider_message;
    std::string job_id;

private:
    Kind kind_;
    std::string code_;
    std::string message_;
    std::string field_;
};

/// The HTTP answer for a ServiceError.
HttpError to_http_error(const ServiceError& error);

/// Storage could not do its work (locked, read-only, full, I/O error): the caller answers 503.
class StorageError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// Startup configuration is invalid; the message names the key.
class ConfigError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// Renders the SPEC's error body: {"error": {"code", "message", "field"?}}.
std::string error_body(const HttpError& error);

}  // namespace seedhook
