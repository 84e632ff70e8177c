#include "server/config.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <sstream>
#include <variant>

#include "common/error.hpp"
#include "common/json.hpp"
#include "common/log.hpp"
#include "common/url.hpp"

namespace seedhook {

namespace {

using FieldRef = std::variant<std::string*, std::int64_t*, bool*, std::vector<std::string>*>;

struct KeyDef {
    const char* path;
    FieldRef (*field)(Config&);
    bool secret;
    const char* help;
};

// Room the callback path and token take after public_base_url (SPEC §2.2, at most 2048 in all).
constexpr std::size_t kCallbackSuffixRoom = 128;
constexpr std::size_t kMaxCallbackUrl = 2048;

#define SEEDHOOK_KEY(path, member, secret, help) \
    KeyDef { path, [](Config& c) -> FieldRef { return &c.member; }, secret, help }

const std::vector<KeyDef>& key_defs() {
    static const std::vector<KeyDef> defs = {
        SEEDHOOK_KEY("listen.address", listen_address, false, "address to listen on"),
        SEEDHOOK_KEY("listen.port", listen_port, false, "HTTPS port (0: any free port)"),
        SEEDHOOK_KEY("tls.cert_file", tls_cert_file, false, "PEM certificate chain"),
        SEEDHOOK_KEY("tls.key_file", tls_key_file, false, "PEM private key"),
        SEEDHOOK_KEY("tls.self_signed", tls_self_signed, false, "dev only: in-memory self-signed certificate"),
        SEEDHOOK_KEY("public_base_url", public_base_url, false, "https URL the providers reach (required)"),
        SEEDHOOK_KEY("callbacks.allow_private_hosts", callbacks_allow_private_hosts, false, "dev and tests only: allow a private public_base_url"),
        SEEDHOOK_KEY("callbacks.secret", callbacks_secret, true, "HMAC key of callback tokens; generated and stored when absent"),
        SEEDHOOK_KEY("callbacks.max_body_bytes", callbacks_max_body_bytes, false, "largest request body accepted"),
        SEEDHOOK_KEY("auth.api_tokens", auth_api_tokens, true, "bearer tokens of backend callers (env: comma-separated)"),
        SEEDHOOK_KEY("database.path", database_path, false, "SQLite file"),
        SEEDHOOK_KEY("database.synchronous", database_synchronous, false, "FULL or NORMAL"),
        SEEDHOOK_KEY("providers.evolink.base_url", evolink.base_url, false, "evolink API base URL"),
        SEEDHOOK_KEY("providers.evolink.api_key", evolink.api_key, true, "evolink API key (also EVOLINK_API_KEY)"),
        SEEDHOOK_KEY("providers.evolink.ca_file", evolink.ca_file, false, "CA file for evolink (default: system store)"),
        SEEDHOOK_KEY("providers.evolink.timeout_ms", evolink.timeout_ms, false, "evolink request timeout"),
        SEEDHOOK_KEY("providers.toapis.base_url", toapis.base_url, false, "toapis API base URL"),
        SEEDHOOK_KEY("providers.toapis.api_key", toapis.api_key, true, "toapis API key (also TOAPIS_API_KEY)"),
        SEEDHOOK_KEY("providers.toapis.ca_file", toapis.ca_file, false, "CA file for toapis"),
        SEEDHOOK_KEY("providers.toapis.timeout_ms", toapis.timeout_ms, false, "toapis request timeout"),
        SEEDHOOK_KEY("providers.toapis.webhook_secret", toapis.webhook_secret, true, "toapis webhook signing secret"),
        SEEDHOOK_KEY("providers.acedata.base_url", acedata.base_url, false, "acedata API base URL"),
        SEEDHOOK_KEY("providers.acedata.api_key", acedata.api_key, true, "acedata API key (also ACEDATA_API_KEY)"),
        SEEDHOOK_KEY("providers.acedata.ca_file", acedata.ca_file, false, "CA file for acedata"),
        SEEDHOOK_KEY("providers.acedata.timeout_ms", acedata.timeout_ms, false, "acedata request timeout"),
        SEEDHOOK_KEY("polling.enabled", polling_enabled, false, "query providers for jobs without a final callback"),
        SEEDHOOK_KEY("polling.grace_ms", polling_grace_ms, false, "wait for a callback before polling"),
        SEEDHOOK_KEY("polling.interval_ms", polling_interval_ms, false, "first polling interval"),
        SEEDHOOK_KEY("polling.max_interval_ms", polling_max_interval_ms, false, "largest polling interval"),
        SEEDHOOK_KEY("submission.retry_base_ms", submission_retry_base_ms, false, "first backoff ceiling of submission retries (doubles, at most 10 attempts and 30 s of waits)"),
        SEEDHOOK_KEY("simulator.enabled", simulator_enabled, false, "run the built-in provider simulator (dev and tests)"),
        SEEDHOOK_KEY("simulator.complete_after_ms", simulator_complete_after_ms, false, "how long a simulated task takes"),
        SEEDHOOK_KEY("retention.days", retention_days, false, "callback deliveries and their raw bodies older than this are deleted (0: kept forever)"),
        SEEDHOOK_KEY("retention.sweep_interval_ms", retention_sweep_interval_ms, false, "how often old callback deliveries are deleted"),
        SEEDHOOK_KEY("log.level", log_level, false, "debug, info, warn or error"),
        SEEDHOOK_KEY("server.threads", server_threads, false, "I/O threads (0: one per core)"),
        SEEDHOOK_KEY("server.max_connections", server_max_connections, false, "open connections at most; more are closed at accept (bounded by the file limit)"),
    };
    return defs;
}

#undef SEEDHOOK_KEY

[[noreturn]] void fail(std::string_view key, std::string_view reason) {
    throw ConfigError("config: " + std::string(key) + ": " + std::string(reason));
}

std::string env_name(std::string_view path) {
    std::string out = "SEEDHOOK_";
    for (const char c : path) {
        out.push_back(c == '.' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
    }
    return out;
}

std::string trim(std::string s) {
    const auto not_space = [](unsigned char c) { return std::isspace(c) == 0; };
    s.erase(s.begin(), std::find_if(s.begin(), s.end(), not_space));
    s.erase(std::find_if(s.rbegin(), s.rend(), not_space).base(), s.end());
    return s;
}

std::string read_file(const std::string& path, std::string_view key) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        fail(key, "cannot read file " + path);
    }
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

void set_from_json(const KeyDef& def, Config& config, const json::Value& v) {
    const std::string_view key = def.path;
    std::visit(
        [&](auto* field) {
            using T = std::remove_pointer_t<decltype(field)>;
            if constexpr (std::is_same_v<T, std::string>) {
                if (!v.IsString()) {
                    fail(key, "must be a string");
                }
                *field = std::string(v.GetString(), v.GetStringLength());
            } else if constexpr (std::is_same_v<T, std::int64_t>) {
                if (!v.IsInt64()) {
                    fail(key, "must be an integer");
                }
                *field = v.GetInt64();
            } else if constexpr (std::is_same_v<T, bool>) {
                if (!v.IsBool()) {
                    fail(key, "must be true or false");
                }
                *field = v.GetBool();
            } else {
                if (!v.IsArray()) {
                    fail(key, "must be a list of strings");
                }
                field->clear();
                for (const auto& item : v.GetArray()) {
                    if (!item.IsString()) {
                        fail(key, "must be a list of strings");
                    }
                    field->emplace_back(item.GetString(), item.GetStringLength());
                }
            }
        },
        def.field(config)
    );
}

void set_from_text(const KeyDef& def, Config& config, const std::string& text) {
    const std::string_view key = def.path;
    std::visit(
        [&](auto* field) {
            using T = std::remove_pointer_t<decltype(field)>;
            if constexpr (std::is_same_v<T, std::string>) {
                *field = text;
            } else if constexpr (std::is_same_v<T, std::int64_t>) {
                char* end = nullptr;
                errno = 0;
                const long long n = std::strtoll(text.c_str(), &end, 10);
                if (text.empty() || *end != '\0' || errno != 0) {
                    fail(key, "must be an integer");
                }
                *field = n;
            } else if constexpr (std::is_same_v<T, bool>) {
                if (text == "true" || text == "1") {
                    *field = true;
                } else if (text == "false" || text == "0") {
                    *field = false;
                } else {
                    fail(key, "must be true or false");
                }
            } else {
                field->clear();
                std::stringstream in(text);
                for (std::string item; std::getline(in, item, ',');) {
                    item = trim(item);
                    if (!item.empty()) {
                        field->push_back(item);
                    }
                }
            }
        },
        def.field(config)
    );
}

const KeyDef* find_key(std::string_view path) {
    for (const auto& def : key_defs()) {
        if (path == def.path) {
            return &def;
        }
    }
    return nullptr;
}

bool is_section(std::string_view prefix) {
    return std::any_of(key_defs().begin(), key_defs().end(), [prefix](const KeyDef& d) {
        return std::string_view(d.path).starts_with(std::string(prefix) + ".");
    });
}

void apply_object(Config& config, const json::Value& object, const std::string& prefix) {
    for (const auto& m : object.GetObject()) {
        const std::string path = prefix + std::string(m.name.GetString(), m.name.GetStringLength());
        if (const KeyDef* def = find_key(path)) {
            set_from_json(*def, config, m.value);
        } else if (is_section(path)) {
            if (!m.value.IsObject()) {
                fail(path, "must be an object");
            }
            apply_object(config, m.value, path + ".");
        } else {
            fail(path, "unknown key");
        }
    }
}

void apply_file(Config& config, const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw ConfigError("config: cannot read " + path);
    }
    std::ostringstream text;
    text << in.rdbuf();
    auto doc = json::parse(text.str());
    if (!doc || !doc->IsObject()) {
        throw ConfigError("config: " + path + " is not a JSON object");
    }
    apply_object(config, *doc, "");
}

void apply_env(Config& config, const EnvLookup& env) {
    const std::pair<const char*, const char*> provider_keys[] = {
        {"EVOLINK_API_KEY", "providers.evolink.api_key"},
        {"TOAPIS_API_KEY", "providers.toapis.api_key"},
        {"ACEDATA_API_KEY", "providers.acedata.api_key"},
    };
    for (const auto& [var, path] : provider_keys) {
        if (auto value = env(var); value && !value->empty()) {
            set_from_text(*find_key(path), config, *value);
        }
    }
    for (const auto& def : key_defs()) {
        const std::string name = env_name(def.path);
        auto value = env(name);
        auto file = def.secret ? env(name + "_FILE") : std::nullopt;
        if (value && file) {
            fail(def.path, "set either " + name + " or " + name + "_FILE, not both");
        }
        if (value) {
            set_from_text(def, config, *value);
        } else if (file) {
            set_from_text(def, config, trim(read_file(*file, def.path)));
        }
    }
}

void validate_public_base_url(Config& c) {
    constexpr std::string_view key = "public_base_url";
    if (c.public_base_url.empty()) {
        fail(key, "is required: the https URL at which the providers reach this service");
    }
    while (c.public_base_url.ends_with('/')) {
        c.public_base_url.pop_back();
    }
    auto url = parse_absolute_url(c.public_base_url);
    if (!url || c.public_base_url.find('?') != std::string::npos) {
        fail(key, "must be an absolute URL without query or fragment");
    }
    if (url->scheme != "https") {
        fail(key, "must be https (the providers call only https callback URLs)");
    }
    if (c.public_base_url.size() + kCallbackSuffixRoom > kMaxCallbackUrl) {
        fail(key, "is too long: callback URLs built from it must stay within 2048 characters");
    }
    if (!c.callbacks_allow_private_hosts && is_private_host(*url)) {
        fail(key, "is a private, loopback or link-local address, which the providers refuse "
                  "(set callbacks.allow_private_hosts only for development)");
    }
}

void validate_range(std::string_view key, std::int64_t v, std::int64_t lo, std::int64_t hi) {
    if (v < lo || v > hi) {
        fail(key, "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
    }
}

void validate_provider(std::string_view name, const ProviderConfig& p) {
    const std::string prefix = "providers." + std::string(name) + ".";
    auto url = parse_absolute_url(p.base_url);
    if (!url || url->scheme != "https") {
        fail(prefix + "base_url", "must be an absolute https URL");
    }
    validate_range(prefix + "timeout_ms", p.timeout_ms, 100, 600000);
}

void validate(Config& c) {
    if (c.listen_address.empty()) {
        fail("listen.address", "must not be empty");
    }
    validate_range("listen.port", c.listen_port, 0, 65535);
    if (c.tls_cert_file.empty() != c.tls_key_file.empty()) {
        fail(c.tls_cert_file.empty() ? "tls.cert_file" : "tls.key_file",
             "tls.cert_file and tls.key_file go together");
    }
    if (c.tls_cert_file.empty() && !c.tls_self_signed) {
        fail("tls", "set tls.cert_file and tls.key_file, or tls.self_signed for development");
    }
    validate_public_base_url(c);
    validate_range("callbacks.max_body_bytes", c.callbacks_max_body_bytes, 1024, 64LL << 20);
    if (c.auth_api_tokens.empty()) {
        fail("auth.api_tokens", "at least one bearer token is required");
    }
    for (const auto& token : c.auth_api_tokens) {
        if (token.size() < 8 || token.find_first_of(" \t\r\n") != std::string::npos) {
            fail("auth.api_tokens", "each token must have at least 8 characters and no spaces");
        }
    }
    if (c.database_path.empty()) {
        fail("database.path", "must not be empty");
    }
    if (c.database_synchronous != "FULL" && c.database_synchronous != "NORMAL") {
        fail("database.synchronous", "must be FULL or NORMAL");
    }
    validate_provider("evolink", c.evolink);
    validate_provider("toapis", c.toapis);
    validate_provider("acedata", c.acedata);
    validate_range("polling.grace_ms", c.polling_grace_ms, 0, 86400000);
    validate_range("polling.interval_ms", c.polling_interval_ms, 100, 86400000);
    validate_range("polling.max_interval_ms", c.polling_max_interval_ms, c.polling_interval_ms, 86400000);
    validate_range("submission.retry_base_ms", c.submission_retry_base_ms, 1, 10000);
    validate_range("simulator.complete_after_ms", c.simulator_complete_after_ms, 0, 3600000);
    validate_range("retention.days", c.retention_days, 0, 36500);
    validate_range("retention.sweep_interval_ms", c.retention_sweep_interval_ms, 100, 86400000);
    if (!log::parse_level(c.log_level)) {
        fail("log.level", "must be debug, info, warn or error");
    }
    validate_range("server.threads", c.server_threads, 0, 256);
    validate_range("server.max_connections", c.server_max_connections, 1, 1000000);
}

std::string default_text(const KeyDef& def) {
    Config defaults;
    return std::visit(
        [](auto* field) -> std::string {
            using T = std::remove_pointer_t<decltype(field)>;
            if constexpr (std::is_same_v<T, std::string>) {
                return *field;
            } else if constexpr (std::is_same_v<T, std::int64_t>) {
                return std::to_string(*field);
            } else if constexpr (std::is_same_v<T, bool>) {
                return *field ? "true" : "false";
            } else {
                return {};
            }
        },
        def.field(defaults)
    );
}

}  // namespace

EnvLookup process_env() {
    return [](std::string_view name) -> std::optional<std::string> {
        const char* v = std::getenv(std::string(name).c_str());  // NOLINT(concurrency-mt-unsafe)
        return v == nullptr ? std::nullopt : std::optional<std::string>(v);
    };
}

Config load_config(const std::string& path, const EnvLookup& env) {
    Config config;
    if (!path.empty()) {
        apply_file(config, path);
    }
    apply_env(config, env);
    validate(config);
    return config;
}

std::vector<ConfigKeyDoc> config_keys() {
    std::vector<ConfigKeyDoc> out;
    for (const auto& def : key_defs()) {
        std::string env = env_name(def.path);
        if (def.secret) {
            env += " (or " + env + "_FILE)";
        }
        out.push_back({def.path, env, default_text(def), def.help});
    }
    return out;
}

}  // namespace seedhook
