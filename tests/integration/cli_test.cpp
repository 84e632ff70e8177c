// The seedhook binary as an operator runs it: options, configuration errors, JSON logs on
// stdout, no secrets in them, and SIGTERM.
#include <signal.h>
#include <sys/wait.h>

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "tests/support/process.hpp"

namespace seedhook::test {
namespace {

TEST(Cli, VersionAndHelp) {
    TempDir dir;
    auto v = spawn_seedhook(dir, {"--version"});
    EXPECT_EQ(wait_exit(v), 0);
    EXPECT_TRUE(slurp(v.out).starts_with("seedhook ")) << slurp(v.out);
    auto h = spawn_seedhook(dir, {"--help"});
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
    auto ok = spawn_seedhook(dir, {"--config", good, "--check-config"}, {"SEEDHOOK_AUTH_API_TOKENS=abcdefgh12345678"});
    EXPECT_EQ(wait_exit(ok), 0) << slurp(ok.err);

    auto bad_env = spawn_seedhook(dir, {"--config", good, "--check-config"}, {"SEEDHOOK_AUTH_API_TOKENS=abcdefgh12345678", "SEEDHOOK_LISTEN_PORT=http"});
    EXPECT_EQ(wait_exit(bad_env), 1);
    EXPECT_NE(slurp(bad_env.err).find("listen.port"), std::string::npos) << slurp(bad_env.err);

    auto no_tokens = spawn_seedhook(dir, {"--config", good, "--check-config"});
    EXPECT_EQ(wait_exit(no_tokens), 1);
    const std::string err = slurp(no_tokens.err);
    EXPECT_NE(err.find("auth.api_tokens"), std::string::npos) << err;
    EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << "one line: " << err;

    auto bad_option = spawn_seedhook(dir, {"--frobnicate"});
    EXPECT_NE(wait_exit(bad_option), 0);
}

TEST(Cli, ServesWithJsonLogsWithoutSecretsAndStopsCleanlyOnSigterm) {
    TempDir dir;
    const auto port = free_port();
    const std::string config = write_config(dir, valid_config(dir, port));
    const std::string token = "operator-token-5f1c2e9a";
    const std::string api_key = "evolink-key-77aa31cc";
    const std::string secret = "callback-secret-9d8e7f6a";
    auto p = spawn_seedhook(dir, {"--config", config}, {"SEEDHOOK_AUTH_API_TOKENS=" + token, "EVOLINK_API_KEY=" + api_key, "SEEDHOOK_CALLBACKS_SECRET=" + secret});
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
    EXPECT_NE(out.find("\"remote\":\"127.0.0.1\""), std::string::npos) << "the access log names the client's address";
    EXPECT_NE(out.find("seedhook stopped"), std::string::npos);
    for (const auto& s : {token, api_key, secret, std::string("token=")}) {
        EXPECT_EQ(out.find(s), std::string::npos) << s << " leaked to stdout";
        EXPECT_EQ(slurp(p.err).find(s), std::string::npos) << s << " leaked to stderr";
    }
}

}  // namespace
}  // namespace seedhook::test
