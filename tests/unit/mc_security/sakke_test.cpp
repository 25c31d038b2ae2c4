// SAKKE (RFC 6508) with parameter set 1 (RFC 6509 Appendix A) against the RFC's own example
// data (RFC 6508 Appendix A): every intermediate value the appendix prints, and refusals.
// Oracle: the values printed in RFC 6508 Appendix A and RFC 6509 Appendix A
// (tests/data/mc_security/README.md).
#include "mc_adapters/security/sakke.hpp"

#include <gtest/gtest.h>

#include "common/bytes.hpp"
#include "tests/unit/mc_security/vectors.hpp"

namespace iwf::mc::security {
namespace {

Bytes hex(std::string_view s) {
    return fromHex(s).value();
}

// RFC 6508 Appendix A and RFC 6509 Appendix A (parameter set 1).
Bytes V(const char* name) {
    static const test::Vectors v("rfc6508_appendix_a.vec");
    return v[name];
}
Bytes P1(const char* name) {
    static const test::Vectors v("rfc6509_appendix_a.vec");
    return v[name];
}
Bytes rfcB() {
    return V("b");
}

Bytes concat(ByteView a, ByteView b) {
    Bytes out(a.begin(), a.end());
    out.insert(out.end(), b.begin(), b.end());
    return out;
}

TEST(Sakke, PairingOfPWithItselfIsTheParameterSetG) {
    auto g = sakkePairing(P1("P"), P1("P"));
    ASSERT_TRUE(g) << g.error().toString();
    EXPECT_EQ(toHex(*g), toHex(P1("g")));
    EXPECT_EQ(toHex(sakkeG()), toHex(P1("g")));
}

TEST(Sakke, KmsDerivesTheRfcPublicKeyAndRsk) {
    auto z = sakkeKmsPublicKey(V("z"));
    ASSERT_TRUE(z);
    EXPECT_EQ(toHex(*z), toHex(V("Z")));
    auto rsk = sakkeIssueRsk(V("z"), rfcB());
    ASSERT_TRUE(rsk);
    EXPECT_EQ(toHex(*rsk), toHex(V("K_bS")));
}

TEST(Sakke, HashToIntegerRangeGivesTheRfcRAndMask) {
    auto r = sakkeHashToIntegerRange(concat(V("SSV"), rfcB()), P1("q"), 128);
    ASSERT_TRUE(r);
    EXPECT_EQ(toHex(*r), toHex(V("r")));
    auto mask =
        sakkeHashToIntegerRange(V("g_r"), hex("01 00000000 00000000 00000000 00000000"), 16);
    ASSERT_TRUE(mask);
    EXPECT_EQ(toHex(*mask), toHex(V("mask")));
}

TEST(Sakke, PairingOfRbWithTheRskIsTheRfcGToTheR) {
    auto w = sakkePairing(V("R_bS"), V("K_bS"));
    ASSERT_TRUE(w);
    EXPECT_EQ(toHex(*w), toHex(V("g_r")));
}

TEST(Sakke, SenderProducesTheRfcEncapsulatedData) {
    auto enc = sakkeEncapsulate(V("Z"), rfcB(), V("SSV"));
    ASSERT_TRUE(enc) << enc.error().toString();
    EXPECT_EQ(toHex(*enc), toHex(concat(V("R_bS"), V("H"))));
}

TEST(Sakke, ReceiverRecoversTheRfcSsv) {
    auto ssv = sakkeDecapsulate(V("Z"), rfcB(), V("K_bS"), concat(V("R_bS"), V("H")));
    ASSERT_TRUE(ssv) << ssv.error().toString();
    EXPECT_EQ(toHex(*ssv), toHex(V("SSV")));
}

TEST(Sakke, TheRfcRskValidatesAndAnotherIdentitysDoesNot) {
    EXPECT_TRUE(sakkeValidateRsk(V("Z"), rfcB(), V("K_bS")).ok());
    Bytes other = rfcB();
    other[6] = '3';  // "2011-03..."
    EXPECT_EQ(sakkeValidateRsk(V("Z"), other, V("K_bS")).error().reason, "sakke_rsk_invalid");
}

TEST(Sakke, ATamperedHintOrPointIsRefusedNotSilentlyWrong) {
    Bytes enc = concat(V("R_bS"), V("H"));
    Bytes bad_h = enc;
    bad_h.back() ^= 0x01;
    EXPECT_EQ(sakkeDecapsulate(V("Z"), rfcB(), V("K_bS"), bad_h).error().reason,
              "sakke_check_failed");
    Bytes bad_point = enc;
    bad_point[100] ^= 0x01;  // R no longer on the curve
    EXPECT_EQ(sakkeDecapsulate(V("Z"), rfcB(), V("K_bS"), bad_point).error().reason,
              "sakke_bad_format");
    EXPECT_EQ(sakkeDecapsulate(V("Z"), rfcB(), V("K_bS"), ByteView(enc).first(272)).error().reason,
              "sakke_bad_format");
}

TEST(Sakke, AWrongRskFailsTheCheck) {
    Bytes other = rfcB();
    other[6] = '3';
    auto rsk2 = sakkeIssueRsk(V("z"), other);
    ASSERT_TRUE(rsk2);
    EXPECT_EQ(sakkeDecapsulate(V("Z"), rfcB(), *rsk2, concat(V("R_bS"), V("H"))).error().reason,
              "sakke_check_failed");
}

}  // namespace
}  // namespace iwf::mc::security
