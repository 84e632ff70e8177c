#include "tests/support/process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

extern char** environ;

namespace seedhook::test {

std::string slurp(const std::filesystem::path& p) {
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

Process spawn_seedhook(
    const TempDir& dir,
    const std::vector<std::string>& args,
    const std::vector<std::string>& env_extra,
    const std::vector<std::string>& wrapper
) {
    static int counter = 0;
    Process p;
    p.out = dir.path() / ("out" + std::to_string(counter) + ".log");
    p.err = dir.path() / ("err" + std::to_string(counter++) + ".log");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, p.out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, 2, p.err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::vector<std::string> argv_s = wrapper;
    argv_s.emplace_back(SEEDHOOK_BINARY);
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_s) {
        argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    std::vector<std::string> env_s;
    for (char** e = environ; *e != nullptr; ++e) {
        if (std::string_view(*e).starts_with("SEEDHOOK_")) {
            continue;
        }
        env_s.emplace_back(*e);
    }
    env_s.insert(env_s.end(), env_extra.begin(), env_extra.end());
    std::vector<char*> envp;
    for (auto& e : env_s) {
        envp.push_back(e.data());
    }
    envp.push_back(nullptr);
    EXPECT_EQ(posix_spawnp(&p.pid, argv[0], &actions, nullptr, argv.data(), envp.data()), 0);
    posix_spawn_file_actions_destroy(&actions);
    return p;
}

int wait_exit(const Process& p, std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    int status = 0;
    while (std::chrono::steady_clock::now() < deadline) {
        if (waitpid(p.pid, &status, WNOHANG) == p.pid) {
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    kill(p.pid, SIGKILL);
    waitpid(p.pid, &status, 0);
    return -1;
}

std::string write_config(const TempDir& dir, const std::string& text) {
    const auto path = dir.path() / "config.json";
    std::ofstream(path) << text;
    return path.string();
}

std::string valid_config(const TempDir& dir, std::uint16_t port, const std::string& extra_members) {
    return R"({"listen":{"address":"127.0.0.1","port":)" + std::to_string(port) +
           R"(},"tls":{"cert_file":")" + certs_dir() + R"(/server.crt","key_file":")" + certs_dir() +
           R"(/server.key"},"public_base_url":"https://127.0.0.1:)" + std::to_string(port) +
           R"(","callbacks":{"allow_private_hosts":true},"database":{"path":")" +
           (dir.path() / "db" / "seedhook.db").string() +
           R"("},"simulator":{"enabled":true,"complete_after_ms":200})" + extra_members + "}";
}

}  // namespace seedhook::test
