// TS 33.180 Annex D KMS responses, read from two responses a real KMS sent to Streamwide's
// kms-agent (sw_mikey_sakke, kms-agent/unit_tests/test_init_response.xml and
// test_key_prov_response.xml; copied unchanged to tests/data/mc_security/kms/). Oracles: the
// values in those files (the KMS's UserID equals our F.2.1 UID), and for validateKeySet a
// certificate and key set of one real KMS (Streamwide's v5 vectors) in the same XML shape:
// they validate only if our RFC 6507 §5.1.2 / RFC 6508 §6.1.2 checks agree with that KMS.
#include "mc_adapters/security/kms_xml.hpp"

#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "common/bytes.hpp"
#include "mc_adapters/security/key_derivation.hpp"
#include "tests/unit/mc_security/vectors.hpp"

namespace iwf::mc::security {
namespace {

std::string readFile(const std::string& name) {
    std::ifstream in(std::string(IWF_SECURITY_DATA) + "/kms/" + name);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

const std::string& initXml() {
    static const std::string s = readFile("streamwide_kms_init_response.xml");
    return s;
}
const std::string& keyProvXml() {
    static const std::string s = readFile("streamwide_kms_keyprov_response.xml");
    return s;
}

std::string replaced(std::string s, const std::string& from, const std::string& to) {
    const auto at = s.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) {
        s.replace(at, from.size(), to);
    }
    return s;
}

TEST(KmsXml, InitResponseGivesTheKmsCertificate) {
    auto c = parseKmsInitResponse(initXml());
    ASSERT_TRUE(c) << c.error().toString();
    EXPECT_EQ(c->kms_uri, "localhost:8080");
    EXPECT_EQ(c->user_key_period, 2592000u);
    EXPECT_EQ(c->user_key_offset, 0u);
    EXPECT_EQ(c->z.size(), 257u);
    EXPECT_EQ(toHex(ByteView(c->z).first(5)), "045958ef1b");
    EXPECT_EQ(toHex(c->kpak),
              "0450d4670bde75244f28d2838a0d25558a7a72686d4522d4c8273fb6442aebfa93dbdd37551afd2"
              "63b5dfd617f3960c65a8c298850ff99f20366dce7d4367217f4");
}

TEST(KmsXml, KeyProvResponseGivesTheKeySetWithTheF21UidOfItsUser) {
    auto c = parseKmsInitResponse(initXml());
    auto k = parseKmsKeyProvResponse(keyProvXml());
    ASSERT_TRUE(c && k);
    EXPECT_EQ(k->user_uri, "alice@org.com");
    EXPECT_EQ(k->key_period_no, 625u);
    EXPECT_EQ(toHex(k->signing.ssk),
              "d31c6fd21791d92d0bc721b50125c2b83450f4727ec5a845853ad30e023c34f3");
    // The KMS's UserID is the F.2.1 UID we compute for (UserUri, KmsUri, period 625).
    EXPECT_EQ(toHex(k->uid), "060c5cddd13b87be1e37d3ff091101684b88aadef26c409a8b49c8da9dd81a05");
    EXPECT_EQ(toHex(mikeySakkeUid("alice@org.com", "localhost:8080", 2592000, 0, 625)),
              toHex(k->uid));
    // The two sample files come from KMS runs with different master secrets (the init response
    // carries the RFC 6507/6508 test keys): this key set is not for that certificate, and
    // validateKeySet says so instead of accepting it.
    EXPECT_EQ(validateKeySet(*c, *k).error().reason, "kms_ssk_invalid");
}

// The sample responses' shape with the values of Streamwide's KMS kms.mydev.streamwide.com
// (StreamwideTestVectors.md v5, streamwide_v5.vec): a certificate and alice's key set that
// belong together.
struct MatchingPair {
    KmsCertificate cert;
    UserKeySet keys;
};
MatchingPair matchingPair() {
    static const test::Vectors sw("streamwide_v5.vec");
    std::string init = initXml();
    init = replaced(init, "<KmsUri>localhost:8080</KmsUri>\n        <UserIdFormat>",
                    "<KmsUri>kms.mydev.streamwide.com</KmsUri>\n        <UserIdFormat>");
    init = replaced(init, "<UserKeyPeriod>2592000", "<UserKeyPeriod>16777215");
    const auto z0 = init.find("<PubEncKey>") + 11;
    init.replace(z0, init.find("</PubEncKey>") - z0, toHex(sw["Z"]));
    const auto k0 = init.find("<PubAuthKey>") + 12;
    init.replace(k0, init.find("</PubAuthKey>") - k0, toHex(sw["KPAK"]));
    std::string prov = keyProvXml();
    prov = replaced(prov, "<UserUri>alice@org.com</UserUri>\n                <UserID>",
                    "<UserUri>sip:alice@streamwide.com</UserUri>\n                <UserID>");
    for (const auto& [tag, name] :
         {std::pair{"UserID", "alice_uid"}, std::pair{"UserDecryptKey", "alice_rsk"},
          std::pair{"UserSigningKeySSK", "alice_ssk"}, std::pair{"UserPubTokenPVT", "alice_pvt"}}) {
        const std::string open = std::string("<") + tag + ">";
        const auto at = prov.find(open) + open.size();
        prov.replace(at, prov.find(std::string("</") + tag + ">") - at, toHex(sw[name]));
    }
    prov = replaced(prov, "<KeyPeriodNo>625", "<KeyPeriodNo>236");
    return {parseKmsInitResponse(init).value(), parseKmsKeyProvResponse(prov).value()};
}

TEST(KmsXml, AKeySetValidatesUnderItsKmsAndIsRefusedByNameWhenItDoesNotBelong) {
    const MatchingPair m = matchingPair();
    EXPECT_EQ(m.cert.kms_uri, "kms.mydev.streamwide.com");
    auto st = validateKeySet(m.cert, m.keys);
    EXPECT_TRUE(st.ok()) << st.error().toString();
    UserKeySet other_period = m.keys;
    other_period.key_period_no = 237;
    EXPECT_EQ(validateKeySet(m.cert, other_period).error().reason, "kms_uid_mismatch");
    UserKeySet bad_ssk = m.keys;
    bad_ssk.signing.ssk.back() ^= 1;
    EXPECT_EQ(validateKeySet(m.cert, bad_ssk).error().reason, "kms_ssk_invalid");
    UserKeySet bad_rsk = m.keys;
    bad_rsk.rsk = m.cert.z;  // a point of E, but not alice's RSK
    EXPECT_EQ(validateKeySet(m.cert, bad_rsk).error().reason, "kms_rsk_invalid");
}

TEST(KmsXml, MalformedResponsesNameTheElement) {
    EXPECT_EQ(parseKmsInitResponse("<KmsResponse").error().reason, "kms_xml_malformed");
    EXPECT_EQ(parseKmsInitResponse(
                  replaced(initXml(), "urn:3gpp:ns:mcsecKMSInterface:1.0", "urn:example:other"))
                  .error()
                  .reason,
              "kms_xml_not_kms_response");
    EXPECT_EQ(parseKmsInitResponse(keyProvXml()).error().reason, "kms_xml_missing:KmsInit");
    EXPECT_EQ(
        parseKmsInitResponse(replaced(initXml(), "<UserKeyPeriod>2592000", "<UserKeyPeriod>25x"))
            .error()
            .reason,
        "kms_xml_bad_value:UserKeyPeriod");
    EXPECT_EQ(
        parseKmsInitResponse(replaced(initXml(), "<PubAuthKey>04", "<PubAuthKey>")).error().reason,
        "kms_xml_bad_value:PubAuthKey");
    EXPECT_EQ(parseKmsInitResponse(replaced(initXml(), "<UserIdFormat>2", "<UserIdFormat>1"))
                  .error()
                  .reason,
              "kms_user_id_format");
    EXPECT_EQ(
        parseKmsKeyProvResponse(replaced(replaced(keyProvXml(), "<UserDecryptKey>", "<Other>"),
                                         "</UserDecryptKey>", "</Other>"))
            .error()
            .reason,
        "kms_xml_missing:UserDecryptKey");
}

}  // namespace
}  // namespace iwf::mc::security
