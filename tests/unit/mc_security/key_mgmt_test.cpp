// The SDP side of TS 33.180 key delivery: RFC 4567's a=key-mgmt:mikey with RFC 4648 base64
// (security/key_mgmt.hpp) and RTP/SAVP on the MCPTT audio line (mcptt_sdp.cpp). Oracles: the
// test vectors of RFC 4648 §10, and SDP lines written out from RFC 4567 §3.1 / RFC 3711 §12.
#include "mc_adapters/security/key_mgmt.hpp"

#include <gtest/gtest.h>

#include "mc_adapters/mcptt/mcptt_sdp.hpp"

namespace iwf::mc::security {
namespace {

Bytes keyMgmtBytes(std::string_view s) {
    return Bytes(s.begin(), s.end());
}

TEST(KeyMgmtBase64, Rfc4648Section10Vectors) {
    const std::pair<std::string_view, std::string_view> v[] = {{"", ""},
                                                               {"f", "Zg=="},
                                                               {"fo", "Zm8="},
                                                               {"foo", "Zm9v"},
                                                               {"foob", "Zm9vYg=="},
                                                               {"fooba", "Zm9vYmE="},
                                                               {"foobar", "Zm9vYmFy"}};
    for (const auto& [plain, enc] : v) {
        EXPECT_EQ(base64Encode(keyMgmtBytes(plain)), enc) << plain;
        auto d = base64Decode(enc);
        ASSERT_TRUE(d) << enc;
        EXPECT_EQ(*d, keyMgmtBytes(plain)) << enc;
    }
}

TEST(KeyMgmtBase64, MalformedIsRefused) {
    for (std::string_view bad : {"Zg=", "Zg===", "Z===", "Zm9v!A==", "Zm 9v", "=Zm9", "Zm=v"}) {
        auto d = base64Decode(bad);
        ASSERT_FALSE(d) << bad;
        EXPECT_EQ(d.error().reason, "key_mgmt_bad_base64") << bad;
    }
}

TEST(KeyMgmtAttribute, MikeyOnlyAndNonEmpty) {
    const Bytes msg = {0x01, 0x1a, 0x05, 0x00, 0xde, 0xad};
    EXPECT_EQ(formatKeyMgmt(msg), "mikey ARoFAN6t");
    EXPECT_EQ(parseKeyMgmt("mikey ARoFAN6t").value(), msg);
    EXPECT_EQ(parseKeyMgmt("kerberos ARoFAN6t").error().reason, "key_mgmt_not_mikey");
    EXPECT_EQ(parseKeyMgmt("mikeyARoFAN6t").error().reason, "key_mgmt_not_mikey");
    EXPECT_EQ(parseKeyMgmt("mikey ").error().reason, "key_mgmt_empty");
    EXPECT_EQ(parseKeyMgmt("mikey AR*FAN6t").error().reason, "key_mgmt_bad_base64");
}

TEST(KeyMgmtSdp, ProtectedAudioLineIsSavpWithTheIMessage) {
    mcptt::McpttMedia m;
    m.address = "192.0.2.7";
    m.audio_port = 4000;
    m.floor = false;
    m.srtp = true;
    m.key_mgmt = {0x01, 0x1a, 0x05, 0x00, 0xde, 0xad};
    const std::string text = mcptt::buildMcpttSdp(m, 1).toString();
    // RFC 3711 §12 (RTP/SAVP) and RFC 4567 §3.1 (key-mgmt-attribute), media level.
    EXPECT_NE(text.find("m=audio 4000 RTP/SAVP 96\r\n"), std::string::npos) << text;
    EXPECT_NE(text.find("a=key-mgmt:mikey ARoFAN6t\r\n"), std::string::npos) << text;
    auto back = mcptt::readMcpttSdp(sip::parseSdp(text).value());
    ASSERT_TRUE(back);
    EXPECT_TRUE(back->srtp);
    EXPECT_EQ(back->key_mgmt, m.key_mgmt);
    // The answer keeps RTP/SAVP only if we protect the call, and never carries a key-mgmt.
    mcptt::McpttMedia ours;
    ours.address = "192.0.2.1";
    ours.audio_port = 5000;
    ours.floor = false;
    EXPECT_FALSE(mcptt::answerMedia(*back, ours)->srtp);
    ours.srtp = true;
    auto a = mcptt::answerMedia(*back, ours);
    EXPECT_TRUE(a->srtp);
    EXPECT_TRUE(a->key_mgmt.empty());
    // Unprotected: byte for byte the RTP/AVP line as before, no key-mgmt.
    m.srtp = false;
    m.key_mgmt.clear();
    const std::string plain = mcptt::buildMcpttSdp(m, 1).toString();
    EXPECT_NE(plain.find("m=audio 4000 RTP/AVP 96\r\n"), std::string::npos);
    EXPECT_EQ(plain.find("key-mgmt"), std::string::npos);
}

TEST(KeyMgmtSdp, SessionLevelAndOtherProtocolIdsAndBadData) {
    const std::string head =
        "v=0\r\no=- 1 1 IN IP4 192.0.2.7\r\ns=-\r\nc=IN IP4 192.0.2.7\r\nt=0 0\r\n";
    const std::string audio = "m=audio 4000 RTP/SAVP 96\r\na=rtpmap:96 X-IWF-LMR/8000\r\n";
    // RFC 4567 §3.1: at session level it applies to every stream; another protocol id first.
    auto s1 = mcptt::readMcpttSdp(
        sip::parseSdp(head + "a=key-mgmt:kerberos AAAA\r\na=key-mgmt:mikey ARoFAN6t\r\n" + audio)
            .value());
    ASSERT_TRUE(s1);
    EXPECT_EQ(s1->key_mgmt, (Bytes{0x01, 0x1a, 0x05, 0x00, 0xde, 0xad}));
    auto s2 =
        mcptt::readMcpttSdp(sip::parseSdp(head + audio + "a=key-mgmt:mikey AR*F\r\n").value());
    ASSERT_FALSE(s2);
    EXPECT_EQ(s2.error().reason, "key_mgmt_bad_base64");
}

}  // namespace
}  // namespace iwf::mc::security
