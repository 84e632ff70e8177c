#pragma once

/// The one small interface every provider adapter implements, and the domain vocabulary the
/// adapters speak: normalized job statuses, model rules, video requests and task updates.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "common/asio.hpp"
#include "common/http_message.hpp"

namespace seedhook::providers {

/// Normalized job status (SPEC §2.1).
enum class JobStatus {
    kSubmitting,
    kQueued,
    kRunning,
    kSucceeded,
    kFailed,
    kCancelled,
    kExpired,
    kSubmitFailed
};

std::string_view to_string(JobStatus status);

/// A provider's status words and what they mean.
using StatusTable = std::span<const std::pair<std::string_view, JobStatus>>;

/// The meaning of provider status `word` in `table`; nullopt for a word it does not know.
std::optional<JobStatus> map_status(std::string_view word, StatusTable table);
std::optional<JobStatus> parse_status(std::string_view word);
bool is_terminal(JobStatus status);

/// The rules of one model from its provider's document (SPEC §4).
struct ModelSpec {
    std::string name;
    bool prompt_required = true;
    std::size_t prompt_max_chars = 0;  ///< 0: no documented limit
    std::int64_t duration_min = 0;
    std::int64_t duration_max = 0;
    std::int64_t duration_default = 5;
    std::vector<std::string> qualities;
    std::string quality_default;
    std::vector<std::string> aspect_ratios;
    std::vector<std::string> image_only_aspect_ratios;  ///< allowed only with an image
    std::string aspect_ratio_default;
    std::string aspect_ratio_default_with_image;  ///< empty: same as aspect_ratio_default
    std::size_t max_images = 0;
    bool audio = false;  ///< generate_audio supported
    bool audio_default = false;
    std::vector<std::string> options;  ///< names allowed under "options"
};

/// A validated, defaults-applied request (what is stored as the job's `request`).
struct VideoRequest {
    std::string model;
    std::string prompt;
    std::int64_t duration = 0;
    std::string quality;
    std::string aspect_ratio;
    std::vector<std::string> image_urls;
    std::optional<bool> generate_audio;  ///< set only for models with audio
    std::string options_json = "{}";     ///< the caller's provider-specific options
};

/// What a provider said about a task: in its create answer, a query answer or a callback.
struct TaskUpdate {
    std::string task_id;
    std::string provider_status;
    std::optional<JobStatus> status;  ///< nullopt: a word the mapping does not know
    std::optional<std::int64_t> progress;
    std::optional<std::string> video_url;
    std::optional<std::string> last_frame_url;
    std::optional<std::int64_t> video_url_expires_at;  ///< unix ms
    std::optional<std::string> error_code;
    std::optional<std::string> error_message;
    std::optional<std::string> event_id;  ///< the provider's delivery id, where it has one
    std::string raw_body;  ///< a query answer as received (secrets redacted); empty otherwise
};

/// A provider call failed. kRejected carries the provider's HTTP status and message.
class ProviderError : public std::runtime_error {
public:
    enum class Kind {
        kRejected,     ///< a 4xx: the provider refused the call
        kUnavailable,  ///< 408, 429, 5xx, or the request never reached it whole (connect, TLS)
        kTimeout,      ///< no connection in time: the request never reached it whole
        kBadAnswer,    ///< a 2xx that is not what the call answers
        kInDoubt       ///< the request was sent whole, then no answer (hang, reset, garbage
                       ///< bytes): the provider may have acted on it
    };

    ProviderError(Kind kind, std::string message, int http_status = 0)
        : std::runtime_error(message), kind_(kind), http_status_(http_status) {}

    Kind kind() const { return kind_; }

    int http_status() const { return http_status_; }

    /// From a Retry-After header, when the provider sent one.
    std::optional<std::chrono::milliseconds> retry_after;

private:
    Kind kind_;
    int http_status_;
};

/// What a callback body turned out to be.
struct CallbackParse {
    enum class Kind {
        kUpdate,          ///< a task payload: `update` is set
        kMalformed,       ///< not JSON
        kNotTaskPayload,  ///< JSON, but not this provider's task payload
        kIgnore           ///< a provider event that carries no task news (answered 200)
    };
    Kind kind = Kind::kMalformed;
    TaskUpdate update;
};

/// The normalized request as stored and shown (`request` of the job object).
std::string to_json(const VideoRequest& request);

/// A task to create at the provider.
struct SubmitRequest {
    std::string job_id;
    VideoRequest request;
    std::string callback_url;  ///< empty: the provider is followed by polling
};

/// One provider adapter. Implementations are immutable after construction apart from their
/// connection pool, and safe to call from any I/O thread concurrently.
class Provider {
public:
    virtual ~Provider() = default;

    virtual std::string_view name() const = 0;

    /// The models this provider serves, with their rules.
    virtual const std::vector<ModelSpec>& models() const = 0;

    /// Checks the provider-specific `options` of a request; returns the faulty field's path
    /// and a sentence, or nullopt when they are fine.
    virtual std::optional<std::pair<std::string, std::string>> check_options(
        const ModelSpec& model,
        std::string_view options_json
    ) const;

    /// Checks the rules that span several fields of the defaults-applied request (toapis: never
    /// both image_urls and options.image_with_roles; acedata: lite-i2v needs an image). Returns
    /// the faulty field's path and a sentence, or nullopt. Default: check_options alone.
    virtual std::optional<std::pair<std::string, std::string>> check_request(
        const ModelSpec& model,
        const VideoRequest& request
    ) const;

    /// Creates the task. Throws ProviderError.
    virtual net::awaitable<TaskUpdate> submit(SubmitRequest request) = 0;

    /// Reads the task's current state. Throws ProviderError.
    virtual net::awaitable<TaskUpdate> query(std::string task_id) = 0;

    /// True when the provider signs its callbacks; unsigned terminal callbacks are confirmed
    /// by querying the task (SPEC §2.2).
    virtual bool signs_callbacks() const { return false; }

    /// False when the provider will not call back for tasks created now (toapis without a
    /// configured webhook secret): such jobs are followed by polling alone.
    virtual bool sends_callbacks() const { return true; }

    /// Checks a callback's own proof of origin beyond the URL token (toapis signs its
    /// deliveries). Returns why it is refused, or nullopt when it is accepted. `now_ms` is the
    /// receiving time (unix ms). Default: providers that sign nothing accept every delivery.
    virtual std::optional<std::string> authenticate_callback(
        const HttpHeaders& headers,
        std::string_view body,
        std::int64_t now_ms
    ) const;

    /// Reads a callback body (parsed once, here).
    virtual CallbackParse parse_callback(std::string_view body) const = 0;
};

}  // namespace seedhook::providers
