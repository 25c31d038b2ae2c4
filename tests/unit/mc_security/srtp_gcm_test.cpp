// The OpenSSL AES-128-GCM cipher type installed in libsrtp2 (srtp_session_gcm.hpp), judged by
// libsrtp's own cipher test harness with the GCM spec's test case 4 and its random
// round trips, and by a tampered tag that must not authenticate.
#include <array>
#include <cstdint>
#include <srtp2/srtp.h>

#include <gtest/gtest.h>

#include "mc_adapters/security/srtp_session_gcm.hpp"

namespace iwf::mc::security {
namespace {

TEST(SrtpGcm, OpenSslCipherPassesLibsrtpSelfTest) {
    (void)srtp_init();  // a second call reports the self-tests of every type; not ours to judge
    EXPECT_EQ(srtp_cipher_type_self_test(&osslAesGcm128CipherType()), srtp_err_status_ok);
}

TEST(SrtpGcm, TamperedTagIsRefused) {
    (void)srtp_init();  // a second call reports the self-tests of every type; not ours to judge
    const srtp_cipher_type_t& ct = osslAesGcm128CipherType();
    std::array<std::uint8_t, SRTP_AES_GCM_128_KEY_LEN_WSALT> key{};
    key.fill(0x42);
    std::array<std::uint8_t, 12> iv{};
    iv[11] = 1;
    const std::array<std::uint8_t, 12> aad{0x80, 0x60, 0, 1, 0, 0, 0, 160, 0x11, 0x22, 0x33, 0x44};
    std::array<std::uint8_t, 32 + 16> buf{};
    buf.fill(0x5a);
    srtp_cipher_t* enc = nullptr;
    srtp_cipher_t* dec = nullptr;
    ASSERT_EQ(srtp_cipher_type_alloc(&ct, &enc, SRTP_AES_GCM_128_KEY_LEN_WSALT, 16),
              srtp_err_status_ok);
    ASSERT_EQ(srtp_cipher_type_alloc(&ct, &dec, SRTP_AES_GCM_128_KEY_LEN_WSALT, 16),
              srtp_err_status_ok);
    ASSERT_EQ(srtp_cipher_init(enc, key.data()), srtp_err_status_ok);
    ASSERT_EQ(srtp_cipher_init(dec, key.data()), srtp_err_status_ok);
    unsigned int len = 32;
    std::uint32_t tag_len = 0;
    ASSERT_EQ(srtp_cipher_set_iv(enc, iv.data(), srtp_direction_encrypt), srtp_err_status_ok);
    ASSERT_EQ(srtp_cipher_set_aad(enc, aad.data(), aad.size()), srtp_err_status_ok);
    ASSERT_EQ(srtp_cipher_encrypt(enc, buf.data(), &len), srtp_err_status_ok);
    ASSERT_EQ(srtp_cipher_get_tag(enc, buf.data() + 32, &tag_len), srtp_err_status_ok);
    ASSERT_EQ(tag_len, 16U);
    // Untouched: authenticates and gives the plaintext back.
    auto copy = buf;
    len = 48;
    ASSERT_EQ(srtp_cipher_set_iv(dec, iv.data(), srtp_direction_decrypt), srtp_err_status_ok);
    ASSERT_EQ(srtp_cipher_set_aad(dec, aad.data(), aad.size()), srtp_err_status_ok);
    ASSERT_EQ(srtp_cipher_decrypt(dec, copy.data(), &len), srtp_err_status_ok);
    EXPECT_EQ(len, 32U);
    EXPECT_EQ(copy[0], 0x5a);
    EXPECT_EQ(copy[31], 0x5a);
    // One tag bit flipped: refused.
    copy = buf;
    copy[47] ^= 0x01;
    len = 48;
    ASSERT_EQ(srtp_cipher_set_iv(dec, iv.data(), srtp_direction_decrypt), srtp_err_status_ok);
    ASSERT_EQ(srtp_cipher_set_aad(dec, aad.data(), aad.size()), srtp_err_status_ok);
    EXPECT_EQ(srtp_cipher_decrypt(dec, copy.data(), &len), srtp_err_status_auth_fail);
    EXPECT_EQ(srtp_cipher_dealloc(enc), srtp_err_status_ok);
    EXPECT_EQ(srtp_cipher_dealloc(dec), srtp_err_status_ok);
}

}  // namespace
}  // namespace iwf::mc::security
