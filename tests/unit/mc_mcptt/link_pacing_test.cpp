// Pacing of the calls the IWF originates (max_outstanding_invites, docs/perf/call-setup.md):
// observed from the MC side on real loopback sockets. The MC stack holds every INVITE it gets
// without a final answer, so the link's window is what the peer sees outstanding.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/config_node.hpp"
#include "mc_adapters/mcptt/mcptt_link.hpp"
#include "sip/multipart.hpp"
#include "tests/unit/mc_mcptt/mcptt_link_fixture.hpp"

namespace iwf::mc::mcptt {
namespace {

using test::runUntil;

std::string groupOf(CallRef ref) {
    return "sip:g" + std::to_string(ref) + "@mc.example";
}

struct McpttPacingTest : test::McpttLinkFixture {
    struct Held {
        sip::ServerTxId tx;
        sip::Message invite;
    };
    std::vector<Held> held;             // INVITEs the MC side has not finally answered
    std::vector<std::string> invited;   // calling group of every INVITE, in arrival order
    std::vector<sip::Message> invites;  // the INVITEs themselves
    std::size_t max_held = 0;           // most INVITEs outstanding at the MC side at once
    std::size_t answered = 0;
    std::uint16_t answer_audio_port = 30000;  // m=audio port of the SDP answers

    void SetUp() override {
        McpttLinkFixture::SetUp();
        mc_answer = [this](sip::ServerTxId tx, const sip::Message& req, const sip::Peer&) {
            if (req.method() != "INVITE" || !req.toTag().empty()) {
                (void)mc->respond(tx, sip::makeResponse(req, 200, {}, mc->newTag()));
                return;
            }
            auto info = parseMcpttInfo(*sip::bodyOfType(req, kMcpttInfoContentType));
            invited.push_back(info.ok() ? info->calling_group_id : "?");
            invites.push_back(req);
            // 100 Trying: the link's INVITE stops retransmitting (timer A) while held.
            (void)mc->respond(tx, sip::makeResponse(req, 100, {}, {}));
            held.push_back({tx, req});
            max_held = std::max(max_held, held.size());
        };
    }

    McpttLinkConfig pacedConfig(std::size_t k) const {
        McpttLinkConfig c = linkConfig();
        c.max_outstanding_invites = k;
        // The MC side may hold an INVITE for a while: no timer B (64*T1) within the test.
        c.timers.t1 = std::chrono::milliseconds(500);
        return c;
    }

    void startCall(CallRef ref, CallPriority priority = CallPriority::Normal) {
        CallSetup s;
        s.call = ref;
        s.priority = priority;
        s.caller = Talker{McId{"sip:lmr-" + std::to_string(ref) + "@iwf.example"}, "", {}};
        s.callee = McGroupId{groupOf(ref)};
        ASSERT_TRUE(link->deliver(s).ok());
    }

    // Answers the first `n` held INVITEs (all by default): 200 with an SDP answer, or
    // `fail_status` for the answers `fail` picks (by answer number).
    void answerHeld(std::size_t n = SIZE_MAX, int fail_status = 0,
                    const std::function<bool(std::size_t)>& fail = {}) {
        n = std::min(n, held.size());
        std::vector<Held> now(held.begin(), held.begin() + static_cast<std::ptrdiff_t>(n));
        held.erase(held.begin(), held.begin() + static_cast<std::ptrdiff_t>(n));
        for (const auto& h : now) {
            const std::size_t i = answered++;
            if (fail && fail(i)) {
                (void)mc->respond(h.tx, sip::makeResponse(h.invite, fail_status, {}, "x"));
                continue;
            }
            McpttMedia m;
            m.address = "127.0.0.1";
            m.audio_port = answer_audio_port;
            m.floor_port = 30001;
            m.floor = true;
            m.floor_params.queueing = true;
            sip::Message ok = sip::makeResponse(h.invite, 200, {}, mc->newTag());
            ok.addHeader("Contact", "<" + mc->contactUri("cf", sip::Protocol::Udp) + ">");
            ok.setBody(buildMcpttSdp(m, 1).toString(), "application/sdp");
            (void)mc->respond(h.tx, std::move(ok));
        }
    }

    double gauge(std::string_view name) {
        // Rendered text: "<name>{link="iwf1"} <value>"
        const std::string text = reg.renderPrometheus();
        const std::string key = std::string(name) + "{link=\"iwf1\"} ";
        auto p = text.find(key);
        return p == std::string::npos ? -1 : std::stod(text.substr(p + key.size()));
    }
};

// A burst of M calls with a window of K: the MC side never has more than K INVITEs without a
// final answer, every call is set up, in the order the engine started them.
TEST_F(McpttPacingTest, BurstOfCallsIsSentKAtATimeInOrderAndAllAreSetUp) {
    constexpr std::size_t kK = 4;
    constexpr CallRef kM = 23;
    startLink(pacedConfig(kK));
    for (CallRef ref = 1; ref <= kM; ++ref) {
        startCall(ref);
    }
    EXPECT_EQ(reg.counterValue("iwf_mcptt_invites_queued_total", {{"link", "iwf1"}}), kM - kK);
    EXPECT_EQ(gauge("iwf_mcptt_invite_queue_depth"), static_cast<double>(kM - kK));
    EXPECT_EQ(gauge("iwf_mcptt_invites_outstanding"), static_cast<double>(kK));
    while (answered < kM) {
        const std::size_t expect = std::min<std::size_t>(kK, kM - answered);
        ASSERT_TRUE(runUntil(io, [&] { return held.size() >= expect; }))
            << "answered " << answered << ", held " << held.size();
        EXPECT_LE(held.size(), kK);
        answerHeld();
    }
    ASSERT_TRUE(runUntil(io, [&] {
        return reg.counterValue("iwf_mcptt_calls_total",
                                {{"link", "iwf1"}, {"reason", "originated"}}) == kM;
    }));
    EXPECT_LE(max_held, kK);
    ASSERT_EQ(invited.size(), kM);
    for (CallRef ref = 1; ref <= kM; ++ref) {
        EXPECT_EQ(invited[ref - 1], groupOf(ref)) << "INVITE " << ref << " out of order";
    }
    EXPECT_EQ(link->activeCalls(), kM);
    EXPECT_TRUE(sink.all<CallEnd>().empty());
    EXPECT_EQ(gauge("iwf_mcptt_invite_queue_depth"), 0.0);
    EXPECT_EQ(gauge("iwf_mcptt_invites_outstanding"), 0.0);
}

// Refused INVITEs free their slot too; a queued call that ends before its turn is never sent;
// the window holds when the MC side answers one INVITE at a time.
TEST_F(McpttPacingTest, RefusalsFreeSlotsAndAQueuedCallEndedEarlyIsNeverSent) {
    constexpr std::size_t kK = 2;
    startLink(pacedConfig(kK));
    for (CallRef ref = 1; ref <= 6; ++ref) {
        startCall(ref);
    }
    // Call 4 ends while it waits: never INVITEd, no CANCEL, nothing reported back.
    ASSERT_TRUE(link->deliver(CallEnd{4, EndReason::Normal, "talker gone"}).ok());
    EXPECT_EQ(reg.counterValue("iwf_mcptt_invites_dequeued_unsent_total", {{"link", "iwf1"}}), 1u);
    EXPECT_EQ(gauge("iwf_mcptt_invite_queue_depth"), 3.0);
    // Answer one at a time: the first two refused (486), the rest accepted.
    for (std::size_t done = 0; done < 5; ++done) {
        ASSERT_TRUE(
            runUntil(io, [&] { return held.size() == std::min<std::size_t>(kK, 5 - done); }))
            << "done " << done << ", held " << held.size();
        answerHeld(1, 486, [](std::size_t i) { return i < 2; });
    }
    ASSERT_TRUE(runUntil(io, [&] { return link->activeCalls() == 3; }));
    EXPECT_LE(max_held, kK);
    EXPECT_EQ(invited, (std::vector<std::string>{groupOf(1), groupOf(2), groupOf(3), groupOf(5),
                                                 groupOf(6)}));
    const auto ends = sink.all<CallEnd>();
    ASSERT_EQ(ends.size(), 2u);  // the two refused; not the one that ended itself
    EXPECT_EQ(ends[0].call, 1u);
    EXPECT_EQ(ends[1].call, 2u);
    EXPECT_EQ(ends[0].reason, EndReason::Refused);
    for (const auto& r : mc_requests) {
        EXPECT_NE(r.method(), "CANCEL");
    }
}

// Voice for a call that waits for its INVITE slot is held, then reaches the MC side after the
// answer in order and bit-exact, with its crypto header as the LMR side sent it.
TEST_F(McpttPacingTest, MediaOfAWaitingCallIsHeldAndSentBitExactAfterItsAnswer) {
    startLink(pacedConfig(1));
    rtp::VoiceEndpoint peer(io, reg, SteadyClock::instance(), "mc-peer",
                            rtp::VoiceEndpointConfig{96, 7, 0, 0});
    ASSERT_TRUE(peer.open({asio::ip::make_address("127.0.0.1"), 0}).ok());
    std::vector<VoiceFrame> got;
    peer.onFrame([&](VoiceFrame&& f, const rtp::RtpView&) { got.push_back(std::move(f)); });
    startCall(1);
    startCall(2);
    std::vector<VoiceFrame> sent;
    for (std::uint8_t i = 0; i < 12; ++i) {
        VoiceFrame f;
        f.codec = VoiceCodec::ImbeFullRate;
        f.pos = {i / 9u, static_cast<std::uint8_t>(i % 9)};
        f.crypto.family = LmrFamily::P25;
        f.crypto.encrypted = true;
        f.crypto.algid = 0x84;
        f.crypto.key_id = 0x0101;
        const std::uint8_t mi[9] = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, i};
        f.crypto.mi.assign(ByteView(mi, sizeof(mi)));
        std::uint8_t imbe[11];
        for (int k = 0; k < 11; ++k) {
            imbe[k] = static_cast<std::uint8_t>(0x5A ^ (i * 11 + k));
        }
        f.payload.assign(ByteView(imbe, sizeof(imbe)));
        sent.push_back(f);
        ASSERT_TRUE(link->deliver(Voice{2, f}).ok());
    }
    ASSERT_TRUE(runUntil(io, [&] { return held.size() == 1; }));
    EXPECT_EQ(invited, std::vector<std::string>{groupOf(1)});  // call 2 still waits
    answerHeld();                                              // call 1
    ASSERT_TRUE(runUntil(io, [&] { return held.size() == 1; }));
    EXPECT_EQ(invited.back(), groupOf(2));
    answer_audio_port = peer.localEndpoint().port();
    answerHeld();  // call 2: its held frames go to `peer`
    ASSERT_TRUE(runUntil(io, [&] { return got.size() == sent.size(); }));
    for (std::size_t i = 0; i < sent.size(); ++i) {
        EXPECT_EQ(got[i].codec, sent[i].codec) << i;
        EXPECT_EQ(got[i].pos, sent[i].pos) << i;
        EXPECT_EQ(got[i].crypto, sent[i].crypto) << i;
        EXPECT_EQ(got[i].payload, sent[i].payload) << i;
    }
    EXPECT_EQ(reg.counterSum("iwf_mcptt_media_dropped_total"), 0u);
}

// Emergency and imminent-peril calls wait in a queue of their own that goes first; a waiting
// call upgraded by the engine moves there and its INVITE carries the new indication.
TEST_F(McpttPacingTest, UrgentCallsGoFirstAndAnUpgradedWaitingCallIsRebuilt) {
    startLink(pacedConfig(1));
    startCall(1);
    startCall(2);
    startCall(3);
    startCall(4, CallPriority::Emergency);
    // Call 3 is upgraded while it waits (the engine's CallSetup for a known call).
    CallSetup up;
    up.call = 3;
    up.priority = CallPriority::ImminentPeril;
    up.caller = Talker{McId{"sip:lmr-3@iwf.example"}, "", {}};
    up.callee = McGroupId{groupOf(3)};
    ASSERT_TRUE(link->deliver(up).ok());
    for (std::size_t n = 1; n <= 4; ++n) {
        ASSERT_TRUE(runUntil(io, [&] { return held.size() == 1 && invited.size() == n; }));
        answerHeld();
    }
    ASSERT_TRUE(runUntil(io, [&] { return link->activeCalls() == 4 && held.empty(); }));
    EXPECT_EQ(invited, (std::vector<std::string>{groupOf(1), groupOf(4), groupOf(3), groupOf(2)}));
    auto infoOf = [](const sip::Message& m) {
        return parseMcpttInfo(*sip::bodyOfType(m, kMcpttInfoContentType));
    };
    auto i4 = infoOf(invites[1]);
    auto i3 = infoOf(invites[2]);
    auto i2 = infoOf(invites[3]);
    ASSERT_TRUE(i4.ok() && i3.ok() && i2.ok());
    EXPECT_EQ(i4->emergency, std::optional<bool>(true));
    EXPECT_EQ(i3->imminent_peril, std::optional<bool>(true));
    EXPECT_FALSE(i3->emergency.value_or(false));
    EXPECT_EQ(invites[2].header("Resource-Priority").value_or(""), "mcpttp.13");
    EXPECT_EQ(invites[1].header("Resource-Priority").value_or(""), "mcpttp.15");
    EXPECT_FALSE(i2->emergency.value_or(false) || i2->imminent_peril.value_or(false));
    EXPECT_FALSE(invites[3].header("Resource-Priority").has_value());
    EXPECT_LE(max_held, 1u);
}

// Only an urgent call waiting (no normal one behind it): the slot an answer frees still
// sends it.
TEST_F(McpttPacingTest, AnUrgentCallWaitingAloneIsSentWhenASlotFrees) {
    startLink(pacedConfig(1));
    startCall(1);
    startCall(2, CallPriority::Emergency);
    ASSERT_TRUE(runUntil(io, [&] { return held.size() == 1 && invited.size() == 1; }));
    answerHeld();
    ASSERT_TRUE(runUntil(io, [&] { return held.size() == 1 && invited.size() == 2; }))
        << "the emergency call's INVITE was not sent";
    EXPECT_EQ(invited[1], groupOf(2));
    answerHeld();
    ASSERT_TRUE(runUntil(io, [&] { return link->activeCalls() == 2 && held.empty(); }));
    EXPECT_EQ(gauge("iwf_mcptt_invite_queue_depth"), 0.0);
}

// 0 = no window: the whole burst goes out at once (the old behaviour, for MC systems that
// want it), nothing is queued.
TEST_F(McpttPacingTest, ZeroMeansNoLimit) {
    startLink(pacedConfig(0));
    for (CallRef ref = 1; ref <= 10; ++ref) {
        startCall(ref);
    }
    ASSERT_TRUE(runUntil(io, [&] { return held.size() == 10; }));
    EXPECT_EQ(reg.counterValue("iwf_mcptt_invites_queued_total", {{"link", "iwf1"}}), 0u);
    answerHeld();
    ASSERT_TRUE(runUntil(io, [&] {
        return reg.counterValue("iwf_mcptt_calls_total",
                                {{"link", "iwf1"}, {"reason", "originated"}}) == 10;
    }));
    EXPECT_EQ(link->activeCalls(), 10u);
}

// Stopping the link with calls waiting ends every call once (LinkDown) and sends nothing more.
TEST_F(McpttPacingTest, StopEndsQueuedCallsWithLinkDown) {
    startLink(pacedConfig(1));
    for (CallRef ref = 1; ref <= 3; ++ref) {
        startCall(ref);
    }
    ASSERT_TRUE(runUntil(io, [&] { return held.size() == 1; }));
    link->stop();
    const auto ends = sink.all<CallEnd>();
    ASSERT_EQ(ends.size(), 3u);
    for (const auto& e : ends) {
        EXPECT_EQ(e.reason, EndReason::LinkDown);
    }
    EXPECT_EQ(gauge("iwf_mcptt_invite_queue_depth"), 0.0);
    EXPECT_EQ(invited.size(), 1u);
}

TEST(McpttPacingConfig, DefaultsAndBadValuesNameFileLineField) {
    const std::string head =
        "name: iwf1\ntype: mcptt-iwf1\npsi: sip:iwf@example\nserver_uri: sip:cf@x\n"
        "peer: {address: 127.0.0.1, port: 5070}\n"
        "peers: [{address: 127.0.0.1, domains: [mc.example]}]\n";
    auto dflt = parseMcpttLinkConfig(
        ConfigNode::loadString(head + "listen: [{transport: udp, port: 0}]\n", "iwfd.yaml"));
    EXPECT_EQ(dflt.max_outstanding_invites, kDefaultMaxOutstandingInvites);
    EXPECT_EQ(dflt.listen.at(0).receive_buffer, sip::kDefaultUdpReceiveBuffer);
    auto set = parseMcpttLinkConfig(
        ConfigNode::loadString(head + "listen: [{transport: udp, port: 0, receive_buffer: 0}]\n"
                                      "max_outstanding_invites: 7\n",
                               "iwfd.yaml"));
    EXPECT_EQ(set.max_outstanding_invites, 7u);
    EXPECT_EQ(set.listen.at(0).receive_buffer, 0);

    struct Bad {
        std::string tail;
        std::string field;
        int line;
    };
    const std::vector<Bad> bad = {
        {"listen: [{transport: udp, port: 0}]\nmax_outstanding_invites: -1\n",
         "max_outstanding_invites", 8},
        {"listen: [{transport: udp, port: 0}]\nmax_outstanding_invites: lots\n",
         "max_outstanding_invites", 8},
        {"listen:\n  - {transport: udp, port: 0, receive_buffer: -5}\n", "receive_buffer", 8},
        {"listen:\n  - {transport: udp, port: 0, receive_buffer: 4MiB}\n", "receive_buffer", 8},
        {"listen:\n  - {transport: tcp, port: 0, receive_buffer: 1048576}\n", "receive_buffer", 8},
    };
    for (const auto& b : bad) {
        try {
            (void)parseMcpttLinkConfig(ConfigNode::loadString(head + b.tail, "iwfd.yaml"));
            ADD_FAILURE() << "accepted: " << b.tail;
        } catch (const ConfigError& e) {
            EXPECT_EQ(e.file(), "iwfd.yaml") << e.what();
            EXPECT_EQ(e.line(), b.line) << e.what();
            EXPECT_NE(e.field().find(b.field), std::string::npos) << e.field();
        }
    }
}

}  // namespace
}  // namespace iwf::mc::mcptt
