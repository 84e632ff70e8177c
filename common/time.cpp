#include "common/time.hpp"

#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>

namespace seedhook {

std::int64_t now_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string format_iso8601(std::int64_t unix_ms) {
    const std::time_t secs = static_cast<std::time_t>(unix_ms / 1000);
    const int millis = static_cast<int>(unix_ms % 1000);
    // Every log line formats the time: the date and time of the current second are kept.
    thread_local std::time_t cached_secs = -1;
    thread_local char cached[24];
    if (unix_ms >= 0 && secs == cached_secs) {
        char buf[32];
        std::memcpy(buf, cached, 19);
        std::snprintf(buf + 19, sizeof buf - 19, ".%03dZ", millis);
        return {buf, 24};
    }
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[32];
    const int n = std::snprintf(
        buf,
        sizeof buf,
        "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
        tm.tm_year + 1900,
        tm.tm_mon + 1,
        tm.tm_mday,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec,
        millis
    );
    if (unix_ms >= 0 && n == 24) {
        std::memcpy(cached, buf, 19);
        cached_secs = secs;
    }
    return {buf, static_cast<std::size_t>(n)};
}

}  // namespace seedhook
