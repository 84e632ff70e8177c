#pragma once

/// JSON renderings of jobs and deliveries (SPEC §2.1: every key always present).

#include <optional>
#include <string>
#include <vector>

#include "server/storage/records.hpp"

namespace seedhook::handlers {

std::string job_json(const storage::JobRecord& job);
std::string job_page_json(const std::vector<storage::JobRecord>& jobs, const std::optional<std::string>& next_cursor);
std::string deliveries_json(const std::vector<storage::CallbackRecord>& deliveries);

}  // namespace seedhook::handlers
