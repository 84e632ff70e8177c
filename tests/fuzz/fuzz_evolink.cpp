// Fuzzes evolink's readers: the callback body and the query answer (the same task object).
// Invariants: a body is malformed exactly when it is not JSON; a callback and a query answer
// of the same text read alike; every update obeys SPEC §2.1's status table; a parsed answer,
// stored re-serialised, reads the same; an update rendered back in the documented task shape
// (PROVIDERS.md) reads as the same update.

#include <cstddef>
#include <cstdint>

#include "common/json.hpp"
#include "server/providers/evolink/evolink_provider.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace {

using seedhook::fuzz::check;
using seedhook::providers::CallbackParse;
using seedhook::providers::EvolinkProvider;
using seedhook::providers::JobStatus;
using seedhook::providers::TaskUpdate;
namespace json = seedhook::json;

constexpr seedhook::fuzz::SpecTable kSpec = {
    {"pending", JobStatus::kQueued},
    {"processing", JobStatus::kRunning},
    {"completed", JobStatus::kSucceeded},
    {"failed", JobStatus::kFailed},
    {"cancelled", JobStatus::kCancelled},
};

const EvolinkProvider& provider() {
    static const EvolinkProvider p{seedhook::providers::ProviderOptions{}};
    return p;
}

// The task object of PROVIDERS.md carrying `u`.
std::string render(const TaskUpdate& u) {
    json::Writer w;
    w.start_object();
    w.member("id", u.task_id);
    w.member("object", "video.generation.task");
    w.member("status", u.provider_status);
    if (u.progress) {
        w.member("progress", *u.progress);
    }
    if (u.video_url) {
        w.key("results");
        w.start_array();
        w.string(*u.video_url);
        w.end_array();
    }
    seedhook::fuzz::write_error(w, u);
    w.end_object();
    return w.take();
}

void check_task(const TaskUpdate& task, const json::Value& doc, std::string_view body) {
    seedhook::fuzz::check_update(task, kSpec, body);
    check(task.task_id == json::get_string(doc, "id").value_or(""), "the task id is the object's id", body);
    check(task.provider_status == json::get_string(doc, "status").value_or(""), "the provider status is the object's word", body);
    check(!task.last_frame_url && !task.video_url_expires_at && !task.event_id, "evolink sends no frame, expiry or event id", body);
    const std::string rendered = render(task);
    const CallbackParse again = provider().parse_callback(rendered);
    check(again.kind == CallbackParse::Kind::kUpdate, "an update in the documented shape parses", rendered);
    check(seedhook::fuzz::same_update(again.update, task), "an update in the documented shape reads the same", rendered);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view body = seedhook::fuzz::as_text(data, size);
    const CallbackParse parsed = provider().parse_callback(body);
    const auto doc = json::parse(body);
    check((parsed.kind == CallbackParse::Kind::kMalformed) == !doc, "malformed exactly when not JSON", body);
    if (!doc) {
        return 0;
    }
    check(parsed.kind != CallbackParse::Kind::kIgnore, "evolink has no events to ignore", body);
    const auto task = EvolinkProvider::parse_task(*doc);  // the query answer's reader
    check((parsed.kind == CallbackParse::Kind::kUpdate) == task.has_value(), "a callback is an update exactly when it is a task", body);
    if (!task) {
        return 0;
    }
    check(seedhook::fuzz::same_update(parsed.update, *task), "callback and query answer read alike", body);
    check_task(*task, *doc, body);
    // A query answer is stored as json::to_string(doc) and served from there.
    const std::string stored = json::to_string(*doc);
    const auto reread = json::parse(stored);
    check(reread.has_value(), "a parsed answer re-serialised is JSON", stored);
    const auto task_again = EvolinkProvider::parse_task(*reread);
    check(task_again && seedhook::fuzz::same_stored_update(*task_again, *task), "a stored answer reads the same", stored);
    return 0;
}
