// Fuzzes toapis' readers and its webhook signature check. The input is optional header lines
// ("Name: value"), a blank line, then the body; without a blank line it is all body.
// Invariants: malformed exactly when not JSON; `endpoint.test` is ignored; an event's data
// reads as the query answer's task object does; every update obeys SPEC §2.1's status table and
// its expiry is the answer's `expires_at` in ms; stored answers re-read the same; an update
// rendered back as a documented event reads the same. Signatures: a delivery signed with the
// secret over this body is accepted, one signed with another key is refused, and whatever the
// input's headers are, they are accepted only when they carry HMAC-SHA256(secret, id.ts.body)
// (computed here independently) and a timestamp within 5 minutes.

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "common/crypto.hpp"
#include "common/json.hpp"
#include "server/providers/toapis/toapis_provider.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace {

using seedhook::HttpHeaders;
using seedhook::fuzz::check;
using seedhook::providers::CallbackParse;
using seedhook::providers::JobStatus;
using seedhook::providers::TaskUpdate;
using seedhook::providers::ToapisProvider;
namespace crypto = seedhook::crypto;
namespace json = seedhook::json;

constexpr seedhook::fuzz::SpecTable kSpec = {
    {"queued", JobStatus::kQueued},
    {"submitted", JobStatus::kQueued},
    {"in_progress", JobStatus::kRunning},
    {"completed", JobStatus::kSucceeded},
    {"failed", JobStatus::kFailed},
    {"cancelled", JobStatus::kCancelled},
};

constexpr std::string_view kSecret = "whsec_fuzz_secret";
constexpr std::int64_t kNowMs = 1768380515000;  // the receiving time of every delivery
constexpr std::string_view kNowS = "1768380515";

const ToapisProvider& provider() {
    static const ToapisProvider p = [] {
        seedhook::providers::ProviderOptions o;
        o.webhook_secret = std::string(kSecret);
        return ToapisProvider(std::move(o));
    }();
    return p;
}

// "Name: value" lines; others are skipped.
HttpHeaders read_headers(std::string_view text) {
    HttpHeaders headers;
    while (!text.empty()) {
        const auto end = text.find('\n');
        std::string_view line = text.substr(0, end);
        text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
        const auto colon = line.find(':');
        if (colon == std::string_view::npos) {
            continue;
        }
        std::string_view value = line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') {
            value.remove_prefix(1);
        }
        headers.add(std::string(line.substr(0, colon)), std::string(value));
    }
    return headers;
}

std::string expected_signature(std::string_view id, std::string_view ts, std::string_view body) {
    const std::string text = std::string(id) + "." + std::string(ts) + "." + std::string(body);
    return "v1=" + crypto::hex(crypto::as_view(crypto::hmac_sha256(kSecret, text)));
}

bool lists_signature(std::string_view header, const std::string& wanted) {
    while (true) {
        const auto comma = header.find(',');
        std::string_view part = header.substr(0, comma);
        while (!part.empty() && part.front() == ' ') {
            part.remove_prefix(1);
        }
        while (!part.empty() && part.back() == ' ') {
            part.remove_suffix(1);
        }
        if (part == wanted) {
            return true;
        }
        if (comma == std::string_view::npos) {
            return false;
        }
        header.remove_prefix(comma + 1);
    }
}

void check_signatures(const HttpHeaders& given, std::string_view body, std::string_view input) {
    HttpHeaders good;
    good.add("X-ToAPIs-Webhook-Id", "evt_fuzz");
    good.add("X-ToAPIs-Webhook-Timestamp", std::string(kNowS));
    good.add("X-ToAPIs-Webhook-Signature", expected_signature("evt_fuzz", kNowS, body));
    check(!provider().authenticate_callback(good, body, kNowMs), "a delivery signed over its body is accepted", input);
    HttpHeaders forged = good;
    forged.set("X-ToAPIs-Webhook-Signature", "v1=" + crypto::hex(crypto::as_view(crypto::hmac_sha256("another key", body))));
    check(provider().authenticate_callback(forged, body, kNowMs).has_value(), "a delivery signed with another key is refused", input);

    const auto refused = provider().authenticate_callback(given, body, kNowMs);
    if (refused) {
        check(refused->find(kSecret) == std::string::npos, "a refusal never shows the secret", *refused);
        return;
    }
    const std::string_view id = given.get("X-ToAPIs-Webhook-Id");
    const std::string_view ts = given.get("X-ToAPIs-Webhook-Timestamp");
    std::int64_t seconds = -1;
    const auto [end, ec] = std::from_chars(ts.data(), ts.data() + ts.size(), seconds);
    check(ec == std::errc() && end == ts.data() + ts.size() && seconds >= 0, "an accepted timestamp is whole seconds", input);
    check(std::llabs(seconds * 1000 - kNowMs) <= ToapisProvider::kSignatureToleranceMs, "an accepted timestamp is within 5 minutes", input);
    check(!id.empty() && lists_signature(given.get("X-ToAPIs-Webhook-Signature"), expected_signature(id, ts, body)), "an accepted delivery carries the body's signature", input);
}

// An event of PROVIDERS.md carrying `u`.
std::string render(const TaskUpdate& u) {
    json::Writer w;
    w.start_object();
    if (u.event_id) {
        w.member("id", *u.event_id);
    }
    w.key("data");
    w.start_object();
    w.member("task_id", u.task_id);
    w.member("status", u.provider_status);
    if (u.progress) {
        w.member("progress", *u.progress);
    }
    if (u.video_url || u.last_frame_url) {
        w.key("result");
        w.start_object();
        w.key("data");
        w.start_array();
        w.start_object();
        if (u.video_url) {
            w.member("url", *u.video_url);
        }
        if (u.last_frame_url) {
            w.member("last_frame_url", *u.last_frame_url);
        }
        w.end_object();
        w.end_array();
        w.end_object();
    }
    if (u.video_url_expires_at) {
        w.member("expires_at", *u.video_url_expires_at / 1000);
    }
    seedhook::fuzz::write_error(w, u);
    w.end_object();
    w.end_object();
    return w.take();
}

void check_task(const TaskUpdate& task, const json::Value& object, std::string_view input) {
    seedhook::fuzz::check_update(task, kSpec, input);
    if (task.video_url_expires_at) {
        const auto expires = json::get_int(object, "expires_at");
        check(expires && *expires > 0 && *task.video_url_expires_at == *expires * 1000, "the expiry is expires_at in ms", input);
    }
    TaskUpdate as_event = task;
    as_event.event_id = "evt_render";
    const std::string rendered = render(as_event);
    const CallbackParse again = provider().parse_callback(rendered);
    check(again.kind == CallbackParse::Kind::kUpdate, "an update as a documented event parses", rendered);
    check(seedhook::fuzz::same_update(again.update, as_event), "an update as a documented event reads the same", rendered);
}

void check_callback(const CallbackParse& parsed, const json::Value& doc, std::string_view input) {
    const auto type = json::get_string(doc, "type");
    check((parsed.kind == CallbackParse::Kind::kIgnore) == (type == "endpoint.test"), "endpoint.test, and only it, is ignored", input);
    const json::Value* data = json::find(doc, "data");
    const auto data_task = data != nullptr ? ToapisProvider::parse_task(*data) : std::nullopt;
    if (parsed.kind != CallbackParse::Kind::kUpdate) {
        check(!data_task || parsed.kind == CallbackParse::Kind::kIgnore, "an event whose data is a task is an update", input);
        return;
    }
    check(data != nullptr && data->IsObject(), "an update comes from the event's data", input);
    const auto event_id = json::get_string(doc, "id");
    check(parsed.update.event_id == (event_id && !event_id->empty() ? std::optional<std::string>(*event_id) : std::nullopt), "the event id is the envelope's id", input);
    if (data_task) {
        TaskUpdate expected = *data_task;
        expected.event_id = parsed.update.event_id;
        check(seedhook::fuzz::same_update(parsed.update, expected), "an event's data reads as a task object does", input);
    }
    check_task(parsed.update, *data, input);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input = seedhook::fuzz::as_text(data, size);
    const auto blank = input.find("\n\n");
    const std::string_view body = blank == std::string_view::npos ? input : input.substr(blank + 2);
    const HttpHeaders headers = read_headers(blank == std::string_view::npos ? std::string_view() : input.substr(0, blank));
    check_signatures(headers, body, input);

    const CallbackParse parsed = provider().parse_callback(body);
    const auto doc = json::parse(body);
    check((parsed.kind == CallbackParse::Kind::kMalformed) == !doc, "malformed exactly when not JSON", input);
    if (!doc) {
        return 0;
    }
    check_callback(parsed, *doc, input);
    const auto task = ToapisProvider::parse_task(*doc);  // the query answer's reader
    if (!task) {
        return 0;
    }
    check(!task->event_id, "a query answer has no event id", input);
    check_task(*task, *doc, input);
    const std::string stored = json::to_string(*doc);
    const auto reread = json::parse(stored);
    check(reread.has_value(), "a parsed answer re-serialised is JSON", stored);
    const auto task_again = ToapisProvider::parse_task(*reread);
    check(task_again && seedhook::fuzz::same_stored_update(*task_again, *task), "a stored answer reads the same", stored);
    return 0;
}
