#pragma once

/// The service configuration (SPEC §3): a JSON file, overridden by SEEDHOOK_* environment
/// variables, secrets also from *_FILE variables. Parsed and validated once at startup;
/// only App reads it, lower layers get small option structs.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace seedhook {

struct ProviderConfig {
    std::string base_url;
    std::string api_key;
    std::string ca_file;
    std::int64_t timeout_ms = 30000;
    std::string webhook_secret;  ///< toapis only
};

inline ProviderConfig provider_defaults(std::string base_url) {
    ProviderConfig p;
    p.base_url = std::move(base_url);
    return p;
}

struct Config {
    std::string listen_address = "0.0.0.0";
    std::int64_t listen_port = 8443;
    std::string tls_cert_file;
    std::string tls_key_file;
    bool tls_self_signed = false;
    std::string public_base_url;  ///< normalised: no trailing slash
    bool callbacks_allow_private_hosts = false;
    std::string callbacks_secret;
    std::int64_t callbacks_max_body_bytes = 1048576;
    std::vector<std::string> auth_api_tokens;
    std::string database_path = "data/seedhook.db";
    std::string database_synchronous = "FULL";
    ProviderConfig evolink = provider_defaults("https://api.evolink.ai");
    ProviderConfig toapis = provider_defaults("https://toapis.com");
    ProviderConfig acedata = provider_defaults("https://api.acedata.cloud");
    bool polling_enabled = true;
    std::int64_t polling_grace_ms = 30000;
    std::int64_t polling_interval_ms = 10000;
    std::int64_t polling_max_interval_ms = 120000;
    std::int64_t submission_retry_base_ms = 500;
    bool simulator_enabled = false;
    std::int64_t simulator_complete_after_ms = 2000;
    std::int64_t retention_days = 30;                ///< 0: callback deliveries are kept forever
    std::int64_t retention_sweep_interval_ms = 600000;
    std::string log_level = "info";
    std::int64_t server_threads = 0;  ///< 0: one per core
    std::int64_t server_max_connections = 10000;
};

/// Looks up an environment variable.
using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;

/// The process environment.
EnvLookup process_env();

/// Loads `path` (empty: defaults only), applies the environment and validates.
/// Throws ConfigError with one line naming the key.
Config load_config(const std::string& path, const EnvLookup& env);

/// One documented configuration key, for --help and the README.
struct ConfigKeyDoc {
    std::string key;
    std::string env;
    std::string default_value;
    std::string help;
};

std::vector<ConfigKeyDoc> config_keys();

}  // namespace seedhook
