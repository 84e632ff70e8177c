#pragma once

/// The built seedhook binary run as a child process, as an operator runs it.

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/support/test_support.hpp"

namespace seedhook::test {

struct Process {
    pid_t pid = -1;
    std::filesystem::path out;  ///< its stdout
    std::filesystem::path err;  ///< its stderr
};

/// Starts the binary with `args`; its environment is ours without SEEDHOOK_* plus `env_extra`.
/// With a `wrapper` (a command found on PATH, e.g. unshare ...), runs `wrapper... binary args...`;
/// the wrapper must exec the binary so that the pid is the binary's.
Process spawn_seedhook(
    const TempDir& dir,
    const std::vector<std::string>& args,
    const std::vector<std::string>& env_extra = {},
    const std::vector<std::string>& wrapper = {}
);

/// Waits up to `limit`; returns the exit code (128 + signal when killed), or -1 when it did
/// not exit (it is then killed).
int wait_exit(const Process& p, std::chrono::milliseconds limit = std::chrono::seconds(20));

/// The whole file (empty when it does not exist).
std::string slurp(const std::filesystem::path& p);

/// Writes `text` to `dir`/config.json and returns its path.
std::string write_config(const TempDir& dir, const std::string& text);

/// A valid configuration file's text for the binary: test certificate, database in `dir`/db,
/// the simulator on. Bearer tokens come from the environment.
std::string valid_config(const TempDir& dir, std::uint16_t port, const std::string& extra_members = {});

}  // namespace seedhook::test
