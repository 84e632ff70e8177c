#pragma once

/// JSON renderings of jobs and deliveries (SPEC §2.1: every key always present).

#include <string>
#include <vector>

#include "server/storage/records.hpp"

namespace seedhook::handlers {

std::string job_json(const storage::JobRecord& job);
std::string deliveries_json(const std::vector<storage::CallbackRecord>& deliveries);

}  // namespace seedhook::handlers
