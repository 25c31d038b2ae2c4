#include <gtest/gtest.h>

#include "mc_adapters/mcptt/encryption.hpp"
#include "mc_adapters/mcptt/mcptt_info.hpp"
#include "mc_adapters/mcptt/mcptt_sdp.hpp"

namespace iwf::mc::mcptt {
namespace {

McpttInfo fullInfo() {
    McpttInfo i;
    i.session_type = "prearranged";
    i.request_uri = "sip:group1@mc.example";
    i.calling_user_id = "sip:lmr-1001@iwf.example";
    i.called_party_id = "sip:bob@mc.example";
    i.calling_group_id = "sip:group1@mc.example";
    i.emergency = true;
    i.alert = false;
    i.imminent_peril = false;
    i.broadcast = true;
    i.client_id = "urn:uuid:00000000-0000-0000-0000-000000000001";
    i.originated_by = "sip:lmr-1001@iwf.example";
    i.floor_state = "floor-taken";
    i.associated_group_id = "sip:group2@mc.example";
    i.functional_alias = "sip:engine-7@mc.example";
    i.called_functional_alias = "sip:dispatch@mc.example";
    i.release_reason = "normal";
    i.lmr_encryption = EncryptionInfo{true, 0x84, false, LmrFamily::P25};
    return i;
}

TEST(McpttInfo, RoundTripEveryElement) {
    const McpttInfo in = fullInfo();
    const std::string xml = buildMcpttInfo(in);
    auto out = parseMcpttInfo(xml);
    ASSERT_TRUE(out.ok()) << out.error().toString();
    EXPECT_EQ(*out, in);
    EXPECT_EQ(buildMcpttInfo(*out), xml);
}

TEST(McpttInfo, WireShapeFollowsAnnexF) {
    const std::string xml = buildMcpttInfo(fullInfo());
    EXPECT_NE(xml.find("<mcpttinfo xmlns=\"urn:3gpp:ns:mcpttInfo:1.0\">"), std::string::npos);
    EXPECT_NE(xml.find("<session-type>prearranged</session-type>"), std::string::npos);
    EXPECT_NE(xml.find("<mcptt-request-uri type=\"Normal\">"), std::string::npos);
    EXPECT_NE(xml.find("<mcpttURI>sip:group1@mc.example</mcpttURI>"), std::string::npos);
    EXPECT_NE(xml.find("<mcpttBoolean>true</mcpttBoolean>"), std::string::npos);
    EXPECT_NE(xml.find("<broadcast-ind>true</broadcast-ind>"), std::string::npos);
    EXPECT_NE(xml.find("<lmr-encryption xmlns=\"urn:openiwf:params:xml:ns:lmr-encryption:1\">"),
              std::string::npos);
    EXPECT_NE(xml.find("<algorithm>0x84</algorithm>"), std::string::npos);
}

TEST(McpttInfo, ParsesPrefixedNamespacesAndSkipsEncryptedElements) {
    const std::string xml =
        "<m:mcpttinfo xmlns:m=\"urn:3gpp:ns:mcpttInfo:1.0\"><m:mcptt-Params>"
        "<m:session-type>chat</m:session-type>"
        "<m:mcptt-calling-user-id type=\"Encrypted\"><xenc:EncryptedData "
        "xmlns:xenc=\"http://www.w3.org/2001/04/xmlenc#\"/></m:mcptt-calling-user-id>"
        "<m:mcptt-request-uri type=\"Normal\"><m:mcpttURI>sip:g@x</m:mcpttURI>"
        "</m:mcptt-request-uri>"
        "<m:imminentperil-ind type=\"Normal\"><m:mcpttBoolean>true</m:mcpttBoolean>"
        "</m:imminentperil-ind>"
        "<other xmlns=\"urn:example\">ignored</other>"
        "</m:mcptt-Params></m:mcpttinfo>";
    auto info = parseMcpttInfo(xml);
    ASSERT_TRUE(info.ok()) << info.error().toString();
    EXPECT_EQ(info->session_type, "chat");
    EXPECT_EQ(info->request_uri, "sip:g@x");
    EXPECT_EQ(info->imminent_peril, std::optional<bool>(true));
    EXPECT_EQ(info->calling_user_id, "");
    EXPECT_EQ(info->encrypted_elements, 1);
}

TEST(McpttInfo, RefusesWrongDocuments) {
    EXPECT_EQ(parseMcpttInfo("<mcpttinfo/>").error().reason, "wrong_namespace");
    EXPECT_EQ(parseMcpttInfo("<x xmlns=\"urn:3gpp:ns:mcpttInfo:1.0\"/>").error().reason,
              "not_mcpttinfo");
    EXPECT_EQ(parseMcpttInfo("<mcpttinfo").error().reason, "xml_syntax");
    EXPECT_EQ(parseMcpttInfo("<mcpttinfo xmlns=\"urn:3gpp:ns:mcpttInfo:1.0\"><mcptt-Params>"
                             "<emergency-ind><mcpttBoolean>maybe</mcpttBoolean></emergency-ind>"
                             "</mcptt-Params></mcpttinfo>")
                  .error()
                  .reason,
              "bad_boolean");
}

TEST(Encryption, ModesAndAlgorithmsRoundTrip) {
    for (const EncryptionInfo& e : {EncryptionInfo{false, std::nullopt, false, LmrFamily::P25},
                                    EncryptionInfo{true, 0xAA, false, LmrFamily::P25},
                                    EncryptionInfo{true, std::nullopt, true, LmrFamily::Dmr},
                                    EncryptionInfo{true, 0x02, false, LmrFamily::Tetra}}) {
        McpttInfo i;
        i.session_type = "private";
        i.lmr_encryption = e;
        auto out = parseMcpttInfo(buildMcpttInfo(i));
        ASSERT_TRUE(out.ok());
        EXPECT_EQ(out->lmr_encryption, std::optional<EncryptionInfo>(e));
    }
    CryptoSync cs;
    cs.encrypted = true;
    cs.algid = 0x84;
    auto e = encryptionFromCrypto(cs, false);
    EXPECT_TRUE(e.e2ee);
    EXPECT_EQ(e.algorithm, std::optional<std::uint16_t>(0x84));
    auto policy = encryptionFromCrypto(std::nullopt, true);
    EXPECT_TRUE(policy.e2ee);
    EXPECT_TRUE(policy.algorithm_in_media);
}

TEST(McpttSdp, OfferRoundTripAndAnswer) {
    McpttMedia m;
    m.address = "192.0.2.10";
    m.audio_port = 40000;
    m.floor_port = 40001;
    m.payload_type = 100;
    m.floor_params = {true, 7, false, true};
    auto sdp = buildMcpttSdp(m, 9);
    const std::string text = sdp.toString();
    EXPECT_NE(text.find("m=audio 40000 RTP/AVP 100\r\n"), std::string::npos);
    EXPECT_NE(text.find("i=speech\r\n"), std::string::npos);
    EXPECT_NE(text.find("a=rtpmap:100 X-IWF-LMR/8000\r\n"), std::string::npos);
    EXPECT_NE(text.find("m=application 40001 udp MCPTT\r\n"), std::string::npos);
    EXPECT_NE(text.find("a=fmtp:MCPTT mc_queueing;mc_priority=7;mc_implicit_request\r\n"),
              std::string::npos);
    auto parsed = sip::parseSdp(text);
    ASSERT_TRUE(parsed.ok());
    auto back = readMcpttSdp(*parsed);
    ASSERT_TRUE(back.ok()) << back.error().toString();
    EXPECT_EQ(*back, m);

    McpttMedia ours;
    ours.address = "198.51.100.1";
    ours.audio_port = 50000;
    ours.floor_port = 50001;
    ours.floor_params.queueing = true;
    auto ans = answerMedia(*back, ours);
    ASSERT_TRUE(ans.ok());
    EXPECT_EQ(ans->payload_type, 100);
    EXPECT_TRUE(ans->floor);
    EXPECT_EQ(ans->floor_params.priority, std::optional<int>(7));
    ours.encoding = "AMR-WB";
    EXPECT_EQ(answerMedia(*back, ours).error().reason, "codec_mismatch");
}

TEST(McpttSdp, FmtpParsing) {
    auto p = parseFloorFmtp("MCPTT mc_priority=255;mc_granted");
    ASSERT_TRUE(p.ok());
    EXPECT_TRUE(p->granted);
    EXPECT_EQ(p->priority, std::optional<int>(255));
    EXPECT_FALSE(parseFloorFmtp("MCPTT mc_priority=256").ok());
    EXPECT_FALSE(parseFloorFmtp("XYZ").ok());
    EXPECT_EQ(formatFloorFmtp(*p), "MCPTT mc_priority=255;mc_granted");
}

}  // namespace
}  // namespace iwf::mc::mcptt

namespace iwf::mc::mcptt {
namespace {

// Issue #19: an MC client's AMR-WB offer (RFC 4867 8.2 / 8.3 parameters as TS 26.114 clients
// write them: rtpmap AMR-WB/16000, fmtp mode-set and octet-align) is answered with AMR-WB only
// when the link accepts it (media.amr_wb), keeping the offer's layout (RFC 4867 8.3.1) and
// the modes both sides support (0..3 here).
sip::SessionDescription amrOfferSdp(const std::string& fmtp) {
    const std::string text =
        "v=0\r\no=mc 1 1 IN IP4 192.0.2.20\r\ns=-\r\nc=IN IP4 192.0.2.20\r\nt=0 0\r\n"
        "m=audio 30000 RTP/AVP 97\r\na=rtpmap:97 AMR-WB/16000\r\n" +
        (fmtp.empty() ? std::string() : "a=fmtp:97 " + fmtp + "\r\n") +
        "m=application 30001 udp MCPTT\r\na=fmtp:MCPTT mc_queueing\r\n";
    auto sdp = sip::parseSdp(text);
    EXPECT_TRUE(sdp.ok());
    return *sdp;
}

TEST(McpttSdpAmrWb, OfferIsAnsweredOnlyWhenEnabledWithItsLayoutAndCommonModes) {
    auto offer = readMcpttSdp(amrOfferSdp("mode-set=0,2,4; octet-align=1"));
    ASSERT_TRUE(offer.ok());
    EXPECT_EQ(offer->encoding, "AMR-WB");
    EXPECT_EQ(offer->clock_rate, 16000u);
    EXPECT_EQ(offer->audio_fmtp, "mode-set=0,2,4; octet-align=1");
    McpttMedia ours;
    ours.address = "198.51.100.1";
    ours.audio_port = 50000;
    ours.floor_port = 50001;
    ours.floor_params.queueing = true;
    EXPECT_EQ(answerMedia(*offer, ours).error().reason, "codec_mismatch") << "off by default";
    ours.accept_amr_wb = true;
    auto ans = answerMedia(*offer, ours);
    ASSERT_TRUE(ans.ok()) << ans.error().toString();
    const std::string text = buildMcpttSdp(*ans, 3).toString();
    EXPECT_NE(text.find("m=audio 50000 RTP/AVP 97\r\n"), std::string::npos) << text;
    EXPECT_NE(text.find("a=rtpmap:97 AMR-WB/16000\r\n"), std::string::npos) << text;
    EXPECT_NE(text.find("a=fmtp:97 octet-align=1;mode-set=0,2,4\r\n"), std::string::npos) << text;
    EXPECT_TRUE(ans->floor);

    // Bandwidth-efficient (octet-align absent, RFC 4867 8.1) stays bandwidth-efficient.
    auto be = answerMedia(*readMcpttSdp(amrOfferSdp("")), ours);
    ASSERT_TRUE(be.ok());
    EXPECT_EQ(be->audio_fmtp, "octet-align=0;mode-set=0,1,2,3,4,5,6,7,8");
    // The fast modes too (an analogue link encodes up to 23.85 kbit/s); an option we do not
    // implement is refused.
    auto fast = answerMedia(*readMcpttSdp(amrOfferSdp("mode-set=4,8")), ours);
    ASSERT_TRUE(fast.ok()) << fast.error().toString();
    EXPECT_EQ(fast->audio_fmtp, "octet-align=0;mode-set=4,8");
    EXPECT_EQ(answerMedia(*readMcpttSdp(amrOfferSdp("octet-align=1; interleaving=4")), ours)
                  .error()
                  .reason,
              "unsupported_amr");
    EXPECT_EQ(answerMedia(*readMcpttSdp(amrOfferSdp("octet-align=2")), ours).error().reason,
              "bad_fmtp");
}

TEST(McpttSdpAmrWb, OurOfferForAnAnalogueCall) {
    McpttMedia m;
    m.address = "192.0.2.10";
    m.audio_port = 40000;
    m.payload_type = 96;
    const std::string text = buildMcpttSdp(amrWbMedia(m, {true, kAmrWbModeSet}), 1).toString();
    EXPECT_NE(text.find("a=rtpmap:96 AMR-WB/16000\r\n"), std::string::npos) << text;
    EXPECT_NE(text.find("a=fmtp:96 octet-align=1;mode-set=0,1,2,3,4,5,6,7,8\r\n"),
              std::string::npos)
        << text;
}

}  // namespace
}  // namespace iwf::mc::mcptt
