#include "server/config.hpp"

#include "common/crypto.hpp"
#include "common/error.hpp"

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

using seedhook::Config;
using seedhook::ConfigError;
using seedhook::EnvLookup;
using testing::HasSubstr;

namespace {

using EnvMap = std::map<std::string, std::string, std::less<>>;

constexpr const char* kMinimal =
    R"({"tls": {"self_signed": true},
        "public_base_url": "https://seedhook.example.com",
        "auth": {"api_tokens": ["token-12345678"]}})";

EnvLookup env_of(EnvMap vars) {
    return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
        const auto it = vars.find(name);
        return it == vars.end() ? std::nullopt : std::optional<std::string>(it->second);
    };
}

/// Each test gets its own folder under the system temp dir, removed afterwards.
class ConfigTest : public testing::Test {
protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() /
               ("seedhook_config_test_" + seedhook::crypto::hex(seedhook::crypto::random_bytes(8)));
        std::filesystem::create_directories(dir_);
    }

    void TearDown() override {
        std::error_code ignored;
        std::filesystem::remove_all(dir_, ignored);
    }

    std::string write_file(const std::string& name, const std::string& text) {
        const auto path = dir_ / name;
        std::ofstream out(path, std::ios::binary);
        out << text;
        return path.string();
    }

    Config load(const std::string& json_text, EnvMap env = {}) {
        return seedhook::load_config(
            write_file("seedhook.json", json_text), env_of(std::move(env))
        );
    }

    /// The ConfigError message of loading `json_text`; fails the test when nothing is thrown.
    std::string error_of(const std::string& json_text, EnvMap env = {}) {
        try {
            load(json_text, std::move(env));
        } catch (const ConfigError& e) {
            return e.what();
        }
        ADD_FAILURE() << "expected a ConfigError for " << json_text;
        return {};
    }

    std::filesystem::path dir_;
};

/// kMinimal with one more top-level member (`extra` is `"key": value`).
std::string minimal_with(const std::string& extra) {
    std::string text = kMinimal;
    text.insert(text.rfind('}'), ", " + extra);
    return text;
}

}  // namespace

TEST_F(ConfigTest, MinimalConfigGetsTheSpecDefaults) {
    const Config c = load(kMinimal);
    EXPECT_EQ(c.listen_address, "0.0.0.0");
    EXPECT_EQ(c.listen_port, 8443);
    EXPECT_TRUE(c.tls_self_signed);
    EXPECT_EQ(c.public_base_url, "https://seedhook.example.com");
    EXPECT_FALSE(c.callbacks_allow_private_hosts);
    EXPECT_EQ(c.callbacks_max_body_bytes, 1048576);
    EXPECT_EQ(c.auth_api_tokens, std::vector<std::string>{"token-12345678"});
    EXPECT_EQ(c.database_path, "data/seedhook.db");
    EXPECT_EQ(c.database_synchronous, "FULL");
    EXPECT_EQ(c.evolink.base_url, "https://api.evolink.ai");
    EXPECT_EQ(c.toapis.base_url, "https://toapis.com");
    EXPECT_EQ(c.acedata.base_url, "https://api.acedata.cloud");
    EXPECT_EQ(c.evolink.timeout_ms, 30000);
    EXPECT_EQ(c.toapis.timeout_ms, 30000);
    EXPECT_EQ(c.acedata.timeout_ms, 30000);
    EXPECT_TRUE(c.toapis.webhook_secret.empty());
    EXPECT_TRUE(c.polling_enabled);
    EXPECT_EQ(c.polling_grace_ms, 30000);
    EXPECT_EQ(c.polling_interval_ms, 10000);
    EXPECT_EQ(c.polling_max_interval_ms, 120000);
    EXPECT_FALSE(c.simulator_enabled);
}

TEST_F(ConfigTest, FileValuesAreRead) {
    const Config c = load(minimal_with(
        R"("listen": {"address": "127.0.0.1", "port": 9443},
           "database": {"path": "/var/lib/seedhook/db.sqlite", "synchronous": "NORMAL"},
           "providers": {"evolink": {"api_key": "sk-evo", "timeout_ms": 5000}})"
    ));
    EXPECT_EQ(c.listen_address, "127.0.0.1");
    EXPECT_EQ(c.listen_port, 9443);
    EXPECT_EQ(c.database_path, "/var/lib/seedhook/db.sqlite");
    EXPECT_EQ(c.database_synchronous, "NORMAL");
    EXPECT_EQ(c.evolink.api_key, "sk-evo");
    EXPECT_EQ(c.evolink.timeout_ms, 5000);
}

TEST_F(ConfigTest, ListenPortEnvironmentOverridesTheFile) {
    const Config c =
        load(minimal_with(R"("listen": {"port": 9443})"), {{"SEEDHOOK_LISTEN_PORT", "10443"}});
    EXPECT_EQ(c.listen_port, 10443);
}

TEST_F(ConfigTest, NonNumericListenPortFromEnvironmentIsRejected) {
    EXPECT_THAT(error_of(kMinimal, {{"SEEDHOOK_LISTEN_PORT", "84x3"}}), HasSubstr("listen.port"));
}

TEST_F(ConfigTest, ApiTokensFromEnvironmentAreACommaList) {
    const Config c = load(kMinimal, {{"SEEDHOOK_AUTH_API_TOKENS", "tok-aaaaaaaa, tok-bbbbbbbb"}});
    const std::vector<std::string> expected = {"tok-aaaaaaaa", "tok-bbbbbbbb"};
    EXPECT_EQ(c.auth_api_tokens, expected);
}

TEST_F(ConfigTest, CallbackSecretIsReadFromAFileWithoutItsTrailingNewline) {
    const std::string secret_path = write_file("secret.txt", "s3cret-value\n");
    const Config c = load(kMinimal, {{"SEEDHOOK_CALLBACKS_SECRET_FILE", secret_path}});
    EXPECT_EQ(c.callbacks_secret, "s3cret-value");
}

TEST_F(ConfigTest, UnreadableSecretFileIsAnErrorNamingTheKey) {
    const std::string missing = (dir_ / "does-not-exist").string();
    EXPECT_THAT(
        error_of(kMinimal, {{"SEEDHOOK_CALLBACKS_SECRET_FILE", missing}}),
        HasSubstr("callbacks.secret")
    );
}

TEST_F(ConfigTest, BothVariableAndFileVariableIsAnErrorNamingTheKey) {
    const std::string secret_path = write_file("secret.txt", "from-file");
    const std::string message = error_of(
        kMinimal,
        {{"SEEDHOOK_CALLBACKS_SECRET", "from-env"}, {"SEEDHOOK_CALLBACKS_SECRET_FILE", secret_path}}
    );
    EXPECT_THAT(
        message,
        testing::AnyOf(HasSubstr("callbacks.secret"), HasSubstr("SEEDHOOK_CALLBACKS_SECRET"))
    );
    EXPECT_THAT(message, testing::Not(HasSubstr("from-env")));
}

TEST_F(ConfigTest, EvolinkApiKeyVariableIsRead) {
    const Config c = load(kMinimal, {{"EVOLINK_API_KEY", "sk-evolink-1"}});
    EXPECT_EQ(c.evolink.api_key, "sk-evolink-1");
    EXPECT_TRUE(c.toapis.api_key.empty());
}

TEST_F(ConfigTest, ToapisAndAcedataApiKeyVariablesAreRead) {
    const Config c = load(kMinimal, {{"TOAPIS_API_KEY", "sk-to"}, {"ACEDATA_API_KEY", "sk-ace"}});
    EXPECT_EQ(c.toapis.api_key, "sk-to");
    EXPECT_EQ(c.acedata.api_key, "sk-ace");
}

TEST_F(ConfigTest, EnvironmentAloneCanConfigureTheService) {
    const Config c = seedhook::load_config(
        "",
        env_of(
            {{"SEEDHOOK_TLS_SELF_SIGNED", "true"},
             {"SEEDHOOK_PUBLIC_BASE_URL", "https://hooks.example.org"},
             {"SEEDHOOK_AUTH_API_TOKENS", "token-12345678"}}
        )
    );
    EXPECT_TRUE(c.tls_self_signed);
    EXPECT_EQ(c.public_base_url, "https://hooks.example.org");
}

TEST_F(ConfigTest, PublicBaseUrlTrailingSlashIsRemoved) {
    std::string text = kMinimal;
    text.replace(text.find("example.com\""), 12, "example.com/\"");
    const Config c = load(text);
    EXPECT_EQ(c.public_base_url, "https://seedhook.example.com");
}

TEST_F(ConfigTest, UnknownKeyIsRejected) {
    EXPECT_THAT(error_of(minimal_with(R"("listen": {"prot": 8443})")), HasSubstr("listen.prot"));
    EXPECT_THAT(error_of(minimal_with(R"("colour": "blue")")), HasSubstr("colour"));
}

TEST_F(ConfigTest, WrongTypeIsRejected) {
    EXPECT_THAT(error_of(minimal_with(R"("listen": {"port": "8443"})")), HasSubstr("listen.port"));
    EXPECT_THAT(
        error_of(minimal_with(R"("polling": {"enabled": "yes"})")), HasSubstr("polling.enabled")
    );
    EXPECT_THAT(error_of(minimal_with(R"("database": "x.db")")), HasSubstr("database"));
}

TEST_F(ConfigTest, PortOutOfRangeIsRejected) {
    EXPECT_THAT(error_of(minimal_with(R"("listen": {"port": 70000})")), HasSubstr("listen.port"));
    EXPECT_THAT(error_of(minimal_with(R"("listen": {"port": -1})")), HasSubstr("listen.port"));
}

TEST_F(ConfigTest, FileThatIsNotJsonIsRejected) {
    EXPECT_THROW(load("{not json"), ConfigError);
}

TEST_F(ConfigTest, HttpPublicBaseUrlIsRejected) {
    std::string text = kMinimal;
    text.replace(text.find("https://"), 8, "http://");
    EXPECT_THAT(error_of(text), HasSubstr("public_base_url"));
}

TEST_F(ConfigTest, MissingPublicBaseUrlIsRejected) {
    EXPECT_THAT(
        error_of(R"({"tls": {"self_signed": true}, "auth": {"api_tokens": ["token-12345678"]}})"),
        HasSubstr("public_base_url")
    );
}

TEST_F(ConfigTest, PrivatePublicBaseUrlIsRejectedUnlessAllowed) {
    std::string text = kMinimal;
    text.replace(text.find("seedhook.example.com"), 20, "10.0.0.1");
    EXPECT_THAT(error_of(text), HasSubstr("public_base_url"));
    text.insert(text.rfind('}'), R"(, "callbacks": {"allow_private_hosts": true})");
    const Config c = load(text);
    EXPECT_EQ(c.public_base_url, "https://10.0.0.1");
    EXPECT_TRUE(c.callbacks_allow_private_hosts);
}

TEST_F(ConfigTest, LoopbackPublicBaseUrlIsRejected) {
    std::string text = kMinimal;
    text.replace(text.find("seedhook.example.com"), 20, "localhost:8443");
    EXPECT_THAT(error_of(text), HasSubstr("public_base_url"));
}

TEST_F(ConfigTest, OverlongPublicBaseUrlIsRejected) {
    std::string text = kMinimal;
    text.replace(text.find("example.com"), 11, "example.com/" + std::string(2100, 'a'));
    EXPECT_THAT(error_of(text), HasSubstr("public_base_url"));
}

TEST_F(ConfigTest, LongButReasonablePublicBaseUrlIsAccepted) {
    std::string text = kMinimal;
    text.replace(text.find("example.com"), 11, "example.com/" + std::string(1000, 'a'));
    EXPECT_EQ(
        load(text).public_base_url.size(),
        std::string("https://seedhook.example.com/").size() + 1000
    );
}

TEST_F(ConfigTest, MissingTlsIsRejected) {
    EXPECT_THAT(
        error_of(R"({"public_base_url": "https://seedhook.example.com",
                     "auth": {"api_tokens": ["token-12345678"]}})"),
        HasSubstr("tls")
    );
}

TEST_F(ConfigTest, CertificateWithoutKeyIsRejected) {
    EXPECT_THAT(
        error_of(R"({"tls": {"cert_file": "/etc/seedhook/cert.pem"},
                     "public_base_url": "https://seedhook.example.com",
                     "auth": {"api_tokens": ["token-12345678"]}})"),
        HasSubstr("tls.key_file")
    );
}

TEST_F(ConfigTest, CertificateAndKeyWithoutSelfSignedAreAccepted) {
    const Config c = load(
        R"({"tls": {"cert_file": "/etc/seedhook/cert.pem", "key_file": "/etc/seedhook/key.pem"},
            "public_base_url": "https://seedhook.example.com",
            "auth": {"api_tokens": ["token-12345678"]}})"
    );
    EXPECT_EQ(c.tls_cert_file, "/etc/seedhook/cert.pem");
    EXPECT_EQ(c.tls_key_file, "/etc/seedhook/key.pem");
    EXPECT_FALSE(c.tls_self_signed);
}

TEST_F(ConfigTest, MissingApiTokensAreRejected) {
    EXPECT_THAT(
        error_of(
            R"({"tls": {"self_signed": true}, "public_base_url": "https://seedhook.example.com"})"
        ),
        HasSubstr("auth.api_tokens")
    );
    EXPECT_THAT(
        error_of(
            R"({"tls": {"self_signed": true}, "public_base_url": "https://seedhook.example.com",
                     "auth": {"api_tokens": []}})"
        ),
        HasSubstr("auth.api_tokens")
    );
}

TEST_F(ConfigTest, ShortApiTokenIsRejectedWithoutEchoingIt) {
    const std::string message = error_of(
        R"({"tls": {"self_signed": true}, "public_base_url": "https://seedhook.example.com",
            "auth": {"api_tokens": ["tiny7ch"]}})"
    );
    EXPECT_THAT(message, HasSubstr("auth.api_tokens"));
    EXPECT_THAT(message, testing::Not(HasSubstr("tiny7ch")));
}

TEST_F(ConfigTest, SynchronousOffIsRejected) {
    EXPECT_THAT(
        error_of(minimal_with(R"("database": {"synchronous": "OFF"})")),
        HasSubstr("database.synchronous")
    );
}

TEST_F(ConfigTest, UnknownLogLevelIsRejected) {
    EXPECT_THAT(error_of(minimal_with(R"("log": {"level": "loud"})")), HasSubstr("log.level"));
}

TEST_F(ConfigTest, NonHttpsProviderBaseUrlIsRejected) {
    EXPECT_THAT(
        error_of(minimal_with(R"("providers": {"evolink": {"base_url": "not a url"}})")),
        HasSubstr("providers.evolink.base_url")
    );
}

TEST(ConfigKeys, ListsEveryKeyWithItsEnvironmentVariable) {
    const auto keys = seedhook::config_keys();
    const auto find = [&keys](std::string_view key) -> const seedhook::ConfigKeyDoc* {
        for (const auto& k : keys) {
            if (k.key == key) {
                return &k;
            }
        }
        return nullptr;
    };
    for (const char* key :
         {"listen.address",
          "listen.port",
          "tls.cert_file",
          "tls.key_file",
          "tls.self_signed",
          "public_base_url",
          "callbacks.allow_private_hosts",
          "callbacks.secret",
          "callbacks.max_body_bytes",
          "auth.api_tokens",
          "database.path",
          "database.synchronous",
          "providers.evolink.base_url",
          "providers.evolink.api_key",
          "providers.evolink.ca_file",
          "providers.evolink.timeout_ms",
          "providers.toapis.base_url",
          "providers.toapis.api_key",
          "providers.toapis.ca_file",
          "providers.toapis.timeout_ms",
          "providers.toapis.webhook_secret",
          "providers.acedata.base_url",
          "providers.acedata.api_key",
          "providers.acedata.ca_file",
          "providers.acedata.timeout_ms",
          "polling.enabled",
          "polling.grace_ms",
          "polling.interval_ms",
          "polling.max_interval_ms",
          "simulator.enabled"}) {
        EXPECT_NE(find(key), nullptr) << key;
    }
    const auto* webhook = find("providers.toapis.webhook_secret");
    ASSERT_NE(webhook, nullptr);
    EXPECT_THAT(webhook->env, HasSubstr("SEEDHOOK_PROVIDERS_TOAPIS_WEBHOOK_SECRET"));
    const auto* port = find("listen.port");
    ASSERT_NE(port, nullptr);
    EXPECT_THAT(port->env, HasSubstr("SEEDHOOK_LISTEN_PORT"));
    EXPECT_EQ(port->default_value, "8443");
}
