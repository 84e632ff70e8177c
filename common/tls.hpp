#pragma once

/// TLS contexts: servers speak TLS 1.2 and 1.3 only with forward-secret AEAD ciphers; clients
/// verify the peer against the system store or a given CA file.
///
/// The server policy (make_server_context), checked with testssl.sh by scripts/check-tls.sh:
///  - protocols: TLS 1.2 and TLS 1.3; SSL 3, TLS 1.0 and 1.1 are refused;
///  - TLS 1.2 ciphers: ECDHE key exchange with AES-GCM or ChaCha20-Poly1305 only (no static RSA
///    key exchange, no CBC, no SHA-1 MACs, no DHE); TLS 1.3: its three AEAD suites;
///  - key exchange groups X25519, P-256, P-384; OpenSSL security level 2 (keys of 112 bits of
///    strength or more: RSA >= 2048, no SHA-1 signatures);
///  - the server's cipher order wins (ChaCha20 first for clients that put it first); no
///    renegotiation, no compression; session resumption by cache and tickets.

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

/// A server context from a PEM certificate chain file and a PEM key file. Throws
/// std::runtime_error naming what is wrong (unreadable file, bad PEM, key not matching).
net::ssl::context load_server_context(const std::string& cert_file, const std::string& key_file);

/// What a log line may say about a server's certificate (nothing secret).
struct CertificateSummary {
    std::string subject;    ///< one line, e.g. "CN=localhost"
    std::string serial;     ///< hex
    std::string not_after;  ///< e.g. "Jan  2 03:04:05 2035 GMT"
    std::string sha256;     ///< fingerprint of the DER form, lower-case hex
};

/// The leaf certificate of a server context (empty fields when it has none).
CertificateSummary summarize_certificate(net::ssl::context& ctx);

/// Options for an outbound TLS client.
struct ClientTlsOptions {
    std::string ca_file;            ///< empty: the system store
    std::vector<std::string> trusted_pems;  ///< extra certificates trusted as anchors
};

/// A client context with verify_peer. Host name checks are set per connection.
net::ssl::context make_client_context(const ClientTlsOptions& options);

}  // namespace seedhook::tls
