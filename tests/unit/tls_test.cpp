// The server context: its policy, the errors that name what is wrong with a certificate pair
// (a reload logs them), and what a log line may say about the certificate. The client context:
// the CA file it trusts.
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>

#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <gtest/gtest.h>

#include "common/tls.hpp"

namespace seedhook::tls {
namespace {

std::string error_of(const CertificatePem& pem) {
    try {
        make_server_context(pem);
    } catch (const std::runtime_error& e) {
        return e.what();
    }
    return {};
}

// `pem` re-encrypted with a password, as an operator might leave it.
std::string encrypted(const std::string& pem) {
    std::unique_ptr<BIO, decltype(&BIO_free)> in(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(PEM_read_bio_PrivateKey(in.get(), nullptr, nullptr, nullptr), &EVP_PKEY_free);
    std::unique_ptr<BIO, decltype(&BIO_free)> out(BIO_new(BIO_s_mem()), &BIO_free);
    static char password[] = "secret-password";
    PEM_write_bio_PrivateKey(out.get(), key.get(), EVP_aes_256_cbc(), nullptr, 0, nullptr, password);
    char* data = nullptr;
    const long length = BIO_get_mem_data(out.get(), &data);
    return {data, static_cast<std::size_t>(length)};
}

TEST(ServerContext, SpeaksTls12AndUpWithTheServersOrderAndNoRenegotiation) {
    auto ctx = make_server_context(make_self_signed({"127.0.0.1"}));
    SSL_CTX* native = ctx.native_handle();
    EXPECT_EQ(SSL_CTX_get_min_proto_version(native), TLS1_2_VERSION);
    EXPECT_EQ(SSL_CTX_get_max_proto_version(native), 0);
    EXPECT_EQ(SSL_CTX_get_security_level(native), 2);
    const auto options = SSL_CTX_get_options(native);
    for (const auto option : {SSL_OP_NO_RENEGOTIATION, SSL_OP_NO_COMPRESSION, SSL_OP_CIPHER_SERVER_PREFERENCE}) {
        EXPECT_NE(options & option, 0U) << option;
    }
    EXPECT_EQ(options & SSL_OP_NO_TICKET, 0U) << "session tickets stay on";
    // Every TLS 1.2 suite is ECDHE with an AEAD cipher.
    STACK_OF(SSL_CIPHER)* ciphers = SSL_CTX_get_ciphers(native);
    ASSERT_NE(ciphers, nullptr);
    for (int i = 0; i < sk_SSL_CIPHER_num(ciphers); ++i) {
        const SSL_CIPHER* c = sk_SSL_CIPHER_value(ciphers, i);
        const std::string name = SSL_CIPHER_get_name(c);
        EXPECT_TRUE(SSL_CIPHER_is_aead(c)) << name;
        if (std::string(SSL_CIPHER_get_version(c)) != "TLSv1.3") {
            EXPECT_EQ(SSL_CIPHER_get_kx_nid(c), NID_kx_ecdhe) << name;
        }
    }
}

TEST(ServerContext, NamesWhatIsWrongWithThePair) {
    const CertificatePem one = make_self_signed({"127.0.0.1"});
    const CertificatePem other = make_self_signed({"127.0.0.1"});
    EXPECT_NO_THROW(make_server_context(one));
    EXPECT_NE(error_of({one.cert, other.key}).find("does not match the certificate"), std::string::npos);
    EXPECT_NE(error_of({one.cert, "not a key"}).find("private key is not valid"), std::string::npos);
    EXPECT_NE(error_of({one.cert, encrypted(one.key)}).find("private key is not valid unencrypted PEM"), std::string::npos);
    EXPECT_NE(error_of({"not a certificate", one.key}).find("certificate is not a valid PEM chain"), std::string::npos);
    EXPECT_THROW(load_server_context("/nonexistent/tls.crt", "/nonexistent/tls.key"), std::runtime_error);
}

TEST(ServerContext, SummaryNamesTheCertificateWithoutTheKey) {
    const CertificatePem pem = make_self_signed({"127.0.0.1"});
    auto ctx = make_server_context(pem);
    const CertificateSummary s = summarize_certificate(ctx);
    EXPECT_NE(s.subject.find("seedhook self-signed"), std::string::npos) << s.subject;
    EXPECT_FALSE(s.serial.empty());
    EXPECT_FALSE(s.not_after.empty());
    EXPECT_EQ(s.sha256.size(), 64U);
    EXPECT_EQ(s.sha256.find_first_not_of("0123456789abcdef"), std::string::npos);
}

// Whether a client context's trust store verifies `cert_pem` (no host name check).
bool trusts(net::ssl::context& ctx, const std::string& cert_pem) {
    std::unique_ptr<BIO, decltype(&BIO_free)> in(BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size())), &BIO_free);
    std::unique_ptr<X509, decltype(&X509_free)> cert(PEM_read_bio_X509(in.get(), nullptr, nullptr, nullptr), &X509_free);
    std::unique_ptr<X509_STORE_CTX, decltype(&X509_STORE_CTX_free)> check(X509_STORE_CTX_new(), &X509_STORE_CTX_free);
    if (!cert || !check || X509_STORE_CTX_init(check.get(), SSL_CTX_get_cert_store(ctx.native_handle()), cert.get(), nullptr) != 1) {
        ADD_FAILURE() << "cannot set up the verification";
        return false;
    }
    return X509_verify_cert(check.get()) == 1;
}

void write_file(const std::filesystem::path& path, const std::string& text) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

std::string load_error(const std::string& ca_file) {
    try {
        make_client_context({ca_file, {}});
    } catch (const std::runtime_error& e) {
        return e.what();
    }
    return {};
}

// A CA file is parsed once per version: a second context from it trusts the same peers, and
// a file rewritten in place (a rotated CA) is read anew, however fast the rewrite.
TEST(ClientContext, TrustsItsCaFileAsItIsWhenEachContextIsMade) {
    const auto dir = std::filesystem::temp_directory_path() / ("seedhook-tls-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const auto ca = dir / "ca.pem";
    const CertificatePem one = make_self_signed({"one.test"});
    const CertificatePem two = make_self_signed({"two.test"});
    write_file(ca, one.cert);
    auto first = make_client_context({ca.string(), {}});
    EXPECT_TRUE(trusts(first, one.cert));
    EXPECT_FALSE(trusts(first, two.cert));
    auto again = make_client_context({ca.string(), {}});
    EXPECT_TRUE(trusts(again, one.cert));
    EXPECT_FALSE(trusts(again, two.cert));

    write_file(ca, two.cert);  // the same size, most likely the same modification time
    auto rotated = make_client_context({ca.string(), {}});
    EXPECT_TRUE(trusts(rotated, two.cert));
    EXPECT_FALSE(trusts(rotated, one.cert));
    EXPECT_TRUE(trusts(first, one.cert));  // a context keeps what it was made with

    write_file(ca, "no certificate here\n");
    EXPECT_EQ(load_error(ca.string()), "TLS: cannot load CA file " + ca.string());
    EXPECT_EQ(load_error((dir / "missing.pem").string()), "TLS: cannot load CA file " + (dir / "missing.pem").string());
    std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace seedhook::tls
