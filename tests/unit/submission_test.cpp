#include "server/services/submission.hpp"

#include <gtest/gtest.h>

namespace {

using seedhook::services::backoff_ceiling;
using seedhook::services::RetryPolicy;
using std::chrono::milliseconds;

TEST(SubmissionBackoff, CeilingDoublesFromTheBaseUpToTheCap) {
    const RetryPolicy p;
    EXPECT_EQ(backoff_ceiling(p, 1), milliseconds(500));
    EXPECT_EQ(backoff_ceiling(p, 2), milliseconds(1000));
    EXPECT_EQ(backoff_ceiling(p, 3), milliseconds(2000));
    EXPECT_EQ(backoff_ceiling(p, 5), milliseconds(8000));
    EXPECT_EQ(backoff_ceiling(p, 9), milliseconds(8000));
}

TEST(SubmissionBackoff, TheDefaultPolicyKeepsTheSpecBounds) {
    const RetryPolicy p;
    EXPECT_EQ(p.max_attempts, 10);
    EXPECT_EQ(p.max_total_wait, milliseconds(30000));
    // Even at their ceilings the waits of ten attempts may exceed 30 s: the total bound is
    // what stops them, which the integration tests exercise.
    milliseconds sum{0};
    for (int attempt = 1; attempt < p.max_attempts; ++attempt) {
        sum += backoff_ceiling(p, attempt);
    }
    EXPECT_GT(sum, p.max_total_wait);
}

}  // namespace
