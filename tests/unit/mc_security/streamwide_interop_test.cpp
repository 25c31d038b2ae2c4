// MIKEY-SAKKE against a real MC implementation: the I_MESSAGEs, key sets and UIDs published by
// Streamwide's sw_mikey_sakke (StreamwideTestVectors.md, v5; tests/data/mc_security/
// streamwide_v5.vec). Nothing here was produced by OpenIWF: the messages were built and signed
// by that library, the keys issued by its KMS. Receiving them exercises, against a peer's
// output, the MIKEY parser, the ECCSI signature check with the initiator's UID, the SAKKE
// decapsulation with our RSK, the F.2.1 UID (the responder's UID in IDR role 9 must equal the
// one we compute from our URI), the F.1.3 GUK-ID salt (GMK-ID recovered from the GUK-ID) and
// the "3GPP key parameters" protected payload (DPCK of F.1.5, AES-128-GCM).
#include <string>

#include <gtest/gtest.h>

#include "common/bytes.hpp"
#include "mc_adapters/security/eccsi.hpp"
#include "mc_adapters/security/key_derivation.hpp"
#include "mc_adapters/security/mikey_sakke.hpp"
#include "mc_adapters/security/sakke.hpp"
#include "tests/unit/mc_security/streamwide.hpp"

namespace iwf::mc::security {
namespace {

using test::sw;
using test::swDirectory;
using test::swKms;
using test::swUser;
constexpr std::uint64_t kNow = test::kSwNow;

TEST(StreamwideInterop, UidsOfTheirKmsAreTheF21UidsWeCompute) {
    const KmsCertificate kms = swKms();
    EXPECT_EQ(keyPeriodNo(kNow, kms.user_key_period, kms.user_key_offset), 236u);
    EXPECT_EQ(toHex(uidFor("gms@streamwide.com", kms, kNow)), toHex(sw()["gms_uid"]));
    EXPECT_EQ(toHex(uidFor("sip:alice@streamwide.com", kms, kNow)), toHex(sw()["alice_uid"]));
    EXPECT_EQ(toHex(uidFor("sip:bob@streamwide.com", kms, kNow)), toHex(sw()["bob_uid"]));
}

TEST(StreamwideInterop, TheirMikeySakkeUidTestVectors) {
    // StreamwideTestVectors.md "MIKEYSAKKE-UID", tests 1 to 5.
    const std::string uri = "sip:user@example.org";
    const std::string kms = "kms.example.org";
    EXPECT_EQ(toHex(mikeySakkeUid(uri, kms, 2592000, 0, 1)),
              "74e2af803ab5d72841bbced0ce319ffe64f6fe23c88a2d258aabcf6ac5658ef4");
    EXPECT_EQ(toHex(mikeySakkeUid(uri, kms, 10, 0, 10)),
              "94fb1a697c15d7e9d6b7062066affebda2d9e346e0090d67525c0c3ce666eafa");
    EXPECT_EQ(toHex(mikeySakkeUid(uri, kms, 25920000, 100, 1)),
              "3c0ad8828cfae1ad1d08b27cc7b61258c6cfcd405081b68cd778f1e1c7f562a7");
    EXPECT_EQ(toHex(mikeySakkeUid(uri, kms, 25920000, 100, 2048)),
              "c88b3fa5e36a08985d10f7b31a631b0265e8249f0312435e4984dbc3765c7f0c");
    EXPECT_EQ(toHex(mikeySakkeUid(uri, kms, 25920000, 45920000, 20393844)),
              "8dc05540167345538475101514f4eabd384abd6ba665782abb312ecaf05934e1");
}

TEST(StreamwideInterop, TheKeySetsTheirKmsIssuedValidate) {
    const KmsCertificate kms = swKms();
    for (const char* who : {"gms", "alice", "bob"}) {
        const std::string w = who;
        EXPECT_TRUE(eccsiValidateSigningKey(kms.kpak, sw()[w + "_uid"],
                                            EccsiSigningKey{sw()[w + "_ssk"], sw()[w + "_pvt"]})
                        .ok())
            << who;
        EXPECT_TRUE(sakkeValidateRsk(kms.z, sw()[w + "_uid"], sw()[w + "_rsk"]).ok()) << who;
    }
}

TEST(StreamwideInterop, TheirGmkIMessageGivesTheGmkItsIdAndParameters) {
    auto k = receiveIMessage(sw()["gmk_imessage"], swUser("sip:alice@streamwide.com", "alice"),
                             swDirectory(), kNow);
    ASSERT_TRUE(k) << k.error().toString();
    EXPECT_EQ(k->purpose, KeyPurpose::Gmk);
    EXPECT_EQ(toHex(k->key), "07d1a1677ac36d8e81620484689b3c2d");
    EXPECT_EQ(k->key_id, 0x0df9bc39u);  // GMK-ID
    EXPECT_EQ(k->csb_id, 0x06a12aeau);  // GUK-ID
    EXPECT_EQ(toHex(k->rand), "ca2f5d51ff0866362c1d85a56f84651e");
    EXPECT_EQ(toHex(k->mki()), "0df9bc3906a12aea");   // 33.180 §7.4.2: GMK-ID || GUK-ID
    EXPECT_EQ(k->initiator, toHex(sw()["gms_uid"]));  // IDR role 8: the GMS's UID
    ASSERT_TRUE(k->params);  // the key parameters extension opened with the GMK's DPCK
    EXPECT_EQ(k->params->key_type, 0);
    EXPECT_FALSE(k->params->revoked());
}

TEST(StreamwideInterop, TheirCskAndPckIMessagesGiveTheirKeys) {
    auto csk = receiveIMessage(sw()["csk_imessage"], swUser("gms@streamwide.com", "gms"),
                               swDirectory(), kNow);
    ASSERT_TRUE(csk) << csk.error().toString();
    EXPECT_EQ(csk->purpose, KeyPurpose::Csk);
    EXPECT_EQ(toHex(csk->key), "e06e65106183547342d3e8a6ce2540a8");
    EXPECT_EQ(csk->key_id, 0x2ddd5bf0u);
    EXPECT_EQ(toHex(csk->rand), "4d13c41798b82de13b701a9697328edd");

    auto pck = receiveIMessage(sw()["pck_imessage"], swUser("sip:bob@streamwide.com", "bob"),
                               swDirectory(), kNow);
    ASSERT_TRUE(pck) << pck.error().toString();
    EXPECT_EQ(pck->purpose, KeyPurpose::Pck);
    EXPECT_EQ(toHex(pck->key), "b4c96b703acd5c1bf7d4cc45068d9965");
    EXPECT_EQ(pck->key_id, 0x16992638u);
    EXPECT_EQ(toHex(pck->mki()), "16992638");  // 33.180 §7.4.1: the PCK-ID
    EXPECT_EQ(toHex(pck->rand), "02a28bddaf984c5e0563bc1ce857df83");
}

TEST(StreamwideInterop, TheirGmkIMessageIsRefusedByAnotherUserAndWhenAltered) {
    // Addressed to alice (IDR role 9 = alice's UID): bob may not take it.
    EXPECT_EQ(receiveIMessage(sw()["gmk_imessage"], swUser("sip:bob@streamwide.com", "bob"),
                              swDirectory(), kNow)
                  .error()
                  .reason,
              "mikey_not_for_us");
    Bytes bad = sw()["gmk_imessage"];
    bad[7] ^= 0x01;  // the GUK-ID (CSB ID, octets 4-7 of the common header)
    EXPECT_EQ(receiveIMessage(bad, swUser("sip:alice@streamwide.com", "alice"), swDirectory(), kNow)
                  .error()
                  .reason,
              "mikey_signature_invalid");
}

}  // namespace
}  // namespace iwf::mc::security
