// seedhook: see README.md. Parses the command line, loads the configuration and runs App.
#include <cstdio>
#include <exception>
#include <string>
#include <string_view>

#include "common/log.hpp"
#include "server/app.hpp"
#include "server/config.hpp"

namespace {

void print_help() {
    std::printf(
        "Usage: seedhook [--config FILE] [--check-config]\n"
        "       seedhook --version | --help\n\n"
        "Options:\n"
        "  --config FILE    JSON configuration file (keys below; environment overrides it)\n"
        "  --check-config   validate the effective configuration, print the verdict, exit 0 or 1\n"
        "  --version        print the version and exit\n"
        "  --help           print this help and exit\n\n"
        "Configuration keys (environment variable, default):\n"
    );
    for (const auto& k : seedhook::config_keys()) {
        std::printf("  %-34s %s%s%s\n      %s\n", k.key.c_str(), k.env.c_str(), k.default_value.empty() ? "" : ", default ", k.default_value.c_str(), k.help.c_str());
    }
}

}  // namespace

int main(int argc, char** argv) {
    std::string config_path;
    bool check_only = false;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--help" || arg == "-h") {
            print_help();
            return 0;
        }
        if (arg == "--version") {
            std::printf("seedhook %s\n", SEEDHOOK_VERSION);
            return 0;
        }
        if (arg == "--check-config") {
            check_only = true;
        } else if (arg == "--config" && i + 1 < argc) {
            config_path = argv[++i];
        } else {
            std::fprintf(stderr, "seedhook: unknown option %s (see --help)\n", argv[i]);
            return 2;
        }
    }
    try {
        seedhook::Config config = seedhook::load_config(config_path, seedhook::process_env());
        if (check_only) {
            std::printf("configuration is valid\n");
            return 0;
        }
        seedhook::App app(std::move(config), true);
        app.start();
        app.wait();
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "seedhook: %s\n", e.what());
        return 1;
    }
}
