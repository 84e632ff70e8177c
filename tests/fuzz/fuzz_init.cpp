// libFuzzer's start-up hook, shared by every target: log lines are checked, not printed.

#include "tests/fuzz/fuzz_check.hpp"

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
    seedhook::fuzz::check_logs();
    return 0;
}
