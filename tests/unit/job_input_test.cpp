// parse_job_input: the create-job body read into a JobInput (cases found by fuzzing).

#include "server/handlers/jobs_handler.hpp"

#include "common/error.hpp"

#include <stdexcept>
#include <string_view>

#include <gtest/gtest.h>

using seedhook::HttpError;
using seedhook::handlers::parse_job_input;

namespace {

HttpError refusal(std::string_view body) {
    try {
        parse_job_input(body);
    } catch (const HttpError& e) {
        return e;
    }
    throw std::runtime_error("the body was accepted");
}

}  // namespace

TEST(JobInput, AnUnknownFieldIsNamed) {
    const HttpError e = refusal(R"({"model": "seedance-1.5-pro", "colour": "red"})");
    EXPECT_EQ(e.status(), 422);
    EXPECT_EQ(e.code(), "invalid_field");
    EXPECT_EQ(e.field(), "colour");
    EXPECT_EQ(e.public_message(), "colour is not a field of a job");
}

TEST(JobInput, AnEmptyKeyIsNamedInBracketNotation) {
    // Found by tests/fuzz/fuzz_job_request: the error named no field and began with a space.
    const HttpError e = refusal(R"({"": "A leaf falls"})");
    EXPECT_EQ(e.status(), 422);
    EXPECT_EQ(e.field(), R"([""])");
    EXPECT_EQ(e.public_message(), R"([""] is not a field of a job)");
}
