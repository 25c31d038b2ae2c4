// p25-records link over real UDP on 127.0.0.1: a peer polls, links, sends a superframe and
// unlinks; silent peers time out; malformed datagrams are counted; an encrypted call passes
// decode -> engine events -> encode with every payload byte identical.
#include "lmr_adapters/p25/records_link.hpp"

#include <gtest/gtest.h>

#include "common/clock.hpp"
#include "lmr_adapters/p25/link_types.hpp"
#include "lmr_adapters/p25/side_fields.hpp"
#include "p25_test_support.hpp"
#include "superframe_builder.hpp"

namespace iwf::lmr::p25 {
namespace {

using namespace std::chrono_literals;
using test::CollectingSink;
using test::UdpPeer;

Bytes pollBytes(std::string_view cs, bool unlink = false) {
    InlineBytes<kMaxRecordLen> b;
    EXPECT_TRUE(encodeRecord(makePoll(cs, unlink), b).ok());
    return Bytes(b.view().begin(), b.view().end());
}

Bytes endBytes() {
    Bytes b(17, 0);
    b[0] = 0x80;
    return b;
}

struct P25RecordsLink : ::testing::Test {
    RecordsLinkConfig cfg(bool reflect = true) {
        RecordsLinkConfig c;
        c.name = "p25-test";
        c.address = "127.0.0.1";
        c.port = 0;
        c.system = P25System{0xBEE07, 0xAD5};
        c.tgid = 0x333;
        c.peer_timeout = 400ms;
        c.call_timeout = 2s;
        c.reflect = reflect;
        return c;
    }
    void startLink(RecordsLinkConfig c) {
        link = std::make_unique<RecordsLink>(std::move(c), io.io, metrics, SteadyClock::instance());
        io.runSync([&] { ASSERT_TRUE(link->start(sink).ok()); });
        port = link->localPort();
        ASSERT_NE(port, 0);
    }
    void TearDown() override {
        if (link) {
            io.runSync([&] { link->stop(); });
        }
        io.stop();
    }
    // The answer to a poll is the poll itself, byte for byte (P25Reflector / P25Parrot); it
    // is the only answer P25Gateway takes for one (P25Gateway.cpp run()).
    void linkPeer(UdpPeer& p, std::string_view cs) {
        const Bytes poll = pollBytes(cs);
        p.sendTo(port, poll);
        auto answer = p.receive(5s);
        ASSERT_TRUE(answer) << "no poll answer";
        EXPECT_EQ(toHex(*answer), toHex(poll));
    }
    // One superframe as MMDVMHost writes it (P25Network.cpp writeLDU1/2: no service options,
    // ES in the LDU2) from unit `src` to TG `tg`, announcing `next` as the next MI.
    static std::vector<Bytes> mmdvmSuperframe(std::uint32_t src, std::uint32_t tg,
                                              std::uint8_t algid, std::uint16_t kid, const Mi& next,
                                              std::uint8_t seed) {
        MmdvmLc lc;
        lc.dst = tg;
        lc.src = src;
        MmdvmEs es;
        es.mi = next;
        es.algid = algid;
        es.kid = kid;
        std::vector<Bytes> out;
        for (std::uint8_t i = 0; i < 18; ++i) {
            VoiceRecord r;
            r.tag = tagOfFrameIndex(i);
            r.imbe.fill(static_cast<std::uint8_t>(seed + i));
            r.side = mmdvmRecordSide(i, lc, es, {0, 0});
            InlineBytes<kMaxRecordLen> b;
            EXPECT_TRUE(encodeRecord(r, b).ok());
            out.emplace_back(b.view().begin(), b.view().end());
        }
        return out;
    }

    test::IoThread io;
    metrics::Registry metrics;
    CollectingSink sink;
    std::unique_ptr<RecordsLink> link;
    std::uint16_t port = 0;
};

TEST_F(P25RecordsLink, PeerPollsLinksSendsSuperframeAndUnlinks) {
    startLink(cfg());
    UdpPeer peer;
    linkPeer(peer, "N0CALL");
    EXPECT_EQ(link->peerCount(), 1U);
    // iwf_p25_peers is the P25 side of the dashboards' "links up" (configs/monitoring/).
    auto peersGauge = [&] {
        return metrics.gauge("iwf_p25_peers", "P25 peers linked (polling)", {{"link", "p25-test"}})
            .value();
    };
    EXPECT_EQ(peersGauge(), 1.0);
    // Exported at 0 before any timeout (increase() in the dashboards sees the first one).
    EXPECT_NE(metrics.renderPrometheus().find("iwf_p25_peer_timeouts_total{link=\"p25-test\"} 0"),
              std::string::npos);

    test::SuperframeSpec s;
    s.service_options = 0x04;
    s.dst = 0x000333;
    s.src = 0x00C504;
    s.algid = 0x80;
    auto sf = test::buildSuperframe(s);
    for (const auto& r : sf) {
        peer.sendTo(port, r);
    }
    peer.sendTo(port, endBytes());
    ASSERT_TRUE(sink.waitFor([](const auto& ev) { return test::countOf<CallEnd>(ev) == 1; }));

    auto ev = sink.events();
    ASSERT_EQ(ev.size(), 1U + 18U + 1U);
    const auto& setup = std::get<CallSetup>(ev[0]);
    EXPECT_EQ(setup.caller.id, Address(P25Unit{{0xBEE07, 0xAD5}, 0xC504}));
    EXPECT_EQ(setup.callee, Address(P25Group{{0xBEE07, 0xAD5}, 0x333}));
    EXPECT_EQ(setup.kind, CallKind::Group);
    EXPECT_EQ(setup.priority, CallPriority::Normal);
    for (int i = 0; i < 18; ++i) {
        const auto& v = std::get<Voice>(ev[1 + i]);
        EXPECT_EQ(v.call, setup.call);
        EXPECT_EQ(v.frame.pos.index, i);
        EXPECT_EQ(v.frame.pos.superframe, 0U);
        EXPECT_EQ(v.frame.seq, static_cast<std::uint32_t>(i));
        EXPECT_FALSE(v.frame.crypto.encrypted);
        EXPECT_EQ(Bytes(v.frame.payload.view().begin(), v.frame.payload.view().end()),
                  test::imbeFor(s, i));
    }
    EXPECT_EQ(std::get<CallEnd>(ev[19]).reason, EndReason::Normal);

    peer.sendTo(port, pollBytes("N0CALL", true));
    EXPECT_TRUE(test::eventually([&] { return link->peerCount() == 0; }));
    EXPECT_EQ(peersGauge(), 0.0);
    // An unlink from a source that is not linked is refused and counted (under "other": it
    // is no known peer).
    UdpPeer stranger;
    stranger.sendTo(port, pollBytes("NOBODY", true));
    EXPECT_TRUE(test::eventually([&] {
        return metrics.counterSum("iwf_lmr_dropped_total") == 1 &&
               metrics.counterValue(
                   "iwf_lmr_dropped_total",
                   {{"link", "p25-test"}, {"peer", "other"}, {"reason", "not_linked"}}) == 1;
    }));
    // Voice from an allowed source links it, as its poll would (after an iwfd restart a
    // P25Gateway goes on sending and polls again only every 5 s).
    peer.sendTo(port, sf[0]);
    EXPECT_TRUE(test::eventually([&] { return link->peerCount() == 1; }));
}

// A source outside the allow-list is heard in nothing: no link, no call, no relay.
TEST_F(P25RecordsLink, SourcesOutsideTheAllowListAreRefusedBeforeDecoding) {
    auto c = cfg();
    c.allow = net::AddressFilter();
    ASSERT_TRUE(c.allow.add("127.0.0.2").ok());
    startLink(c);
    UdpPeer peer;  // 127.0.0.1
    peer.sendTo(port, pollBytes("N0CALL"));
    peer.sendTo(port, Bytes{0x62});
    EXPECT_TRUE(test::eventually([&] {
        return metrics.counterValue(
                   "iwf_lmr_dropped_total",
                   {{"link", "p25-test"}, {"peer", "other"}, {"reason", "not_allowed"}}) == 2;
    }));
    EXPECT_FALSE(peer.receive(100ms));
    EXPECT_EQ(link->peerCount(), 0U);
}

// iwfd's own stream (MC -> P25) holds the channel: a linked peer sending at 10x the rate of a
// stream meanwhile is not relayed into it, and what it sends beyond its budget is dropped.
TEST_F(P25RecordsLink, OriginatedStreamIsNotMixedWithAPeersRecords) {
    auto c = cfg();
    c.rate = net::RateLimitConfig{200, 50};
    startLink(c);
    UdpPeer radio;
    UdpPeer noisy;
    linkPeer(radio, "RADIO");
    linkPeer(noisy, "NOISY");
    CallSetup s;
    s.call = 90;
    s.caller.id = P25Unit{{0xBEE07, 0xAD5}, 0x101};
    s.callee = P25Group{{0xBEE07, 0xAD5}, 0x333};
    ASSERT_TRUE(link->deliver(s).ok());
    test::SuperframeSpec spec;
    spec.service_options = 0x40;
    spec.dst = 0x333;
    spec.src = 0x999;
    spec.imbe_seed = 0x70;
    const auto flood = test::buildSuperframe(spec);
    for (std::uint8_t i = 0; i < 18; ++i) {
        Voice v;
        v.call = 90;
        v.frame.pos = {0, i};
        v.frame.crypto.encrypted = true;
        v.frame.crypto.algid = 0x84;
        v.frame.payload.assign(Bytes(11, i));
        ASSERT_TRUE(link->deliver(v).ok());
        for (int k = 0; k < 10; ++k) {
            noisy.sendTo(port, flood[(i + k) % 18]);
        }
    }
    // iwfd's own stream still runs: what the link reads of the noisy peer meanwhile is held
    // back, not relayed (waited for, so that the check does not depend on how the link's
    // thread interleaves the datagrams with deliver()'s posted work).
    EXPECT_TRUE(test::eventually([&] {
        return metrics.counterValue("iwf_p25_relay_held_total", {{"link", "p25-test"}}) > 0U;
    }));
    CallEnd e;
    e.call = 90;
    ASSERT_TRUE(link->deliver(e).ok());
    std::size_t voice = 0;
    std::size_t ends = 0;
    // Up to iwfd's end record: only its own frames, in order. The noisy peer's records that
    // the link reads after it (the datagrams race deliver()'s posted work) find the channel
    // free and are relayed as a new transmission, as P25Reflector's `current` would: that is
    // not interleaving, so the check stops at the end.
    while (auto d = radio.receive(1s)) {
        auto r = decodeRecord(*d);
        ASSERT_TRUE(r.ok());
        if (const auto* v = std::get_if<VoiceRecord>(&*r)) {
            EXPECT_EQ(v->imbe[0], voice) << "only iwfd's own frames, in order";
            ++voice;
        } else if (std::holds_alternative<EndRecord>(*r)) {
            ++ends;
            break;
        }
    }
    EXPECT_EQ(voice, 18U);
    EXPECT_EQ(ends, 1U);
    EXPECT_TRUE(test::eventually([&] {
        return metrics.counterValue("iwf_lmr_dropped_total",
                                    {{"link", "p25-test"},
                                     {"peer", "127.0.0.1:" + std::to_string(noisy.port())},
                                     {"reason", "rate_limited"}}) > 0U;
    }));
}

// Records carry no sequence number: a frame's place in the stream is its sequence, so records
// lost on the way show as gaps (the engine counts them as lost) and are never filled in.
TEST_F(P25RecordsLink, LostRecordsShowAsSequenceGaps) {
    startLink(cfg());
    UdpPeer peer;
    linkPeer(peer, "N0CALL");
    test::SuperframeSpec s;
    s.service_options = 0x04;
    s.dst = 0x000333;
    s.src = 0x00C504;
    s.algid = 0x80;
    auto sf = test::buildSuperframe(s);
    for (int round = 0; round < 2; ++round) {
        for (std::size_t i = 0; i < sf.size(); ++i) {
            if ((round == 0 && i == 7) || (round == 1 && (i == 0 || i == 16))) {
                continue;  // lost on the way
            }
            peer.sendTo(port, sf[i]);
        }
    }
    peer.sendTo(port, endBytes());
    ASSERT_TRUE(sink.waitFor([](const auto& ev) { return test::countOf<CallEnd>(ev) == 1; }));
    std::vector<std::uint32_t> seqs;
    for (const auto& e : sink.events()) {
        if (const auto* v = std::get_if<Voice>(&e)) {
            seqs.push_back(v->frame.seq);
            EXPECT_EQ(v->frame.seq, v->frame.pos.superframe * 18U + v->frame.pos.index);
        }
    }
    std::vector<std::uint32_t> expected;
    for (std::uint32_t q = 0; q < 36; ++q) {
        if (q != 7 && q != 18 && q != 34) {
            expected.push_back(q);
        }
    }
    EXPECT_EQ(seqs, expected);
}

TEST_F(P25RecordsLink, SilentPeerTimesOutAndItsCallEnds) {
    startLink(cfg());
    UdpPeer peer;
    linkPeer(peer, "SILENT");
    test::SuperframeSpec s;
    s.src = 7;
    auto sf = test::buildSuperframe(s);
    for (int i = 0; i < 15; ++i) {  // through frame 15: the LDU2 ES decides the crypto
        peer.sendTo(port, sf[i]);
    }
    ASSERT_TRUE(sink.waitFor([](const auto& ev) { return test::countOf<CallEnd>(ev) == 1; }));
    EXPECT_EQ(link->peerCount(), 0U);
    EXPECT_EQ(metrics.gauge("iwf_p25_peers", "P25 peers linked (polling)", {{"link", "p25-test"}})
                  .value(),
              0.0);
    auto ev = sink.events();
    EXPECT_EQ(std::get<CallEnd>(ev.back()).reason, EndReason::LinkDown);
    EXPECT_EQ(metrics.counterValue("iwf_p25_peer_timeouts_total", {{"link", "p25-test"}}), 1U);
}

TEST_F(P25RecordsLink, MalformedDatagramsAreDroppedAndCountedByReason) {
    startLink(cfg());
    UdpPeer peer;
    linkPeer(peer, "FUZZY");
    peer.sendTo(port, Bytes{0x55, 1, 2, 3});
    peer.sendTo(port, Bytes(21, 0x62));
    peer.sendTo(port, Bytes{});
    const metrics::Labels base{{"link", "p25-test"},
                               {"peer", "127.0.0.1:" + std::to_string(peer.port())}};
    auto labels = [&](const char* reason) {
        auto l = base;
        l.emplace_back("reason", reason);
        return l;
    };
    EXPECT_TRUE(test::eventually([&] {
        return metrics.counterValue("iwf_lmr_dropped_total", labels("unknown_tag")) == 1 &&
               metrics.counterValue("iwf_lmr_dropped_total", labels("bad_length")) == 1 &&
               metrics.counterValue("iwf_lmr_dropped_total", labels("empty")) == 1;
    }));
    EXPECT_EQ(sink.events().size(), 0U);
    EXPECT_EQ(link->peerCount(), 1U);
}

// An encrypted P25 call (protected LC, AES-256 ALGID, real MI sequence) enters from peer A,
// becomes engine events, and each event is delivered straight back to the link, which
// encodes it toward the linked peers. Peer B must receive exactly the datagrams A sent.
TEST_F(P25RecordsLink, EncryptedCallPassesDecodeEncodeBitExact) {
    startLink(cfg(/*reflect=*/false));
    sink.hook = [this](const Event& e) {
        Status st = link->deliver(e);
        EXPECT_TRUE(st.ok()) << eventName(e) << " " << (st.ok() ? "" : st.error().toString());
    };
    UdpPeer a;
    UdpPeer b;
    linkPeer(a, "PEER-A");
    linkPeer(b, "PEER-B");

    std::vector<Bytes> sent;
    Mi mi{0x12, 0x34, 0x56, 0x78, 0x90, 0xAB, 0xCD, 0xEF, 0x00};
    for (int n = 0; n < 3; ++n) {
        test::SuperframeSpec s;
        s.lcf = 0x80;
        s.service_options = 0x44;
        s.dst = 0xA5A5A5;  // ciphertext when the LC is protected
        s.src = 0x5A5A5A;
        s.algid = 0x84;
        s.kid = 0x1234;
        mi = nextMi(mi);
        std::copy(mi.begin(), mi.end(), s.next_mi.begin());
        s.imbe_seed = static_cast<std::uint8_t>(n * 3);
        for (auto& r : test::buildSuperframe(s)) {
            sent.push_back(r);
        }
    }
    sent.push_back(endBytes());
    for (const auto& r : sent) {
        a.sendTo(port, r);
    }
    std::vector<Bytes> got;
    while (got.size() < sent.size()) {
        auto d = b.receive(5s);
        ASSERT_TRUE(d) << "received " << got.size() << " of " << sent.size();
        got.push_back(*d);
    }
    ASSERT_EQ(got.size(), sent.size());
    for (std::size_t i = 0; i < sent.size(); ++i) {
        EXPECT_EQ(toHex(got[i]), toHex(sent[i])) << "datagram " << i;
    }
    auto ev = sink.events();
    const auto& setup = std::get<CallSetup>(ev[0]);
    // Protected LC: LDU1 addressing is ciphertext, so the callee is the reflector's group
    // and the caller is unknown.
    EXPECT_EQ(setup.callee, Address(P25Group{{0xBEE07, 0xAD5}, 0x333}));
    EXPECT_TRUE(std::holds_alternative<std::monostate>(setup.caller.id));
    ASSERT_TRUE(setup.crypto);
    EXPECT_TRUE(setup.crypto->encrypted);
    // No header: the call was held until the first LDU2, whose MI (announced for superframe
    // 1) gives superframe 0's MI with the LFSR run backwards.
    Mi first{0x12, 0x34, 0x56, 0x78, 0x90, 0xAB, 0xCD, 0xEF, 0x00};
    EXPECT_EQ(toHex(setup.crypto->mi.view()), toHex(ByteView(first.data(), first.size())));
    EXPECT_EQ(metrics.counterValue("iwf_p25_late_entry_total", {{"link", "p25-test"}}), 0U);
    EXPECT_EQ(metrics.counterValue("iwf_p25_mi_backfilled_total", {{"link", "p25-test"}}), 1U);
    const auto& v0 = std::get<Voice>(ev[1]);
    EXPECT_EQ(toHex(v0.frame.crypto.mi.view()), toHex(ByteView(first.data(), first.size())));
    // Superframe 1 carries the MI announced in superframe 0's LDU2.
    const auto& v18 = std::get<Voice>(ev[1 + 18]);
    EXPECT_EQ(v18.frame.pos.superframe, 1U);
    EXPECT_EQ(v18.frame.crypto.algid, 0x84);
    EXPECT_EQ(v18.frame.crypto.key_id, 0x1234U);
    Mi expect = nextMi(first);
    EXPECT_EQ(toHex(v18.frame.crypto.mi.view()), toHex(ByteView(expect.data(), expect.size())));
}

// An encrypted call shaped as MMDVMHost sends it: nothing says "encrypted" before the LDU2
// (service options 0, no header). The link holds the frames until frame 15 says ALGID 0x84,
// then sets the call up encrypted; no frame is ever reported clear, and superframe 0 carries
// its MI. Before: CallSetup at frame 5 with no crypto and frames 0..13 reported clear (the
// engine refused the secure group on the first one: clear_in_secure_group).
TEST_F(P25RecordsLink, MmdvmHostEncryptedCallIsHeldUntilItsLdu2ThenSetUpEncrypted) {
    startLink(cfg());
    UdpPeer peer;
    linkPeer(peer, "MMDVM");
    const Mi mi0{0x12, 0x34, 0x56, 0x78, 0x90, 0xAB, 0xCD, 0xEF, 0x00};
    Mi mi = mi0;
    std::vector<Mi> sf_mi;
    for (int n = 0; n < 3; ++n) {
        sf_mi.push_back(mi);
        mi = nextMi(mi);
        for (const auto& r :
             mmdvmSuperframe(1001, 0x333, 0x84, 0x0101, mi, static_cast<std::uint8_t>(n * 20))) {
            peer.sendTo(port, r);
        }
    }
    peer.sendTo(port, endBytes());
    ASSERT_TRUE(sink.waitFor([](const auto& ev) { return test::countOf<CallEnd>(ev) == 1; }));
    auto ev = sink.events();
    ASSERT_EQ(ev.size(), 1U + 54U + 1U);
    const auto& setup = std::get<CallSetup>(ev[0]);
    ASSERT_TRUE(setup.crypto);
    EXPECT_TRUE(setup.crypto->encrypted);
    EXPECT_EQ(setup.crypto->algid, 0x84);
    EXPECT_EQ(setup.crypto->key_id, 0x0101U);
    EXPECT_EQ(setup.caller.id, Address(P25Unit{{0xBEE07, 0xAD5}, 1001}));
    for (std::size_t k = 0; k < 54; ++k) {
        const auto& v = std::get<Voice>(ev[1 + k]);
        const std::uint32_t sf = v.frame.pos.superframe;
        ASSERT_TRUE(v.frame.crypto.encrypted) << k;
        EXPECT_EQ(v.frame.crypto.algid, 0x84) << k;
        EXPECT_EQ(toHex(v.frame.crypto.mi.view()),
                  toHex(ByteView(sf_mi[sf].data(), sf_mi[sf].size())))
            << k;
    }
}

// A key-up that ends before frame 15 said anything (one LDU1 and the end record): neither a
// call reported clear on a guess nor a refusal: dropped and counted.
TEST_F(P25RecordsLink, KeyUpEndingBeforeItsLdu2IsNeitherRefusedNorForwardedAsClear) {
    startLink(cfg());
    UdpPeer peer;
    linkPeer(peer, "SHORT");
    const auto sf = mmdvmSuperframe(1001, 0x333, 0x84, 0x0101, Mi{}, 1);
    for (int i = 0; i < 9; ++i) {
        peer.sendTo(port, sf[i]);
    }
    peer.sendTo(port, endBytes());
    EXPECT_TRUE(test::eventually([&] {
        return metrics.counterValue("iwf_lmr_dropped_total",
                                    {{"link", "p25-test"},
                                     {"peer", "127.0.0.1:" + std::to_string(peer.port())},
                                     {"reason", "crypto_undecided"}}) == 1;
    }));
    EXPECT_TRUE(sink.events().empty());
}

// Through an idle P25Gateway the call starts at 0x65 (0x62..0x64 dropped until 0x65 links it,
// P25Gateway.cpp run()); with P25Gateway's rewrite of 0x65 to its talkgroup. Carried from its
// first record, each frame at its own position.
TEST_F(P25RecordsLink, CallFromAnIdleP25GatewayIsCarriedFromItsFirstRecord) {
    startLink(cfg());
    UdpPeer gw;
    linkPeer(gw, "G4KLX");
    auto sf0 = mmdvmSuperframe(1001, 0x333, 0x80, 0, Mi{}, 1);
    auto sf1 = mmdvmSuperframe(1001, 0x333, 0x80, 0, Mi{}, 40);
    for (std::size_t i = 3; i < sf0.size(); ++i) {
        gw.sendTo(port, sf0[i]);
    }
    for (const auto& r : sf1) {
        gw.sendTo(port, r);
    }
    gw.sendTo(port, endBytes());
    ASSERT_TRUE(sink.waitFor([](const auto& ev) { return test::countOf<CallEnd>(ev) == 1; }));
    auto ev = sink.events();
    ASSERT_EQ(ev.size(), 1U + 15U + 18U + 1U);
    const auto& setup = std::get<CallSetup>(ev[0]);
    EXPECT_EQ(setup.callee, Address(P25Group{{0xBEE07, 0xAD5}, 0x333}));
    EXPECT_EQ(setup.caller.id, Address(P25Unit{{0xBEE07, 0xAD5}, 1001}));
    ASSERT_TRUE(setup.crypto);
    EXPECT_FALSE(setup.crypto->encrypted);
    EXPECT_EQ(std::get<Voice>(ev[1]).frame.pos.index, 3);
    EXPECT_EQ(std::get<Voice>(ev[1]).frame.pos.superframe, 0U);
    EXPECT_EQ(std::get<Voice>(ev[16]).frame.pos.index, 0);
    EXPECT_EQ(std::get<Voice>(ev[16]).frame.pos.superframe, 1U);
}

// An MC-originated call (no side bytes): the link builds LC and ES from the setup and the
// frame's CryptoSync; the ES carries the LFSR-next MI.
TEST_F(P25RecordsLink, OriginatedCallBuildsLcAndEs) {
    startLink(cfg());
    UdpPeer p;
    linkPeer(p, "RX");
    CallSetup s;
    s.call = 77;
    s.caller.id = P25Unit{{0xBEE07, 0xAD5}, 0x101};
    s.callee = P25Group{{0xBEE07, 0xAD5}, 0x333};
    ASSERT_TRUE(link->deliver(s).ok());
    CryptoSync c;
    c.encrypted = true;
    c.algid = 0x84;
    c.key_id = 0x1234;
    Bytes mi = fromHex("1234567890abcdef00").value();
    c.mi.assign(mi);
    for (std::uint8_t i = 0; i < 18; ++i) {
        Voice v;
        v.call = 77;
        v.frame.pos = {0, i};
        v.frame.crypto = c;
        v.frame.payload.assign(Bytes(11, i));
        ASSERT_TRUE(link->deliver(v).ok());
    }
    CallEnd e;
    e.call = 77;
    ASSERT_TRUE(link->deliver(e).ok());
    std::vector<VoiceRecord> recs;
    for (int i = 0; i < 19; ++i) {
        auto d = p.receive(5s);
        ASSERT_TRUE(d);
        auto r = decodeRecord(*d);
        ASSERT_TRUE(r.ok());
        if (i == 18) {
            EXPECT_TRUE(std::holds_alternative<EndRecord>(*r));
        } else {
            recs.push_back(std::get<VoiceRecord>(*r));
        }
    }
    EXPECT_EQ(lcOf(recs[2])->service_options & 0x40, 0x40);
    EXPECT_EQ(*dstOf(recs[3]), 0x333U);
    EXPECT_EQ(*srcOf(recs[4]), 0x101U);
    EXPECT_EQ(toHex(ByteView(esOf(recs[11])->data(), 3)), "6fe280");
    EXPECT_EQ(toHex(ByteView(esOf(recs[14])->data(), 3)), "841234");
    Voice bad;
    bad.call = 78;
    EXPECT_EQ(link->deliver(bad).error().reason, "unknown_call");
}

TEST_F(P25RecordsLink, SecondOutboundCallIsRefusedBusyAndTheFirstKeepsTheLink) {
    // The record set has no call identifier: two outbound streams on one link would reach the
    // peers interleaved (records_link.hpp OutCall). The second is refused; the first goes on.
    startLink(cfg());
    UdpPeer p;
    linkPeer(p, "RX");
    auto setup = [](CallRef ref, std::uint16_t tg) {
        CallSetup s;
        s.call = ref;
        s.caller.id = P25Unit{{0xBEE07, 0xAD5}, 0x101};
        s.callee = P25Group{{0xBEE07, 0xAD5}, tg};
        return s;
    };
    auto voice = [](CallRef ref, std::uint8_t i) {
        Voice v;
        v.call = ref;
        v.frame.pos = {0, i};
        v.frame.crypto = CryptoSync::clear(LmrFamily::P25);
        v.frame.payload.assign(Bytes(11, static_cast<std::uint8_t>(ref + i)));
        return v;
    };
    ASSERT_TRUE(link->deliver(setup(77, 0x333)).ok());
    ASSERT_TRUE(link->deliver(voice(77, 0)).ok());
    auto busy = link->deliver(setup(78, 0x334));
    ASSERT_FALSE(busy.ok()) << "a second outbound call took over the link";
    EXPECT_EQ(busy.error().reason, "busy");
    EXPECT_EQ(link->deliver(voice(78, 1)).error().reason, "unknown_call");
    for (std::uint8_t i = 1; i < 18; ++i) {
        ASSERT_TRUE(link->deliver(voice(77, i)).ok()) << "frame " << int(i) << " of the first call";
    }
    CallEnd e;
    e.call = 77;
    ASSERT_TRUE(link->deliver(e).ok());
    for (std::uint8_t i = 0; i < 18; ++i) {
        auto d = p.receive(5s);
        ASSERT_TRUE(d);
        auto r = decodeRecord(*d);
        ASSERT_TRUE(r.ok());
        ASSERT_TRUE(std::holds_alternative<VoiceRecord>(*r)) << "record " << int(i);
        EXPECT_EQ(toHex(ByteView(std::get<VoiceRecord>(*r).imbe.data(), 11)),
                  toHex(Bytes(11, static_cast<std::uint8_t>(77 + i))))
            << "only the first call's frames, in order";
    }
    EXPECT_EQ(metrics.counterValue("iwf_p25_outbound_busy_total", {{"link", "p25-test"}}), 1u);
    // Once the first call ended, the link takes the next.
    EXPECT_TRUE(link->deliver(setup(79, 0x334)).ok());
}

TEST(P25LinkTypes, RegistryValidatesConfigNamingTheField) {
    LinkRegistry reg;
    registerP25LinkTypes(reg);
    const LinkType* t = reg.find("p25-records");
    ASSERT_NE(t, nullptr);
    auto ok = ConfigNode::loadString(
        "name: net\ntype: p25-records\nport: 41000\ntgid: 10\nallow: [192.0.2.0/24]\n", "x");
    EXPECT_NO_THROW(t->validate(ok));
    // Listening on every address without saying whom it accepts: refused, naming the field.
    auto open = ConfigNode::loadString("name: net\ntype: p25-records\nport: 41000\n", "o.yaml");
    try {
        t->validate(open);
        FAIL() << "accepted a p25-records link on 0.0.0.0 without allow";
    } catch (const ConfigError& e) {
        EXPECT_EQ(e.field(), "allow");
    }
    auto bad = ConfigNode::loadString("name: net\ntype: p25-records\nport: 99999\n", "cfg.yaml");
    try {
        t->validate(bad);
        FAIL() << "accepted port 99999";
    } catch (const ConfigError& e) {
        EXPECT_EQ(e.file(), "cfg.yaml");
        EXPECT_EQ(e.line(), 3);
        EXPECT_NE(e.field().find("port"), std::string::npos);
    }
    auto typo = ConfigNode::loadString("name: net\ntype: p25-records\nrefelct: true\n", "c");
    EXPECT_THROW(t->validate(typo), ConfigError);
}

}  // namespace
}  // namespace iwf::lmr::p25
