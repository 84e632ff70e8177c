#pragma once

/// Keeps the HTTPS server's certificate current without a restart. On SIGHUP, and when the
/// certificate or key file changes, it builds a new server context from the two files and
/// hands it to `install` (HttpServer::set_tls): new connections get the new certificate, open
/// ones keep theirs. A pair that does not load (unreadable, not PEM, the key not matching the
/// certificate) is refused with one error line and the current context stays.
///
/// A change is seen by polling: every `poll_interval` each file's device, inode, size and
/// modification time are read through symbolic links, which catches in-place writes, editors'
/// and certbot's write-and-rename, and Kubernetes' swap of its `..data` symlink. A change is
/// acted on once the files have been still for `settle`, so that a writer replacing the
/// certificate and then the key is read as one change.
///
/// Without certificate files (tls.self_signed) nothing is watched and SIGHUP is logged as
/// ignored.
///
/// Threading: the polling and the signal wait run on one strand of `ioc`; start and stop may
/// be called from any thread. `install` is called on that strand.

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "common/asio.hpp"

namespace seedhook {

struct TlsReloadOptions {
    std::string cert_file;  ///< empty: a self-signed certificate, nothing to reload
    std::string key_file;
    bool handle_sighup = false;  ///< reload on SIGHUP (the process then survives SIGHUP)
    std::chrono::milliseconds poll_interval{2000};
    std::chrono::milliseconds settle{500};
};

class TlsReloader {
public:
    using Install = std::function<void(std::shared_ptr<net::ssl::context>)>;

    /// Notes the files' current state, as that of the context the server starts with: build
    /// the reloader before reading the files, so that a change in between is not missed.
    TlsReloader(net::io_context& ioc, TlsReloadOptions options, Install install);
    TlsReloader(const TlsReloader&) = delete;
    TlsReloader& operator=(const TlsReloader&) = delete;
    ~TlsReloader();

    /// Starts watching (and waiting for SIGHUP when asked to).
    void start();

    /// Stops watching; SIGHUP stays caught (and ignored) until the reloader goes.
    void stop();

    struct Impl;  ///< opaque; public only so the implementation's free functions can name it

private:
    std::shared_ptr<Impl> impl_;
};

}  // namespace seedhook
