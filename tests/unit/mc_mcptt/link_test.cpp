#include <chrono>
#include <functional>

#include <gtest/gtest.h>

#include "common/asio.hpp"
#include "common/config_node.hpp"
#include "mc_adapters/mcptt/mcptt_link.hpp"
#include "sip/multipart.hpp"
#include "sip/stack.hpp"
#include "tests/unit/mc_mcptt/mcptt_link_fixture.hpp"

namespace iwf::mc::mcptt {
namespace {

using namespace std::chrono_literals;

using test::runUntil;

// The MC side: a plain SIP stack playing the controlling function (mcptt_link_fixture.hpp).
struct McpttLinkTest : test::McpttLinkFixture {
    void SetUp() override {
        McpttLinkFixture::SetUp();
        startLink(linkConfig());
    }

    sip::Message groupInvite(const McpttInfo& info, const std::string& encoding = "X-IWF-LMR") {
        McpttMedia media;
        media.address = "127.0.0.1";
        media.audio_port = 30000;
        media.floor_port = 30001;
        media.encoding = encoding;
        media.floor_params = {true, 3, false, true};
        return McpttLinkFixture::groupInvite(media, info);
    }
};

TEST_F(McpttLinkTest, IncomingEmergencyGroupCallIsReportedAnsweredAndEndedByBye) {
    McpttInfo info;
    info.session_type = "prearranged";
    info.request_uri = "sip:iwf@iwf.example";
    info.calling_user_id = "sip:alice@mc.example";
    info.calling_group_id = "sip:secure@mc.example";
    info.emergency = true;
    sip::Message invite = groupInvite(info);
    std::optional<sip::Message> ok;
    mc->sendRequest(invite, linkPeer(), [&](const sip::Message& r) {
        if (r.status() == 200) {
            ok = r;
        }
    });
    ASSERT_TRUE(runUntil(io, [&] { return ok.has_value(); }));
    const auto* setup = sink.last<CallSetup>();
    ASSERT_NE(setup, nullptr);
    EXPECT_EQ(setup->kind, CallKind::Group);
    EXPECT_EQ(setup->priority, CallPriority::Emergency);
    EXPECT_EQ(std::get<McGroupId>(setup->callee).uri, "sip:secure@mc.example");
    EXPECT_EQ(std::get<McId>(setup->caller.id).uri, "sip:alice@mc.example");
    ASSERT_NE(sink.last<FloorRequest>(), nullptr);  // mc_implicit_request in the offer
    auto answer = sip::parseSdp(ok->body());
    ASSERT_TRUE(answer.ok());
    auto media = readMcpttSdp(*answer);
    ASSERT_TRUE(media.ok());
    EXPECT_EQ(media->encoding, "X-IWF-LMR");
    // The answer carries the ports of the call's own sockets.
    EXPECT_NE(media->audio_port, 0);
    EXPECT_EQ(media->audio_port, link->audioPort(setup->call));
    EXPECT_TRUE(media->floor);
    EXPECT_NE(media->floor_port, 0);
    EXPECT_EQ(media->floor_port, link->floorPort(setup->call));
    EXPECT_EQ(ok->header("Resource-Priority").value_or(""), "mcpttp.15");

    auto dialog = sip::Dialog::asUac(invite, *ok, linkPeer());
    mc->sendAck(dialog.makeAck(1), linkPeer());
    // Emergency cancel by UPDATE (29.379 §6.4): the link reports the lower priority.
    sip::Message update = dialog.makeRequest("UPDATE");
    McpttInfo cancel;
    cancel.emergency = false;
    sip::setBodies(update, {{std::string(kMcpttInfoContentType), {}, buildMcpttInfo(cancel)}});
    int update_status = 0;
    mc->sendRequest(update, linkPeer(), [&](const sip::Message& r) { update_status = r.status(); });
    ASSERT_TRUE(runUntil(io, [&] { return update_status == 200; }));
    EXPECT_EQ(sink.last<CallSetup>()->priority, CallPriority::Normal);
    EXPECT_EQ(sink.count<CallSetup>(), 2);

    int bye_status = 0;
    mc->sendRequest(dialog.makeRequest("BYE"), linkPeer(),
                    [&](const sip::Message& r) { bye_status = r.status(); });
    ASSERT_TRUE(runUntil(io, [&] { return bye_status == 200; }));
    ASSERT_NE(sink.last<CallEnd>(), nullptr);
    EXPECT_EQ(sink.last<CallEnd>()->reason, EndReason::Normal);
    EXPECT_EQ(link->activeCalls(), 0u);
}

TEST_F(McpttLinkTest, IncomingInviteWithoutMcpttInfoOrWithForeignCodecIsRefused) {
    sip::Message m = sip::Message::request("INVITE", "sip:iwf@iwf.example");
    m.addHeader("From", "<sip:cf@mc.example>;tag=1");
    m.addHeader("To", "<sip:iwf@iwf.example>");
    m.addHeader("Call-ID", "no-info");
    m.addHeader("CSeq", "1 INVITE");
    m.setBody("v=0\r\n", "application/sdp");
    std::optional<sip::Message> rsp;
    mc->sendRequest(m, linkPeer(), [&](const sip::Message& r) {
        if (r.status() >= 200) {
            rsp = r;
        }
    });
    ASSERT_TRUE(runUntil(io, [&] { return rsp.has_value(); }));
    EXPECT_EQ(rsp->status(), 400);
    EXPECT_NE(rsp->header("Warning").value_or("").find("missing mcptt-info"), std::string::npos);

    McpttInfo info;
    info.session_type = "prearranged";
    info.calling_group_id = "sip:g@mc.example";
    rsp.reset();
    mc->sendRequest(groupInvite(info, "AMR-WB"), linkPeer(), [&](const sip::Message& r) {
        if (r.status() >= 200) {
            rsp = r;
        }
    });
    ASSERT_TRUE(runUntil(io, [&] { return rsp.has_value(); }));
    EXPECT_EQ(rsp->status(), 488);
    EXPECT_EQ(sink.count<CallSetup>(), 0);
    EXPECT_EQ(reg.counterValue("iwf_mcptt_refused_total",
                               {{"link", "iwf1"}, {"reason", "codec_mismatch"}}),
              1u);
}

TEST_F(McpttLinkTest, OutgoingPrivateCallCarriesServiceHeadersAndEncryptionThenUpgradesAndEnds) {
    mc_answer = [this](sip::ServerTxId tx, const sip::Message& req, const sip::Peer&) {
        sip::Message ok = sip::makeResponse(req, 200, {}, "mctag");
        ok.addHeader("Contact", "<" + mc->contactUri("cf", sip::Protocol::Udp) + ">");
        if (req.method() == "INVITE") {
            McpttMedia m;
            m.address = "127.0.0.1";
            m.audio_port = 32000;
            m.floor = false;
            ok.setBody(buildMcpttSdp(m, 5).toString(), "application/sdp");
        }
        (void)mc->respond(tx, ok);
    };
    CallSetup s;
    s.call = 77;
    s.caller = Talker{P25Unit{{0xBEE00, 0x001}, 1001}, "", {}};
    s.callee = McId{"sip:bob@mc.example"};
    s.kind = CallKind::Private;
    s.floor_control = false;
    CryptoSync cs;
    cs.encrypted = true;
    cs.algid = 0x84;
    s.crypto = cs;
    ASSERT_TRUE(link->deliver(s).ok());
    ASSERT_TRUE(runUntil(io, [&] { return !mc_requests.empty(); }));
    const sip::Message& inv = mc_requests[0];
    EXPECT_EQ(inv.method(), "INVITE");
    EXPECT_EQ(inv.requestUri(), "sip:cf@mc.example");
    EXPECT_EQ(inv.header("P-Asserted-Identity").value_or(""), "<sip:iwf@iwf.example>");
    EXPECT_EQ(inv.header("P-Asserted-Service").value_or(""),
              "urn:urn-7:3gpp-service.ims.icsi.mcptt");
    EXPECT_EQ(inv.headers("Accept-Contact").size(), 2u);
    EXPECT_FALSE(inv.hasHeader("Resource-Priority"));
    auto xml = sip::bodyOfType(inv, kMcpttInfoContentType);
    ASSERT_TRUE(xml.has_value());
    auto info = parseMcpttInfo(*xml);
    ASSERT_TRUE(info.ok());
    EXPECT_EQ(info->session_type, "private");
    EXPECT_EQ(info->called_party_id, "sip:bob@mc.example");
    EXPECT_EQ(info->calling_user_id, "sip:iwf@iwf.example");  // LMR unit without MCPTT ID
    ASSERT_TRUE(info->lmr_encryption.has_value());
    EXPECT_TRUE(info->lmr_encryption->e2ee);
    EXPECT_EQ(info->lmr_encryption->algorithm, std::optional<std::uint16_t>(0x84));
    auto sdp = sip::parseSdp(*sip::bodyOfType(inv, "application/sdp"));
    ASSERT_TRUE(sdp.ok());
    EXPECT_EQ(sdp->find("application"), nullptr);  // private call without floor control

    // Established (ACK sent); now upgrade to emergency: a re-INVITE with Resource-Priority.
    ASSERT_TRUE(runUntil(io, [&] {
        s.priority = CallPriority::Emergency;
        return link->deliver(s).ok();
    }));
    ASSERT_TRUE(runUntil(io, [&] { return mc_requests.size() >= 2; }));
    EXPECT_EQ(mc_requests[1].method(), "INVITE");
    EXPECT_EQ(mc_requests[1].toTag(), "mctag");
    EXPECT_EQ(mc_requests[1].header("Resource-Priority").value_or(""), "mcpttp.15");
    auto info2 = parseMcpttInfo(*sip::bodyOfType(mc_requests[1], kMcpttInfoContentType));
    ASSERT_TRUE(info2.ok());
    EXPECT_EQ(info2->emergency, std::optional<bool>(true));

    ASSERT_TRUE(link->deliver(CallEnd{77, EndReason::Normal, ""}).ok());
    ASSERT_TRUE(runUntil(io, [&] { return mc_requests.size() >= 3; }));
    EXPECT_EQ(mc_requests[2].method(), "BYE");
    EXPECT_EQ(link->activeCalls(), 0u);
    EXPECT_FALSE(link->deliver(CallEnd{77, EndReason::Normal, ""}).ok());
}

TEST_F(McpttLinkTest, RefusedOutgoingGroupCallIsReportedAsRefused) {
    mc_answer = [this](sip::ServerTxId tx, const sip::Message& req, const sip::Peer&) {
        (void)mc->respond(tx, sip::makeResponse(req, 403, {}, "x"));
    };
    CallSetup s;
    s.call = 5;
    s.caller = Talker{McId{"sip:lmr-9@iwf.example"}, "", {}};
    s.callee = McGroupId{"sip:secure@mc.example"};
    s.broadcast = true;
    ASSERT_TRUE(link->deliver(s).ok());
    ASSERT_TRUE(runUntil(io, [&] { return sink.last<CallEnd>() != nullptr; }));
    EXPECT_EQ(sink.last<CallEnd>()->reason, EndReason::Refused);
    auto info = parseMcpttInfo(*sip::bodyOfType(mc_requests[0], kMcpttInfoContentType));
    ASSERT_TRUE(info.ok());
    EXPECT_EQ(info->session_type, "prearranged");
    EXPECT_EQ(info->calling_group_id, "sip:secure@mc.example");
    EXPECT_EQ(info->broadcast, std::optional<bool>(true));
    EXPECT_EQ(link->activeCalls(), 0u);
    // Not a group ID: refused at once.
    s.call = 6;
    s.callee = McId{"sip:x@y"};
    EXPECT_EQ(link->deliver(s).error().reason, "group_call_needs_group_id");
}

TEST_F(McpttLinkTest, AffiliationPublishPerUser) {
    link->affiliate("sip:lmr-1001@iwf.example", "sip:g1@mc.example", true);
    ASSERT_TRUE(runUntil(io, [&] { return !mc_requests.empty(); }));
    EXPECT_EQ(mc_requests[0].method(), "PUBLISH");
    EXPECT_EQ(mc_requests[0].header("Event").value_or(""), "presence");
    EXPECT_NE(mc_requests[0].body().find("affiliation group=\"sip:g1@mc.example\""),
              std::string::npos);
    EXPECT_NE(mc_requests[0].body().find("entity=\"sip:lmr-1001@iwf.example\""), std::string::npos);
    ASSERT_TRUE(
        runUntil(io, [&] { return reg.counterSum("iwf_mcptt_affiliation_results_total") == 1; }));
}

TEST(McpttLinkConfig, ErrorsNameTheField) {
    auto node = ConfigNode::loadString(
        "name: iwf1\ntype: mcptt-iwf1\npsi: iwf@example\nserver_uri: sip:cf@x\n"
        "listen: [{transport: udp}]\npeer: {address: 127.0.0.1, port: 5070}\n"
        "peers: [{address: 127.0.0.1, domains: [mc.example]}]\n",
        "test.yaml");
    try {
        (void)parseMcpttLinkConfig(node);
        FAIL() << "accepted a PSI without scheme";
    } catch (const ConfigError& e) {
        EXPECT_EQ(e.field(), "psi");
        EXPECT_EQ(e.line(), 3);
    }
    auto ok = ConfigNode::loadString(
        "name: iwf1\ntype: mcptt-iwf1\npsi: sip:iwf@example\nserver_uri: sip:cf@x\n"
        "listen: [{transport: udp, port: 0}]\npeer: {address: 127.0.0.1, port: 5070}\n"
        "peers: [{address: 127.0.0.1, domains: [mc.example]}]\n"
        "affiliation: {model: per-user, groups: [sip:g@x], users: [sip:u@x]}\n",
        "test.yaml");
    auto c = parseMcpttLinkConfig(ok);
    EXPECT_EQ(c.affiliation_model, AffiliationModel::PerUser);
    EXPECT_EQ(c.peer.port, 5070);
}

}  // namespace
}  // namespace iwf::mc::mcptt

namespace iwf::mc::mcptt {
namespace {

// The engine refuses an incoming call while the link reports it: the INVITE gets a final
// error (404 for an unknown group) instead of 200 + BYE.
struct RefusingSink : EventSink {
    McpttLink* link = nullptr;
    int setups = 0;
    void onEvent(const LinkId&, Event&& e) override {
        if (const auto* s = std::get_if<CallSetup>(&e)) {
            ++setups;
            (void)link->deliver(CallEnd{s->call, EndReason::Refused, "unknown_group"});
        }
    }
};

TEST_F(McpttLinkTest, CallRefusedByTheEngineGetsAFinalErrorNotBye) {
    link->stop();
    RefusingSink refusing;
    McpttLink other(io, reg, linkConfig());
    refusing.link = &other;
    ASSERT_TRUE(other.start(refusing).ok());
    McpttInfo info;
    info.session_type = "prearranged";
    info.calling_group_id = "sip:nobody@mc.example";
    std::optional<sip::Message> rsp;
    sip::Peer to{sip::Protocol::Udp, asio::ip::make_address("127.0.0.1"),
                 other.stack().port(sip::Protocol::Udp)};
    mc->sendRequest(groupInvite(info), to, [&](const sip::Message& r) {
        if (r.status() >= 200) {
            rsp = r;
        }
    });
    ASSERT_TRUE(runUntil(io, [&] { return rsp.has_value(); }));
    EXPECT_EQ(rsp->status(), 404);
    EXPECT_NE(rsp->header("Warning").value_or("").find("unknown_group"), std::string::npos);
    EXPECT_EQ(refusing.setups, 1);
    EXPECT_EQ(other.activeCalls(), 0u);
    EXPECT_TRUE(mc_requests.empty());  // no BYE came back
}

}  // namespace
}  // namespace iwf::mc::mcptt
