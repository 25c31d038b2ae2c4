// ECCSI (RFC 6507) against the RFC's own test data (Appendix A), and the refusals.
// Oracle: the values printed in RFC 6507 Appendix A (tests/data/mc_security/README.md).
#include "mc_adapters/security/eccsi.hpp"

#include <gtest/gtest.h>

#include "common/bytes.hpp"
#include "tests/unit/mc_security/vectors.hpp"

namespace iwf::mc::security {
namespace {

// RFC 6507 Appendix A.
const test::Vectors& rfc() {
    static const test::Vectors v("rfc6507_appendix_a.vec");
    return v;
}
Bytes V(const char* name) {
    return rfc()[name];
}
Bytes rfcId() {
    return V("ID");
}
Bytes rfcMessage() {
    return V("M");
}

TEST(Eccsi, KmsDerivesTheRfcKpakPvtHsAndSsk) {
    auto kpak = eccsiKpakFromKsak(V("KSAK"));
    ASSERT_TRUE(kpak);
    EXPECT_EQ(toHex(*kpak), toHex(V("KPAK")));
    auto key = eccsiIssueSigningKey(V("KSAK"), rfcId(), V("v"));
    ASSERT_TRUE(key);
    EXPECT_EQ(toHex(key->pvt), toHex(V("PVT")));
    EXPECT_EQ(toHex(key->ssk), toHex(V("SSK")));
    auto hs = eccsiHs(V("KPAK"), rfcId(), V("PVT"));
    ASSERT_TRUE(hs);
    EXPECT_EQ(toHex(*hs), toHex(V("HS")));
}

TEST(Eccsi, SigningWithTheRfcEphemeralGivesTheRfcSignature) {
    EccsiSigningKey key{V("SSK"), V("PVT")};
    auto sig = eccsiSign(V("KPAK"), rfcId(), key, rfcMessage(), ByteView(V("j")));
    ASSERT_TRUE(sig) << sig.error().toString();
    EXPECT_EQ(toHex(*sig), toHex(V("Signature")));
}

TEST(Eccsi, TheRfcSignatureVerifies) {
    EXPECT_TRUE(eccsiVerify(V("KPAK"), rfcId(), rfcMessage(), V("Signature")).ok());
}

TEST(Eccsi, TheRfcKeyPairValidates) {
    EccsiSigningKey key{V("SSK"), V("PVT")};
    EXPECT_TRUE(eccsiValidateSigningKey(V("KPAK"), rfcId(), key).ok());
    key.ssk.back() ^= 1;
    EXPECT_EQ(eccsiValidateSigningKey(V("KPAK"), rfcId(), key).error().reason, "eccsi_key_invalid");
}

TEST(Eccsi, AnyAlteredByteFailsVerification) {
    const Bytes sig = V("Signature");
    for (std::size_t i = 0; i < sig.size(); i += 7) {
        Bytes bad = sig;
        bad[i] ^= 0x01;
        EXPECT_FALSE(eccsiVerify(V("KPAK"), rfcId(), rfcMessage(), bad).ok()) << "byte " << i;
    }
    Bytes msg = rfcMessage();
    msg[0] ^= 0x20;
    EXPECT_EQ(eccsiVerify(V("KPAK"), rfcId(), msg, sig).error().reason, "eccsi_bad_signature");
    Bytes other_id = rfcId();
    other_id[5] = '3';
    EXPECT_EQ(eccsiVerify(V("KPAK"), other_id, rfcMessage(), sig).error().reason,
              "eccsi_bad_signature");
    EXPECT_EQ(
        eccsiVerify(V("KPAK"), rfcId(), rfcMessage(), ByteView(sig).first(128)).error().reason,
        "eccsi_bad_format");
}

TEST(Eccsi, RandomEphemeralSignaturesVerifyAndDiffer) {
    EccsiSigningKey key{V("SSK"), V("PVT")};
    auto a = eccsiSign(V("KPAK"), rfcId(), key, rfcMessage());
    auto b = eccsiSign(V("KPAK"), rfcId(), key, rfcMessage());
    ASSERT_TRUE(a);
    ASSERT_TRUE(b);
    EXPECT_NE(*a, *b);
    EXPECT_TRUE(eccsiVerify(V("KPAK"), rfcId(), rfcMessage(), *a).ok());
    EXPECT_TRUE(eccsiVerify(V("KPAK"), rfcId(), rfcMessage(), *b).ok());
}

}  // namespace
}  // namespace iwf::mc::security
