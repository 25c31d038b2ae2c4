// Harness crypto: known vectors (NIST SP 800-38A F.4.5 OFB-AES256, TIA-102.AAAD-B MI example)
// and an independent check of every keystream against the `openssl enc` command line tool.
#include <cstdio>
#include <string>

#include <gtest/gtest.h>

#include "harness/crypto/dmr_crypto.hpp"
#include "harness/crypto/p25_crypto.hpp"

using namespace iwf;
using namespace iwf::harness;

namespace {

Aes256Key keyFromHex(std::string_view hex) {
    auto b = fromHex(hex);
    Aes256Key k{};
    EXPECT_TRUE(b.ok());
    EXPECT_EQ(b->size(), k.size());
    std::copy(b->begin(), b->end(), k.begin());
    return k;
}

const Aes256Key kNistKey =
    keyFromHex("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4");

// `openssl enc -aes-256-ofb` over `len` zero bytes: the raw OFB keystream, computed by a
// different program than the one under test.
std::string opensslKeystreamHex(const Aes256Key& key, ByteView iv, std::size_t len) {
    std::string cmd = "head -c " + std::to_string(len) +
                      " /dev/zero | openssl enc -aes-256-ofb -nopad -K " + toHex(key) + " -iv " +
                      toHex(iv) + " | od -An -v -tx1 | tr -d ' \\n'";
    std::string out;
    FILE* p = popen(cmd.c_str(), "r");
    if (p == nullptr) {
        return out;
    }
    char buf[256];
    while (std::fgets(buf, sizeof buf, p) != nullptr) {
        out += buf;
    }
    pclose(p);
    return out;
}

lmr::p25::Mi mi(std::string_view hex) {
    auto b = fromHex(hex);
    lmr::p25::Mi m{};
    std::copy(b->begin(), b->end(), m.begin());
    return m;
}

}  // namespace

TEST(HarnessCrypto, Aes256OfbMatchesNistSp80038aVector) {
    std::array<std::uint8_t, 16> iv{};
    for (std::size_t i = 0; i < 16; ++i) {
        iv[i] = static_cast<std::uint8_t>(i);
    }
    auto ks = aes256OfbKeystream(kNistKey, iv, 32);
    ASSERT_TRUE(ks.ok());
    // SP 800-38A F.4.5: output blocks 1 and 2 of OFB-AES256.Encrypt.
    EXPECT_EQ(toHex(*ks), "b7bf3a5df43989dd97f0fa97ebce2f4ae1c656305ed1a7a6563805746fe03edc");
    // Ciphertext block 1 = plaintext block 1 XOR output block 1.
    auto pt = fromHex("6bc1bee22e409f96e93d7e117393172a");
    Bytes ct(16);
    for (std::size_t i = 0; i < 16; ++i) {
        ct[i] = (*pt)[i] ^ (*ks)[i];
    }
    EXPECT_EQ(toHex(ct), "dc7e84bfda79164b7ecd8486985d3860");
}

TEST(HarnessCrypto, P25IvIsMiAndItsLfsrSuccessor) {
    // TIA-102.AAAD-B example (lmr.md §1.2): 1234567890ABCDEF -> 6FE2802AA403828B.
    auto iv = p25AesIv(mi("1234567890abcdef00"));
    EXPECT_EQ(toHex(iv), "1234567890abcdef6fe2802aa403828b");
}

TEST(HarnessCrypto, P25KeystreamLayoutCoversSuperframeExactlyOnce) {
    std::array<int, kP25SuperframeKeystream> use{};
    for (std::size_t i = 0; i < 11; ++i) {
        ++use[i];  // LDU1 link control area
    }
    for (std::uint8_t f = 0; f < 18; ++f) {
        for (std::size_t i = 0; i < 11; ++i) {
            ++use[p25ImbeOffset(f) + i];
        }
    }
    for (bool ldu2 : {false, true}) {
        ++use[p25LsdOffset(ldu2)];
        ++use[p25LsdOffset(ldu2) + 1];
    }
    for (std::size_t i = 0; i < use.size(); ++i) {
        EXPECT_EQ(use[i], 1) << "keystream byte " << i;
    }
    EXPECT_EQ(p25ImbeOffset(0), 11u);
    EXPECT_EQ(p25ImbeOffset(8), 101u);
    EXPECT_EQ(p25ImbeOffset(9), 112u);
    EXPECT_EQ(p25ImbeOffset(17), 202u);
}

TEST(HarnessCrypto, P25KeystreamMatchesOpensslCommandLine) {
    const auto m = mi("a1b2c3d4e5f6071800");
    auto ks = p25Keystream(kNistKey, m);
    ASSERT_TRUE(ks.ok());
    const std::string ref = opensslKeystreamHex(kNistKey, p25AesIv(m), kP25KeystreamBytes);
    ASSERT_EQ(ref.size(), kP25KeystreamBytes * 2) << "openssl enc did not run";
    EXPECT_EQ(toHex(ks->bytes), ref.substr(kP25KeystreamDiscard * 2, kP25SuperframeKeystream * 2));
}

TEST(HarnessCrypto, P25RoundTripAcrossSuperframesAndMiFromStream) {
    const auto first = mi("0102030405060708ff");
    P25VoiceCipher tx(kNistKey, first);
    P25VoiceCipher rx(kNistKey, mi("000000000000000000"));  // receiver learns MIs from stream
    for (std::uint32_t sf = 0; sf < 4; ++sf) {
        for (std::uint8_t f = 0; f < 18; ++f) {
            std::array<std::uint8_t, 11> plain{};
            for (std::size_t i = 0; i < plain.size(); ++i) {
                plain[i] = static_cast<std::uint8_t>(sf * 31 + f * 7 + i);
            }
            auto c = plain;
            ASSERT_TRUE(tx.applyImbe(sf, f, c).ok());
            EXPECT_NE(c, plain);
            auto d = c;
            ASSERT_TRUE(rx.applyImbeWithMi(tx.miOf(sf), f, d).ok());
            EXPECT_EQ(d, plain);
            // The wrong superframe's MI does not decrypt.
            auto w = c;
            ASSERT_TRUE(rx.applyImbeWithMi(tx.miOf(sf + 1), f, w).ok());
            EXPECT_NE(w, plain);
        }
    }
    EXPECT_EQ(tx.miOf(1)[8], 0xff);  // reserved byte carried unchanged
    std::array<std::uint8_t, 2> lsd{0x12, 0x34};
    ASSERT_TRUE(tx.applyLsd(2, true, lsd).ok());
    ASSERT_TRUE(tx.applyLsd(2, true, lsd).ok());
    EXPECT_EQ(lsd[0], 0x12);
    EXPECT_EQ(lsd[1], 0x34);
    std::array<std::uint8_t, 11> x{};
    EXPECT_FALSE(tx.applyImbe(0, 18, x).ok());
}

TEST(HarnessCrypto, DmrIvExpansionStartsWithIvAndMatchesOpenssl) {
    const std::uint32_t iv32 = 0xDEADBEEF;
    auto iv = dmrAesIv(iv32);
    EXPECT_EQ(toHex(ByteView(iv.data(), 4)), "deadbeef");
    // The 128 output bits are the LFSR sequence: bits 32..63 equal the state after 32 steps.
    const std::uint32_t next = dmrNextIv(iv32);
    EXPECT_EQ((std::uint32_t{iv[4]} << 24) | (std::uint32_t{iv[5]} << 16) |
                  (std::uint32_t{iv[6]} << 8) | iv[7],
              next);
    auto ks = dmrKeystream(kNistKey, iv32);
    ASSERT_TRUE(ks.ok());
    const std::string ref = opensslKeystreamHex(kNistKey, iv, 16 + kDmrSuperframeKeystream);
    ASSERT_EQ(ref.size(), (16 + kDmrSuperframeKeystream) * 2) << "openssl enc did not run";
    EXPECT_EQ(toHex(ks->bytes), ref.substr(32));
}

TEST(HarnessCrypto, DmrBurstRoundTripKeepsMiddleField) {
    DmrVoiceCipher tx(kNistKey, 0x01020304);
    DmrVoiceCipher rx(kNistKey, 0);
    for (std::uint32_t sf = 0; sf < 3; ++sf) {
        for (std::uint8_t b = 0; b < 6; ++b) {
            lmr::dmr::Burst burst{};
            for (std::size_t i = 0; i < burst.size(); ++i) {
                burst[i] = static_cast<std::uint8_t>(i * 13 + b + sf);
            }
            const auto plain = burst;
            ASSERT_TRUE(tx.applyBurst(sf, b, burst).ok());
            EXPECT_NE(burst, plain);
            EXPECT_EQ(lmr::dmr::splitVoiceBurst(burst).middle,
                      lmr::dmr::splitVoiceBurst(plain).middle);
            ASSERT_TRUE(rx.applyBurstWithIv(tx.ivOf(sf), b, burst).ok());
            EXPECT_EQ(burst, plain);
        }
    }
    lmr::dmr::Burst b{};
    EXPECT_FALSE(tx.applyBurst(0, 6, b).ok());
}
