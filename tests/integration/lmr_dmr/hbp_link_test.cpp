// HBP links over real UDP on 127.0.0.1 (ports bound to 0): login success, wrong password
// refused, ping timeout drops the peer, our peer role logs in to our master (and again after
// the master restarts), malformed datagrams counted, and an encrypted DMR call through the
// adapter's decode -> encode path with every burst byte identical.
#include "lmr_adapters/dmr/hbp_link.hpp"

#include <condition_variable>
#include <functional>
#include <future>
#include <thread>

#include <gtest/gtest.h>

#include "lmr_adapters/dmr/link_types.hpp"
#include "tests/support/hbp_peer.hpp"
#include "tests/support/link_fixtures.hpp"
#include "tests/unit/lmr_dmr/superframe.hpp"

namespace iwf::lmr::dmr {
namespace {

using namespace std::chrono_literals;
using udp = asio::ip::udp;

using test::CollectingSink;
using test::countOf;
using test::eventually;
using test::IoThread;
using RawPeer = test::HbpRawPeer;

struct DmrHbpLink : ::testing::Test {
    HbpMasterConfig masterCfg() {
        HbpMasterConfig c;
        c.address = "127.0.0.1";
        c.port = 0;
        c.id = 9990;
        c.password = "passw0rd";
        c.ping_timeout = 5s;
        c.stream_timeout = 2s;
        return c;
    }
    void startMaster(HbpMasterConfig c) {
        master = std::make_unique<HbpMasterLink>(LinkId{Side::Lmr, "dmr-master"}, std::move(c),
                                                 io.io, metrics, SteadyClock::instance());
        io.runSync([&] { ASSERT_TRUE(master->start(sink).ok()); });
        port = master->localPort();
        ASSERT_NE(port, 0);
    }
    void TearDown() override {
        io.runSync([&] {
            if (peer) {
                peer->stop();
            }
            if (master) {
                master->stop();
            }
        });
        io.stop();
    }
    std::uint64_t dropped(const std::string& peer_label, const std::string& reason) {
        return metrics.counterValue(
            "iwf_lmr_dropped_total",
            {{"link", "dmr-master"}, {"peer", peer_label}, {"reason", reason}});
    }

    IoThread io;
    metrics::Registry metrics;
    CollectingSink sink;
    std::unique_ptr<HbpMasterLink> master;
    std::unique_ptr<HbpPeerLink> peer;
    std::uint16_t port = 0;
};

TEST_F(DmrHbpLink, LoginSuccessAndPing) {
    startMaster(masterCfg());
    RawPeer p;
    ASSERT_TRUE(p.login(port, 312000, "passw0rd"));
    EXPECT_EQ(master->connectedPeers(), 1u);
    p.send(port, hbpSimple(HbpType::Rptping, 312000));
    auto pong = p.receiveHbp();
    ASSERT_TRUE(pong);
    EXPECT_EQ(pong->type, HbpType::Mstpong);
    EXPECT_EQ(pong->peer_id, 312000u);
    HbpMessage o = hbpSimple(HbpType::Rpto, 312000);
    o.text = "TS1=91";
    p.send(port, o);
    auto ack = p.receiveHbp();
    ASSERT_TRUE(ack);
    EXPECT_EQ(ack->type, HbpType::Rptack);
    EXPECT_EQ(
        metrics.counterValue("iwf_dmr_logins_total", {{"link", "dmr-master"}, {"result", "ok"}}),
        1u);
}

TEST_F(DmrHbpLink, WrongPasswordRefusedWithMstnak) {
    startMaster(masterCfg());
    RawPeer p;
    p.send(port, hbpSimple(HbpType::Rptl, 312001));
    auto salt = p.receiveHbp();
    ASSERT_TRUE(salt);
    ASSERT_EQ(salt->type, HbpType::Rptack);
    HbpMessage k = hbpSimple(HbpType::Rptk, 312001);
    k.key = hbpLoginKey(salt->ack, "wrong");
    p.send(port, k);
    auto nak = p.receiveHbp();
    ASSERT_TRUE(nak);
    EXPECT_EQ(nak->type, HbpType::Mstnak);
    EXPECT_EQ(nak->peer_id, 312001u);
    EXPECT_EQ(master->connectedPeers(), 0u);
    // Not logged in: no label of its own ("other"; the log line names it).
    EXPECT_EQ(dropped("other", "bad_password"), 1u);
    // Config after a refused key is refused too; DMRD from it is dropped.
    HbpMessage c = hbpSimple(HbpType::Rptc, 312001);
    p.send(port, c);
    auto nak2 = p.receiveHbp();
    ASSERT_TRUE(nak2);
    EXPECT_EQ(nak2->type, HbpType::Mstnak);
}

TEST_F(DmrHbpLink, PingTimeoutDropsThePeer) {
    auto c = masterCfg();
    c.ping_timeout = 300ms;
    startMaster(c);
    RawPeer p;
    ASSERT_TRUE(p.login(port, 312002, "passw0rd"));
    EXPECT_EQ(master->connectedPeers(), 1u);
    ASSERT_TRUE(eventually([&] { return master->connectedPeers() == 0; }));
    EXPECT_EQ(metrics.counterValue("iwf_dmr_peer_timeouts_total", {{"link", "dmr-master"}}), 1u);
    // The dropped peer's ping is answered with MSTNAK (log in again).
    p.send(port, hbpSimple(HbpType::Rptping, 312002));
    auto nak = p.receiveHbp();
    ASSERT_TRUE(nak);
    EXPECT_EQ(nak->type, HbpType::Mstnak);
}

TEST_F(DmrHbpLink, MalformedDatagramsAreCountedAndHarmless) {
    startMaster(masterCfg());
    RawPeer p;
    p.send(port, asBytes("garbage"));
    auto pkts = testdata::encryptedCall(1);
    p.send(port, encodeDmrd(pkts[0]));  // not logged in
    ASSERT_TRUE(p.login(port, testdata::kPeer, "passw0rd"));
    Bytes shortd = encodeDmrd(pkts[0]);
    shortd.resize(40);
    p.send(port, shortd);
    Bytes bad = encodeDmrd(pkts[2]);
    for (std::size_t i = 20; i < 40; ++i) {
        bad[i] ^= 0xFF;  // wreck the PI header burst
    }
    p.send(port, bad);
    ASSERT_TRUE(eventually([&] { return metrics.counterSum("iwf_lmr_dropped_total") >= 4; }));
    // Before the login the source is no known peer: its drops count under "other".
    EXPECT_EQ(dropped("other", "bad_magic"), 1u);
    EXPECT_EQ(dropped("other", "not_logged_in"), 1u);
    EXPECT_EQ(dropped(std::to_string(testdata::kPeer), "truncated"), 1u);
    // Still serving: a ping is answered.
    p.send(port, hbpSimple(HbpType::Rptping, testdata::kPeer));
    auto pong = p.receiveHbp();
    ASSERT_TRUE(pong);
    EXPECT_EQ(pong->type, HbpType::Mstpong);
}

TEST_F(DmrHbpLink, EncryptedCallPassesDecodeEncodeWithEveryByteIdentical) {
    startMaster(masterCfg());
    RawPeer p;
    ASSERT_TRUE(p.login(port, testdata::kPeer, "passw0rd"));
    const auto in = testdata::encryptedCall(3);
    for (const auto& pkt : in) {
        p.send(port, encodeDmrd(pkt));
    }
    ASSERT_TRUE(sink.waitFor([](const auto& ev) { return countOf<CallEnd>(ev) == 1; }));
    const auto ev = sink.events();
    ASSERT_EQ(ev.size(), 1u + 18u + 1u);
    const auto& setup = std::get<CallSetup>(ev[0]);
    ASSERT_TRUE(setup.crypto);
    EXPECT_EQ(setup.crypto->algid, 4);
    EXPECT_EQ(setup.crypto->key_id, 0x2Au);
    EXPECT_EQ(toHex(setup.crypto->mi.view()), "deadbeef");

    // Engine loopback: the same events delivered back toward DMR.
    CallSetup out_setup = setup;
    out_setup.call = 1000;
    ASSERT_TRUE(master->deliver(out_setup).ok());
    for (std::size_t i = 1; i + 1 < ev.size(); ++i) {
        Voice v = std::get<Voice>(ev[i]);
        v.call = 1000;
        ASSERT_TRUE(master->deliver(v).ok());
    }
    ASSERT_TRUE(master->deliver(CallEnd{1000, EndReason::Normal, ""}).ok());

    std::vector<DmrdPacket> got;
    while (got.size() < in.size() + 1) {  // 3 LC headers out (2 came in)
        auto b = p.receive();
        ASSERT_TRUE(b) << "after " << got.size();
        auto d = decodeDmrd(*b);
        ASSERT_TRUE(d.ok());
        got.push_back(*d);
    }
    // Outgoing: LC header x3, PI header, 18 voice bursts, terminator.
    const std::size_t extra = 1;
    for (std::size_t i = 0; i < got.size(); ++i) {
        const DmrdPacket& want = in[i < 2 ? 0 : i - extra];
        EXPECT_EQ(got[i].frame_type, want.frame_type) << i;
        EXPECT_EQ(got[i].dtype_vseq, want.dtype_vseq) << i;
        EXPECT_EQ(got[i].src, want.src);
        EXPECT_EQ(got[i].dst, want.dst);
        EXPECT_EQ(toHex(got[i].burst), toHex(want.burst)) << i;
        EXPECT_EQ(got[i].stream_id, got[0].stream_id);
        EXPECT_EQ(got[i].seq, static_cast<std::uint8_t>(i));
    }
}

TEST_F(DmrHbpLink, PeerRoleLogsInToOurMasterAndAgainAfterARestart) {
    startMaster(masterCfg());
    HbpPeerConfig pc;
    pc.address = "127.0.0.1";
    pc.port = 0;
    pc.id = 312100;
    pc.password = "passw0rd";
    pc.master_address = "127.0.0.1";
    pc.master_port = port;
    pc.ping_interval = 50ms;
    pc.pong_timeout = 400ms;
    pc.login_timeout = 300ms;
    pc.login_retry = 100ms;
    pc.options = "TS1=91";
    pc.rptc.callsign = "IWF";
    peer = std::make_unique<HbpPeerLink>(LinkId{Side::Lmr, "dmr-peer"}, pc, io.io, metrics,
                                         SteadyClock::instance());
    CollectingSink peer_sink;
    io.runSync([&] { ASSERT_TRUE(peer->start(peer_sink).ok()); });
    ASSERT_TRUE(eventually([&] { return peer->loggedIn() && master->connectedPeers() == 1; }));
    // Pings flow and keep the login alive past several ping intervals.
    const auto tx0 =
        metrics.counterValue("iwf_dmr_packets_total", {{"link", "dmr-peer"}, {"dir", "tx"}});
    ASSERT_TRUE(eventually([&] {
        return metrics.counterValue("iwf_dmr_packets_total",
                                    {{"link", "dmr-peer"}, {"dir", "tx"}}) >= tx0 + 4;
    }));
    EXPECT_TRUE(peer->loggedIn());

    // A call from our peer link reaches the master's sink.
    CallSetup cs;
    cs.call = 5;
    cs.caller.id = DmrUnit{3120097};
    cs.callee = DmrGroup{91};
    ASSERT_TRUE(peer->deliver(cs).ok());
    Voice v;
    v.call = 5;
    v.frame.codec = VoiceCodec::DmrAmbe;
    v.frame.pos = {0, 0};
    v.frame.payload.assign(testdata::ambe(0));
    ASSERT_TRUE(peer->deliver(v).ok());
    ASSERT_TRUE(sink.waitFor([](const auto& ev) { return countOf<Voice>(ev) == 1; }));
    const auto ev = sink.events();
    EXPECT_EQ(std::get<CallSetup>(ev[0]).caller.id, Address(DmrUnit{3120097}));
    EXPECT_EQ(toHex(std::get<Voice>(ev[1]).frame.payload.view()), toHex(testdata::ambe(0)));

    // The master restarts on the same port: the peer notices the silence and logs in again.
    const auto logins = peer->logins();
    io.runSync([&] { master->stop(); });
    auto c = masterCfg();
    c.port = port;
    io.runSync([&] { master.reset(); });
    startMaster(c);
    ASSERT_TRUE(
        eventually([&] { return peer->logins() > logins && master->connectedPeers() == 1; }));
    EXPECT_GE(metrics.counterValue("iwf_dmr_relogins_total", {{"link", "dmr-peer"}}), 1u);
}

TEST(DmrLinkTypes, ConfigErrorsNameTheField) {
    LinkRegistry reg;
    registerDmrLinkTypes(reg);
    ASSERT_NE(reg.find("dmr-hbp-master"), nullptr);
    ASSERT_NE(reg.find("dmr-hbp-peer"), nullptr);
    auto node = ConfigNode::loadString(
        "name: p\ntype: dmr-hbp-peer\nid: 5\npassword: x\nmaster_address: 127.0.0.1\n"
        "rptc:\n  callsign: TOOLONGCALL\n",
        "t.yaml");
    try {
        reg.find("dmr-hbp-peer")->validate(node);
        FAIL() << "accepted a 11-character callsign";
    } catch (const ConfigError& e) {
        EXPECT_EQ(e.field(), "rptc.callsign");
        EXPECT_EQ(e.line(), 7);
    }
    auto ok = ConfigNode::loadString(
        "name: m\ntype: dmr-hbp-master\nport: 0\npassword: x\nping_timeout: 10s\n", "t.yaml");
    EXPECT_NO_THROW(reg.find("dmr-hbp-master")->validate(ok));
    auto typo = ConfigNode::loadString("name: m\ntype: dmr-hbp-master\npasword: x\n", "t.yaml");
    EXPECT_THROW(reg.find("dmr-hbp-master")->validate(typo), ConfigError);
}

}  // namespace
}  // namespace iwf::lmr::dmr
