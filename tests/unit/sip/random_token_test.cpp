// SIP tokens (tags, branches, Call-IDs, multipart boundaries) come from OpenSSL's DRBG
// (RAND_bytes), not from a predictable generator (RFC 3261 §19.3: tags "cryptographically
// random").
//
// The oracle: OpenSSL's own RAND_METHOD hook (still honoured by RAND_bytes in OpenSSL 3,
// crypto/rand/rand_lib.c RAND_bytes_ex: a method other than RAND_OpenSSL() is called
// instead of the DRBG). A method returning a known byte sequence must show up, hex-encoded,
// in the token: proof that the token is drawn from RAND_bytes and from nothing else.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <set>
#include <string>

#include <gtest/gtest.h>
#include <openssl/rand.h>

#include "sip/message.hpp"

namespace iwf::sip {
namespace {

unsigned char g_next = 0;
int countingBytes(unsigned char* buf, int num) {
    for (int i = 0; i < num; ++i) {
        buf[i] = g_next++;
    }
    return 1;
}
int alwaysOk() {
    return 1;
}

TEST(RandomToken, IsDrawnFromOpenSslRandBytes) {
    RAND_METHOD counting{};
    counting.bytes = countingBytes;
    counting.status = alwaysOk;
    ASSERT_EQ(RAND_set_rand_method(&counting), 1);
    g_next = 0xa0;
    const std::string tag = randomToken(6);
    const std::string long_token = randomToken(70);  // more than one 64-byte draw
    ASSERT_EQ(RAND_set_rand_method(nullptr), 1);     // back to the default DRBG
    EXPECT_EQ(tag, "a0a1a2a3a4a5");
    ASSERT_EQ(long_token.size(), 140u);
    EXPECT_EQ(long_token.substr(0, 6), "a6a7a8");
    EXPECT_EQ(long_token.substr(long_token.size() - 4), "eaeb");  // 0xa6 + 69 = 0xeb
}

TEST(RandomToken, HexOfTheRequestedLengthAndNoRepeatsIn100000) {
    std::set<std::string> seen;
    for (int i = 0; i < 100'000; ++i) {
        const std::string t = randomToken(6);  // a tag: 48 bits
        ASSERT_EQ(t.size(), 12u);
        ASSERT_EQ(t.find_first_not_of("0123456789abcdef"), std::string::npos) << t;
        seen.insert(t);
    }
    EXPECT_EQ(seen.size(), 100'000u);
}

}  // namespace
}  // namespace iwf::sip
