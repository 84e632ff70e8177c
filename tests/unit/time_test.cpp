#include "common/time.hpp"

#include <gtest/gtest.h>

namespace seedhook {
namespace {

TEST(Time, FormatsUtcWithMillisecondsAcrossSecondsAndDays) {
    // Within one second the date part is reused; a new second or day must not keep the old one.
    EXPECT_EQ(format_iso8601(1795333489000), "2026-11-22T07:44:49.000Z");
    EXPECT_EQ(format_iso8601(1795333489007), "2026-11-22T07:44:49.007Z");
    EXPECT_EQ(format_iso8601(1795333489999), "2026-11-22T07:44:49.999Z");
    EXPECT_EQ(format_iso8601(1795333490001), "2026-11-22T07:44:50.001Z");
    EXPECT_EQ(format_iso8601(1795305599999), "2026-11-21T23:59:59.999Z");
    EXPECT_EQ(format_iso8601(0), "1970-01-01T00:00:00.000Z");
    EXPECT_EQ(format_iso8601(951782400123), "2000-02-29T00:00:00.123Z");
}

}  // namespace
}  // namespace seedhook
