#include "common/tls.hpp"

#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <ctime>
#include <stdexcept>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

namespace seedhook::tls {

namespace {

template <typename T, void (*Free)(T*)>
struct Deleter {
    void operator()(T* p) const { Free(p); }
};

using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using ExtPtr = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION, X509_EXTENSION_free>>;

void check(bool ok, const char* what) {
    if (!ok) {
        throw std::runtime_error(std::string("TLS: ") + what);
    }
}

std::string bio_text(BIO* bio) {
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio, &data);
    return {data, static_cast<std::size_t>(len)};
}

bool is_ip_literal(const std::string& name) {
    return name.find_first_not_of("0123456789.") == std::string::npos ||
           name.find(':') != std::string::npos;
}

void add_extension(X509* cert, int nid, const std::string& value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
    ExtPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
    check(ext != nullptr, "cannot build a certificate extension");
    check(X509_add_ext(cert, ext.get(), -1) == 1, "cannot add a certificate extension");
}

// TLS 1.2: ECDHE (forward secrecy) with an AEAD cipher only, ECDSA and RSA certificates alike.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
// TLS 1.3: every suite is an AEAD with forward secrecy; named so that no library default changes them.
constexpr const char* kTls13Suites = "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";
constexpr const char* kGroups = "X25519:P-256:P-384";
// 112 bits of security: RSA and DH >= 2048 bits, ECC >= 224 bits, no SHA-1 signatures. Set here
// rather than left to the system's openssl.cnf (Debian's says 2 too; others may not).
constexpr int kSecurityLevel = 2;

void harden(net::ssl::context& ctx) {
    SSL_CTX* native = ctx.native_handle();
    SSL_CTX_set_security_level(native, kSecurityLevel);
    check(SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION) == 1, "cannot set TLS 1.2 minimum");
    check(SSL_CTX_set_max_proto_version(native, 0) == 1, "cannot allow TLS 1.3");
    check(SSL_CTX_set_cipher_list(native, kTls12Ciphers) == 1, "cannot set the TLS 1.2 ciphers");
    check(SSL_CTX_set_ciphersuites(native, kTls13Suites) == 1, "cannot set the TLS 1.3 suites");
    check(SSL_CTX_set1_groups_list(native, kGroups) == 1, "cannot set the key exchange groups");
    SSL_CTX_set_options(
        native,
        SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
            SSL_OP_PRIORITIZE_CHACHA
    );
}

}  // namespace

CertificatePem make_self_signed(const std::vector<std::string>& names) {
    PkeyPtr key(EVP_EC_gen("P-256"));
    check(key != nullptr, "cannot generate a P-256 key");
    X509Ptr cert(X509_new());
    check(cert != nullptr, "cannot allocate a certificate");
    X509_set_version(cert.get(), 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), std::time(nullptr));
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), 365L * 24 * 3600);
    X509_set_pubkey(cert.get(), key.get());
    X509_NAME* subject = X509_get_subject_name(cert.get());
    X509_NAME_add_entry_by_txt(
        subject,
        "CN",
        MBSTRING_ASC,
        reinterpret_cast<const unsigned char*>("seedhook self-signed"),
        -1,
        -1,
        0
    );
    X509_set_issuer_name(cert.get(), subject);
    std::string san;
    for (const auto& name : names) {
        if (!san.empty()) {
            san += ',';
        }
        san += is_ip_literal(name) ? "IP:" : "DNS:";
        san += name;
    }
    add_extension(cert.get(), NID_subject_alt_name, san);
    add_extension(cert.get(), NID_basic_constraints, "critical,CA:TRUE");
    check(X509_sign(cert.get(), key.get(), EVP_sha256()) > 0, "cannot sign the certificate");

    BioPtr cert_bio(BIO_new(BIO_s_mem()));
    BioPtr key_bio(BIO_new(BIO_s_mem()));
    check(PEM_write_bio_X509(cert_bio.get(), cert.get()) == 1, "cannot write the certificate");
    check(
        PEM_write_bio_PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) ==
            1,
        "cannot write the key"
    );
    return {bio_text(cert_bio.get()), bio_text(key_bio.get())};
}

net::ssl::context make_server_context(const CertificatePem& pem) {
    net::ssl::context ctx(net::ssl::context::tls_server);
    harden(ctx);
    boost::system::error_code ec;
    ctx.use_certificate_chain(net::buffer(pem.cert), ec);
    if (ec) {
        throw std::runtime_error("TLS: the certificate is not a valid PEM chain: " + ec.message());
    }
    // Parsed apart from its use, so that a bad key and a key of another certificate are told
    // apart; an encrypted key is refused rather than prompted for.
    BioPtr key_bio(BIO_new_mem_buf(pem.key.data(), static_cast<int>(pem.key.size())));
    check(key_bio != nullptr, "cannot read the private key");
    auto no_password = [](char*, int, int, void*) { return 0; };
    PkeyPtr key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, no_password, nullptr));
    if (key == nullptr) {
        ERR_clear_error();
        throw std::runtime_error("TLS: the private key is not valid unencrypted PEM");
    }
    if (SSL_CTX_use_PrivateKey(ctx.native_handle(), key.get()) != 1 ||
        SSL_CTX_check_private_key(ctx.native_handle()) != 1) {
        ERR_clear_error();
        throw std::runtime_error("TLS: the private key does not match the certificate");
    }
    // Session resumption through the built-in cache and tickets; one TLS 1.3 ticket per
    // connection is enough to resume (OpenSSL sends two by default, each a write).
    SSL_CTX_set_num_tickets(ctx.native_handle(), 1);
    SSL_CTX_set_session_cache_mode(ctx.native_handle(), SSL_SESS_CACHE_SERVER);
    SSL_CTX_set_session_id_context(
        ctx.native_handle(), reinterpret_cast<const unsigned char*>("seedhook"), 8
    );
    return ctx;
}

std::string read_pem_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw std::runtime_error("cannot read " + path);
    }
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

net::ssl::context load_server_context(const std::string& cert_file, const std::string& key_file) {
    return make_server_context({read_pem_file(cert_file), read_pem_file(key_file)});
}

CertificateSummary summarize_certificate(net::ssl::context& ctx) {
    CertificateSummary out;
    X509* cert = SSL_CTX_get0_certificate(ctx.native_handle());
    if (cert == nullptr) {
        return out;
    }
    BioPtr subject(BIO_new(BIO_s_mem()));
    if (subject && X509_NAME_print_ex(subject.get(), X509_get_subject_name(cert), 0, XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
        out.subject = bio_text(subject.get());
    }
    if (BIGNUM* serial = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr); serial != nullptr) {
        if (char* hex = BN_bn2hex(serial); hex != nullptr) {
            out.serial = hex;
            OPENSSL_free(hex);
        }
        BN_free(serial);
    }
    BioPtr not_after(BIO_new(BIO_s_mem()));
    if (not_after && ASN1_TIME_print(not_after.get(), X509_get0_notAfter(cert)) == 1) {
        out.not_after = bio_text(not_after.get());
    }
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (X509_digest(cert, EVP_sha256(), digest, &length) == 1) {
        static constexpr char kHex[] = "0123456789abcdef";
        for (unsigned int i = 0; i < length; ++i) {
            out.sha256 += kHex[digest[i] >> 4];
            out.sha256 += kHex[digest[i] & 0x0f];
        }
    }
    return out;
}

namespace {

struct CertStackDeleter {
    void operator()(STACK_OF(X509) * certs) const { sk_X509_pop_free(certs, X509_free); }
};
using CertStack = std::unique_ptr<STACK_OF(X509), CertStackDeleter>;

struct InfoStackDeleter {
    void operator()(STACK_OF(X509_INFO) * infos) const { sk_X509_INFO_pop_free(infos, X509_INFO_free); }
};

// The certificates of a PEM text (CRLs and keys in it are skipped).
CertStack parse_certificates(const std::string& pem) {
    BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    const std::unique_ptr<STACK_OF(X509_INFO), InfoStackDeleter> infos(
        bio ? PEM_X509_INFO_read_bio(bio.get(), nullptr, nullptr, nullptr) : nullptr
    );
    CertStack certs(sk_X509_new_null());
    for (int i = 0; infos && certs && i < sk_X509_INFO_num(infos.get()); ++i) {
        X509_INFO* info = sk_X509_INFO_value(infos.get(), i);
        if (info->x509 != nullptr && sk_X509_push(certs.get(), info->x509) > 0) {
            info->x509 = nullptr;  // now owned by certs
        }
    }
    return certs;
}

// Trusts the certificates of a PEM CA file. Each version of a file (its SHA-256) is parsed once
// per process: the system bundle holds ~140 certificates, ~35 ms to parse, and the service
// makes a client context for each provider and one for the simulator.
void trust_ca_file(SSL_CTX* ctx, const std::string& path) {
    static std::mutex mutex;
    static std::map<std::string, std::pair<std::string, CertStack>> parsed;  // path -> digest, certificates
    const auto fail = [&path] {
        ERR_clear_error();
        return std::runtime_error("TLS: cannot load CA file " + path);
    };
    std::string pem;
    try {
        pem = read_pem_file(path);
    } catch (const std::runtime_error&) {
        throw fail();
    }
    std::string digest(EVP_MAX_MD_SIZE, '\0');
    unsigned int length = 0;
    if (EVP_Digest(pem.data(), pem.size(), reinterpret_cast<unsigned char*>(digest.data()), &length, EVP_sha256(), nullptr) != 1) {
        throw fail();
    }
    digest.resize(length);
    const std::lock_guard lock(mutex);
    auto& [seen, certs] = parsed[path];
    if (seen != digest || !certs) {
        certs = parse_certificates(pem);
        seen = digest;
    }
    if (!certs || sk_X509_num(certs.get()) == 0) {
        throw fail();
    }
    X509_STORE* into = SSL_CTX_get_cert_store(ctx);
    for (int i = 0; i < sk_X509_num(certs.get()); ++i) {
        if (X509_STORE_add_cert(into, sk_X509_value(certs.get(), i)) != 1) {
            throw fail();
        }
    }
}

// The system's CAs from its hashed directory, read lazily (only the issuer a handshake needs),
// or from SSL_CERT_FILE when that is set, as OpenSSL's defaults would.
void use_system_store(SSL_CTX* ctx) {
    if (const char* file = std::getenv(X509_get_default_cert_file_env()); file != nullptr && *file != '\0') {
        trust_ca_file(ctx, file);
        return;
    }
    const char* dir = std::getenv(X509_get_default_cert_dir_env());
    if (dir == nullptr || *dir == '\0') {
        dir = X509_get_default_cert_dir();
    }
    if (SSL_CTX_load_verify_dir(ctx, dir) != 1) {
        throw std::runtime_error(std::string("TLS: cannot use the CA directory ") + dir);
    }
}

}  // namespace

net::ssl::context make_client_context(const ClientTlsOptions& options) {
    net::ssl::context ctx(net::ssl::context::tls_client);
    SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
    ctx.set_verify_mode(net::ssl::verify_peer);
    if (options.ca_file.empty()) {
        use_system_store(ctx.native_handle());
    } else {
        trust_ca_file(ctx.native_handle(), options.ca_file);
    }
    for (const auto& pem : options.trusted_pems) {
        boost::system::error_code ec;
        ctx.add_certificate_authority(net::buffer(pem), ec);
        if (ec) {
            throw std::runtime_error("TLS: a trusted certificate is not valid PEM");
        }
    }
    if (!options.trusted_pems.empty()) {
        // A trusted leaf (a self-signed peer) is an anchor of its own.
        X509_VERIFY_PARAM_set_flags(
            SSL_CTX_get0_param(ctx.native_handle()), X509_V_FLAG_PARTIAL_CHAIN
        );
    }
    return ctx;
}

}  // namespace seedhook::tls
