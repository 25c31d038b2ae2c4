#include "keymap/xml_render.hpp"

#include <gtest/gtest.h>
#include <pugixml.hpp>

#include "example_util.hpp"

namespace iwf::keymap {
namespace {

TEST(KeymapXml, GroupConfigFieldByField) {
    auto s = Snapshot::build(test::exampleKeymap(), 3);
    std::string xml = renderGroupConfig(*s->groupByMc("sip:dmr-security@iwf.example"));
    pugi::xml_document doc;
    pugi::xml_parse_result r = doc.load_string(xml.c_str());
    ASSERT_TRUE(r) << r.description() << "\n" << xml;
    EXPECT_STREQ(doc.child("group").attribute("xmlns").value(), "urn:oma:xml:poc:list-service");
    EXPECT_STREQ(doc.child("group").attribute("xmlns:mcpttgi").value(),
                 "urn:3gpp:ns:mcpttGroupInfo:1.0");
    EXPECT_STREQ(doc.child("group").attribute("xmlns:iwf").value(),
                 "urn:openiwf:params:xml:ns:lmr-e2ee:1.0");
    pugi::xml_node ls = doc.child("group").child("list-service");
    ASSERT_TRUE(ls);
    EXPECT_STREQ(ls.attribute("uri").value(), "sip:dmr-security@iwf.example");
    EXPECT_STREQ(ls.child_value("display-name"), "City security");
    std::vector<std::string> members;
    for (pugi::xml_node e : ls.child("list").children("entry")) {
        members.push_back(e.attribute("uri").value());
    }
    ASSERT_EQ(members.size(), 5u);
    EXPECT_EQ(members[0], "sip:dmr-2001@iwf.example");
    EXPECT_EQ(members[4], "sip:dmr-2005@iwf.example");
    EXPECT_STREQ(ls.child("mcpttgi:preferred-voice-encodings")
                     .child("mcpttgi:encoding")
                     .attribute("name")
                     .value(),
                 "X-IWF-LMR/8000");
    EXPECT_STREQ(ls.child_value("mcpttgi:protect-media"), "true");
    EXPECT_STREQ(ls.child_value("mcpttgi:protect-floor-control-signalling"), "true");
    pugi::xml_node e2ee = ls.child("iwf:lmr-e2ee");
    EXPECT_STREQ(e2ee.child_value("iwf:mode"), "secure");
    EXPECT_STREQ(e2ee.child_value("iwf:lmr-type"), "dmr");
    EXPECT_EQ(e2ee.child("iwf:algid").text().as_uint(), 5u);
    EXPECT_EQ(e2ee.child("iwf:key-id").text().as_uint(), 0x11u);
    pugi::xml_node iw = ls.child("iwf:interworking");
    EXPECT_STREQ(iw.child_value("iwf:home"), "mc");
    EXPECT_EQ(iw.child("iwf:lmr-group").text().as_uint(), 9001u);
    EXPECT_STREQ(iw.child("iwf:lmr-system").attribute("id").value(), "dmr-city");
    EXPECT_EQ(iw.child("iwf:lmr-system").attribute("network-id").as_uint(), 3100u);
    EXPECT_STREQ(iw.child_value("iwf:lmr-codec"), "dmr-ambe");
    // Nothing that could be a key.
    EXPECT_EQ(xml.find("key>"), std::string::npos);
}

TEST(KeymapXml, ClearGroupHasNoAlgorithm) {
    auto s = Snapshot::build(test::exampleKeymap(), 3);
    std::string xml = renderGroupConfig(*s->groupByMc("sip:city-common@iwf.example"));
    pugi::xml_document doc;
    ASSERT_TRUE(doc.load_string(xml.c_str()));
    pugi::xml_node e2ee = doc.child("group").child("list-service").child("iwf:lmr-e2ee");
    EXPECT_STREQ(e2ee.child_value("iwf:mode"), "clear");
    EXPECT_FALSE(e2ee.child("iwf:algid"));
    EXPECT_FALSE(e2ee.child("iwf:key-id"));
}

TEST(KeymapXml, UserProfileFieldByField) {
    auto s = Snapshot::build(test::exampleKeymap(), 3);
    std::string xml = renderUserProfile(*s->userByMcId("sip:p25-1008@iwf.example"));
    pugi::xml_document doc;
    ASSERT_TRUE(doc.load_string(xml.c_str())) << xml;
    pugi::xml_node p = doc.child("mcptt-user-profile");
    EXPECT_STREQ(p.attribute("xmlns").value(), "urn:3gpp:mcptt:user-profile:1.0");
    EXPECT_STREQ(p.attribute("XUI-URI").value(), "sip:p25-1008@iwf.example");
    EXPECT_STREQ(p.attribute("user-profile-index").value(), "0");
    EXPECT_STREQ(p.child_value("Name"), "P25 unit 1008");
    pugi::xml_node e = p.child("iwf:lmr-e2ee-user-profile");
    EXPECT_STREQ(e.child_value("iwf:lmr-type"), "p25");
    EXPECT_STREQ(e.child_value("iwf:kmf-uri"), "sip:kmf@kmf.p25-north.example");
    EXPECT_STREQ(e.child_value("iwf:e2ee-allowed"), "true");
    EXPECT_EQ(e.child("iwf:lmr-unit").text().as_uint(), 1008u);
    EXPECT_EQ(e.child("iwf:lmr-system").attribute("wacn").as_uint(), 0xBEE00u);
    pugi::xml_node a = e.child("iwf:authorised").child("iwf:algorithm");
    EXPECT_STREQ(a.attribute("lmr-type").value(), "p25");
    EXPECT_EQ(a.attribute("algid").as_uint(), 0x85u);
    EXPECT_EQ(a.attribute("key-id").as_uint(), 0x0202u);
    EXPECT_FALSE(a.next_sibling("iwf:algorithm"));
}

TEST(KeymapXml, SpecialCharactersAreEscaped) {
    Keymap k = test::exampleKeymap();
    k.groups[0].display_name = "Fire <ops> & \"rescue\"";
    auto s = Snapshot::build(std::move(k), 1);
    std::string xml = renderGroupConfig(*s->groupByMc("sip:fire-ops@iwf.example"));
    pugi::xml_document doc;
    ASSERT_TRUE(doc.load_string(xml.c_str()));
    EXPECT_STREQ(doc.child("group").child("list-service").child_value("display-name"),
                 "Fire <ops> & \"rescue\"");
}

}  // namespace
}  // namespace iwf::keymap
