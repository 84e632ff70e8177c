#include "common/log.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "common/json.hpp"
#include "common/thread_name.hpp"
#include "common/time.hpp"

namespace seedhook::log {

namespace {

std::atomic<Level> g_level{Level::kInfo};
std::atomic<void (*)(std::string_view)> g_sink{nullptr};

// Secrets are registered at startup and in tests; lines are written from any thread. Each
// thread redacts with its own copy of the list, taken again only when the list has changed,
// so that writing a line takes no lock that every I/O thread contends for.
std::mutex g_mutex;
std::vector<std::string> g_secrets;
std::atomic<std::uint64_t> g_secrets_version{0};

const std::vector<std::string>& secrets() {
    thread_local std::uint64_t version = 0;
    thread_local std::vector<std::string> copy;
    if (g_secrets_version.load(std::memory_order_acquire) != version) {
        const std::lock_guard lock(g_mutex);
        copy = g_secrets;
        version = g_secrets_version.load(std::memory_order_relaxed);
    }
    return copy;
}

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

void redact_in_place(std::string& line) {
    for (const auto& secret : secrets()) {
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
//
// Two locks: `mutex_` guards the pending lines and is held only to append or to take them;
// `output_` is held while taken lines are written, and is taken before `mutex_` is let go, so
// batches reach stdout in the order they were taken while new lines keep being appended.
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

    void push(std::string_view line, bool urgent) {
        std::unique_lock lock(mutex_);
        const bool first = pending_.empty();
        pending_ += line;
        if (urgent) {
            write_taken(lock, urgent_buffer_);
            return;
        }
        if (first || pending_.size() >= kFlushBytes) {
            lock.unlock();
            wake_.notify_one();
        }
    }

    void flush() {
        std::unique_lock lock(mutex_);
        write_taken(lock, urgent_buffer_);
    }

private:
    static constexpr std::size_t kFlushBytes = 64 * 1024;
    static constexpr auto kFlushEvery = std::chrono::milliseconds(5);

    // Takes the pending lines into `out` (whose capacity the next batch then reuses) and writes
    // them after letting go of `lock`, which must hold mutex_.
    void write_taken(std::unique_lock<std::mutex>& lock, std::string& out) {
        const std::lock_guard writing(output_);
        out.clear();
        out.swap(pending_);
        lock.unlock();
        if (!out.empty()) {
            std::fwrite(out.data(), 1, out.size(), stdout);
            std::fflush(stdout);
        }
    }

    // Sleeps until a line is pending (an idle service wakes it not at all), then gives the
    // lines after it kFlushEvery to join it in one write.
    void loop() {
        name_this_thread("seedhook-log");
        std::string batch;
        std::unique_lock lock(mutex_);
        while (!stop_) {
            wake_.wait(lock, [this] { return stop_ || !pending_.empty(); });
            wake_.wait_for(lock, kFlushEvery, [this] { return stop_ || pending_.size() >= kFlushBytes; });
            write_taken(lock, batch);
            lock.lock();
        }
    }

    std::mutex mutex_;
    std::mutex output_;  // held while a batch is written; taken while mutex_ is held
    std::condition_variable wake_;
    std::string pending_;
    std::string urgent_buffer_;  // guarded by output_
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
    g_secrets_version.fetch_add(1, std::memory_order_release);
}

std::string redact(std::string text) {
    redact_in_place(text);
    return text;
}

void set_sink(void (*sink)(std::string_view line)) { g_sink.store(sink); }

namespace {

void render(json::Writer& w, Level level, std::string_view component, std::string_view message, std::span<const Field> fields) {
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
}

// What a thread writes its lines with, kept from one line to the next for its memory.
struct LineBuffers {
    json::Writer writer;
    std::string line;
    bool busy = false;  // a line is being written: a nested write (from a sink) gets its own
};

}  // namespace

void write(Level level, std::string_view component, std::string_view message, std::span<const Field> fields) {
    if (!enabled(level)) {
        return;
    }
    thread_local LineBuffers kept;
    std::optional<LineBuffers> nested;
    LineBuffers& b = kept.busy ? nested.emplace() : kept;
    b.busy = true;
    struct Release {
        LineBuffers& b;
        ~Release() { b.busy = false; }
    } release{b};
    b.writer.clear();
    render(b.writer, level, component, message, fields);
    b.line.assign(b.writer.view());
    b.line.push_back('\n');
    redact_in_place(b.line);
    if (auto* sink = g_sink.load()) {
        const std::lock_guard lock(g_mutex);  // a sink (tests) is given one line at a time
        sink(b.line);
        return;
    }
    stdout_writer().push(b.line, level >= Level::kWarn);
}

}  // namespace seedhook::log
