#pragma once

/// What the fuzz targets share: invariant checks that abort with a message (libFuzzer reports
/// the abort as a crash and saves the input), the SPEC's status table and error shape as
/// oracles, and a log sink that holds every log line to the one-JSON-object-per-line rule.

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "common/json.hpp"
#include "common/log.hpp"
#include "server/providers/provider.hpp"

namespace seedhook::fuzz {

/// Prints the broken invariant (and an excerpt of `detail`) and aborts.
[[noreturn]] inline void fail(std::string_view what, std::string_view detail = {}) {
    constexpr std::size_t kExcerpt = 400;
    const std::string_view excerpt = detail.substr(0, kExcerpt);
    std::fprintf(
        stderr,
        "\ninvariant broken: %.*s\n  detail: %.*s\n",
        static_cast<int>(what.size()),
        what.data(),
        static_cast<int>(excerpt.size()),
        excerpt.data()
    );
    std::abort();
}

inline void check(bool ok, std::string_view what, std::string_view detail = {}) {
    if (!ok) {
        fail(what, detail);
    }
}

/// The fuzzer's bytes as text.
inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
    return {reinterpret_cast<const char*>(data), size};
}

/// A provider's status words and their meaning, written out from SPEC §2.1's table (an oracle
/// independent of the adapters' own tables).
using SpecTable = std::initializer_list<std::pair<std::string_view, providers::JobStatus>>;

inline std::optional<providers::JobStatus> spec_status(std::string_view word, SpecTable table) {
    for (const auto& [w, s] : table) {
        if (w == word) {
            return s;
        }
    }
    return std::nullopt;
}

/// Invariants of every task update an adapter reads: a task id, the provider's word kept, the
/// normalized status exactly the SPEC's meaning of that word, progress within 0..100.
inline void check_update(const providers::TaskUpdate& u, SpecTable table, std::string_view input) {
    check(!u.task_id.empty(), "a task update has a task id", input);
    check(u.status == spec_status(u.provider_status, table), "status is the SPEC's meaning of the provider's word", u.provider_status);
    if (u.status) {
        check(providers::to_string(*u.status) != "unknown", "status is a known value", input);
        check(providers::parse_status(providers::to_string(*u.status)) == u.status, "status words round-trip", input);
    }
    if (u.progress) {
        check(*u.progress >= 0 && *u.progress <= 100, "progress is within 0..100", input);
    }
    check(u.raw_body.empty(), "a parsed payload carries no raw body", input);
}

/// The provider's `"error": {"code", "message"}` object of `u`, when it has either.
inline void write_error(json::Writer& w, const providers::TaskUpdate& u) {
    if (!u.error_code && !u.error_message) {
        return;
    }
    w.key("error");
    w.start_object();
    if (u.error_code) {
        w.member("code", *u.error_code);
    }
    if (u.error_message) {
        w.member("message", *u.error_message);
    }
    w.end_object();
}

/// Field-by-field equality of two updates (raw_body aside).
inline bool same_update(const providers::TaskUpdate& a, const providers::TaskUpdate& b) {
    return a.task_id == b.task_id && a.provider_status == b.provider_status &&
           a.status == b.status && a.progress == b.progress && a.video_url == b.video_url &&
           a.last_frame_url == b.last_frame_url &&
           a.video_url_expires_at == b.video_url_expires_at && a.error_code == b.error_code &&
           a.error_message == b.error_message && a.event_id == b.event_id;
}

/// same_update for an answer and its stored, re-written copy: an error code read from a
/// non-integral number may move in its last digit. RapidJSON 1.1.0's default number reading can
/// be an ulp off (its full-precision mode reads out of bounds on some inputs, so stays off),
/// and the writer prints what it read.
inline bool same_stored_update(const providers::TaskUpdate& a, const providers::TaskUpdate& b) {
    const auto number = [](const std::optional<std::string>& text) -> std::optional<double> {
        if (!text || text->empty() || text->find_first_of(".eE") == std::string::npos) {
            return std::nullopt;
        }
        char* end = nullptr;
        const double value = std::strtod(text->c_str(), &end);
        return end == text->c_str() + text->size() ? std::optional<double>(value) : std::nullopt;
    };
    const auto x = number(a.error_code);
    const auto y = number(b.error_code);
    if (!x || !y || std::fabs(*x - *y) > 1e-15 * std::fabs(*x)) {
        return same_update(a, b);
    }
    providers::TaskUpdate close_enough = b;
    close_enough.error_code = a.error_code;
    return same_update(a, close_enough);
}

/// True when `body` is the SPEC's error shape: {"error": {"code": "<snake_case>", "message":
/// "<sentence>", "field"?: "<path>", ...}} and nothing else at the top.
inline bool is_error_shape(std::string_view body) {
    auto doc = json::parse(body);
    if (!doc || !doc->IsObject() || doc->MemberCount() != 1) {
        return false;
    }
    const json::Value* error = json::find(*doc, "error");
    if (error == nullptr || !error->IsObject()) {
        return false;
    }
    const auto code = json::get_string(*error, "code");
    const auto message = json::get_string(*error, "message");
    if (!code || code->empty() || !message || message->empty()) {
        return false;
    }
    for (const char c : *code) {
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) {
            return false;
        }
    }
    const json::Value* field = json::find(*error, "field");
    return field == nullptr || (field->IsString() && field->GetStringLength() > 0);
}

/// Every log line is one JSON object followed by one newline (SPEC §7: stdout is JSON lines).
inline void check_log_line(std::string_view line) {
    check(!line.empty() && line.back() == '\n', "a log line ends with a newline", line);
    const std::string_view object = line.substr(0, line.size() - 1);
    check(object.find('\n') == std::string_view::npos, "a log line is one line", line);
    auto doc = json::parse(object);
    check(doc && doc->IsObject(), "a log line is a JSON object", line);
}

/// Sends every log line, from debug up, through check_log_line instead of stdout.
inline void check_logs() {
    log::set_level(log::Level::kDebug);
    log::set_sink(check_log_line);
}

}  // namespace seedhook::fuzz
