#include "common/time.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <ctime>

namespace seedhook {
namespace {

TEST(Time, FormatsUtcWithMillisecondsAcrossSecondsAndDays) {
    EXPECT_EQ(format_iso8601(1795333489000), "2026-11-22T07:44:49.000Z");
    EXPECT_EQ(format_iso8601(1795333489007), "2026-11-22T07:44:49.007Z");
    EXPECT_EQ(format_iso8601(1795333489999), "2026-11-22T07:44:49.999Z");
    EXPECT_EQ(format_iso8601(1795333490001), "2026-11-22T07:44:50.001Z");
    EXPECT_EQ(format_iso8601(1795305599999), "2026-11-21T23:59:59.999Z");
    EXPECT_EQ(format_iso8601(0), "1970-01-01T00:00:00.000Z");
    EXPECT_EQ(format_iso8601(951782400123), "2000-02-29T00:00:00.123Z");
}

TEST(Time, AgreesWithTheCLibraryFrom1970To9999) {
    // The calendar arithmetic against gmtime_r + snprintf, on 20,000 pseudo-random instants
    // over the range, then the last millisecond it covers and the day after a century's
    // February that has no 29th.
    std::uint64_t x = 88172645463325252ULL;
    for (int i = 0; i < 20000; ++i) {
        x ^= x << 13U;
        x ^= x >> 7U;
        x ^= x << 17U;
        const auto ms = static_cast<std::int64_t>(x % 253'402'300'800'000ULL);
        const std::time_t secs = static_cast<std::time_t>(ms / 1000);
        std::tm tm{};
        gmtime_r(&secs, &tm);
        char expected[80];
        std::snprintf(expected, sizeof expected, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                      tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
        ASSERT_EQ(format_iso8601(ms), expected) << ms;
    }
    EXPECT_EQ(format_iso8601(253'402'300'799'999), "9999-12-31T23:59:59.999Z");
    EXPECT_EQ(format_iso8601(4'107'542'400'000), "2100-03-01T00:00:00.000Z");  // 2100 is not a leap year
}

}  // namespace
}  // namespace seedhook
