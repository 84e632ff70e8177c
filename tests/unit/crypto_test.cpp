#include "common/crypto.hpp"

#include <string>

#include <atomic>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace crypto = seedhook::crypto;

TEST(Crypto, HmacSha256MatchesRfc4231TestCase2) {
    const auto digest = crypto::hmac_sha256("Jefe", "what do ya want for nothing?");
    EXPECT_EQ(
        crypto::hex(crypto::as_view(digest)),
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
}

TEST(Crypto, HmacSha256MatchesRfc4231TestCase1) {
    const std::string key(20, '\x0b');
    const auto digest = crypto::hmac_sha256(key, "Hi There");
    EXPECT_EQ(
        crypto::hex(crypto::as_view(digest)),
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
    );
}

TEST(Crypto, HmacSha256DependsOnKeyAndData) {
    const auto base = crypto::hmac_sha256("key", "evolink:job_1");
    EXPECT_NE(base, crypto::hmac_sha256("key2", "evolink:job_1"));
    EXPECT_NE(base, crypto::hmac_sha256("key", "evolink:job_2"));
    EXPECT_EQ(base, crypto::hmac_sha256("key", "evolink:job_1"));
}

TEST(Crypto, AKeySetUpOnceGivesTheSameDigestsEveryTimeFromManyThreads) {
    const crypto::HmacSha256 key("Jefe");
    const std::string expected = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
    EXPECT_EQ(crypto::hex(crypto::as_view(key.digest("what do ya want for nothing?"))), expected);
    std::vector<std::thread> threads;
    std::atomic<int> wrong{0};
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 200; ++i) {
                if (crypto::hex(crypto::as_view(key.digest("what do ya want for nothing?"))) != expected) {
                    ++wrong;
                }
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    EXPECT_EQ(wrong.load(), 0);
    EXPECT_EQ(key.digest("evolink:job_1"), crypto::hmac_sha256("Jefe", "evolink:job_1"));
}

TEST(Crypto, Base64UrlMatchesRfc4648VectorsWithoutPadding) {
    EXPECT_EQ(crypto::base64url(""), "");
    EXPECT_EQ(crypto::base64url("f"), "Zg");
    EXPECT_EQ(crypto::base64url("fo"), "Zm8");
    EXPECT_EQ(crypto::base64url("foo"), "Zm9v");
    EXPECT_EQ(crypto::base64url("foob"), "Zm9vYg");
    EXPECT_EQ(crypto::base64url("fooba"), "Zm9vYmE");
    EXPECT_EQ(crypto::base64url("foobar"), "Zm9vYmFy");
}

TEST(Crypto, Base64UrlUsesTheUrlSafeAlphabet) {
    EXPECT_EQ(crypto::base64url(std::string("\xfb\xff", 2)), "-_8");
    EXPECT_EQ(crypto::base64url(std::string("\xff\xff\xff", 3)), "____");
    EXPECT_EQ(crypto::base64url(std::string("\xfb\xef\xbe", 3)), "----");
}

TEST(Crypto, Base64UrlOfADigestIs43CharactersAndUrlSafe) {
    const auto digest = crypto::hmac_sha256("secret", "evolink:job_1");
    const std::string token = crypto::base64url(crypto::as_view(digest));
    EXPECT_EQ(token.size(), 43U);
    EXPECT_EQ(
        token.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
        std::string::npos
    ) << token;
}

TEST(Crypto, HexIsLowercaseAndKeepsZeroBytes) {
    EXPECT_EQ(crypto::hex(""), "");
    EXPECT_EQ(crypto::hex(std::string("\x00\xff\x10\xab", 4)), "00ff10ab");
    EXPECT_EQ(crypto::hex("AZ"), "415a");
}

TEST(Crypto, ConstantTimeEqualComparesContent) {
    EXPECT_TRUE(crypto::constant_time_equal("token-abc", "token-abc"));
    EXPECT_TRUE(crypto::constant_time_equal("", ""));
    EXPECT_FALSE(crypto::constant_time_equal("token-abc", "token-abd"));
    EXPECT_FALSE(crypto::constant_time_equal("Token-abc", "token-abc"));
}

TEST(Crypto, ConstantTimeEqualRejectsDifferentLengths) {
    EXPECT_FALSE(crypto::constant_time_equal("token", "token-abc"));
    EXPECT_FALSE(crypto::constant_time_equal("token-abc", "token"));
    EXPECT_FALSE(crypto::constant_time_equal("", "a"));
    EXPECT_FALSE(crypto::constant_time_equal(std::string("a\0", 2), "a"));
}

TEST(Crypto, RandomBytesHasTheRequestedLength) {
    EXPECT_EQ(crypto::random_bytes(0).size(), 0U);
    EXPECT_EQ(crypto::random_bytes(1).size(), 1U);
    EXPECT_EQ(crypto::random_bytes(32).size(), 32U);
}

TEST(Crypto, RandomBytesDifferBetweenCalls) {
    const std::string a = crypto::random_bytes(32);
    const std::string b = crypto::random_bytes(32);
    EXPECT_NE(a, b);
    EXPECT_NE(a, std::string(32, '\0'));
}

TEST(Crypto, Base64UrlDecodeInvertsEncode) {
    for (const std::string& s : std::vector<std::string>{"", "f", "fo", "foo", "foob", "fooba", "foobar", std::string("\xfb\xff\x00", 3)}) {
        EXPECT_EQ(crypto::base64url_decode(crypto::base64url(s)), s);
    }
    EXPECT_FALSE(crypto::base64url_decode("Zm9v!"));
    EXPECT_FALSE(crypto::base64url_decode("Z"));
    EXPECT_FALSE(crypto::base64url_decode("Zm9v=="));
}

TEST(Crypto, Sha256MatchesTheFips180Example) {
    EXPECT_EQ(
        crypto::hex(crypto::as_view(crypto::sha256("abc"))),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
}
