#pragma once

#include <vector>

namespace seedhook::storage {

/// One forward-only schema step from migrations/NNNN_what.sql.
struct Migration {
    int version;
    const char* name;
    const char* sql;
};

/// Every migration, in version order (generated at build time from migrations/).
const std::vector<Migration>& migrations();

}  // namespace seedhook::storage
