// The GMK's transport from the GMS to the IWF (TS 33.180 §5.7: "transported over the SIP
// bearer"; TS 24.481's group key transport payloads, namespace urn:3gpp:ns:mcpttGKTP:1.0): the
// group documents here are written by hand from the 24.481 schema (tests/data/xsd/
// mcpttGKTP.xsd, validated with xmllint against it and the group document's schemas), and the
// I_MESSAGE inside is Streamwide sw_mikey_sakke's published GMK message for
// sip:alice@streamwide.com (tests/data/mc_security/streamwide_v5.vec): nothing in the
// documents was produced by OpenIWF's encoders.
#include "mc_adapters/mcptt/gktp.hpp"

#include <string>

#include <gtest/gtest.h>

#include "common/clock.hpp"
#include "tests/support/xsd_validate.hpp"
#include "tests/unit/mc_mcptt/mcptt_link_fixture.hpp"
#include "tests/unit/mc_security/streamwide.hpp"

namespace iwf::mc::mcptt {
namespace {

using security::test::sw;

const std::string kAlice = "sip:alice@streamwide.com";
const std::string kGroup = "sip:secure@mc.example";

// A TS 24.481 group document (list-service of urn:oma:xml:poc:list-service, §7.2.2.1) whose
// list-service carries `gktps` (elements of urn:3gpp:ns:mcpttGKTP:1.0, prefix mgktp).
std::string groupDocument(const std::string& gktps, const std::string& uri = kGroup) {
    return R"(<?xml version="1.0" encoding="UTF-8"?>
<group xmlns="urn:oma:xml:poc:list-service" xmlns:mgktp="urn:3gpp:ns:mcpttGKTP:1.0">
  <list-service uri=")" +
           uri + R"(">
    <display-name>Secure operations</display-name>
    <list><entry uri="sip:alice@streamwide.com"/><entry uri="sip:bob@streamwide.com"/></list>
    <mgktp:GKTPs>)" +
           gktps + R"(</mgktp:GKTPs>
  </list-service>
</group>
)";
}

std::string gktp(const std::string& id, const std::string& hex, const std::string& attrs = "") {
    return "<mgktp:GKTP id=\"" + id + "\"" + attrs + ">" + hex + "</mgktp:GKTP>";
}

std::string gmkHex() {
    return toHex(sw()["gmk_imessage"]);
}

TEST(Gktp, TheMembersGmkGktpsAreReturnedWithTheirGroupAndNoOneElses) {
    // Bob's payload is not even hex: it must not be decoded (only alice's are).
    const std::string doc = groupDocument(
        "<mgktp:GMK-GKTPs>" +
        gktp(kAlice, "\n      " + gmkHex() + "\n    ", " activationtime=\"2025-10-02T10:00:00Z\"") +
        gktp("sip:bob@streamwide.com", "0A0B0C0D") +
        "<mgktp:on-network-regrouped-GKTPs temporary-MCPTT-group-ID=\"sip:temp-7@mc.example\">" +
        gktp(kAlice, gmkHex()) +
        "</mgktp:on-network-regrouped-GKTPs></mgktp:GMK-GKTPs>"
        "<mgktp:MKFC-GKTPs>" +
        gktp(kAlice, "00") + "</mgktp:MKFC-GKTPs>");
    ASSERT_TRUE(iwf::test::validatesAgainst(doc, "group-document.xsd"));
    auto got = parseGroupKeyTransports(doc, kAlice);
    ASSERT_TRUE(got) << got.error().toString();
    ASSERT_EQ(got->size(), 2u);
    EXPECT_EQ((*got)[0].group, kGroup);
    EXPECT_EQ((*got)[0].activation_time, "2025-10-02T10:00:00Z");
    EXPECT_EQ((*got)[0].i_message, sw()["gmk_imessage"]);
    EXPECT_EQ((*got)[1].group, "sip:temp-7@mc.example");
    EXPECT_EQ((*got)[1].i_message, sw()["gmk_imessage"]);
    // Another member sees only its own (here: bob's four octets); a stranger none.
    EXPECT_EQ(parseGroupKeyTransports(doc, "sip:bob@streamwide.com")->at(0).i_message,
              (Bytes{0x0a, 0x0b, 0x0c, 0x0d}));
    EXPECT_TRUE(parseGroupKeyTransports(doc, "sip:carol@streamwide.com")->empty());
}

TEST(Gktp, PrefixesAreNamespacesNotSpellings) {
    // The same document with another prefix; and a GKTPs element in a wrong namespace, ignored.
    std::string doc = R"(<group xmlns="urn:oma:xml:poc:list-service"><list-service uri=")" +
                      kGroup + R"("><k:GKTPs xmlns:k="urn:3gpp:ns:mcpttGKTP:1.0"><k:GMK-GKTPs>)" +
                      "<k:GKTP id=\"" + kAlice + "\">" + gmkHex() +
                      R"(</k:GKTP></k:GMK-GKTPs></k:GKTPs></list-service></group>)";
    EXPECT_EQ(parseGroupKeyTransports(doc, kAlice)->size(), 1u);
    std::string wrong_ns = R"(<group xmlns="urn:oma:xml:poc:list-service"><list-service uri=")" +
                           kGroup + R"("><GKTPs xmlns="urn:example:other"><GMK-GKTPs>)" +
                           "<GKTP id=\"" + kAlice + "\">" + gmkHex() +
                           R"(</GKTP></GMK-GKTPs></GKTPs></list-service></group>)";
    EXPECT_TRUE(parseGroupKeyTransports(wrong_ns, kAlice)->empty());
}

TEST(Gktp, MalformedDocumentsAreRefusedWithAReason) {
    EXPECT_EQ(parseGroupKeyTransports("<group", kAlice).error().reason, "gktp_bad_xml");
    EXPECT_EQ(parseGroupKeyTransports("<list-service uri=\"x\"/>", kAlice).error().reason,
              "gktp_no_group");
    EXPECT_EQ(parseGroupKeyTransports(groupDocument("", ""), kAlice).error().reason,
              "gktp_no_group");
    auto bad = [](const std::string& inner) {
        return parseGroupKeyTransports(
                   groupDocument("<mgktp:GMK-GKTPs>" + inner + "</mgktp:GMK-GKTPs>"), kAlice)
            .error()
            .reason;
    };
    EXPECT_EQ(bad(gktp(kAlice, "0x0102")), "gktp_bad_hex");
    EXPECT_EQ(bad(gktp(kAlice, "012")), "gktp_bad_hex");
    EXPECT_EQ(bad(gktp(kAlice, "  ")), "gktp_bad_hex");
    EXPECT_EQ(bad(gktp(kAlice, std::string(2 * kMaxGktpOctets + 2, 'a'))), "gktp_too_large");
    std::string many;
    for (std::size_t i = 0; i <= kMaxGktpsPerMember; ++i) {
        many += gktp(kAlice, "00");
    }
    EXPECT_EQ(bad(many), "gktp_too_many");
    EXPECT_EQ(bad("<mgktp:on-network-regrouped-GKTPs>" + gktp(kAlice, "00") +
                  "</mgktp:on-network-regrouped-GKTPs>"),
              "gktp_no_group");
}

// On the link: the MC side sends the group document in a SIP MESSAGE (or NOTIFY); the link
// is alice (Streamwide's key set) at the time of Streamwide's messages.
struct McpttLinkGktp : test::McpttLinkFixture {
    ManualClock clock;
    void SetUp() override {
        McpttLinkFixture::SetUp();
        clock.set(Clock::TimePoint(
            std::chrono::seconds(security::test::kSwNow - security::kNtpUnixOffset)));
        McpttLinkConfig c = linkConfig();
        c.media_protection.groups = {{kGroup, MediaProtection::Required}};
        link = std::make_unique<McpttLink>(io, reg, c, clock);
        ASSERT_TRUE(link->start(sink).ok());
        link->setMikeyIdentity(security::test::swUser(kAlice, "alice"),
                               security::test::swDirectory());
    }
    // Sends `body` (of `type`) in a `method` request; the final status and its Warning.
    std::pair<int, std::string> send(
        const std::string& method, const std::string& body,
        const std::string& type = std::string(kGroupDocumentContentType)) {
        sip::Message m = outOfDialog(method);
        m.setBody(body, type);
        std::pair<int, std::string> out{0, ""};
        mc->sendRequest(m, linkPeer(), [&](const sip::Message& r) {
            if (r.status() >= 200) {
                out = {r.status(), std::string(r.header("Warning").value_or(""))};
            }
        });
        EXPECT_TRUE(test::runUntil(io, [&] { return out.first != 0; }));
        return out;
    }
    std::uint64_t protection(std::string_view reason) {
        return reg.counterValue("iwf_mcptt_media_protection_total",
                                {{"link", "iwf1"}, {"reason", std::string(reason)}});
    }
};

TEST_F(McpttLinkGktp, TheGmkInAGroupDocumentIsVerifiedAndInstalled) {
    const std::string doc =
        groupDocument("<mgktp:GMK-GKTPs>" + gktp(kAlice, gmkHex()) + "</mgktp:GMK-GKTPs>");
    EXPECT_EQ(send("MESSAGE", doc).first, 200);
    EXPECT_EQ(link->groupKeyIds(kGroup), (std::vector<std::uint32_t>{0x0df9bc39}));  // GMK-ID
    EXPECT_EQ(protection("gktp_received"), 1u);
    // Again in a NOTIFY: the same GMK-ID replaces its entry.
    EXPECT_EQ(send("NOTIFY", doc).first, 200);
    EXPECT_EQ(link->groupKeyIds(kGroup), (std::vector<std::uint32_t>{0x0df9bc39}));
    // A document with no GKTP for the IWF: nothing to do.
    EXPECT_EQ(send("MESSAGE", groupDocument("")).first, 200);
    EXPECT_EQ(protection("gktp_none"), 1u);
}

TEST_F(McpttLinkGktp, AlteredMalformedOrMisaddressedGmksAreRefusedCountedAndNotInstalled) {
    Bytes altered = sw()["gmk_imessage"];
    altered[7] ^= 0x01;  // the GUK-ID (CSB ID of the common header): the signature fails
    auto r = send("MESSAGE", groupDocument("<mgktp:GMK-GKTPs>" + gktp(kAlice, toHex(altered)) +
                                           "</mgktp:GMK-GKTPs>"));
    EXPECT_EQ(r.first, 403);
    EXPECT_NE(r.second.find("mikey_signature_invalid"), std::string::npos) << r.second;
    EXPECT_EQ(protection("mikey_signature_invalid"), 1u);
    r = send("MESSAGE",
             groupDocument("<mgktp:GMK-GKTPs>" + gktp(kAlice, "zz") + "</mgktp:GMK-GKTPs>"));
    EXPECT_EQ(r.first, 400);
    EXPECT_NE(r.second.find("gktp_bad_hex"), std::string::npos) << r.second;
    EXPECT_EQ(protection("gktp_bad_hex"), 1u);
    EXPECT_EQ(send("MESSAGE", "<group").first, 400);
    EXPECT_EQ(protection("gktp_bad_xml"), 1u);
    // A body that is no group document.
    EXPECT_EQ(send("MESSAGE", "hello", "text/plain").first, 415);
    EXPECT_TRUE(link->groupKeyIds(kGroup).empty());
}

TEST_F(McpttLinkGktp, WithoutAnIdentityTheDocumentIsRefused) {
    McpttLinkConfig c = linkConfig();
    c.media_protection.groups = {{kGroup, MediaProtection::Required}};
    link->stop();
    link = std::make_unique<McpttLink>(io, reg, c, clock);
    ASSERT_TRUE(link->start(sink).ok());
    auto r = send("MESSAGE", groupDocument("<mgktp:GMK-GKTPs>" + gktp(kAlice, gmkHex()) +
                                           "</mgktp:GMK-GKTPs>"));
    EXPECT_EQ(r.first, 403);
    EXPECT_EQ(protection("mikey_no_identity"), 1u);
    EXPECT_TRUE(link->groupKeyIds(kGroup).empty());
}

}  // namespace
}  // namespace iwf::mc::mcptt
