#include "common/log.hpp"

#include <atomic>
#include <cstdio>
#include <mutex>
#include <vector>

#include "common/json.hpp"
#include "common/time.hpp"

namespace seedhook::log {

namespace {

std::atomic<Level> g_level{Level::kInfo};
std::atomic<void (*)(std::string_view)> g_sink{nullptr};

// Secrets are registered at startup and in tests; lines are written from any thread.
std::mutex g_mutex;
std::vector<std::string> g_secrets;

std::string_view level_name(Level level) {
    switch (level) {
        case Level::kDebug:
            return "debug";
        case Level::kInfo:
            return "info";
        case Level::kWarn:
            return "warn";
        case Level::kError:
            return "error";
    }
    return "info";
}

void redact_locked(std::string& line) {
    for (const auto& secret : g_secrets) {
        constexpr std::string_view kMask = "[redacted]";
        for (auto pos = line.find(secret); pos != std::string::npos;
             pos = line.find(secret, pos + kMask.size())) {
            line.replace(pos, secret.size(), kMask);
        }
    }
}

}  // namespace

void set_level(Level level) { g_level.store(level); }

std::optional<Level> parse_level(std::string_view name) {
    for (Level l : {Level::kDebug, Level::kInfo, Level::kWarn, Level::kError}) {
        if (name == level_name(l)) {
            return l;
        }
    }
    return std::nullopt;
}

bool enabled(Level level) { return level >= g_level.load(); }

void add_secret(std::string secret) {
    if (secret.empty()) {
        return;
    }
    const std::lock_guard lock(g_mutex);
    g_secrets.push_back(std::move(secret));
}

std::string redact(std::string text) {
    const std::lock_guard lock(g_mutex);
    redact_locked(text);
    return text;
}

void set_sink(void (*sink)(std::string_view line)) { g_sink.store(sink); }

void write(
    Level level,
    std::string_view component,
    std::string_view message,
    std::initializer_list<Field> fields
) {
    if (!enabled(level)) {
        return;
    }
    json::Writer w;
    w.start_object();
    w.member("time", format_iso8601(now_ms()));
    w.member("level", level_name(level));
    w.member("component", component);
    w.member("msg", message);
    for (const Field& f : fields) {
        w.key(f.key);
        std::visit(
            [&w](const auto& v) {
                using T = std::decay_t<decltype(v)>;
                if constexpr (std::is_same_v<T, std::string_view>) {
                    w.string(v);
                } else if constexpr (std::is_same_v<T, std::int64_t>) {
                    w.int64(v);
                } else if constexpr (std::is_same_v<T, bool>) {
                    w.boolean(v);
                } else {
                    w.raw(std::to_string(v));
                }
            },
            f.value
        );
    }
    w.end_object();
    std::string line = w.take();
    line.push_back('\n');
    const std::lock_guard lock(g_mutex);
    redact_locked(line);
    if (auto* sink = g_sink.load()) {
        sink(line);
        return;
    }
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fflush(stdout);
}

}  // namespace seedhook::log
