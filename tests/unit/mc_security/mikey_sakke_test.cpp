// MIKEY-SAKKE I_MESSAGE exchange as TS 33.180 profiles it: a GMK from a group management
// server to the IWF's identity, a PCK from the IWF to an MC user, and every refusal of
// receiveIMessage (signature first, then addressing, SAKKE, key parameters). Key material is
// issued the way a KMS issues it (RFC 6507 §5.1.1, RFC 6508 §6.1.1) from fixed master secrets.
#include "mc_adapters/security/mikey_sakke.hpp"

#include <gtest/gtest.h>

#include "common/bytes.hpp"
#include "mc_adapters/security/eccsi.hpp"
#include "mc_adapters/security/mikey.hpp"
#include "mc_adapters/security/sakke.hpp"

namespace iwf::mc::security {
namespace {

Bytes hex(std::string_view s) {
    return fromHex(s).value();
}

// 2025-10-... in NTP seconds; the period (30 days) is 1531.
constexpr std::uint64_t kNow = 3968437672ULL;

struct TestKms {
    Bytes ksak = hex("7a1d4c9b33e8f1024c6e9d8b1a2f3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d");
    Bytes z = hex("0123456789abcdef0123456789abcdef01234567");
    KmsCertificate cert;

    explicit TestKms(std::string uri) {
        cert.kms_uri = std::move(uri);
        cert.kpak = eccsiKpakFromKsak(ksak).value();
        cert.z = sakkeKmsPublicKey(z).value();
    }
    MikeyIdentity identity(const std::string& user, std::uint8_t v_seed,
                           std::uint64_t now = kNow) const {
        MikeyIdentity id;
        id.user_uri = user;
        id.kms = cert;
        id.keys.user_uri = user;
        id.keys.key_period_no = keyPeriodNo(now, cert.user_key_period, cert.user_key_offset);
        id.keys.uid = uidFor(user, cert, now);
        id.keys.rsk = sakkeIssueRsk(z, id.keys.uid).value();
        id.keys.signing = eccsiIssueSigningKey(ksak, id.keys.uid, Bytes(32, v_seed)).value();
        return id;
    }
};

class MikeySakke : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        kms_ = new TestKms("kms.example.org");
        gms_ = new MikeyIdentity(kms_->identity("sip:gms@example.org", 0x11));
        iwf_ = new MikeyIdentity(kms_->identity("sip:iwf-1@example.org", 0x22));
        user_ = new MikeyIdentity(kms_->identity("sip:alice@example.org", 0x33));
    }
    static void TearDownTestSuite() {
        delete kms_;
        delete gms_;
        delete iwf_;
        delete user_;
    }
    KmsDirectory directory() const { return {{kms_->cert.kms_uri, kms_->cert}}; }

    KeyToSend gmk(std::optional<KeyParameters> params = std::nullopt) const {
        KeyToSend k;
        k.purpose = KeyPurpose::Gmk;
        k.key = hex("07d1a1677ac36d8e81620484689b3c2d");
        k.key_id = 0x0df9bc39;
        k.rand = hex("ca2f5d51ff0866362c1d85a56f84651e");
        k.timestamp_ntp = kNow << 32;
        k.params = std::move(params);
        return k;
    }

    static TestKms* kms_;
    static MikeyIdentity* gms_;
    static MikeyIdentity* iwf_;
    static MikeyIdentity* user_;
};
TestKms* MikeySakke::kms_ = nullptr;
MikeyIdentity* MikeySakke::gms_ = nullptr;
MikeyIdentity* MikeySakke::iwf_ = nullptr;
MikeyIdentity* MikeySakke::user_ = nullptr;

TEST_F(MikeySakke, IssuedKeysValidateAsTheRfcsRequire) {
    EXPECT_TRUE(eccsiValidateSigningKey(kms_->cert.kpak, iwf_->keys.uid, iwf_->keys.signing).ok());
    EXPECT_TRUE(sakkeValidateRsk(kms_->cert.z, iwf_->keys.uid, iwf_->keys.rsk).ok());
}

TEST_F(MikeySakke, GmkFromTheGroupManagementServerReachesTheIwf) {
    KeyParameters p;
    p.key_type = 0;
    p.text = "talkgroup 1001";
    p.activation_time = kNow + 60;  // usable from a minute from now
    auto msg = buildIMessage(*gms_, iwf_->user_uri, kms_->cert, gmk(p));
    ASSERT_TRUE(msg) << msg.error().toString();
    auto k = receiveIMessage(*msg, *iwf_, directory(), kNow);
    ASSERT_TRUE(k) << k.error().toString();
    EXPECT_EQ(k->purpose, KeyPurpose::Gmk);
    EXPECT_EQ(toHex(k->key), "07d1a1677ac36d8e81620484689b3c2d");
    EXPECT_EQ(k->key_id, 0x0df9bc39u);
    EXPECT_EQ(k->csb_id, gukIdFromGmkId(k->key, iwf_->user_uri, 0x0df9bc39).value());
    EXPECT_NE(k->csb_id, k->key_id);
    EXPECT_EQ(toHex(k->mki()), toHex(ByteView(hex("0df9bc39"))) + toHex(k->mki()).substr(8));
    EXPECT_EQ(k->initiator, "sip:gms@example.org");
    EXPECT_EQ(k->profile, SrtpProfile::AeadAes128Gcm);
    EXPECT_TRUE(k->roc_in_packet);  // E.2.2 default: RCCm3
    ASSERT_TRUE(k->params);
    EXPECT_EQ(k->params->text, "talkgroup 1001");
    EXPECT_EQ(k->activationTime(), kNow + 60);
}

TEST_F(MikeySakke, PckFromTheIwfReachesTheCalledUser) {
    KeyToSend k;
    k.purpose = KeyPurpose::Pck;
    k.key = hex("b4c96b703acd5c1bf7d4cc45068d9965");
    k.key_id = 0x16992638;
    k.timestamp_ntp = kNow << 32;
    auto msg = buildIMessage(*iwf_, user_->user_uri, kms_->cert, k);
    ASSERT_TRUE(msg);
    auto got = receiveIMessage(*msg, *user_, directory(), kNow);
    ASSERT_TRUE(got) << got.error().toString();
    EXPECT_EQ(got->purpose, KeyPurpose::Pck);
    EXPECT_EQ(got->key_id, 0x16992638u);
    EXPECT_EQ(toHex(got->mki()), "16992638");
    EXPECT_FALSE(got->roc_in_packet);
    EXPECT_EQ(got->rand.size(), 16u);
}

TEST_F(MikeySakke, ATamperedMessageIsRefusedAtTheSignature) {
    auto msg = buildIMessage(*gms_, iwf_->user_uri, kms_->cert, gmk());
    ASSERT_TRUE(msg);
    auto parsed = mikey::parse(*msg).value();
    // Flip one bit of the SAKKE data (a wrong GMK), and one of the CSB ID.
    for (std::size_t at : {msg->size() - 129 - 10, std::size_t{5}}) {
        Bytes bad = *msg;
        bad[at] ^= 0x01;
        EXPECT_EQ(receiveIMessage(bad, *iwf_, directory(), kNow).error().reason,
                  "mikey_signature_invalid")
            << at;
    }
    // A signature by a key the KMS did not issue for the initiator.
    MikeyIdentity forger = *gms_;
    forger.keys.signing = kms_->identity("sip:mallory@example.org", 0x44).keys.signing;
    auto forged = buildIMessage(forger, iwf_->user_uri, kms_->cert, gmk());
    ASSERT_TRUE(forged);
    EXPECT_EQ(receiveIMessage(*forged, *iwf_, directory(), kNow).error().reason,
              "mikey_signature_invalid");
}

TEST_F(MikeySakke, MessagesForOthersUnknownKmsAndOtherPeriodsAreRefused) {
    auto for_alice = buildIMessage(*gms_, user_->user_uri, kms_->cert, gmk());
    ASSERT_TRUE(for_alice);
    EXPECT_EQ(receiveIMessage(*for_alice, *iwf_, directory(), kNow).error().reason,
              "mikey_not_for_us");
    auto msg = buildIMessage(*gms_, iwf_->user_uri, kms_->cert, gmk());
    ASSERT_TRUE(msg);
    EXPECT_EQ(receiveIMessage(*msg, *iwf_, KmsDirectory{}, kNow).error().reason,
              "mikey_unknown_kms");
    // The GMS already holds its keys for the next key period; the IWF does not.
    const std::uint64_t next_period = kNow + 40 * 86400ULL;
    KeyToSend later = gmk();
    later.timestamp_ntp = next_period << 32;
    auto next = buildIMessage(kms_->identity(gms_->user_uri, 0x11, next_period), iwf_->user_uri,
                              kms_->cert, later);
    ASSERT_TRUE(next);
    EXPECT_EQ(receiveIMessage(*next, *iwf_, directory(), kNow).error().reason,
              "mikey_key_period_mismatch");
}

TEST_F(MikeySakke, RevokedAndExpiredKeysAreRefused) {
    KeyParameters revoked;
    revoked.status = 0;
    auto m1 = buildIMessage(*gms_, iwf_->user_uri, kms_->cert, gmk(revoked));
    ASSERT_TRUE(m1);
    EXPECT_EQ(receiveIMessage(*m1, *iwf_, directory(), kNow).error().reason, "mikey_key_revoked");
    KeyParameters expired;
    expired.expiry_time = kNow - 1;
    auto m2 = buildIMessage(*gms_, iwf_->user_uri, kms_->cert, gmk(expired));
    ASSERT_TRUE(m2);
    EXPECT_EQ(receiveIMessage(*m2, *iwf_, directory(), kNow).error().reason, "mikey_key_expired");
}

TEST(KeyParams, SealOpenRoundTripAndWrongKeyFails) {
    KeyParameters p;
    p.key_type = 0;
    p.status = 3;
    p.activation_time = 0x1122334455;
    p.expiry_time = 0x66778899aa;
    p.text = "tg";
    const Bytes gmk = hex("07d1a1677ac36d8e81620484689b3c2d");
    auto sealed = sealKeyParameters(p, gmk, 0x06a12aea, Bytes(16, 0x42));
    ASSERT_TRUE(sealed);
    // Envelope: type 0x43, date/time 1, payload ID 0, sequence 0, algorithm 1, IV, DPPK-ID,
    // payload type 0, length = plaintext (1+4+5+5+2+2 = 19) + tag 16 = 35.
    EXPECT_EQ(toHex(ByteView(*sealed).first(12)), "430000000001000000000001");
    EXPECT_EQ(toHex(ByteView(*sealed).subspan(28, 7)), "06a12aea000023");
    EXPECT_EQ(openKeyParameters(*sealed, gmk, 0x06a12aea).value(), p);
    Bytes other = gmk;
    other[0] ^= 1;
    EXPECT_EQ(openKeyParameters(*sealed, other, 0x06a12aea).error().reason, "keyparams_auth_fail");
    EXPECT_EQ(openKeyParameters(*sealed, gmk, 0x06a12aeb).error().reason, "keyparams_wrong_key_id");
}

}  // namespace
}  // namespace iwf::mc::security
