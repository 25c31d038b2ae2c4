// The harness's MC conformance check catches what issue 14 found, and passes what the
// specifications ask for. The requests are typed here as an IMS peer would send them.
#include "harness/conformance/mc_conformance.hpp"

#include <string>

#include <gtest/gtest.h>

namespace iwf::harness {
namespace {

std::string invite(const std::string& accept_icsi, const std::string& contact_tags,
                   const std::string& info) {
    const std::string body =
        "--b1\r\nContent-Type: application/sdp\r\n\r\nv=0\r\no=iwf 1 1 IN IP4 127.0.0.1\r\ns=-\r\n"
        "c=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 96\r\na=rtpmap:96 X-IWF-LMR/8000\r\n"
        "\r\n--b1\r\nContent-Type: application/vnd.3gpp.mcptt-info+xml\r\n\r\n" +
        info + "\r\n--b1--\r\n";
    return "INVITE sip:cf@mc.example SIP/2.0\r\n"
           "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1\r\n"
           "From: <sip:iwf@iwf.example>;tag=1\r\nTo: <sip:fire@mc.example>\r\n"
           "Call-ID: c1\r\nCSeq: 1 INVITE\r\n"
           "Contact: <sip:iwf@127.0.0.1:5060>" +
           contact_tags +
           "\r\n"
           "Accept-Contact: *;+g.3gpp.mcptt;require;explicit\r\n"
           "Accept-Contact: " +
           accept_icsi +
           "\r\n"
           "P-Asserted-Service: urn:urn-7:3gpp-service.ims.icsi.mcptt\r\n"
           "Content-Type: multipart/mixed;boundary=b1\r\n"
           "Content-Length: " +
           std::to_string(body.size()) + "\r\n\r\n" + body;
}

const std::string kGoodInfo =
    "<?xml version=\"1.0\"?><mcpttinfo xmlns=\"urn:3gpp:ns:mcpttInfo:1.0\"><mcptt-Params>"
    "<session-type>prearranged</session-type><mcptt-request-uri type=\"Normal\"><mcpttURI>"
    "sip:fire@mc.example</mcpttURI></mcptt-request-uri></mcptt-Params></mcpttinfo>";
const std::string kGoodAccept =
    "*;+g.3gpp.icsi-ref=\"urn%3Aurn-7%3A3gpp-service.ims.icsi.mcptt\";require;explicit";
const std::string kGoodContact =
    ";+g.3gpp.mcptt;+g.3gpp.icsi-ref=\"urn%3Aurn-7%3A3gpp-service.ims.icsi.mcptt\"";

TEST(McConformance, ConformantInvitePasses) {
    McConformance c(IWF_XSD_DIR);
    EXPECT_TRUE(c.checkRequest(invite(kGoodAccept, kGoodContact, kGoodInfo)).empty());
}

TEST(McConformance, WhatIssue14FoundFails) {
    McConformance c(IWF_XSD_DIR);
    // ICSI not percent-encoded (the old Accept-Contact).
    auto v = c.checkRequest(
        invite("*;+g.3gpp.icsi-ref=\"urn:urn-7:3gpp-service.ims.icsi.mcptt\";require;explicit",
               kGoodContact, kGoodInfo));
    EXPECT_EQ(v.size(), 1u);
    // Contact without the ICSI feature tag (the old Contact).
    v = c.checkRequest(invite(kGoodAccept, ";+g.3gpp.mcptt", kGoodInfo));
    EXPECT_EQ(v.size(), 1u);
    // mcptt-info out of the schema's sequence order.
    v = c.checkRequest(invite(
        kGoodAccept, kGoodContact,
        "<?xml version=\"1.0\"?><mcpttinfo xmlns=\"urn:3gpp:ns:mcpttInfo:1.0\"><mcptt-Params>"
        "<mcptt-client-id type=\"Normal\"><mcpttString>c</mcpttString></mcptt-client-id>"
        "<floor-state>floor-taken</floor-state></mcptt-Params></mcpttinfo>"));
    ASSERT_EQ(v.size(), 1u);
    EXPECT_NE(v[0].find("does not validate"), std::string::npos) << v[0];
}

TEST(McConformance, SdsMessage) {
    McConformance c(IWF_XSD_DIR);
    auto sds = [](const std::string& calling_elem, char type) {
        const std::string info =
            "<?xml version=\"1.0\"?><mcdatainfo xmlns=\"urn:3gpp:ns:mcdataInfo:1.0\">"
            "<mcdata-Params><request-type>one-to-one-sds</request-type><" +
            calling_elem + " type=\"Normal\"><mcdataURI>sip:a@x</mcdataURI></" + calling_elem +
            "></mcdata-Params></mcdatainfo>";
        const std::string body =
            "--b\r\nContent-Type: application/vnd.3gpp.mcdata-info+xml\r\n\r\n" + info +
            "\r\n--b\r\nContent-Type: application/vnd.3gpp.mcdata-signalling\r\n\r\n" +
            std::string(1, type) + "\x02" + "\r\n--b--\r\n";
        return "MESSAGE sip:mcdata@mc.example SIP/2.0\r\nTo: <sip:b@x>\r\n"
               "Accept-Contact: *;+g.3gpp.mcdata.sds;require;explicit\r\n"
               "Accept-Contact: *;+g.3gpp.icsi-ref=\"urn%3Aurn-7%3A3gpp-service.ims.icsi.mcdata."
               "sds\";require;explicit\r\n"
               "P-Asserted-Service: urn:urn-7:3gpp-service.ims.icsi.mcdata.sds\r\n"
               "Content-Type: multipart/mixed;boundary=b\r\n\r\n" +
               body;
    };
    EXPECT_TRUE(c.checkRequest(sds("mcdata-calling-user-id", '\x05')).empty());
    EXPECT_EQ(c.checkRequest(sds("mcdata-calling-user-identity", '\x05')).size(), 1u);
    EXPECT_EQ(c.checkRequest(sds("mcdata-calling-user-id", '\x04')).size(), 1u);
}

}  // namespace
}  // namespace iwf::harness
