#include "server/tls_reloader.hpp"

#include <signal.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdint>
#include <exception>
#include <string_view>

#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "common/log.hpp"
#include "common/tls.hpp"

namespace seedhook {

namespace {

// What polling compares for one file: which file it is, its size and last change, or why it
// could not be looked at.
struct FileStamp {
    int error = 0;
    std::uint64_t device = 0;
    std::uint64_t inode = 0;
    std::int64_t size = 0;
    std::int64_t mtime_sec = 0;
    std::int64_t mtime_nsec = 0;

    bool operator==(const FileStamp&) const = default;
};

// stat() follows symbolic links: a swapped link shows as another inode.
FileStamp stamp(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        return {.error = errno};
    }
    return {
        .device = static_cast<std::uint64_t>(st.st_dev),
        .inode = static_cast<std::uint64_t>(st.st_ino),
        .size = static_cast<std::int64_t>(st.st_size),
        .mtime_sec = static_cast<std::int64_t>(st.st_mtim.tv_sec),
        .mtime_nsec = static_cast<std::int64_t>(st.st_mtim.tv_nsec),
    };
}

struct PairStamp {
    FileStamp cert;
    FileStamp key;

    bool operator==(const PairStamp&) const = default;
};

void log_failure(std::string_view what, std::exception_ptr e) {
    if (!e) {
        return;
    }
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& ex) {
        log::error("tls", what, {{"error", ex.what()}});
    }
}

}  // namespace

struct TlsReloader::Impl {
    TlsReloadOptions options;
    Install install;
    net::strand<net::io_context::executor_type> strand;
    net::steady_timer timer;
    net::signal_set hangups;
    PairStamp loaded;  // the files as last loaded or refused; on the strand once started
    bool stopped = false;

    Impl(net::io_context& ioc, TlsReloadOptions o, Install i)
        : options(std::move(o)), install(std::move(i)), strand(net::make_strand(ioc)), timer(strand), hangups(strand) {
        if (!options.cert_file.empty()) {
            loaded = current();
        }
    }

    PairStamp current() const { return {stamp(options.cert_file), stamp(options.key_file)}; }

    // Builds a context from the files as they are now; installs it, or keeps the current one.
    void reload(std::string_view reason) {
        loaded = current();
        std::shared_ptr<net::ssl::context> ctx;
        try {
            ctx = std::make_shared<net::ssl::context>(tls::load_server_context(options.cert_file, options.key_file));
        } catch (const std::exception& e) {
            log::error("tls", "certificate reload refused; still serving the previous certificate", {
                {"reason", reason},
                {"cert_file", options.cert_file},
                {"key_file", options.key_file},
                {"error", e.what()},
            });
            return;
        }
        const tls::CertificateSummary summary = tls::summarize_certificate(*ctx);
        install(std::move(ctx));
        log::info("tls", "certificate reloaded", {
            {"reason", reason},
            {"cert_file", options.cert_file},
            {"subject", summary.subject},
            {"serial", summary.serial},
            {"sha256", summary.sha256},
            {"not_after", summary.not_after},
        });
    }
};

namespace {

net::awaitable<void> watch_files(std::shared_ptr<TlsReloader::Impl> impl) {
    for (;;) {
        impl->timer.expires_after(impl->options.poll_interval);
        auto [ec] = co_await impl->timer.async_wait(kNoThrow);
        if (ec || impl->stopped) {
            co_return;
        }
        const PairStamp seen = impl->current();
        if (seen == impl->loaded) {
            continue;
        }
        // A writer may be halfway through the pair (certificate written, key not yet).
        impl->timer.expires_after(impl->options.settle);
        auto [sec] = co_await impl->timer.async_wait(kNoThrow);
        if (sec || impl->stopped) {
            co_return;
        }
        const PairStamp settled = impl->current();
        if (settled != seen || settled == impl->loaded) {
            continue;  // still changing (looked at again next tick), or SIGHUP got there first
        }
        impl->reload("file change");
    }
}

net::awaitable<void> watch_hangups(std::shared_ptr<TlsReloader::Impl> impl) {
    for (;;) {
        auto [ec, signal] = co_await impl->hangups.async_wait(kNoThrow);
        if (ec || impl->stopped) {
            co_return;
        }
        if (impl->options.cert_file.empty()) {
            log::info("tls", "SIGHUP ignored: tls.self_signed has no certificate files to reload", {
                {"signal", static_cast<std::int64_t>(signal)},
            });
            continue;
        }
        impl->reload("SIGHUP");
    }
}

}  // namespace

TlsReloader::TlsReloader(net::io_context& ioc, TlsReloadOptions options, Install install)
    : impl_(std::make_shared<Impl>(ioc, std::move(options), std::move(install))) {}

TlsReloader::~TlsReloader() { stop(); }

void TlsReloader::start() {
    if (!impl_->options.cert_file.empty()) {
        net::co_spawn(impl_->strand, watch_files(impl_), [](std::exception_ptr e) {
            log_failure("certificate file watch stopped", e);
        });
    }
    if (impl_->options.handle_sighup) {
        impl_->hangups.add(SIGHUP);
        net::co_spawn(impl_->strand, watch_hangups(impl_), [](std::exception_ptr e) {
            log_failure("SIGHUP handling stopped", e);
        });
    }
}

void TlsReloader::stop() {
    net::post(impl_->strand, [impl = impl_] {
        impl->stopped = true;
        impl->timer.cancel();
        impl->hangups.cancel();
    });
}

}  // namespace seedhook
