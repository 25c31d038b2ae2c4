// The mcptt-iwf1 link's peer checks (issue #21) and session timers (RFC 4028) against plain
// SIP stacks on loopback: the configured MC peer on 127.0.0.1, other "hosts" on 127.0.0.x.
// The iwfd-level properties (with a concurrent encrypted call) are in tests/hostile/mc; the
// wire exchange of session timers is judged by SIPp there too.
#include <chrono>
#include <functional>
#include <optional>

#include <gtest/gtest.h>

#include "common/asio.hpp"
#include "mc_adapters/mcptt/mcptt_link.hpp"
#include "sip/multipart.hpp"
#include "sip/stack.hpp"
#include "tests/unit/mc_mcptt/mcptt_link_fixture.hpp"

namespace iwf::mc::mcptt {
namespace {

using namespace std::chrono_literals;
using peers::Refusal;
using test::runUntil;

struct McpttPeers : test::McpttLinkFixture {
    McpttInfo info(const std::string& caller = "sip:alice@mc.example") const {
        McpttInfo i;
        i.session_type = "prearranged";
        i.request_uri = "sip:iwf@iwf.example";
        i.calling_user_id = caller;
        i.calling_group_id = "sip:secure@mc.example";
        return i;
    }
    sip::Message invite(const McpttInfo& i, const std::string& media_address = "127.0.0.1") {
        McpttMedia media;
        media.address = media_address;
        media.audio_port = 30000;
        media.floor_port = 30001;
        media.floor_params = {true, 3, false, false};
        return groupInvite(media, i);
    }
    // Sends `m` from `from` to the link; the final response (a synthetic 408 if none came).
    sip::Message send(sip::Stack& from, const sip::Message& m) {
        std::optional<sip::Message> rsp;
        from.sendRequest(m, linkPeer(), [&](const sip::Message& r) {
            if (r.status() >= 200) {
                rsp = r;
            }
        });
        EXPECT_TRUE(runUntil(io, [&] { return rsp.has_value(); }));
        return rsp.value_or(sip::Message::response(0, ""));
    }
    std::unique_ptr<sip::Stack> otherHost(const std::string& address) {
        sip::StackConfig sc;
        sc.name = "other-" + address;
        sc.listeners = {{sip::Protocol::Udp, address, 0, {}}};
        sc.timers.t1 = 10ms;
        auto s = std::make_unique<sip::Stack>(io, reg, sc);
        EXPECT_TRUE(s->start().ok());
        return s;
    }
};

TEST_F(McpttPeers, InviteFromAnotherHostIsDroppedUnansweredAndOpensNothing) {
    startLink(linkConfig());
    auto intruder = otherHost("127.0.0.2");
    sip::Message rsp = send(*intruder, invite(info()));
    EXPECT_EQ(rsp.status(), 408);  // the intruder's own timeout: no answer at all
    EXPECT_EQ(sink.count<CallSetup>(), 0);
    EXPECT_EQ(link->activeCalls(), 0u);
    EXPECT_GE(link->refusals(Refusal::NotAPeer), 1u);
}

TEST_F(McpttPeers, CallerOutsideThePeersDomainsIsRefused) {
    startLink(linkConfig());
    sip::Message rsp = send(*mc, invite(info("sip:mallory@evil.example")));
    EXPECT_EQ(rsp.status(), 403);
    EXPECT_NE(rsp.header("Warning").value_or("").find("identity_domain"), std::string::npos);
    EXPECT_EQ(sink.count<CallSetup>(), 0);
    EXPECT_EQ(link->refusals(Refusal::Domain), 1u);
    // Without a calling user ID the P-Asserted-Identity / From is the caller: checked too.
    McpttInfo anon = info("");
    sip::Message m = invite(anon);
    m.setHeader("From", "<sip:mallory@evil.example>;tag=7");
    EXPECT_EQ(send(*mc, m).status(), 403);
    EXPECT_EQ(link->refusals(Refusal::Domain), 2u);
}

TEST_F(McpttPeers, MediaOutsideThePeersRealmIsRefusedBeforeAnySocketOpens) {
    startLink(linkConfig());
    sip::Message rsp = send(*mc, invite(info(), "127.0.0.9"));
    EXPECT_EQ(rsp.status(), 488);
    EXPECT_NE(rsp.header("Warning").value_or("").find("media_realm"), std::string::npos);
    EXPECT_EQ(link->activeCalls(), 0u);
    EXPECT_EQ(sink.count<CallSetup>(), 0);
    EXPECT_EQ(link->refusals(Refusal::MediaRealm), 1u);
}

TEST_F(McpttPeers, ReInviteMovingMediaOutOfTheRealmIsRefusedAndMediaStays) {
    startLink(linkConfig());
    sip::Message inv = invite(info());
    sip::Message ok = send(*mc, inv);
    ASSERT_EQ(ok.status(), 200);
    auto dialog = sip::Dialog::asUac(inv, ok, linkPeer());
    mc->sendAck(dialog.makeAck(1), linkPeer());
    sip::Message re = dialog.makeRequest("INVITE");
    McpttMedia elsewhere;
    elsewhere.address = "127.0.0.9";
    elsewhere.audio_port = 31000;
    elsewhere.floor_port = 31001;
    re.setBody(buildMcpttSdp(elsewhere, 2).toString(), sip::kSdpContentType);
    EXPECT_EQ(send(*mc, re).status(), 488);
    EXPECT_EQ(link->activeCalls(), 1u);
    EXPECT_EQ(link->refusals(Refusal::MediaRealm), 1u);
}

TEST_F(McpttPeers, CapsOnUnacknowledgedSetupsPeerCallsAndLinkCalls) {
    McpttLinkConfig c = linkConfig();
    c.limits.max_calls = 3;
    c.limits.max_calls_per_peer = 2;
    c.limits.max_setups_per_peer = 1;
    startLink(c);
    // 1 answered, not ACKed: the peer's next setup waits for that ACK (503).
    sip::Message a = invite(info());
    sip::Message ok_a = send(*mc, a);
    ASSERT_EQ(ok_a.status(), 200);
    EXPECT_EQ(send(*mc, invite(info())).status(), 503);
    EXPECT_EQ(link->refusals(Refusal::SetupCap), 1u);
    mc->sendAck(sip::Dialog::asUac(a, ok_a, linkPeer()).makeAck(1), linkPeer());
    ASSERT_TRUE(runUntil(io, [&] {
        sip::Message b = invite(info());
        sip::Message ok_b = send(*mc, b);
        if (ok_b.status() == 200) {
            mc->sendAck(sip::Dialog::asUac(b, ok_b, linkPeer()).makeAck(1), linkPeer());
        }
        return ok_b.status() == 200;
    }));
    // 2 calls: the peer's share is used up (486).
    EXPECT_EQ(send(*mc, invite(info())).status(), 486);
    EXPECT_EQ(link->refusals(Refusal::PeerCallCap), 1u);
    EXPECT_EQ(link->activeCalls(), 2u);
    // The link's own cap: an outgoing call beyond max_calls is refused from deliver().
    CallSetup s;
    s.call = 77;
    s.caller = Talker{McId{"sip:p25-1001@iwf.example"}, "", {}};
    s.callee = McGroupId{"sip:secure@mc.example"};
    EXPECT_EQ(link->deliver(s).error().reason, "peer_call_cap");
    EXPECT_EQ(reg.counterValue("iwf_mc_peer_refused_total",
                               {{"link", "iwf1"}, {"reason", "peer_call_cap"}}),
              2u);
}

TEST_F(McpttPeers, InDialogRequestsAndAcksFromAnotherPeerAreRefused) {
    // Two configured peers; the second may not end or re-target the first one's call.
    McpttLinkConfig c = linkConfig();
    auto other = otherHost("127.0.0.3");
    peers::PeerConfig p2;
    p2.name = "partner";
    p2.address = asio::ip::make_address("127.0.0.3");
    p2.domains = {"mc.example"};
    p2.media = {*peers::parsePrefix("127.0.0.3")};
    c.peers.push_back(p2);
    startLink(c);
    sip::Message inv = invite(info());
    sip::Message ok = send(*mc, inv);
    ASSERT_EQ(ok.status(), 200);
    auto dialog = sip::Dialog::asUac(inv, ok, linkPeer());
    mc->sendAck(dialog.makeAck(1), linkPeer());
    sip::Message bye = dialog.makeRequest("BYE");
    EXPECT_EQ(send(*other, bye).status(), 403);
    EXPECT_EQ(link->activeCalls(), 1u);
    EXPECT_EQ(sink.count<CallEnd>(), 0);
    EXPECT_EQ(link->refusals(Refusal::WrongPeer), 1u);
    // The call's own peer ends it.
    EXPECT_EQ(send(*mc, dialog.makeRequest("BYE")).status(), 200);
    EXPECT_EQ(link->activeCalls(), 0u);
}

// RFC 4028 with the IWF as the refresher: it answers the timer, refreshes every half interval
// with UPDATE, and ends the call when a refresh is answered 481 (the peer forgot the dialog).
TEST_F(McpttPeers, IwfRefreshesTheSessionAndEndsItWhenThePeerForgotIt) {
    McpttLinkConfig c = linkConfig();
    c.session_timer.expires = 2s;
    c.session_timer.min_se = 1s;
    startLink(c);
    int updates = 0;
    mc_answer = [&](sip::ServerTxId tx, const sip::Message& req, const sip::Peer&) {
        if (req.method() == "UPDATE") {
            ++updates;
            EXPECT_EQ(req.header("Session-Expires").value_or(""), "2;refresher=uac");
            (void)mc->respond(tx, sip::makeResponse(req, updates < 2 ? 200 : 481, {}));
            return;
        }
        (void)mc->respond(tx, sip::makeResponse(req, 200, {}));
    };
    sip::Message inv = invite(info());
    inv.addHeader("Supported", "timer");
    inv.addHeader("Session-Expires", "2;refresher=uas");
    sip::Message ok = send(*mc, inv);
    ASSERT_EQ(ok.status(), 200);
    EXPECT_EQ(ok.header("Session-Expires").value_or(""), "2;refresher=uas");
    EXPECT_EQ(ok.header("Require").value_or(""), "timer");
    mc->sendAck(sip::Dialog::asUac(inv, ok, linkPeer()).makeAck(1), linkPeer());
    ASSERT_TRUE(runUntil(io, [&] { return sink.count<CallEnd>() == 1; }));
    EXPECT_EQ(updates, 2);
    EXPECT_EQ(sink.last<CallEnd>()->reason, EndReason::Error);
    EXPECT_EQ(link->activeCalls(), 0u);
    EXPECT_EQ(reg.counterValue("iwf_mcptt_session_refreshes_total", {{"link", "iwf1"}}), 1u);
    EXPECT_EQ(reg.counterValue("iwf_mcptt_sessions_expired_total", {{"link", "iwf1"}}), 1u);
}

// RFC 4028 with the peer as the refresher: its refresh is answered with the timer, and when
// refreshes stop the IWF sends BYE before the interval runs out (§10).
TEST_F(McpttPeers, PeerRefreshesAndWhenItStopsTheIwfSendsBye) {
    McpttLinkConfig c = linkConfig();
    c.session_timer.expires = 3s;
    c.session_timer.min_se = 1s;
    startLink(c);
    sip::Message inv = invite(info());
    inv.addHeader("Supported", "timer");
    inv.addHeader("Session-Expires", "2");
    sip::Message ok = send(*mc, inv);
    ASSERT_EQ(ok.status(), 200);
    EXPECT_EQ(ok.header("Session-Expires").value_or(""), "2;refresher=uac");
    auto dialog = sip::Dialog::asUac(inv, ok, linkPeer());
    mc->sendAck(dialog.makeAck(1), linkPeer());
    sip::Message refresh = dialog.makeRequest("UPDATE");
    refresh.addHeader("Supported", "timer");
    refresh.addHeader("Session-Expires", "2;refresher=uac");
    sip::Message r = send(*mc, refresh);
    EXPECT_EQ(r.status(), 200);
    EXPECT_EQ(r.header("Session-Expires").value_or(""), "2;refresher=uac");
    // A refresh below the IWF's Min-SE from a peer that supports timers: 422.
    sip::Message small = dialog.makeRequest("UPDATE");
    small.addHeader("Supported", "timer");
    small.addHeader("Session-Expires", "1");
    EXPECT_EQ(send(*mc, small).status(), 200);  // 1 s >= min_se 1 s: accepted
    // No more refreshes: BYE arrives.
    ASSERT_TRUE(runUntil(io, [&] {
        for (const auto& m : mc_requests) {
            if (m.method() == "BYE") {
                return true;
            }
        }
        return false;
    }));
    ASSERT_NE(sink.last<CallEnd>(), nullptr);
    EXPECT_EQ(link->activeCalls(), 0u);
}

TEST_F(McpttPeers, TooSmallIntervalGets422WithMinSe) {
    McpttLinkConfig c = linkConfig();  // Min-SE 90 s
    startLink(c);
    sip::Message inv = invite(info());
    inv.addHeader("Supported", "timer");
    inv.addHeader("Session-Expires", "30");
    sip::Message r = send(*mc, inv);
    EXPECT_EQ(r.status(), 422);
    EXPECT_EQ(r.header("Min-SE").value_or(""), "90");
    EXPECT_EQ(link->activeCalls(), 0u);
}

}  // namespace
}  // namespace iwf::mc::mcptt
