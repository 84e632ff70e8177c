#pragma once

/// Small crypto helpers over OpenSSL: HMAC-SHA256, encodings, constant-time comparison and
/// random identifiers. All functions are thread-safe.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace seedhook::crypto {

using Digest = std::array<std::uint8_t, 32>;

/// HMAC-SHA256(key, data).
Digest hmac_sha256(std::string_view key, std::string_view data);

/// An HMAC-SHA256 key set up once (the algorithm fetched, the key's pads hashed): each digest
/// then starts from a copy of that state. Thread-safe; for keys used on every request.
class HmacSha256 {
public:
    explicit HmacSha256(std::string_view key);
    HmacSha256(const HmacSha256&) = delete;
    HmacSha256& operator=(const HmacSha256&) = delete;
    HmacSha256(HmacSha256&& other) noexcept;
    HmacSha256& operator=(HmacSha256&& other) noexcept;
    ~HmacSha256();

    Digest digest(std::string_view data) const;

private:
    void* ctx_ = nullptr;  ///< EVP_MAC_CTX, keyed, never updated itself
};

/// SHA-256(data).
Digest sha256(std::string_view data);

/// RFC 4648 §5 base64url without padding.
std::string base64url(std::string_view bytes);

/// Decodes unpadded base64url; nullopt when `text` is not that.
std::optional<std::string> base64url_decode(std::string_view text);

/// Lowercase hex.
std::string hex(std::string_view bytes);

/// Compares in time that depends only on the lengths, never on where the inputs differ.
bool constant_time_equal(std::string_view a, std::string_view b);

/// `n` bytes from the OpenSSL CSPRNG; throws std::runtime_error if it fails.
std::string random_bytes(std::size_t n);

inline std::string_view as_view(const Digest& d) {
    return {reinterpret_cast<const char*>(d.data()), d.size()};
}

}  // namespace seedhook::crypto
