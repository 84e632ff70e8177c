#pragma once

/// Outbound HTTPS/1.1 client with a keep-alive connection pool per host and event loop.
/// Verifies the peer (verify_peer, SNI, host name) with the context it is given. Safe to use
/// from many coroutines at once, on any number of event loops: each request takes a pooled
/// connection opened on its own coroutine's loop, or opens one there.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "common/asio.hpp"
#include "common/http_message.hpp"

namespace seedhook::providers {

struct ClientRequest {
    std::string method = "GET";
    std::string url;  ///< absolute https URL
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    std::chrono::milliseconds timeout{30000};  ///< bounds the whole exchange
};

struct ClientResponse {
    int status = 0;
    HttpHeaders headers;
    std::string body;
};

/// The exchange failed before a whole response arrived (DNS, connect, TLS, reset, timeout).
class TransportError : public std::runtime_error {
public:
    TransportError(std::string message, bool timed_out, bool request_sent = false)
        : std::runtime_error(std::move(message)), timed_out_(timed_out), request_sent_(request_sent) {}

    bool timed_out() const { return timed_out_; }

    /// True when the whole request had been written before the failure (the answer hung, was
    /// cut or could not be read): the peer may have acted on it. False when it provably never
    /// got it whole (resolve, connect, TLS handshake, or the write itself failed).
    bool request_sent() const { return request_sent_; }

private:
    bool timed_out_;
    bool request_sent_;
};

class HttpsClient {
public:
    /// `ctx` is shared and must be configured for verification already.
    /// `on_handshake`, when set, is called after each TLS handshake (for metrics).
    HttpsClient(std::shared_ptr<net::ssl::context> ctx, std::function<void()> on_handshake = {});
    HttpsClient(const HttpsClient&) = delete;
    HttpsClient& operator=(const HttpsClient&) = delete;
    ~HttpsClient();

    /// Sends one request. Throws TransportError; any HTTP status is a normal answer.
    /// A pooled connection is used only while the peer has not closed it; a GET or HEAD whose
    /// pooled connection turns out stale (closed before any byte of the answer) is sent again
    /// on a new one, but any other method is never sent twice: once its request was written,
    /// a failure is reported with TransportError::request_sent().
    net::awaitable<ClientResponse> request(ClientRequest request);

    /// TLS handshakes made so far (connection reuse shows as few handshakes).
    std::uint64_t handshakes() const;

    /// Drops pooled idle connections.
    void close_idle();

    struct Impl;  ///< opaque; public only so the implementation's free functions can name it

private:
    std::shared_ptr<Impl> impl_;
};

}  // namespace seedhook::providers
