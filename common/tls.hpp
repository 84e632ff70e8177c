#pragma once

/// TLS contexts: servers speak TLS 1.2 and 1.3 only with forward-secret AEAD ciphers; clients
/// verify the peer against the system store or a given CA file.

#include <string>
#include <vector>

#include "common/asio.hpp"

namespace seedhook::tls {

/// A PEM certificate and its private key.
struct CertificatePem {
    std::string cert;
    std::string key;
};

/// Makes a self-signed ECDSA P-256 certificate valid for `names` (DNS names or IP literals),
/// for one year. Throws std::runtime_error on OpenSSL failure.
CertificatePem make_self_signed(const std::vector<std::string>& names);

/// A server context from PEM text. Throws std::runtime_error naming what is wrong.
net::ssl::context make_server_context(const CertificatePem& pem);

/// Reads a PEM file; throws std::runtime_error naming the file when it cannot.
std::string read_pem_file(const std::string& path);

/// Options for an outbound TLS client.
struct ClientTlsOptions {
    std::string ca_file;            ///< empty: the system store
    std::vector<std::string> trusted_pems;  ///< extra certificates trusted as anchors
};

/// A client context with verify_peer. Host name checks are set per connection.
net::ssl::context make_client_context(const ClientTlsOptions& options);

}  // namespace seedhook::tls
