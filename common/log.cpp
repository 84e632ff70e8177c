#include "common/log.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>
#include <vector>

#include "common/json.hpp"
#include "common/thread_name.hpp"
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

// Writes lines to stdout from a thread of its own: a busy service would otherwise make a
// write() system call per line, under a lock every I/O thread contends for. Lines wait at most
// kFlushEvery (or until kFlushBytes are pending); warnings and errors, and the lines before
// them, are written at once; what is pending is written at exit and on flush().
class StdoutWriter {
public:
    StdoutWriter() : thread_([this] { loop(); }) {}
    StdoutWriter(const StdoutWriter&) = delete;
    StdoutWriter& operator=(const StdoutWriter&) = delete;
    ~StdoutWriter() {
        {
            const std::lock_guard lock(mutex_);
            stop_ = true;
        }
        wake_.notify_one();
        thread_.join();
        flush();
    }

    void push(const std::string& line, bool urgent) {
        std::unique_lock lock(mutex_);
        const bool first = pending_.empty();
        pending_ += line;
        if (urgent) {
            write_locked();
            return;
        }
        if (first || pending_.size() >= kFlushBytes) {
            lock.unlock();
            wake_.notify_one();
        }
    }

    void flush() {
        const std::lock_guard lock(mutex_);
        write_locked();
    }

private:
    static constexpr std::size_t kFlushBytes = 64 * 1024;
    static constexpr auto kFlushEvery = std::chrono::milliseconds(5);

    void write_locked() {
        if (!pending_.empty()) {
            std::fwrite(pending_.data(), 1, pending_.size(), stdout);
            std::fflush(stdout);
            pending_.clear();
        }
    }

    // Sleeps until a line is pending (an idle service wakes it not at all), then gives the
    // lines after it kFlushEvery to join it in one write.
    void loop() {
        name_this_thread("seedhook-log");
        std::unique_lock lock(mutex_);
        while (!stop_) {
            wake_.wait(lock, [this] { return stop_ || !pending_.empty(); });
            wake_.wait_for(lock, kFlushEvery, [this] { return stop_ || pending_.size() >= kFlushBytes; });
            write_locked();
        }
    }

    std::mutex mutex_;
    std::condition_variable wake_;
    std::string pending_;
    bool stop_ = false;
    std::thread thread_;  // last: starts once the rest is built
};

StdoutWriter& stdout_writer() {
    static StdoutWriter writer;
    return writer;
}

}  // namespace

void flush() { stdout_writer().flush(); }

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

void write(Level level, std::string_view component, std::string_view message, std::span<const Field> fields) {
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
    {
        const std::lock_guard lock(g_mutex);
        redact_locked(line);
        if (auto* sink = g_sink.load()) {
            sink(line);
            return;
        }
    }
    stdout_writer().push(line, level >= Level::kWarn);
}

}  // namespace seedhook::log
