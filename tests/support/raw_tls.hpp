#pragma once

/// A blocking TLS client for tests that speak HTTP by hand: pick the protocol versions and
/// ciphers it offers, send raw bytes, read until a marker, and look at what was negotiated
/// and which certificate the server showed.

#include <sys/socket.h>
#include <sys/time.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>

#include "common/asio.hpp"
#include "common/tls.hpp"
#include "tests/support/test_support.hpp"

namespace seedhook::test {

/// Lower-case hex SHA-256 of a certificate's DER form (empty for none).
inline std::string certificate_sha256(X509* cert) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (cert == nullptr || X509_digest(cert, EVP_sha256(), digest, &length) != 1) {
        return {};
    }
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < length; ++i) {
        out += kHex[digest[i] >> 4];
        out += kHex[digest[i] & 0x0f];
    }
    return out;
}

/// The fingerprint of the first certificate in a PEM file (empty when there is none).
inline std::string certificate_file_sha256(const std::string& path) {
    std::unique_ptr<FILE, decltype(&std::fclose)> f(std::fopen(path.c_str(), "r"), &std::fclose);
    if (!f) {
        return {};
    }
    std::unique_ptr<X509, decltype(&X509_free)> cert(PEM_read_X509(f.get(), nullptr, nullptr, nullptr), &X509_free);
    return certificate_sha256(cert.get());
}

/// A blocking TLS connection to 127.0.0.1 that verifies the server against the test CA.
class RawTls {
public:
    /// `max_version`: 0 for the library's highest, else e.g. TLS1_2_VERSION.
    explicit RawTls(std::uint16_t port, int max_version = 0, const tls::ClientTlsOptions& trust = {ca_file(), {}})
        : ctx_(tls::make_client_context(trust)), stream_(ioc_, ctx_) {
        if (max_version != 0) {
            SSL_CTX_set_max_proto_version(ctx_.native_handle(), max_version);
            SSL_set_max_proto_version(stream_.native_handle(), max_version);
        }
        stream_.next_layer().connect({net::ip::make_address("127.0.0.1"), port});
        stream_.set_verify_callback(net::ssl::host_name_verification("127.0.0.1"));
    }

    /// Offers only `ciphers` (OpenSSL names) in TLS 1.2 and older; call before handshake().
    /// The library's own security level is lowered so that weak ciphers are really offered.
    /// False when this OpenSSL knows none of them (the offer is then unchanged).
    [[nodiscard]] bool offer_tls12_ciphers(const std::string& ciphers) {
        SSL_set_security_level(stream_.native_handle(), 0);
        return SSL_set_cipher_list(stream_.native_handle(), ciphers.c_str()) == 1;
    }

    boost::system::error_code handshake() {
        boost::system::error_code ec;
        stream_.handshake(net::ssl::stream_base::client, ec);
        return ec;
    }

    void send(const std::string& bytes) { net::write(stream_, net::buffer(bytes)); }

    /// Reads until `marker` appears, the peer closes, or the wait ends.
    std::string read_until(const std::string& marker, std::chrono::milliseconds wait = std::chrono::seconds(5)) {
        stream_.next_layer().non_blocking(false);
        timeval tv{static_cast<time_t>(wait.count() / 1000), static_cast<suseconds_t>((wait.count() % 1000) * 1000)};
        setsockopt(stream_.next_layer().native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        std::string out;
        char buf[4096];
        while (out.find(marker) == std::string::npos) {
            boost::system::error_code ec;
            const std::size_t n = stream_.read_some(net::buffer(buf), ec);
            out.append(buf, n);
            if (ec) {
                closed_ = true;
                break;
            }
        }
        return out;
    }

    /// GET /healthz on this connection (kept alive); true when it answered 200.
    bool healthz() {
        send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        const std::string answer = read_until("\"ok\"}");
        return answer.starts_with("HTTP/1.1 200") && answer.find("\"ok\"}") != std::string::npos;
    }

    bool closed() const { return closed_; }

    /// The negotiated protocol ("TLSv1.2") and cipher, after a handshake.
    std::string version() { return SSL_get_version(stream_.native_handle()); }
    std::string cipher() { return SSL_get_cipher_name(stream_.native_handle()); }

    /// The session to offer for resumption; call before handshake().
    void offer_session(SSL_SESSION* session) { SSL_set_session(stream_.native_handle(), session); }

    /// The session this connection can be resumed with: in TLS 1.3 only once a ticket has
    /// arrived, which the client reads with the first answer after the handshake.
    std::unique_ptr<SSL_SESSION, decltype(&SSL_SESSION_free)> session() {
        return {SSL_get1_session(stream_.native_handle()), &SSL_SESSION_free};
    }

    /// Whether the handshake resumed the offered session instead of making a new one.
    bool resumed() { return SSL_session_reused(stream_.native_handle()) == 1; }

    /// SHA-256 fingerprint of the certificate the server showed.
    std::string peer_sha256() {
        std::unique_ptr<X509, decltype(&X509_free)> cert(SSL_get1_peer_certificate(stream_.native_handle()), &X509_free);
        return certificate_sha256(cert.get());
    }

private:
    net::io_context ioc_;
    net::ssl::context ctx_;
    net::ssl::stream<net::ip::tcp::socket> stream_;
    bool closed_ = false;
};

}  // namespace seedhook::test
