// SPEC §6: secrets never reach logs, errors or responses. The binary runs with known secret
// values (bearer tokens, every provider's API key, the toapis webhook secret, the callback
// secret) at debug level; every path a user or a provider can take is walked, and everything
// that came out (stdout, stderr, every status line, header and body, --check-config, --help)
// is searched for each secret and for each job's callback URL token.
#include <signal.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "common/crypto.hpp"
#include "common/json.hpp"
#include "tests/support/process.hpp"

namespace seedhook::test {
namespace {

struct Secret {
    std::string name;
    std::string value;
};

std::string run_capture(const std::string& command) {
    std::string out;
    FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
    if (pipe == nullptr) {
        return out;
    }
    char buffer[4096];
    for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) {
        out.append(buffer, n);
    }
    ::pclose(pipe);
    return out;
}

TEST(Secrets, NoSecretOrCallbackTokenReachesLogsErrorsOrResponses) {
    TempDir dir;
    const auto port = free_port();
    const std::vector<Secret> secrets = {
        {"bearer token", "bearer-ZQ7xk2Lp9wVt"},
        {"second bearer token", "bearer-Mn4Rb8Yc1sHd"},
        {"evolink api key", "evolink-key-Hf83nD02kq"},
        {"toapis api key", "toapis-key-Pq61zX55ua"},
        {"acedata api key", "acedata-key-Wr27cV90mt"},
        {"toapis webhook secret", "toapis-whsec-Lk48sJ13pe"},
        {"callback secret", "callback-secret-Ub92gT47yn"},
    };
    const std::string& token = secrets[0].value;
    const auto key_file = dir.path() / "acedata.key";
    std::ofstream(key_file) << secrets[4].value << "\n";
    const std::string config = write_config(dir, valid_config(dir, port));
    const std::vector<std::string> env = {
        "SEEDHOOK_AUTH_API_TOKENS=" + secrets[0].value + "," + secrets[1].value,
        "EVOLINK_API_KEY=" + secrets[2].value,
        "SEEDHOOK_PROVIDERS_TOAPIS_API_KEY=" + secrets[3].value,
        "SEEDHOOK_PROVIDERS_ACEDATA_API_KEY_FILE=" + key_file.string(),
        "SEEDHOOK_PROVIDERS_TOAPIS_WEBHOOK_SECRET=" + secrets[5].value,
        "SEEDHOOK_CALLBACKS_SECRET=" + secrets[6].value,
        "SEEDHOOK_LOG_LEVEL=debug",
    };
    Process server = spawn_seedhook(dir, {"--config", config}, env);
    ASSERT_TRUE(eventually([&] { return slurp(server.out).find("seedhook ready") != std::string::npos; }, std::chrono::seconds(15))) << slurp(server.err);

    std::string seen;  // everything that came back over HTTP
    int responses = 0;
    Client client(port);
    const auto auth = std::make_pair(std::string("Authorization"), "Bearer " + token);
    auto call = [&](const std::string& method, const std::string& path, const std::string& body = {},
                    std::vector<std::pair<std::string, std::string>> headers = {}) {
        auto r = client.request(method, path, body, std::move(headers));
        seen += std::to_string(r.status) + "\n";
        for (const auto& [name, value] : r.headers.all()) {
            seen += name + ": " + value + "\n";
        }
        seen += r.body + "\n";
        ++responses;
        return r;
    };
    auto with_auth = [&](std::vector<std::pair<std::string, std::string>> more = {}) {
        more.push_back(auth);
        return more;
    };

    std::vector<std::string> job_ids;
    std::vector<std::pair<std::string, std::string>> finished;  // provider, job id
    for (const auto& [provider, model] : std::vector<std::pair<std::string, std::string>>{
             {"evolink", "seedance-1.5-pro"}, {"toapis", "doubao-seedance-1-5-pro"}, {"acedata", "doubao-seedance-1-5-pro-251215"}}) {
        for (const std::string prompt : {"a cat", "[sim:reject] a cat", "[sim:fail] a cat", "[sim:no-callback] a cat"}) {
            auto r = call("POST", "/v1/jobs", R"({"model":")" + model + R"(","prompt":")" + prompt + R"("})",
                          with_auth({{"Content-Type", "application/json"}, {"Idempotency-Key", provider + "-" + std::to_string(prompt.size())}}));
            const auto doc = json::parse(r.body);
            ASSERT_TRUE(doc) << r.body;
            const json::Value* error = json::find(*doc, "error");
            const auto id = error != nullptr && error->IsObject() ? json::get_string(*error, "job_id") : json::get_string(*doc, "id");
            ASSERT_TRUE(id) << r.body;
            job_ids.emplace_back(*id);
            finished.emplace_back(provider, std::string(*id));
        }
        // The same key with another body: 409.
        call("POST", "/v1/jobs", R"({"model":")" + model + R"(","prompt":"other"})", with_auth({{"Content-Type", "application/json"}, {"Idempotency-Key", provider + "-5"}}));
    }
    // Let the simulated providers call back (and confirmations run) until the plain jobs succeed.
    for (const std::size_t plain : {0U, 4U, 8U}) {
        EXPECT_TRUE(eventually([&] {
            return client.request("GET", "/v1/jobs/" + finished[plain].second, {}, {auth}).body.find("\"succeeded\"") != std::string::npos;
        }, std::chrono::seconds(10))) << finished[plain].first;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));  // confirmation queries land

    std::vector<Secret> tokens;
    for (const auto& [provider, id] : finished) {
        const std::string t = crypto::base64url(crypto::as_view(crypto::hmac_sha256(secrets[6].value, provider + ":" + id)));
        tokens.push_back({"callback token of " + id, t});
        call("GET", "/v1/jobs/" + id, {}, with_auth());
        call("GET", "/v1/jobs/" + id + "/callbacks", {}, with_auth());
        call("GET", "/v1/jobs/" + id + "?wait=0", {}, with_auth());
        // Provider-side mistakes: a wrong token, no token, a malformed, foreign or non-JSON body.
        call("POST", "/v1/callbacks/" + provider + "/" + id + "?token=" + t + "x", "{}", {{"Content-Type", "application/json"}});
        call("POST", "/v1/callbacks/" + provider + "/" + id, "{}", {{"Content-Type", "application/json"}});
        call("POST", "/v1/callbacks/" + provider + "/" + id + "?token=" + t, "{not json", {{"Content-Type", "application/json"}});
        call("POST", "/v1/callbacks/" + provider + "/" + id + "?token=" + t, R"({"unrelated":true})", {{"Content-Type", "application/json"}});
        call("POST", "/v1/callbacks/" + provider + "/" + id + "?token=" + t, "a=b", {{"Content-Type", "application/x-www-form-urlencoded"}});
    }
    // toapis signatures that do not verify, and stale ones.
    call("POST", "/v1/callbacks/toapis/" + finished[4].second + "?token=" + tokens[4].value, R"({"id":"x"})",
         {{"Content-Type", "application/json"}, {"X-ToAPIs-Webhook-Id", "evt_1"}, {"X-ToAPIs-Webhook-Timestamp", "1"}, {"X-ToAPIs-Webhook-Signature", "v1=00"}});
    // Backend-side mistakes: a wrong bearer (a secret of another kind), none, a bad body, bad params.
    call("GET", "/v1/jobs", {}, {{"Authorization", "Bearer " + secrets[6].value}});
    call("GET", "/v1/jobs", {}, {{"Authorization", "Basic " + secrets[2].value}});
    call("GET", "/v1/jobs");
    call("GET", "/v1/jobs?limit=0&status=" + secrets[3].value, {}, with_auth());
    call("GET", "/v1/jobs?cursor=" + tokens[0].value, {}, with_auth());
    call("POST", "/v1/jobs", R"({"model":"seedance-1.5-pro","prompt":")" + secrets[5].value + R"(","duration":99})", with_auth({{"Content-Type", "application/json"}}));
    call("POST", "/v1/jobs", "[1,2", with_auth({{"Content-Type", "application/json"}}));
    try {  // refused from its length; the server may close before the client has sent it all
        Client big(port);
        auto r = big.request("POST", "/v1/jobs", std::string(2 * 1024 * 1024, 'x'), with_auth({{"Content-Type", "application/json"}}));
        seen += std::to_string(r.status) + "\n" + r.body + "\n";
    } catch (const std::exception&) {
    }
    call("GET", "/v1/jobs", {}, with_auth());
    call("GET", "/v1/jobs/job_00000000000000000000000000000000", {}, with_auth());
    call("GET", "/v1/jobs/../../etc/passwd", {}, with_auth());
    call("DELETE", "/v1/jobs", {}, with_auth());
    call("GET", "/nowhere");
    call("GET", "/metrics");
    call("GET", "/readyz");
    call("GET", "/healthz");

    ::kill(server.pid, SIGTERM);
    EXPECT_EQ(wait_exit(server), 0) << slurp(server.err);
    const std::string logs = slurp(server.out) + slurp(server.err);
    const std::string check = run_capture(std::string(SEEDHOOK_BINARY) + " --check-config --config '" + config + "'");
    const std::string help = run_capture(std::string(SEEDHOOK_BINARY) + " --help");

    std::vector<Secret> all = secrets;
    all.insert(all.end(), tokens.begin(), tokens.end());
    for (const auto& s : all) {
        EXPECT_EQ(logs.find(s.value), std::string::npos) << s.name << " is in the logs";
        EXPECT_EQ(seen.find(s.value), std::string::npos) << s.name << " is in a response";
        EXPECT_EQ(check.find(s.value), std::string::npos) << s.name << " is in --check-config's output";
        EXPECT_EQ(help.find(s.value), std::string::npos) << s.name << " is in --help";
    }
    EXPECT_EQ(logs.find("token="), std::string::npos) << "a callback URL with its token is in the logs";
    // The walk really happened: jobs of every provider finished, errors were answered.
    EXPECT_NE(seen.find("\"succeeded\""), std::string::npos);
    EXPECT_NE(seen.find("\"failed\""), std::string::npos);
    EXPECT_NE(seen.find("provider_rejected"), std::string::npos) << seen.substr(0, 2000);
    EXPECT_GT(logs.size(), 10000U);
    std::cout << "secrets: " << all.size() << " secret values searched for in " << responses << " responses, "
              << logs.size() << " bytes of logs, --check-config and --help; none found\n";
}

}  // namespace
}  // namespace seedhook::test
