#pragma once

/// Rows as plain values. Statuses are stored as the normalized words of SPEC §2.1.

#include <cstdint>
#include <optional>
#include <string>

namespace seedhook::storage {

struct JobRecord {
    std::string id;
    std::string provider;
    std::string model;
    std::optional<std::string> provider_task_id;
    std::string status;
    std::optional<std::string> provider_status;
    std::int64_t progress = 0;
    std::optional<std::string> video_url;
    std::optional<std::int64_t> video_url_expires_at;  ///< unix ms
    std::optional<std::string> last_frame_url;
    std::optional<std::string> error_code;
    std::optional<std::string> error_message;
    std::string request_json;
    std::string metadata_json;  ///< "null" when the caller sent none
    bool confirmed = false;
    std::int64_t created_at = 0;  ///< unix ms
    std::int64_t updated_at = 0;
    std::optional<std::int64_t> completed_at;
    std::int64_t callbacks_received = 0;
    std::optional<std::string> idempotency_key;
    std::optional<std::string> request_hash;  ///< of the request as normalized, with the key
    std::optional<std::int64_t> next_poll_at;      ///< unix ms; null: not to be polled
    std::optional<std::int64_t> poll_interval_ms;  ///< the wait before the poll after next
    /// The newest delivery recorded for the job: the head of the chain its deliveries' prev_id
    /// links make, newest to oldest (the store keeps it; null until the first delivery).
    std::optional<std::int64_t> last_callback_id;
};

struct CallbackRecord {
    std::int64_t id = 0;
    std::string job_id;
    std::int64_t received_at = 0;
    std::string source;   ///< "callback" or "poll"
    std::string outcome;  ///< applied, duplicate, stale, conflict, rejected
    std::optional<std::string> provider_status;
    std::optional<std::string> event_id;
    std::string body;
};

}  // namespace seedhook::storage
