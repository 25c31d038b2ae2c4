// Every XML body OpenIWF sends on IWF-1/IWF-2 and every document `iwfctl keymap render`
// writes, validated by xmllint against the published schemas (tests/data/xsd/README.md names
// each one's source). The bodies come from the production builders; the verdict comes from
// libxml2 and the 3GPP/OMA schema text, not from our parsers.

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "example_util.hpp"
#include "keymap/xml_render.hpp"
#include "mc_adapters/mcdata/sds_sip.hpp"
#include "mc_adapters/mcptt/mcptt_info.hpp"
#include "mc_adapters/mcptt/mcptt_sdp.hpp"
#include "mc_adapters/security/interworking_data.hpp"
#include "tests/support/xsd_validate.hpp"

namespace iwf {
namespace {

using test::validatesAgainst;

// The oracle can fail: documents that break the schemas in the ways issue 14 found.
TEST(XsdOracle, RejectsWhatAGmsRejects) {
    // The shape OpenIWF wrote before: <list-service> as the root.
    EXPECT_FALSE(validatesAgainst(
        R"(<?xml version="1.0"?><list-service xmlns="urn:oma:xml:poc:list-service" uri="sip:g@x"/>)",
        "group-document.xsd"));
    // An element 24.481 does not define, in its namespace.
    EXPECT_FALSE(validatesAgainst(
        R"(<?xml version="1.0"?><group xmlns="urn:oma:xml:poc:list-service" xmlns:g="urn:3gpp:ns:mcpttGroupInfo:1.0"><list-service uri="sip:g@x"><g:protection/></list-service></group>)",
        "group-document.xsd"));
    // mcptt-client-id before floor-state (the order buildMcpttInfo used).
    EXPECT_FALSE(validatesAgainst(
        R"(<?xml version="1.0"?><mcpttinfo xmlns="urn:3gpp:ns:mcpttInfo:1.0"><mcptt-Params><mcptt-client-id type="Normal"><mcpttString>c</mcpttString></mcptt-client-id><floor-state>floor-taken</floor-state></mcptt-Params></mcpttinfo>)",
        "mcptt-info.xsd"));
    // The element name sds_sip.cpp used.
    EXPECT_FALSE(validatesAgainst(
        R"(<?xml version="1.0"?><mcdatainfo xmlns="urn:3gpp:ns:mcdataInfo:1.0"><mcdata-Params><mcdata-calling-user-identity type="Normal"><mcdataURI>sip:a@x</mcdataURI></mcdata-calling-user-identity></mcdata-Params></mcdatainfo>)",
        "mcdata-info.xsd"));
    // A user profile without the required user-profile-index.
    EXPECT_FALSE(validatesAgainst(
        R"(<?xml version="1.0"?><mcptt-user-profile xmlns="urn:3gpp:mcptt:user-profile:1.0" XUI-URI="sip:a@x"><Name>A</Name></mcptt-user-profile>)",
        "user-profile.xsd"));
}

TEST(XsdKeymap, EveryGroupDocumentValidates) {
    auto snap = keymap::Snapshot::build(keymap::test::exampleKeymap(), 1);
    int n = 0;
    for (const auto& g : snap->keymap().groups) {
        const keymap::GroupView* v = snap->groupByMc(g.mc_group.uri);
        ASSERT_NE(v, nullptr) << g.mc_group.uri;
        EXPECT_TRUE(validatesAgainst(keymap::renderGroupConfig(*v), "group-document.xsd"));
        ++n;
    }
    EXPECT_GE(n, 4);
}

TEST(XsdKeymap, EveryUserProfileValidates) {
    auto snap = keymap::Snapshot::build(keymap::test::exampleKeymap(), 1);
    int n = 0;
    for (const auto& u : snap->keymap().users) {
        const keymap::UserView* v = snap->userByMcId(u.mc_id.uri);
        ASSERT_NE(v, nullptr) << u.mc_id.uri;
        EXPECT_TRUE(validatesAgainst(keymap::renderUserProfile(*v), "user-profile.xsd"));
        ++n;
    }
    EXPECT_GE(n, 4);
}

// TS 29.379 6.1.1: a client follows the group document's preferred voice encodings when it
// builds its SDP; the name in the document must be exactly what the IWF's SDP offers.
TEST(XsdKeymap, PreferredEncodingIsWhatTheSdpOffers) {
    mc::mcptt::McpttMedia media;  // a link's media with the default configuration
    media.address = "127.0.0.1";
    media.audio_port = 40000;
    std::string sdp = mc::mcptt::buildMcpttSdp(media, 1).toString();
    std::smatch m;
    ASSERT_TRUE(std::regex_search(sdp, m, std::regex(R"(a=rtpmap:\d+ (\S+))"))) << sdp;
    const std::string offered = m[1];

    auto snap = keymap::Snapshot::build(keymap::test::exampleKeymap(), 1);
    for (const auto& g : snap->keymap().groups) {
        std::string doc = keymap::renderGroupConfig(*snap->groupByMc(g.mc_group.uri));
        EXPECT_NE(doc.find("<mcpttgi:encoding name=\"" + offered + "\""), std::string::npos)
            << "SDP offers " << offered << "; document:\n"
            << doc;
    }
}

mc::mcptt::McpttInfo everyField() {
    mc::mcptt::McpttInfo i;
    i.session_type = "prearranged";
    i.request_uri = "sip:fire-ops@iwf.example";
    i.calling_user_id = "sip:p25-1001@iwf.example";
    i.called_party_id = "sip:mc-7@mc.example";
    i.calling_group_id = "sip:fire-ops@iwf.example";
    i.emergency = true;
    i.alert = false;
    i.imminent_peril = false;
    i.broadcast = true;
    i.client_id = "urn:uuid:00000000-0000-4000-8000-000000000001";
    i.originated_by = "sip:p25-1002@iwf.example";
    i.floor_state = "floor-taken";
    i.associated_group_id = "sip:fire-ops-assoc@iwf.example";
    i.functional_alias = "sip:engine-1@iwf.example";
    i.called_functional_alias = "sip:chief@iwf.example";
    i.release_reason = "authentication-of-the-MIKEY-SAKKE-I_MESSAGE-failed";
    i.lmr_encryption = mc::mcptt::EncryptionInfo{true, 0x84, false, LmrFamily::P25};
    return i;
}

TEST(XsdMcpttInfo, EveryFieldTheBuilderWrites) {
    EXPECT_TRUE(validatesAgainst(mc::mcptt::buildMcpttInfo(everyField()), "mcptt-info.xsd"));
}

TEST(XsdMcpttInfo, TheBodiesOfEachProcedure) {
    using mc::mcptt::McpttInfo;
    McpttInfo group;  // pre-arranged group call the IWF originates
    group.session_type = "prearranged";
    group.request_uri = "sip:fire-ops@iwf.example";
    group.calling_user_id = "sip:p25-1001@iwf.example";
    group.calling_group_id = "sip:fire-ops@iwf.example";
    EXPECT_TRUE(validatesAgainst(mc::mcptt::buildMcpttInfo(group), "mcptt-info.xsd"));
    McpttInfo emergency = group;  // emergency upgrade
    emergency.emergency = true;
    emergency.broadcast = false;
    EXPECT_TRUE(validatesAgainst(mc::mcptt::buildMcpttInfo(emergency), "mcptt-info.xsd"));
    McpttInfo priv;  // private call with the Encryption mode / algorithm extension
    priv.session_type = "private";
    priv.request_uri = "sip:mc-7@mc.example";
    priv.calling_user_id = "sip:p25-1001@iwf.example";
    priv.called_party_id = "sip:mc-7@mc.example";
    priv.lmr_encryption = mc::mcptt::EncryptionInfo{true, std::nullopt, true, LmrFamily::Dmr};
    EXPECT_TRUE(validatesAgainst(mc::mcptt::buildMcpttInfo(priv), "mcptt-info.xsd"));
    // Interworking Security Data (TS 29.379 14.1.1).
    EXPECT_TRUE(validatesAgainst(
        mc::security::mcpttInfoXml("sip:p25-1001@iwf.example", "sip:iwf@iwf.example"),
        "mcptt-info.xsd"));
}

TEST(XsdMcdataInfo, OneToOneAndGroupSds) {
    mc::mcdata::SdsEnvelope one;
    one.request_uri = "sip:mcdata-server@mc.example";
    one.sender = "sip:p25-1001@iwf.example";
    one.target = "sip:mc-7@mc.example";
    std::string xml = mc::mcdata::mcdataInfoXml(one);
    EXPECT_TRUE(validatesAgainst(xml, "mcdata-info.xsd"));
    EXPECT_NE(xml.find("<mcdata-calling-user-id type=\"Normal\">"), std::string::npos) << xml;
    mc::mcdata::SdsEnvelope group = one;
    group.group = true;
    group.target = "sip:fire-ops@iwf.example";
    EXPECT_TRUE(validatesAgainst(mc::mcdata::mcdataInfoXml(group), "mcdata-info.xsd"));
}

// The affiliation PUBLISH body (pidf.xsd + mcpttPresInfo.xsd, both WRITTEN: README.md).
TEST(XsdAffiliation, PublishBodiesValidateAndTheOracleCanFail) {
    const std::string aff = mc::mcptt::buildAffiliationPidf(
        "sip:p25-1001@iwf.example", "sip:fire-ops@iwf.example", "iwf-a1b2", "mc");
    EXPECT_TRUE(validatesAgainst(aff, "affiliation-pidf.xsd")) << aff;
    // p-id is a child of <presence> after the tuple (where MCOP puts it).
    EXPECT_GT(aff.find("<mcpttPI10:p-id>mc</mcpttPI10:p-id>"), aff.find("</tuple>")) << aff;
    const std::string deaff =
        mc::mcptt::buildAffiliationPidf("sip:p25-1001@iwf.example", "", "iwf-c3", "mc");
    EXPECT_TRUE(validatesAgainst(deaff, "affiliation-pidf.xsd")) << deaff;
    EXPECT_EQ(deaff.find("affiliation"), std::string::npos) << deaff;
    // A misspelled extension element, and a tuple without its required status.
    EXPECT_FALSE(validatesAgainst(
        R"(<?xml version="1.0"?><presence xmlns="urn:ietf:params:xml:ns:pidf" xmlns:p="urn:3gpp:ns:mcpttPresInfo:1.0" entity="sip:a@x"><tuple id="t"><status><p:affiliaton group="sip:g@x"/></status></tuple></presence>)",
        "affiliation-pidf.xsd"));
    EXPECT_FALSE(validatesAgainst(
        R"(<?xml version="1.0"?><presence xmlns="urn:ietf:params:xml:ns:pidf" entity="sip:a@x"><tuple id="t"/></presence>)",
        "affiliation-pidf.xsd"));
}

// The mcdata-info of the SDS the SIPp scenario sends iwfd through the proxy validates too.
TEST(XsdMcdataInfo, WhatTheSippScenariosSendValidates) {
    int n = 0;
    for (const auto& f : std::filesystem::directory_iterator(IWF_SIPP_SCENARIOS)) {
        std::ifstream in(f.path(), std::ios::binary);
        std::stringstream ss;
        ss << in.rdbuf();
        const std::string text = ss.str();
        for (std::size_t pos = text.find("<mcdatainfo"); pos != std::string::npos;
             pos = text.find("<mcdatainfo", pos + 1)) {
            const std::size_t end = text.find("</mcdatainfo>", pos);
            ASSERT_NE(end, std::string::npos) << f.path();
            EXPECT_TRUE(validatesAgainst(
                "<?xml version=\"1.0\"?>" + text.substr(pos, end + 13 - pos), "mcdata-info.xsd"))
                << f.path();
            ++n;
        }
    }
    EXPECT_GE(n, 1);
}

// The mcptt-info bodies the SIPp scenarios send iwfd (what iwfd accepts in the interop tests)
// are themselves schema-valid, so acceptance is tested with what a conformant MC server sends.
TEST(XsdMcpttInfo, WhatTheSippScenariosSendValidates) {
    int n = 0;
    for (const auto& f : std::filesystem::directory_iterator(IWF_SIPP_SCENARIOS)) {
        std::ifstream in(f.path());
        std::stringstream ss;
        ss << in.rdbuf();
        const std::string text = ss.str();
        for (std::size_t pos = text.find("<mcpttinfo"); pos != std::string::npos;
             pos = text.find("<mcpttinfo", pos + 1)) {
            const std::size_t end = text.find("</mcpttinfo>", pos);
            ASSERT_NE(end, std::string::npos) << f.path();
            EXPECT_TRUE(validatesAgainst(
                "<?xml version=\"1.0\"?>" + text.substr(pos, end + 12 - pos), "mcptt-info.xsd"))
                << f.path();
            ++n;
        }
    }
    EXPECT_GE(n, 3);
}

}  // namespace
}  // namespace iwf
