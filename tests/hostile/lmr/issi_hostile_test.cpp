// The p25-issi link of the real iwfd under attack, next to a legitimate encrypted call: the
// serving RFSS at 127.0.0.1 INVITEs fire-ops (TG 100) as a protected call, gets the floor and
// talks two AES-256 superframes over ISSI RTP; iwfd carries them to the MC system, which must
// receive all 36 frames, whatever other RFSSs (127.0.0.4x) send meanwhile.
#include <gtest/gtest.h>

#include "lmr_adapters/p25/issi_rtp.hpp"
#include "lmr_adapters/p25/issi_sip.hpp"
#include "lmr_hostile_support.hpp"
#include "sip/dialog.hpp"

namespace iwf::hostile {
namespace {

using namespace lmr::p25;

const PttControlWord kTalker{0xBEE00, 0x001, 1001, 0x04};
const std::string kGroupUri = "sip:bee000010064@p25dr;user=TIA-P25-SG";
// fire-dispatch, TG 300 (0x12C), homed on the MC side.
const std::string kMcHomedGroupUri = "sip:bee00001012c@p25dr;user=TIA-P25-SG";
constexpr std::size_t kFrames = 36;

Bytes rtpPacket(IssiPacketKind kind, std::vector<IssiBlock> extra, std::uint16_t seq) {
    IssiPacket p;
    p.rtp.seq = seq;
    p.rtp.ssrc = 2;
    p.payload.signal = true;
    PacketTypeBlock t;
    t.type = static_cast<std::uint8_t>(kind);
    t.service_options = 0x44;  // encrypted
    t.tsn = 3;
    p.payload.blocks.push_back(IssiBlock{true, 1, 0, t});
    p.payload.blocks.push_back(IssiBlock{true, 11, 0, kTalker});
    for (auto& b : extra) {
        p.payload.blocks.push_back(std::move(b));
    }
    Bytes out;
    EXPECT_TRUE(encodeIssiPacket(p, out).ok());
    return out;
}

ImbeBlock imbeFrame(std::uint8_t index, std::uint8_t seed) {
    ImbeBlock v;
    v.ft = issiFrameType(index);
    for (std::size_t k = 0; k < kImbeBytes; ++k) {
        v.imbe[k] = static_cast<std::uint8_t>(seed + index * 13 + k);
    }
    v.status = {0x00, index};
    std::array<std::uint8_t, 8> x{};
    if (index == 14) {
        x = {0x84, 0x01, 0x01, 0};
    }
    v.extra.assign(ByteView(x.data(), *imbeBlockLength(v.ft) - kImbeBlockBase));
    return v;
}

// One RFSS: a SIP stack and an RTP socket on `address`, driven on the test's io_context.
struct Rfss {
    Rfss(asio::io_context& io, metrics::Registry& reg, const std::string& address)
        : io_(io), address_(address), rtp(address) {
        sip::StackConfig sc;
        sc.name = "rfss-" + address;
        sc.listeners.push_back(sip::ListenerConfig{sip::Protocol::Udp, address, 0, {}});
        stack = std::make_unique<sip::Stack>(io, reg, sc);
        EXPECT_TRUE(stack->start().ok());
    }
    // Sends `req` to iwfd's ISSI port and returns the final response (status 0: none within
    // `wait`).
    sip::Message request(sip::Message req, const sip::Peer& to,
                         std::chrono::milliseconds wait = 20s) {
        // Shared: with no answer within `wait` the transaction outlives this call (its timeout
        // still reports to the callback later).
        auto final = std::make_shared<std::optional<sip::Message>>();
        stack->sendRequest(std::move(req), to, [final](const sip::Message& rsp) {
            if (rsp.status() >= 200 && !final->has_value()) {
                *final = rsp;
            }
        });
        pump(
            io_, [&] { return final->has_value(); }, wait);
        return final->value_or(sip::Message::request("NONE", "sip:none"));
    }
    sip::Message invite(const std::string& call_id, const std::string& tag,
                        const std::string& group_uri = kGroupUri) {
        auto m = sip::Message::request("INVITE", group_uri);
        m.addHeader("From", "<" + group_uri + ">;tag=" + tag);
        m.addHeader("To", "<" + group_uri + ">");
        m.addHeader("Call-ID", call_id);
        m.addHeader("CSeq", "1 INVITE");
        m.addHeader("Contact", "<sip:bee000010064@" + address_ + ":" +
                                   std::to_string(stack->port(sip::Protocol::Udp)) + ">");
        IssiSdp sdp;
        sdp.address = address_;
        sdp.port = rtp.port();
        IssiCallParams params;
        params.protected_mode = true;
        params.confirmed_group_call = false;
        std::string ct;
        std::string body =
            buildMultipart({{"application/sdp", buildIssiSdp(sdp)},
                            {"application/x-tia-p25-issi", buildIssiCallParams(params)}},
                           "b1", ct);
        m.setBody(std::move(body), ct);
        return m;
    }

    asio::io_context& io_;
    std::string address_;
    std::unique_ptr<sip::Stack> stack;
    Sock rtp;
};

struct IssiHostile : ::testing::Test {
    void SetUp() override { sip_port = pickLoopbackPort(PortProtocol::Udp); }
    void start() {
        const std::string links =
            "  - name: issi\n    type: p25-issi\n    address: 127.0.0.1\n    sip_port: " +
            std::to_string(sip_port) +
            "\n    rtp_port: 0\n    wacn: 0xBEE00\n    system: 0x001\n    groups: [100, 300]\n"
            "    allow: [127.0.0.1, 127.0.0.45, 127.0.0.46]\n";
        ASSERT_TRUE(iwfd.start(links, mc.sipPort())) << iwfd.iwfd.log();
        iwfd_peer.protocol = sip::Protocol::Udp;
        iwfd_peer.address = asio::ip::make_address("127.0.0.1");
        iwfd_peer.port = sip_port;
    }
    // The legitimate RFSS joins the group and gets the floor.
    void legitCallStarts() {
        auto inv = legit.invite(call_id, "rfss1");
        sent_invite = inv;
        ok = legit.request(inv, iwfd_peer);
        ASSERT_EQ(ok.status(), 200) << iwfd.iwfd.log();
        auto dialog = sip::Dialog::asUac(sent_invite, ok, iwfd_peer);
        legit.stack->sendAck(dialog.makeAck(1), iwfd_peer);
        auto answer = parseIssiBody(ok.header("Content-Type").value_or(""), ok.body());
        ASSERT_TRUE(answer.ok() && answer->sdp);
        iwfd_rtp = answer->sdp->port;
        legit.rtp.sendTo(iwfd_rtp, rtpPacket(IssiPacketKind::PttRequest, {}, seq++));
        bool granted = false;
        for (int i = 0; i < 20 && !granted; ++i) {
            pump(
                io, [] { return false; }, 50ms);
            while (auto d = legit.rtp.receive(10ms)) {
                auto p = decodeIssiPacket(*d);
                granted = granted || (p.ok() && p->payload.packetType() != nullptr &&
                                      p->payload.packetType()->type ==
                                          static_cast<std::uint8_t>(IssiPacketKind::PttGrant));
            }
        }
        ASSERT_TRUE(granted) << iwfd.iwfd.log();
    }
    // Frames [from, to) of two superframes (header word with the first one).
    void talk(std::size_t from, std::size_t to) {
        for (std::size_t n = from; n < to; ++n) {
            std::vector<IssiBlock> blocks;
            if (n == 0) {
                HeaderWord hw;
                hw.mi = Mi{0x12, 0x34, 0x56, 0x78, 0x90, 0xAB, 0xCD, 0xEF, 0x00};
                hw.algid = 0x84;
                hw.kid = 0x0101;
                hw.group = 100;
                blocks.push_back(IssiBlock{true, 5, 0, hw});
            }
            blocks.push_back(IssiBlock{
                true, 0, 0,
                imbeFrame(static_cast<std::uint8_t>(n % 18), static_cast<std::uint8_t>(n / 18))});
            legit.rtp.sendTo(iwfd_rtp, rtpPacket(IssiPacketKind::PttProgress, blocks, seq++));
        }
    }
    void expectCallCarried() {
        ASSERT_TRUE(pump(io, [&] { return mc.frames.size() >= kFrames; })) << iwfd.iwfd.log();
        pump(
            io, [] { return false; }, 500ms);
        EXPECT_EQ(mc.frames.size(), kFrames);
        for (const auto& f : mc.frames) {
            EXPECT_TRUE(f.crypto.encrypted);
        }
    }
    sip::Message inDialog(const std::string& method, Rfss& from) {
        auto m = sip::Message::request(method, kGroupUri);
        m.addHeader("From", "<" + kGroupUri + ">;tag=rfss1");
        m.addHeader("To", "<" + kGroupUri + ">;tag=" + ok.toTag());
        m.addHeader("Call-ID", call_id);
        m.addHeader("CSeq", "2 " + method);
        m.addHeader("Contact", "<sip:bee000010064@" + from.address_ + ":" +
                                   std::to_string(from.stack->port(sip::Protocol::Udp)) + ">");
        return m;
    }

    asio::io_context io;
    metrics::Registry reg;
    McSystem mc{io, reg};
    Rfss legit{io, reg, "127.0.0.1"};
    std::uint16_t sip_port = 0;
    std::uint16_t iwfd_rtp = 0;
    std::uint16_t seq = 100;
    sip::Peer iwfd_peer;
    std::string call_id = "legit-call@01.001.bee00.p25dr";
    sip::Message sent_invite = sip::Message::request("INVITE", kGroupUri);
    sip::Message ok = sip::Message::request("NONE", kGroupUri);
    HostileIwfd iwfd;
};

// Before: a radio that let go of PTT while the MC system held its floor request in a queue
// left iwfd's engine naming a requester that no longer waited, and the MC system's Floor Deny
// (or iwfd's own queue timer) then aborted iwfd on an assertion: any RFSS and MC system doing
// ordinary things could take the gateway down. Now the release withdraws the request at the
// MC side, the late deny is counted and dropped, and the next PTT is carried.
TEST_F(IssiHostile, PttEndWhileTheMcSideQueuesTheRequestDoesNotAbortIwfd) {
    ASSERT_NO_FATAL_FAILURE(start());
    using mc::floor::MessageType;
    auto inv = legit.invite("queued@01.001.bee00.p25dr", "rfssq", kMcHomedGroupUri);
    auto rsp = legit.request(inv, iwfd_peer);
    ASSERT_EQ(rsp.status(), 200) << iwfd.iwfd.log();
    legit.stack->sendAck(sip::Dialog::asUac(inv, rsp, iwfd_peer).makeAck(1), iwfd_peer);
    auto answer = parseIssiBody(rsp.header("Content-Type").value_or(""), rsp.body());
    ASSERT_TRUE(answer.ok() && answer->sdp);
    iwfd_rtp = answer->sdp->port;
    legit.rtp.sendTo(iwfd_rtp, rtpPacket(IssiPacketKind::PttRequest, {}, seq++));
    ASSERT_TRUE(pump(io, [&] { return mc.floorCount(MessageType::FloorRequest) >= 1; }))
        << iwfd.iwfd.log();
    mc::floor::FloorMessage queued;
    queued.type = MessageType::FloorQueuePositionInfo;
    queued.ssrc = 99;
    queued.add(mc::floor::QueueInfo{1, 0});
    ASSERT_TRUE(mc.floor.send(queued).ok());
    ASSERT_TRUE(iwfd.waitMetric(R"(iwf_engine_floor_events_total{event="queued"})", 1))
        << iwfd.metrics();
    legit.rtp.sendTo(iwfd_rtp, rtpPacket(IssiPacketKind::PttEnd, {}, seq++));
    ASSERT_TRUE(pump(io, [&] { return mc.floorCount(MessageType::FloorRelease) >= 1; }))
        << "the queued request is withdrawn at the MC side\n"
        << iwfd.iwfd.log();
    mc::floor::FloorMessage deny;
    deny.type = MessageType::FloorDeny;
    deny.ssrc = 99;
    deny.add(mc::floor::RejectCause{1, "another user has permission"});
    ASSERT_TRUE(mc.floor.send(deny).ok());
    EXPECT_TRUE(
        iwfd.waitMetric(R"(iwf_engine_dropped_total{link="mc",reason="unexpected_floor_deny"})", 1))
        << iwfd.metrics();
    // Still serving: the next PTT reaches the MC system's floor.
    legit.rtp.sendTo(iwfd_rtp, rtpPacket(IssiPacketKind::PttRequest, {}, seq++));
    EXPECT_TRUE(pump(io, [&] { return mc.floorCount(MessageType::FloorRequest) >= 2; }))
        << iwfd.iwfd.log();
    iwfd.stop();
}

// Before: an INVITE from an RFSS nobody configured was answered 200 and became a call. Now
// it is dropped before it is parsed: no answer, no call, counted.
TEST_F(IssiHostile, InviteFromAnUnknownRfssIsRefused) {
    ASSERT_NO_FATAL_FAILURE(start());
    ASSERT_NO_FATAL_FAILURE(legitCallStarts());
    talk(0, 18);
    Rfss stranger(io, reg, "127.0.0.44");
    auto rsp = stranger.request(stranger.invite("stranger@x", "s1"), iwfd_peer, 2s);
    EXPECT_EQ(rsp.status(), 0) << "answered " << rsp.status();
    talk(18, kFrames);
    expectCallCarried();
    EXPECT_EQ(mc.count("INVITE"), 1u) << "only the legitimate call reached the MC system";
    EXPECT_TRUE(iwfd.waitMetric(
        R"(iwf_lmr_dropped_total{link="issi",peer="other",reason="not_allowed"})", 1))
        << iwfd.metrics();
    iwfd.stop();
}

// Before: a BYE carrying the call's Call-ID, sent from a third address, ended the call. Now
// an in-dialog request must match the dialog: Call-ID, both tags and the peer's address.
TEST_F(IssiHostile, ByeFromAnotherAddressDoesNotEndTheCall) {
    ASSERT_NO_FATAL_FAILURE(start());
    ASSERT_NO_FATAL_FAILURE(legitCallStarts());
    talk(0, 18);
    Rfss other(io, reg, "127.0.0.45");  // a configured RFSS, but not this call's
    auto rsp = other.request(inDialog("BYE", other), iwfd_peer);
    EXPECT_EQ(rsp.status(), 481);
    talk(18, kFrames);
    expectCallCarried();
    EXPECT_NE(iwfd.iwfd.log().find("bye_not_in_dialog"), std::string::npos);
    iwfd.stop();
}

// Before: a re-INVITE from another address moved the call's media to an address of its
// choosing (and the RFSS's own RTP was refused). Now it gets 403 and nothing moves.
TEST_F(IssiHostile, ReInviteFromAnotherAddressCannotMoveTheMedia) {
    ASSERT_NO_FATAL_FAILURE(start());
    ASSERT_NO_FATAL_FAILURE(legitCallStarts());
    talk(0, 18);
    Rfss hijacker(io, reg, "127.0.0.46");
    auto reinvite = inDialog("INVITE", hijacker);
    IssiSdp sdp;
    sdp.address = "127.0.0.46";
    sdp.port = hijacker.rtp.port();
    reinvite.setBody(buildIssiSdp(sdp), "application/sdp");
    auto rsp = hijacker.request(reinvite, iwfd_peer);
    EXPECT_EQ(rsp.status(), 403);
    talk(18, kFrames);
    expectCallCarried();
    // A heartbeat query from the RFSS is still answered to the RFSS, not to the hijacker.
    legit.rtp.sendTo(iwfd_rtp, rtpPacket(IssiPacketKind::HeartbeatQuery, {}, seq++));
    bool answered = false;
    for (int i = 0; i < 50 && !answered; ++i) {
        if (auto d = legit.rtp.receive(100ms)) {
            auto p = decodeIssiPacket(*d);
            answered = p.ok() && p->payload.packetType() != nullptr &&
                       p->payload.packetType()->type ==
                           static_cast<std::uint8_t>(IssiPacketKind::Heartbeat);
        }
    }
    EXPECT_TRUE(answered);
    EXPECT_FALSE(hijacker.rtp.receive(200ms)) << "media went to the hijacker";
    iwfd.stop();
}

}  // namespace
}  // namespace iwf::hostile
