// p25-issi link over real UDP on 127.0.0.1: a serving RFSS (SIP through sip, RTP from
// a plain socket) answers OPTIONS, joins a group call the IWF is home for, requests the floor,
// sends an encrypted transmission and leaves; every encrypted byte survives the adapter's
// decode -> events -> encode path.
#include "lmr_adapters/p25/issi_link.hpp"

#include <gtest/gtest.h>

#include "common/clock.hpp"
#include "lmr_adapters/p25/link_types.hpp"
#include "p25_test_support.hpp"
#include "sip/stack.hpp"

namespace iwf::lmr::p25 {
namespace {

using namespace std::chrono_literals;
using test::CollectingSink;
using test::UdpPeer;

const PttControlWord kTalker{0xBEE07, 0xAD5, 0x00C504, 0x04};
const Mi kMi{0x12, 0x34, 0x56, 0x78, 0x90, 0xAB, 0xCD, 0xEF, 0x00};

Bytes packet(IssiPacketKind kind, std::vector<IssiBlock> extra, std::uint16_t seq) {
    IssiPacket p;
    p.rtp.seq = seq;
    p.rtp.ssrc = 2;
    p.payload.signal = true;
    PacketTypeBlock t;
    t.type = static_cast<std::uint8_t>(kind);
    t.service_options = 0x44;
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

ImbeBlock imbeFrame(std::uint8_t index, std::uint8_t seed, const Mi& next) {
    ImbeBlock v;
    v.ft = issiFrameType(index);
    for (std::size_t k = 0; k < kImbeBytes; ++k) {
        v.imbe[k] = static_cast<std::uint8_t>(seed + index * 13 + k);
    }
    v.status = {0x00, static_cast<std::uint8_t>(index)};
    std::array<std::uint8_t, 8> x{};
    if (index >= 11 && index <= 13) {
        const std::size_t off = (index - 11) * 3U;
        x = {next[off], next[off + 1], next[off + 2], 0};
    } else if (index == 14) {
        x = {0x84, 0x12, 0x34, 0};
    } else if (index == 8 || index == 17) {
        x = {0xA1, 0xB2, 0x00};
    } else if (index >= 15) {
        x = {0xEE, index, 0x55, 0};  // RS parity: opaque
    }
    v.extra.assign(ByteView(x.data(), *imbeBlockLength(v.ft) - kImbeBlockBase));
    return v;
}

struct P25IssiLink : ::testing::Test {
    void SetUp() override {
        IssiLinkConfig c;
        c.name = "issi-test";
        c.address = "127.0.0.1";
        c.sip_port = 0;
        c.rtp_port = 0;
        c.system = P25System{0xBEE07, 0xAD5};
        c.rfss = 3;
        c.groups = {0x333};
        link = std::make_unique<IssiLink>(c, io.io, metrics, SteadyClock::instance());
        sip::StackConfig sc;
        sc.name = "serving";
        sc.listeners.push_back(sip::ListenerConfig{sip::Protocol::Udp, "127.0.0.1", 0, {}});
        serving = std::make_unique<sip::Stack>(io.io, metrics, sc);
        io.runSync([&] {
            ASSERT_TRUE(link->start(sink).ok());
            ASSERT_TRUE(serving->start().ok());
        });
        link_peer.protocol = sip::Protocol::Udp;
        link_peer.address = asio::ip::make_address("127.0.0.1");
        link_peer.port = link->sipPort();
    }
    void TearDown() override {
        io.runSync([&] {
            link->stop();
            serving->stop();
        });
        io.stop();
    }
    // Sends a request from the serving RFSS and waits for the final response.
    sip::Message request(sip::Message req) {
        std::promise<sip::Message> p;
        auto f = p.get_future();
        bool done = false;
        io.runSync([&] {
            serving->sendRequest(std::move(req), link_peer, [&](const sip::Message& rsp) {
                if (rsp.status() >= 200 && !done) {
                    done = true;
                    p.set_value(rsp);
                }
            });
        });
        EXPECT_EQ(f.wait_for(5s), std::future_status::ready);
        return f.get();
    }
    sip::Message baseRequest(const std::string& method, const std::string& uri) {
        auto m = sip::Message::request(method, uri);
        m.addHeader("From", "<" + uri + ">;tag=serving1");
        m.addHeader("To", "<" + uri + ">");
        m.addHeader("Call-ID", call_id);
        m.addHeader("CSeq", std::to_string(cseq++) + " " + method);
        m.addHeader("Contact", "<sip:bee07ad50333@127.0.0.1:" +
                                   std::to_string(serving->port(sip::Protocol::Udp)) + ">");
        return m;
    }

    test::IoThread io;
    metrics::Registry metrics;
    CollectingSink sink;
    std::unique_ptr<IssiLink> link;
    std::unique_ptr<sip::Stack> serving;
    sip::Peer link_peer;
    std::string call_id = "issi-test-call@02.ad5.bee07.p25dr";
    std::uint32_t cseq = 1;
};

TEST_F(P25IssiLink, AnswersOptions) {
    auto rsp = request(baseRequest("OPTIONS", "sip:03.ad5.bee07.p25dr"));
    EXPECT_EQ(rsp.status(), 200);
    std::string accept;
    for (const auto& a : rsp.headers("Accept")) {
        accept += a + ",";
    }
    EXPECT_NE(accept.find("application/x-tia-p25-issi"), std::string::npos) << accept;
    EXPECT_NE(rsp.header("Allow").value_or("").find("INVITE"), std::string::npos);
}

TEST_F(P25IssiLink, RefusesGroupItIsNotHomeFor) {
    UdpPeer rtp;
    auto inv = baseRequest("INVITE", "sip:bee07ad50444@p25dr;user=TIA-P25-SG");
    IssiSdp sdp;
    sdp.address = "127.0.0.1";
    sdp.port = rtp.port();
    inv.setBody(buildIssiSdp(sdp), "application/sdp");
    EXPECT_EQ(request(inv).status(), 404);
    EXPECT_EQ(sink.events().size(), 0U);
}

TEST_F(P25IssiLink, EncryptedGroupCallFromServingRfss) {
    UdpPeer rtp;
    // INVITE with multipart SDP + ISSI call parameters (protected call).
    auto inv = baseRequest("INVITE", "sip:bee07ad50333@p25dr;user=TIA-P25-SG");
    IssiSdp sdp;
    sdp.address = "127.0.0.1";
    sdp.port = rtp.port();
    IssiCallParams params;
    params.protected_mode = true;
    params.confirmed_group_call = false;
    std::string ct;
    std::string body = buildMultipart({{"application/sdp", buildIssiSdp(sdp)},
                                       {"application/x-tia-p25-issi", buildIssiCallParams(params)}},
                                      "b1", ct);
    inv.setBody(body, ct);
    sip::Message ok = request(inv);
    ASSERT_EQ(ok.status(), 200);
    auto answer = parseIssiBody(ok.header("Content-Type").value_or(""), ok.body());
    ASSERT_TRUE(answer.ok()) << answer.error().toString();
    ASSERT_TRUE(answer->sdp);
    EXPECT_EQ(answer->sdp->port, link->rtpPort());
    EXPECT_EQ(answer->sdp->imbe_pt, 100);
    ASSERT_TRUE(answer->params);
    EXPECT_EQ(answer->params->protected_mode, true);

    ASSERT_TRUE(sink.waitFor([](const auto& ev) { return test::countOf<CallSetup>(ev) == 1; }));
    const CallSetup setup = std::get<CallSetup>(sink.events()[0]);
    EXPECT_EQ(setup.callee, Address(P25Group{{0xBEE07, 0xAD5}, 0x333}));
    ASSERT_TRUE(setup.crypto);
    EXPECT_TRUE(setup.crypto->encrypted);

    // PTT request -> FloorRequest; the engine grants -> PTT Grant on the wire.
    std::uint16_t seq = 100;
    rtp.sendTo(link->rtpPort(), packet(IssiPacketKind::PttRequest, {}, seq++));
    ASSERT_TRUE(sink.waitFor([](const auto& ev) { return test::countOf<FloorRequest>(ev) == 1; }));
    FloorGranted g;
    g.call = setup.call;
    g.who.id = P25Unit{{0xBEE07, 0xAD5}, 0xC504};
    ASSERT_TRUE(link->deliver(g).ok());
    auto grant = rtp.receive(5s);
    ASSERT_TRUE(grant);
    auto gp = decodeIssiPacket(*grant);
    ASSERT_TRUE(gp.ok());
    EXPECT_EQ(gp->payload.packetType()->type, static_cast<std::uint8_t>(IssiPacketKind::PttGrant));
    EXPECT_EQ(gp->payload.pttControl()->unit, 0xC504U);

    // Every Voice event goes straight back into the link (decode -> encode path).
    sink.hook = [this](const Event& e) {
        if (std::holds_alternative<Voice>(e)) {
            EXPECT_TRUE(link->deliver(e).ok());
        }
    };
    // Two superframes: header word (ALGID 0x84, KID 0x1234, MI) in the first packet, then
    // one IMBE block per packet; the LDU2 of superframe 0 announces the next MI.
    const Mi next = nextMi(kMi);
    std::vector<ImbeBlock> sent;
    for (int sfn = 0; sfn < 2; ++sfn) {
        for (std::uint8_t i = 0; i < 18; ++i) {
            ImbeBlock v =
                imbeFrame(i, static_cast<std::uint8_t>(sfn * 50), sfn == 0 ? next : nextMi(next));
            std::vector<IssiBlock> blocks;
            if (sfn == 0 && i == 0) {
                HeaderWord hw;
                hw.mi = kMi;
                hw.algid = 0x84;
                hw.kid = 0x1234;
                hw.group = 0x333;
                blocks.push_back(IssiBlock{true, 5, 0, hw});
            }
            blocks.push_back(IssiBlock{true, 0, 0, v});
            sent.push_back(v);
            rtp.sendTo(link->rtpPort(), packet(IssiPacketKind::PttProgress, blocks, seq++));
        }
    }
    std::vector<ImbeBlock> got;
    while (got.size() < sent.size()) {
        auto d = rtp.receive(5s);
        ASSERT_TRUE(d) << "got " << got.size();
        auto p = decodeIssiPacket(*d);
        ASSERT_TRUE(p.ok());
        for (const auto& b : p->payload.blocks) {
            if (const auto* v = std::get_if<ImbeBlock>(&b.body)) {
                got.push_back(*v);
            }
            if (const auto* hw = std::get_if<HeaderWord>(&b.body)) {
                EXPECT_EQ(hw->algid, 0x84);
                EXPECT_EQ(hw->kid, 0x1234);
                EXPECT_EQ(hw->mi, kMi);
            }
        }
    }
    for (std::size_t i = 0; i < sent.size(); ++i) {
        EXPECT_EQ(got[i], sent[i]) << "frame " << i;
    }
    auto ev = sink.events();
    std::vector<Voice> voice;
    for (const auto& e : ev) {
        if (const auto* v = std::get_if<Voice>(&e)) {
            voice.push_back(*v);
        }
    }
    ASSERT_EQ(voice.size(), 36U);
    EXPECT_EQ(voice[0].frame.crypto.algid, 0x84);
    EXPECT_EQ(toHex(voice[0].frame.crypto.mi.view()), "1234567890abcdef00");
    EXPECT_EQ(voice[18].frame.pos.superframe, 1U);
    EXPECT_EQ(voice[18].frame.pos.index, 0);
    EXPECT_EQ(toHex(voice[18].frame.crypto.mi.view()), toHex(ByteView(next.data(), next.size())));

    sink.hook = nullptr;
    rtp.sendTo(link->rtpPort(), packet(IssiPacketKind::PttEnd, {}, seq++));
    ASSERT_TRUE(
        sink.waitFor([](const auto& ev2) { return test::countOf<FloorRelease>(ev2) == 1; }));

    // A malformed RTP packet is dropped and counted.
    rtp.sendTo(link->rtpPort(), Bytes{0x80, 0x64, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2, 0x01, 0x81});
    EXPECT_TRUE(test::eventually([&] {
        return metrics.counterValue(
                   "iwf_lmr_dropped_total",
                   {{"link", "issi-test"}, {"peer", "127.0.0.1"}, {"reason", "truncated"}}) == 1;
    }));

    // BYE inside the dialog -> CallEnd.
    auto bye = sip::Message::request("BYE", "sip:bee07ad50333@p25dr;user=TIA-P25-SG");
    bye.addHeader("From", "<sip:bee07ad50333@p25dr;user=TIA-P25-SG>;tag=serving1");
    bye.addHeader("To", "<sip:bee07ad50333@p25dr;user=TIA-P25-SG>;tag=" + ok.toTag());
    bye.addHeader("Call-ID", call_id);
    bye.addHeader("CSeq", "9 BYE");
    EXPECT_EQ(request(bye).status(), 200);
    ASSERT_TRUE(sink.waitFor([](const auto& ev2) { return test::countOf<CallEnd>(ev2) == 1; }));
    EXPECT_EQ(std::get<CallEnd>(sink.events().back()).reason, EndReason::Normal);
}

// Drain (SIGTERM): a call in progress goes on (re-INVITE answered, BYE ends it); an INVITE that
// would start a call gets 503 with Retry-After and reaches no one.
TEST_F(P25IssiLink, DrainRefusesNewCallsWith503AndKeepsTheCallInProgress) {
    UdpPeer rtp;
    IssiSdp sdp;
    sdp.address = "127.0.0.1";
    sdp.port = rtp.port();
    auto inv = baseRequest("INVITE", "sip:bee07ad50333@p25dr;user=TIA-P25-SG");
    inv.setBody(buildIssiSdp(sdp), "application/sdp");
    sip::Message ok = request(inv);
    ASSERT_EQ(ok.status(), 200);
    ASSERT_TRUE(sink.waitFor([](const auto& ev) { return test::countOf<CallSetup>(ev) == 1; }));

    io.runSync([&] { link->beginDrain(); });
    const std::string first_call = call_id;
    call_id = "issi-test-call-2@02.ad5.bee07.p25dr";
    auto fresh = baseRequest("INVITE", "sip:bee07ad50333@p25dr;user=TIA-P25-SG");
    fresh.setBody(buildIssiSdp(sdp), "application/sdp");
    sip::Message refused = request(fresh);
    EXPECT_EQ(refused.status(), 503);
    EXPECT_EQ(refused.header("Retry-After").value_or(""), "30");
    EXPECT_TRUE(test::eventually([&] {
        return metrics.counterValue(
                   "iwf_lmr_dropped_total",
                   {{"link", "issi-test"}, {"peer", "127.0.0.1"}, {"reason", "draining"}}) == 1;
    }));

    call_id = first_call;
    auto reinvite = baseRequest("INVITE", "sip:bee07ad50333@p25dr;user=TIA-P25-SG");
    reinvite.setHeader("To", "<sip:bee07ad50333@p25dr;user=TIA-P25-SG>;tag=" + ok.toTag());
    reinvite.setBody(buildIssiSdp(sdp), "application/sdp");
    EXPECT_EQ(request(reinvite).status(), 200) << "a re-INVITE of a call in progress goes on";

    auto bye = baseRequest("BYE", "sip:bee07ad50333@p25dr;user=TIA-P25-SG");
    bye.setHeader("To", "<sip:bee07ad50333@p25dr;user=TIA-P25-SG>;tag=" + ok.toTag());
    EXPECT_EQ(request(bye).status(), 200);
    ASSERT_TRUE(sink.waitFor([](const auto& ev) { return test::countOf<CallEnd>(ev) == 1; }));
    EXPECT_EQ(test::countOf<CallSetup>(sink.events()), 1U) << "the refused INVITE made no call";
}

TEST(P25IssiLinkTypes, Registered) {
    LinkRegistry reg;
    registerP25LinkTypes(reg);
    const LinkType* t = reg.find("p25-issi");
    ASSERT_NE(t, nullptr);
    auto ok = ConfigNode::loadString(
        "name: issi\ntype: p25-issi\nwacn: 0xBEE07\nsystem: 0xAD5\ngroups: [0x333]\n"
        "peer: 192.0.2.24\n",
        "x");
    EXPECT_NO_THROW(t->validate(ok));  // allow-list: the peer RFSS
    auto none = ConfigNode::loadString(
        "name: issi\ntype: p25-issi\nwacn: 0xBEE07\nsystem: 0xAD5\ngroups: [0x333]\n", "n");
    EXPECT_THROW(t->validate(none), ConfigError) << "0.0.0.0, no peer, no allow: who is heard?";
    auto bad = ConfigNode::loadString("name: issi\ntype: p25-issi\nwacn: 1\nsystem: 5000\n", "y");
    EXPECT_THROW(t->validate(bad), ConfigError);
}

}  // namespace
}  // namespace iwf::lmr::p25
