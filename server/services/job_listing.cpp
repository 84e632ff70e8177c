// JobService: the job list, newest first, filtered and cursor-paged.
#include <limits>

#include "common/crypto.hpp"
#include "common/error.hpp"
#include "server/services/job_service.hpp"

namespace seedhook::services {

using Kind = ServiceError::Kind;

namespace {

constexpr std::size_t kDefaultPageSize = 50;
constexpr std::size_t kMaxPageSize = 200;

// A cursor is base64url("<created_at ms>:<job id>") of the last job on the page.
std::string make_cursor(const storage::JobRecord& last) {
    return crypto::base64url(std::to_string(last.created_at) + ":" + last.id);
}

std::optional<std::pair<std::int64_t, std::string>> read_cursor(std::string_view cursor) {
    auto raw = crypto::base64url_decode(cursor);
    if (!raw) {
        return std::nullopt;
    }
    const auto colon = raw->find(':');
    if (colon == std::string::npos || colon == 0 || !is_job_id(std::string_view(*raw).substr(colon + 1))) {
        return std::nullopt;
    }
    std::int64_t at = 0;
    for (std::size_t i = 0; i < colon; ++i) {
        const char c = (*raw)[i];
        if (c < '0' || c > '9' || at > (std::numeric_limits<std::int64_t>::max() - 9) / 10) {
            return std::nullopt;
        }
        at = at * 10 + (c - '0');
    }
    return std::make_pair(at, raw->substr(colon + 1));
}

[[noreturn]] void bad_param(const std::string& name, const std::string& message) {
    throw ServiceError(Kind::kInvalid, "invalid_parameter", name + " " + message, name);
}

}  // namespace

net::awaitable<JobPage> JobService::list(JobListQuery q) {
    storage::JobFilter filter;
    if (q.status) {
        if (!providers::parse_status(*q.status)) {
            bad_param("status", "must be one of submitting, queued, running, succeeded, failed, cancelled, expired, submit_failed");
        }
        filter.status = q.status;
    }
    if (q.provider) {
        if (!provider_named(*q.provider)) {
            bad_param("provider", "is not a provider of this service");
        }
        filter.provider = q.provider;
    }
    filter.model = q.model;
    filter.limit = kDefaultPageSize;
    if (q.limit) {
        const auto& text = *q.limit;
        const bool digits = !text.empty() && text.size() <= 4 && text.find_first_not_of("0123456789") == std::string::npos;
        const std::size_t n = digits ? std::stoul(text) : 0;
        if (n < 1 || n > kMaxPageSize) {
            bad_param("limit", "must be a whole number from 1 to 200");
        }
        filter.limit = n;
    }
    if (q.cursor) {
        filter.after = read_cursor(*q.cursor);
        if (!filter.after) {
            bad_param("cursor", "is not a cursor this service gave out");
        }
    }
    const std::size_t limit = filter.limit;
    JobPage page;
    page.jobs = co_await store_.list(std::move(filter));
    if (page.jobs.size() > limit) {
        page.jobs.resize(limit);
        page.next_cursor = make_cursor(page.jobs.back());
    }
    co_return page;
}

}  // namespace seedhook::services
