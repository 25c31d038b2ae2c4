// 33.180 key derivations judged by independent code paths:
//  - the MIKEY PRF (RFC 3830 §4.1.2 with HMAC-SHA-256) against OpenSSL's TLS1-PRF: the MIKEY
//    P-function is the TLS 1.2 P_hash (A_0 = seed, A_i = HMAC(A_i-1), output blocks
//    HMAC(A_i || seed)), so for a key of at most 256 bits (one piece, no XOR) TLS1-PRF with
//    SHA-256, an empty label and the MIKEY label as seed must give the same octets;
//  - the inputs to the 33.220 KDF and the F.2.1 UID hash written out by hand from the
//    clauses' parameter lists, hashed with OpenSSL's one-shot HMAC() / SHA256().
#include "mc_adapters/security/key_derivation.hpp"

#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/sha.h>

#include "common/bytes.hpp"

namespace iwf::mc::security {
namespace {

Bytes hex(std::string_view s) {
    return fromHex(s).value();
}

Bytes tlsPrfSha256(ByteView secret, ByteView seed, std::size_t n) {
    EVP_KDF* kdf = EVP_KDF_fetch(nullptr, "TLS1-PRF", nullptr);
    EVP_KDF_CTX* ctx = EVP_KDF_CTX_new(kdf);
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SECRET,
                                          const_cast<std::uint8_t*>(secret.data()), secret.size()),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED,
                                          const_cast<std::uint8_t*>(seed.data()), seed.size()),
        OSSL_PARAM_construct_end()};
    Bytes out(n);
    EXPECT_EQ(EVP_KDF_derive(ctx, out.data(), n, params), 1);
    EVP_KDF_CTX_free(ctx);
    EVP_KDF_free(kdf);
    return out;
}

TEST(MikeyPrf, EqualsTlsPHashForOneKeyPiece) {
    const Bytes gmk = hex("07d1a1677ac36d8e81620484689b3c2d");
    const Bytes rand = hex("ca2f5d51ff0866362c1d85a56f84651e");
    const Bytes label = mikeyLabel(kMikeyConstTek, 4, 0x06a12aea, rand);
    for (std::size_t n : {12u, 16u, 32u, 48u, 70u}) {
        auto prf = mikeyPrf(gmk, label, n);
        ASSERT_TRUE(prf);
        EXPECT_EQ(toHex(*prf), toHex(tlsPrfSha256(gmk, label, n))) << n;
    }
}

TEST(MikeyPrf, LabelIsConstantCsIdCsbIdRand) {
    // RFC 3830 §4.1.3: label = constant || cs_id || csb_id || RAND.
    EXPECT_EQ(toHex(mikeyLabel(0x2AD01C64, 4, 0x06a12aea, hex("0102"))), "2ad01c640406a12aea0102");
    EXPECT_EQ(toHex(mikeyLabel(0x39A2C14B, 0, 0x10000001, {})), "39a2c14b0010000001");
}

TEST(MikeyPrf, SrtpMasterKeyAndSaltUseTheTekAndSaltConstants) {
    const Bytes tgk = hex("b4c96b703acd5c1bf7d4cc45068d9965");
    const Bytes rand = hex("02a28bddaf984c5e0563bc1ce857df83");
    auto mk = deriveSrtpMasterKey(tgk, CsId::McpttPrivateInitiator, 0x16992638, rand, 16, 12);
    ASSERT_TRUE(mk);
    EXPECT_EQ(toHex(mk->key),
              toHex(tlsPrfSha256(tgk, mikeyLabel(0x2AD01C64, 0, 0x16992638, rand), 16)));
    EXPECT_EQ(toHex(mk->salt),
              toHex(tlsPrfSha256(tgk, mikeyLabel(0x39A2C14B, 0, 0x16992638, rand), 12)));
}

TEST(Kdf33220, GukIdSaltIsTheLow28BitsOfHmacOverFc50) {
    // F.1.3: FC = 0x50, P0 = MC service user ID, L0 = its length; 28 LSBs of the output.
    const Bytes gmk = hex("07d1a1677ac36d8e81620484689b3c2d");
    const std::string id = "sip:iwf@example.org";
    Bytes s = hex("50");
    s.insert(s.end(), id.begin(), id.end());
    s.push_back(0x00);
    s.push_back(static_cast<std::uint8_t>(id.size()));
    std::uint8_t mac[32];
    unsigned int len = 0;
    HMAC(EVP_sha256(), gmk.data(), static_cast<int>(gmk.size()), s.data(), s.size(), mac, &len);
    const std::uint32_t expected = (static_cast<std::uint32_t>(mac[28] & 0x0f) << 24) |
                                   (mac[29] << 16) | (mac[30] << 8) | mac[31];
    auto salt = gukIdSalt(gmk, id);
    ASSERT_TRUE(salt);
    EXPECT_EQ(*salt, expected);
    auto guk = gukIdFromGmkId(gmk, id, 0x0df9bc39);
    ASSERT_TRUE(guk);
    EXPECT_EQ(*guk, 0x0df9bc39u ^ expected);
    EXPECT_EQ(*guk >> 28, 0u);  // the purpose tag survives
    EXPECT_EQ(*gmkIdFromGukId(gmk, id, *guk), 0x0df9bc39u);
}

TEST(Kdf33220, DpckIsTheLow128BitsOfHmacOverFc53) {
    const Bytes gmk = hex("07d1a1677ac36d8e81620484689b3c2d");
    const Bytes s =
        hex("53"
            "06a12aea"
            "0004");  // FC, P0 = DPPK-ID, L0 = 4
    std::uint8_t mac[32];
    unsigned int len = 0;
    HMAC(EVP_sha256(), gmk.data(), static_cast<int>(gmk.size()), s.data(), s.size(), mac, &len);
    auto dpck = dpckFromDppk(gmk, 0x06a12aea);
    ASSERT_TRUE(dpck);
    EXPECT_EQ(toHex(*dpck), toHex(ByteView(mac + 16, 16)));
}

TEST(Uid, IsSha256OverTheF21ParameterString) {
    // F.2.1: FC 0x00, "MIKEY-SAKKE-UID", the URI, the KMS URI, key period 2592000, offset 0,
    // period number 553, each followed by its 2-octet length; integers as 33.220 B.2.1.3
    // non-negative integers (fewest octets, 0 -> 0x00). A real KMS's UIDs are checked in
    // streamwide_interop_test.cpp.
    const std::string uri = "sip:user@example.org";
    const std::string kms = "secgroup1.kms.example.org";
    Bytes s = hex("00");
    auto put = [&s](ByteView v) {
        s.insert(s.end(), v.begin(), v.end());
        s.push_back(static_cast<std::uint8_t>(v.size() >> 8));
        s.push_back(static_cast<std::uint8_t>(v.size()));
    };
    put(asBytes("MIKEY-SAKKE-UID"));
    put(asBytes(uri));
    put(asBytes(kms));
    put(hex("278d00"));  // 2592000
    put(hex("00"));      // 0
    put(hex("0229"));    // 553
    std::uint8_t md[32];
    SHA256(s.data(), s.size(), md);
    EXPECT_EQ(toHex(mikeySakkeUid(uri, kms, 2592000, 0, 553)), toHex(ByteView(md, 32)));
}

TEST(Uid, KeyPeriodNumberCountsFromTheOffset) {
    EXPECT_EQ(keyPeriodNo(2592000ULL * 553 + 17, 2592000, 0), 553u);
    EXPECT_EQ(keyPeriodNo(100 + 10 * 3600, 3600, 100), 10u);
    EXPECT_EQ(keyPeriodNo(50, 3600, 100), 0u);
    EXPECT_EQ(toHex(encodeNonNegative(0)), "00");
    EXPECT_EQ(toHex(encodeNonNegative(256)), "0100");
}

TEST(KeyIds, PurposeTagIsTheTopNibble) {
    EXPECT_EQ(purposeOf(0x0df9bc39), KeyPurpose::Gmk);
    EXPECT_EQ(purposeOf(0x16992638), KeyPurpose::Pck);
    EXPECT_EQ(purposeOf(0x2ddd5bf0), KeyPurpose::Csk);
    EXPECT_EQ(withPurpose(KeyPurpose::Pck, 0xffffffff), 0x1fffffffu);
}

}  // namespace
}  // namespace iwf::mc::security
