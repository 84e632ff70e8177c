// Fuzzes acedata's readers: the callback (a result {success, task_id, data}), the query answer
// ({id, request, response, started_at, ...}) and the redaction of stored query answers.
// Invariants: malformed exactly when not JSON; every update obeys SPEC §2.1's status table,
// `success: false` is a failure and a success has progress 100; an answer with an id always
// reads as a task; an update rendered back as a documented callback reads the same; stored
// answers re-read the same; redaction leaves JSON as JSON with no callback_url value but
// "[redacted]" (also inside string values holding JSON), however often it runs, and redacting
// text that is not JSON twice changes nothing.

#include <cstddef>
#include <cstdint>

#include "common/json.hpp"
#include "server/providers/acedata/acedata_provider.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace {

using seedhook::fuzz::check;
using seedhook::providers::AcedataProvider;
using seedhook::providers::CallbackParse;
using seedhook::providers::JobStatus;
using seedhook::providers::TaskUpdate;
namespace json = seedhook::json;

constexpr seedhook::fuzz::SpecTable kSpec = {
    {"queued", JobStatus::kQueued},
    {"running", JobStatus::kRunning},
    {"succeeded", JobStatus::kSucceeded},
    {"failed", JobStatus::kFailed},
    {"cancelled", JobStatus::kCancelled},
    {"expired", JobStatus::kExpired},
};

constexpr std::size_t kNestedJsonDepth = 3;

const AcedataProvider& provider() {
    static const AcedataProvider p{seedhook::providers::ProviderOptions{}};
    return p;
}

// The completed callback of PROVIDERS.md carrying `u` (flat data).
std::string render(const TaskUpdate& u) {
    json::Writer w;
    w.start_object();
    w.member("success", true);
    w.member("task_id", u.task_id);
    w.key("data");
    w.start_object();
    w.member("status", u.provider_status);
    if (u.video_url) {
        w.member("video_url", *u.video_url);
    }
    if (u.last_frame_url) {
        w.member("last_frame_url", *u.last_frame_url);
    }
    seedhook::fuzz::write_error(w, u);
    w.end_object();
    w.end_object();
    return w.take();
}

void check_task(const TaskUpdate& task, std::string_view input) {
    seedhook::fuzz::check_update(task, kSpec, input);
    check(!task.provider_status.empty(), "an update has the provider's status word", input);
    check(!task.video_url_expires_at && !task.event_id, "acedata sends no expiry or event id", input);
    check((task.status == JobStatus::kSucceeded) == (task.progress == 100), "succeeded, and only it, has progress 100", input);
    const std::string rendered = render(task);
    const CallbackParse again = provider().parse_callback(rendered);
    check(again.kind == CallbackParse::Kind::kUpdate, "an update in the documented shape parses", rendered);
    check(seedhook::fuzz::same_update(again.update, task), "an update in the documented shape reads the same", rendered);
}

// No member named callback_url holds a string other than "[redacted]", in `v` or in string
// values that are JSON themselves.
void check_redacted(const json::Value& v, std::size_t depth, std::string_view input) {
    if (v.IsObject()) {
        for (const auto& m : v.GetObject()) {
            const std::string_view name(m.name.GetString(), m.name.GetStringLength());
            if (name == "callback_url" && m.value.IsString()) {
                const std::string_view value(m.value.GetString(), m.value.GetStringLength());
                check(value == "[redacted]", "every callback_url is redacted", input);
            }
            check_redacted(m.value, depth, input);
        }
    } else if (v.IsArray()) {
        for (const auto& item : v.GetArray()) {
            check_redacted(item, depth, input);
        }
    } else if (v.IsString() && depth < kNestedJsonDepth) {
        const std::string_view text(v.GetString(), v.GetStringLength());
        if (text.find("callback_url") != std::string_view::npos) {
            if (auto inner = json::parse(text)) {
                check_redacted(*inner, depth + 1, input);
            }
        }
    }
}

void check_redaction(const json::Value& doc, std::string_view input) {
    const std::string stored = AcedataProvider::redact_query_answer(json::to_string(doc));
    const auto reread = json::parse(stored);
    check(reread.has_value(), "a redacted answer is JSON", input);
    check_redacted(*reread, 0, stored);
    // Stored answers are redacted again when re-read; JSON is written anew each time, and
    // RapidJSON 1.1.0's default number reading may move a 17-digit double by an ulp, so the
    // text may differ, but never its redaction.
    const auto again = json::parse(AcedataProvider::redact_query_answer(stored));
    check(again.has_value(), "a redacted answer redacted again is JSON", stored);
    check_redacted(*again, 0, stored);
}

void check_query_answer(const json::Value& doc, std::string_view input) {
    const auto task = AcedataProvider::parse_query_answer(doc);
    const auto id = json::get_string(doc, "id");
    check(task.has_value() || !id || id->empty(), "an answer with an id reads as a task", input);
    if (!task) {
        return;
    }
    check_task(*task, input);
    const auto reread = json::parse(json::to_string(doc));
    check(reread.has_value(), "a parsed answer re-serialised is JSON", input);
    const auto task_again = AcedataProvider::parse_query_answer(*reread);
    check(task_again && seedhook::fuzz::same_stored_update(*task_again, *task), "a stored answer reads the same", input);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view body = seedhook::fuzz::as_text(data, size);
    const CallbackParse parsed = provider().parse_callback(body);
    const auto doc = json::parse(body);
    check((parsed.kind == CallbackParse::Kind::kMalformed) == !doc, "malformed exactly when not JSON", body);
    const std::string redacted = AcedataProvider::redact_query_answer(body);
    if (!json::parse(redacted)) {
        check(AcedataProvider::redact_query_answer(redacted) == redacted, "redaction of text is idempotent", body);
    }
    if (!doc) {
        return 0;
    }
    check(parsed.kind != CallbackParse::Kind::kIgnore, "acedata has no events to ignore", body);
    const auto result = AcedataProvider::parse_result(*doc);
    check((parsed.kind == CallbackParse::Kind::kUpdate) == result.has_value(), "a callback is an update exactly when it is a result", body);
    if (result) {
        check(seedhook::fuzz::same_update(parsed.update, *result), "callback and result read alike", body);
        check_task(*result, body);
        if (json::get_bool(*doc, "success") == false) {
            check(result->status == JobStatus::kFailed, "success: false is a failure", body);
        }
    }
    check_query_answer(*doc, body);
    check_redaction(*doc, body);
    return 0;
}
