// IMS service identification as TS 24.229 §7.9.2 / TS 24.379 write it: the expected strings
// are typed from the specifications (the ICSI URN with ':' percent-encoded inside the
// +g.3gpp.icsi-ref feature tag), not produced by the code under test.

#include "mc_adapters/mcptt/ims_headers.hpp"

#include <string>

#include <gtest/gtest.h>

#include "mc_adapters/mcdata/sds_sip.hpp"
#include "mc_adapters/mcptt/mcptt_link.hpp"
#include "tests/unit/mc_mcptt/mcptt_link_fixture.hpp"

namespace iwf::mc::mcptt {
namespace {

constexpr const char* kAcceptMcptt = "*;+g.3gpp.mcptt;require;explicit";
constexpr const char* kAcceptMcpttIcsi =
    "*;+g.3gpp.icsi-ref=\"urn%3Aurn-7%3A3gpp-service.ims.icsi.mcptt\";require;explicit";
constexpr const char* kContactMcptt =
    ";+g.3gpp.mcptt;+g.3gpp.icsi-ref=\"urn%3Aurn-7%3A3gpp-service.ims.icsi.mcptt\"";

TEST(ImsHeaders, StringsFromTheSpecifications) {
    EXPECT_EQ(ims::acceptContactFeature(ims::kMcpttFeatureTag), kAcceptMcptt);
    EXPECT_EQ(ims::acceptContactIcsi(ims::kMcpttIcsi), kAcceptMcpttIcsi);
    EXPECT_EQ(ims::acceptContactIcsi(ims::kMcdataSdsIcsi),
              "*;+g.3gpp.icsi-ref=\"urn%3Aurn-7%3A3gpp-service.ims.icsi.mcdata.sds\";require;"
              "explicit");
    EXPECT_EQ(ims::mcpttContactFeatures(), kContactMcptt);
    EXPECT_EQ(ims::encodeIcsi("a:b%c"), "a%3Ab%25c");
}

struct ImsHeadersLink : test::McpttLinkFixture {
    void SetUp() override {
        McpttLinkFixture::SetUp();
        startLink(linkConfig());
    }
};

TEST_F(ImsHeadersLink, OutgoingInviteAndIncomingInviteAnswer) {
    CallSetup s;
    s.call = 5;
    s.caller = Talker{P25Unit{{0xBEE00, 0x001}, 1001}, "", {}};
    s.callee = McGroupId{"sip:fire@mc.example"};
    s.kind = CallKind::Group;
    ASSERT_TRUE(link->deliver(s).ok());
    ASSERT_TRUE(test::runUntil(io, [&] { return !mc_requests.empty(); }));
    const sip::Message& inv = mc_requests[0];
    auto ac = inv.headers("Accept-Contact");
    ASSERT_EQ(ac.size(), 2u);
    EXPECT_EQ(ac[0], kAcceptMcptt);
    EXPECT_EQ(ac[1], kAcceptMcpttIcsi);
    EXPECT_EQ(inv.header("P-Asserted-Service").value_or(""),
              "urn:urn-7:3gpp-service.ims.icsi.mcptt");
    std::string contact = inv.header("Contact").value_or("");
    EXPECT_NE(contact.find(std::string(">") + kContactMcptt), std::string::npos) << contact;

    // The 200 OK to an INVITE from the MC side carries the same Contact feature tags.
    McpttInfo info;
    info.session_type = "prearranged";
    info.calling_user_id = "sip:alice@mc.example";
    info.calling_group_id = "sip:fire@mc.example";
    McpttMedia media;
    media.address = "127.0.0.1";
    media.audio_port = 30000;
    media.floor_port = 30001;
    std::optional<sip::Message> ok;
    mc->sendRequest(groupInvite(media, info), linkPeer(), [&](const sip::Message& r) {
        if (r.status() == 200) {
            ok = r;
        }
    });
    ASSERT_TRUE(test::runUntil(io, [&] { return ok.has_value(); }));
    contact = ok->header("Contact").value_or("");
    EXPECT_NE(contact.find(std::string(">") + kContactMcptt), std::string::npos) << contact;
}

TEST(ImsHeaders, SdsMessage) {
    mcdata::SdsSipMessage m;
    m.env.request_uri = "sip:mcdata@mc.example";
    m.env.sender = "sip:p25-1001@iwf.example";
    m.env.target = "sip:bob@mc.example";
    mcdata::SdsSignalling sig;
    m.signalling = sig;
    m.payload = mcdata::DataPayload{};
    m.payload->payloads.push_back({mcdata::content_type::kText, {0x68, 0x69}});
    auto msg = mcdata::buildSdsMessage(m);
    ASSERT_TRUE(msg.ok()) << msg.error().reason;
    auto ac = msg->headers("Accept-Contact");
    ASSERT_EQ(ac.size(), 2u);
    EXPECT_EQ(ac[0], "*;+g.3gpp.mcdata.sds;require;explicit");
    EXPECT_EQ(ac[1],
              "*;+g.3gpp.icsi-ref=\"urn%3Aurn-7%3A3gpp-service.ims.icsi.mcdata.sds\";require;"
              "explicit");
    EXPECT_EQ(msg->header("P-Asserted-Service").value_or(""),
              "urn:urn-7:3gpp-service.ims.icsi.mcdata.sds");
}

}  // namespace
}  // namespace iwf::mc::mcptt
