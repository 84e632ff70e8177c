#include "common/time.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace seedhook {

std::int64_t now_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

namespace {

void put_digits(char* at, unsigned value, int width) {
    for (int i = width - 1; i >= 0; --i) {
        at[i] = static_cast<char>('0' + value % 10);
        value /= 10;
    }
}

}  // namespace

std::string format_iso8601(std::int64_t unix_ms) {
    constexpr std::int64_t kMsPerDay = 86'400'000;
    constexpr std::int64_t kYear10000 = 253'402'300'800'000;  // 10000-01-01T00:00:00Z
    if (unix_ms < 0 || unix_ms >= kYear10000) {
        // Outside what four year digits hold: the C library's own formatting.
        const std::time_t secs = static_cast<std::time_t>(unix_ms / 1000);
        std::tm tm{};
        gmtime_r(&secs, &tm);
        char buf[80];
        const int n = std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                                    tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(unix_ms % 1000));
        return {buf, static_cast<std::size_t>(n)};
    }
    // Every log line and every job's timestamps are formatted: calendar arithmetic only, no
    // gmtime_r (which takes the C library's time zone lock) and no printf.
    const std::chrono::year_month_day date{std::chrono::sys_days{std::chrono::days{unix_ms / kMsPerDay}}};
    const auto in_day = static_cast<unsigned>(unix_ms % kMsPerDay);
    char buf[24];
    put_digits(buf, static_cast<unsigned>(static_cast<int>(date.year())), 4);
    buf[4] = '-';
    put_digits(buf + 5, static_cast<unsigned>(date.month()), 2);
    buf[7] = '-';
    put_digits(buf + 8, static_cast<unsigned>(date.day()), 2);
    buf[10] = 'T';
    put_digits(buf + 11, in_day / 3'600'000, 2);
    buf[13] = ':';
    put_digits(buf + 14, in_day / 60'000 % 60, 2);
    buf[16] = ':';
    put_digits(buf + 17, in_day / 1000 % 60, 2);
    buf[19] = '.';
    put_digits(buf + 20, in_day % 1000, 3);
    buf[23] = 'Z';
    return {buf, sizeof buf};
}

}  // namespace seedhook
