// The seedhook binary as an operator runs it: options, configuration errors, JSON logs on
// stdout, no secrets in them, and SIGTERM.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "tests/support/test_support.hpp"

extern char** environ;

namespace seedhook::test {
namespace {

struct Process {
    pid_t pid = -1;
    std::filesystem::path out;
    std::filesystem::path err;
};

std::string slurp(const std::filesystem::path& p) {
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

Process spawn(const TempDir& dir, const std::vector<std::string>& args, const std::vector<std::string>& env_extra = {}) {
    static int counter = 0;
    Process p;
    p.out = dir.path() / ("out" + std::to_string(counter) + ".log");
    p.err = dir.path() / ("err" + std::to_string(counter++) + ".log");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, p.out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, 2, p.err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::vector<std::string> argv_s = {SEEDHOOK_BINARY};
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
    EXPECT_EQ(posix_spawn(&p.pid, argv[0], &actions, nullptr, argv.data(), envp.data()), 0);
    posix_spawn_file_actions_destroy(&actions);
    return p;
}

/// Waits up to `limit`; returns the exit code, or -1 when it did not exit (it is then killed).
int wait_exit(const Process& p, std::chrono::milliseconds limit = std::chrono::seconds(20)) {
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

std::string valid_config(const TempDir& dir, std::uint16_t port) {
    return R"({"listen":{"address":"127.0.0.1","port":)" + std::to_string(port) +
           R"(},"tls":{"cert_file":")" + certs_dir() + R"(/server.crt","key_file":")" + certs_dir() +
           R"(/server.key"},"public_base_url":"https://127.0.0.1:)" + std::to_string(port) +
           R"(","callbacks":{"allow_private_hosts":true},"database":{"path":")" +
           (dir.path() / "db" / "seedhook.db").string() +
           R"("},"simulator":{"enabled":true,"complete_after_ms":200}})";
}

TEST(Cli, VersionAndHelp) {
    TempDir dir;
    auto v = spawn(dir, {"--version"});
    EXPECT_EQ(wait_exit(v), 0);
    EXPECT_TRUE(slurp(v.out).starts_with("seedhook ")) << slurp(v.out);
    auto h = spawn(dir, {"--help"});
    EXPECT_EQ(wait_exit(h), 0);
    const std::string help = slurp(h.out);
    for (const char* option : {"--config", "--check-config", "--version", "--help"}) {
        EXPECT_NE(help.find(option), std::string::npos) << option;
    }
    for (const auto& key : config_keys()) {
        EXPECT_NE(help.find(key.key), std::string::npos) << key.key;
    }
}

TEST(Cli, CheckConfigNamesTheBadKey) {
    TempDir dir;
    const std::string good = write_config(dir, valid_config(dir, 8443));
    auto ok = spawn(dir, {"--config", good, "--check-config"}, {"SEEDHOOK_AUTH_API_TOKENS=abcdefgh12345678"});
    EXPECT_EQ(wait_exit(ok), 0) << slurp(ok.err);

    auto bad_env = spawn(dir, {"--config", good, "--check-config"}, {"SEEDHOOK_AUTH_API_TOKENS=abcdefgh12345678", "SEEDHOOK_LISTEN_PORT=http"});
    EXPECT_EQ(wait_exit(bad_env), 1);
    EXPECT_NE(slurp(bad_env.err).find("listen.port"), std::string::npos) << slurp(bad_env.err);

    auto no_tokens = spawn(dir, {"--config", good, "--check-config"});
    EXPECT_EQ(wait_exit(no_tokens), 1);
    const std::string err = slurp(no_tokens.err);
    EXPECT_NE(err.find("auth.api_tokens"), std::string::npos) << err;
    EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << "one line: " << err;

    auto bad_option = spawn(dir, {"--frobnicate"});
    EXPECT_NE(wait_exit(bad_option), 0);
}

TEST(Cli, ServesWithJsonLogsWithoutSecretsAndStopsCleanlyOnSigterm) {
    TempDir dir;
    const auto port = free_port();
    const std::string config = write_config(dir, valid_config(dir, port));
    const std::string token = "operator-token-5f1c2e9a";
    const std::string api_key = "evolink-key-77aa31cc";
    const std::string secret = "callback-secret-9d8e7f6a";
    auto p = spawn(dir, {"--config", config}, {"SEEDHOOK_AUTH_API_TOKENS=" + token, "EVOLINK_API_KEY=" + api_key, "SEEDHOOK_CALLBACKS_SECRET=" + secret});
    ASSERT_TRUE(eventually([&] { return slurp(p.out).find("seedhook ready") != std::string::npos; }, std::chrono::seconds(10))) << slurp(p.err);
    {
        Client client(port);
        auto created = client.request("POST", "/v1/jobs", job_body(), {{"Authorization", "Bearer " + token}});
        ASSERT_EQ(created.status, 201) << created.body;
        const std::string id(*json::get_string(created.json(), "id"));
        ASSERT_TRUE(eventually([&] {
            return client.request("GET", "/v1/jobs/" + id, {}, {{"Authorization", "Bearer " + token}}).body.find("succeeded") != std::string::npos;
        }, std::chrono::seconds(5)));
        EXPECT_EQ(client.request("GET", "/v1/jobs/" + id, {}, {{"Authorization", "Bearer " + secret}}).status, 401);
    }
    kill(p.pid, SIGTERM);
    EXPECT_EQ(wait_exit(p, std::chrono::seconds(10)), 0) << slurp(p.err);

    const std::string out = slurp(p.out);
    std::istringstream lines(out);
    int count = 0;
    for (std::string line; std::getline(lines, line); ++count) {
        EXPECT_TRUE(json::parse(line).has_value()) << "not JSON: " << line;
    }
    EXPECT_GT(count, 5);
    EXPECT_NE(out.find("\"path\":\"/v1/callbacks/evolink/"), std::string::npos);
    EXPECT_NE(out.find("seedhook stopped"), std::string::npos);
    for (const auto& s : {token, api_key, secret, std::string("token=")}) {
        EXPECT_EQ(out.find(s), std::string::npos) << s << " leaked to stdout";
        EXPECT_EQ(slurp(p.err).find(s), std::string::npos) << s << " leaked to stderr";
    }
}

}  // namespace
}  // namespace seedhook::test
