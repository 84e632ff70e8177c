#include "server/handlers/job_json.hpp"

#include "common/json.hpp"
#include "common/time.hpp"

namespace seedhook::handlers {

namespace {

std::optional<std::string> iso(const std::optional<std::int64_t>& ms) {
    return ms ? std::optional<std::string>(format_iso8601(*ms)) : std::nullopt;
}

void write_job(json::Writer& w, const storage::JobRecord& j) {
    w.start_object();
    w.member("id", j.id);
    w.member("provider", j.provider);
    w.member("model", j.model);
    w.member_or_null("provider_task_id", j.provider_task_id);
    w.member("status", j.status);
    w.member_or_null("provider_status", j.provider_status);
    w.member("progress", j.progress);
    w.member_or_null("video_url", j.video_url);
    w.member_or_null("video_url_expires_at", iso(j.video_url_expires_at));
    w.member_or_null("last_frame_url", j.last_frame_url);
    w.key("error");
    if (j.error_code || j.error_message) {
        w.start_object();
        w.member_or_null("code", j.error_code);
        w.member_or_null("message", j.error_message);
        w.end_object();
    } else {
        w.null();
    }
    w.key("request");
    w.raw(j.request_json);
    w.key("metadata");
    w.raw(j.metadata_json);
    w.member("confirmed", j.confirmed);
    w.member("created_at", format_iso8601(j.created_at));
    w.member("updated_at", format_iso8601(j.updated_at));
    w.member_or_null("completed_at", iso(j.completed_at));
    w.member("callbacks_received", j.callbacks_received);
    w.end_object();
}

}  // namespace

std::string job_json(const storage::JobRecord& job) {
    json::Writer w;
    write_job(w, job);
    return w.take();
}

std::string job_page_json(const std::vector<storage::JobRecord>& jobs, const std::optional<std::string>& next_cursor) {
    json::Writer w;
    w.start_object();
    w.key("jobs");
    w.start_array();
    for (const auto& job : jobs) {
        write_job(w, job);
    }
    w.end_array();
    w.member_or_null("next_cursor", next_cursor);
    w.end_object();
    return w.take();
}

std::string deliveries_json(const std::vector<storage::CallbackRecord>& deliveries) {
    json::Writer w;
    w.start_object();
    w.key("callbacks");
    w.start_array();
    for (const auto& d : deliveries) {
        w.start_object();
        w.member("id", d.id);
        w.member("received_at", format_iso8601(d.received_at));
        w.member("source", d.source);
        w.member("outcome", d.outcome);
        w.member_or_null("provider_status", d.provider_status);
        w.member_or_null("event_id", d.event_id);
        w.key("body");
        if (json::parse(d.body)) {
            w.raw(d.body);
        } else {
            w.string(d.body);
        }
        w.end_object();
    }
    w.end_array();
    w.end_object();
    return w.take();
}

}  // namespace seedhook::handlers
