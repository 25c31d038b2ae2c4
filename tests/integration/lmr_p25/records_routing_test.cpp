// MC talkers toward P25 records links (issue #16): a P25 system served by several p25-records
// links, each one reflector talkgroup (`tgid`). The engine with the keymap directory, routes
// told the way iwfd tells them (Daemon::startLinks: LinkType::served_group of each link's
// section), real RecordsLinks on 127.0.0.1 and a UDP peer linked to each: an MC talker's
// frames reach the peer of its talkgroup's link only, several talkgroups at once each reach
// theirs bit-exact and in order, and a group no link names goes to the link without `tgid`.
#include <gtest/gtest.h>

#include "common/clock.hpp"
#include "common/link_registry.hpp"
#include "gateway/engine/keymap_directory.hpp"
#include "lmr_adapters/p25/link_types.hpp"
#include "lmr_adapters/p25/records.hpp"
#include "p25_test_support.hpp"
#include "tests/unit/engine/engine_fixture.hpp"

namespace iwf::lmr::p25 {
namespace {

using namespace std::chrono_literals;
using gateway::engine::Engine;
using gateway::engine::EngineDeps;
using gateway::engine::KeymapDirectory;
using gateway::engine::LmrLinkRoute;
using gateway::engine::ManualTimerService;
using gateway::engine::test::FakeMcLink;

const P25System kRoutingSys{0xBEE00, 0x001};

// Groups tg 1000..1000+n-1 <-> sip:g<tg>@mc (LMR-homed, clear); users talker<i> with unit
// 100+i.
std::shared_ptr<const keymap::Snapshot> routingKeymap(unsigned n) {
    keymap::Keymap k;
    k.unknown_talker = McId{"sip:unknown@iwf"};
    keymap::LmrSystem s;
    s.id = "p25-sys";
    s.family = LmrFamily::P25;
    s.p25 = kRoutingSys;
    k.systems.push_back(s);
    for (unsigned i = 0; i < n; ++i) {
        keymap::User u;
        u.mc_id = McId{"sip:talker" + std::to_string(i) + "@mc"};
        u.system = "p25-sys";
        u.unit = 100 + i;
        k.users.push_back(u);
        keymap::Group g;
        g.mc_group = McGroupId{"sip:g" + std::to_string(1000 + i) + "@mc"};
        g.system = "p25-sys";
        g.tgid = 1000 + i;
        g.home = keymap::HomeSide::Lmr;
        g.mode = keymap::EncryptionMode::Clear;
        g.members.push_back(u.mc_id);
        k.groups.push_back(g);
    }
    return keymap::Snapshot::build(std::move(k), 1);
}

// The frame `seq` of talker `t`: IMBE bytes unique to (talker, seq).
VoiceFrame routingFrame(unsigned t, std::uint32_t seq) {
    VoiceFrame f;
    f.codec = VoiceCodec::ImbeFullRate;
    f.pos = FramePosition{seq / 18, static_cast<std::uint8_t>(seq % 18)};
    f.crypto = CryptoSync::clear(LmrFamily::P25);
    Bytes p(kImbeBytes);
    for (std::size_t i = 0; i < p.size(); ++i) {
        p[i] = static_cast<std::uint8_t>(t * 61 + seq * 7 + i * 13);
    }
    f.payload.assign(p);
    f.seq = seq;
    return f;
}

// What a peer received: the IMBE of each voice record in arrival order, and whether the
// stream ended (0x80).
struct RoutingRx {
    std::vector<Bytes> imbe;
    bool ended = false;
};

// Reads until the end record or `quiet` without a datagram (poll answers are skipped).
RoutingRx routingReceive(test::UdpPeer& p, std::chrono::milliseconds quiet) {
    RoutingRx rx;
    while (!rx.ended) {
        auto d = p.receive(quiet);
        if (!d) {
            break;
        }
        auto r = decodeRecord(*d);
        if (!r.ok()) {
            continue;
        }
        if (const auto* v = std::get_if<VoiceRecord>(&*r)) {
            rx.imbe.emplace_back(v->imbe.begin(), v->imbe.end());
        } else if (std::holds_alternative<EndRecord>(*r)) {
            rx.ended = true;
        }
    }
    return rx;
}

class RecordsRouting : public ::testing::Test {
  protected:
    // `tgids[i]`: link p25-<i> serves that talkgroup (0: no `tgid`, any group of the system).
    void start(const std::vector<std::uint16_t>& tgids, unsigned groups) {
        snapshot = routingKeymap(groups);
        registerP25LinkTypes(registry);
        const LinkType* type = registry.find("p25-records");
        ASSERT_NE(type, nullptr);
        engine = std::make_unique<Engine>(EngineDeps{metrics, clock, timers, directory, values});
        LinkContext ctx{io.io, metrics, SteadyClock::instance()};
        for (std::size_t i = 0; i < tgids.size(); ++i) {
            std::string yaml = "name: p25-" + std::to_string(i) +
                               "\ntype: p25-records\naddress: 127.0.0.1\nport: 0\n"
                               "wacn: 0xBEE00\nsystem: 0x001\ncall_timeout: 5s\n";
            if (tgids[i] != 0) {
                yaml += "tgid: " + std::to_string(tgids[i]) + "\n";
            }
            auto node = ConfigNode::loadString(yaml, "routing.yaml");
            links.push_back(type->create(node, ctx));
            auto* lmr = dynamic_cast<LmrLink*>(links.back().get());
            ASSERT_NE(lmr, nullptr);
            // As Daemon::startLinks tells the directory.
            directory.addLmrLink(
                LmrLinkRoute{lmr->id().name, lmr->family(), type->served_group(node)});
            engine->addLink(*links.back());
            io.runSync([&] { ASSERT_TRUE(links.back()->start(sink).ok()); });
            const std::uint16_t port = type->bound_port(*links.back());
            peers.push_back(std::make_unique<test::UdpPeer>());
            InlineBytes<kMaxRecordLen> poll;
            ASSERT_TRUE(encodeRecord(makePoll("PEER" + std::to_string(i)), poll).ok());
            peers.back()->sendTo(port, poll.view());
            ASSERT_TRUE(peers.back()->receive(5s)) << "link p25-" << i << " did not answer";
        }
        engine->addLink(mc);
    }
    void TearDown() override {
        for (auto& l : links) {
            io.runSync([&] { l->stop(); });
        }
        io.stop();
    }
    // MC talker `t` on group tg 1000+t: call ref 500+t, floor requested (and granted: the
    // group is LMR-homed, the IWF arbitrates).
    void press(unsigned t) {
        CallSetup s;
        s.call = 500 + t;
        s.caller.id = McId{"sip:talker" + std::to_string(t) + "@mc"};
        s.callee = McGroupId{"sip:g" + std::to_string(1000 + t) + "@mc"};
        engine->onEvent(mc.id(), s);
        engine->onEvent(mc.id(), FloorRequest{500 + t, Talker{s.caller.id, "", std::nullopt},
                                              CallPriority::Normal});
    }
    void talk(unsigned t, std::uint32_t seq) {
        engine->onEvent(mc.id(), Voice{500 + t, routingFrame(t, seq)});
    }
    void release(unsigned t) {
        engine->onEvent(mc.id(), FloorRelease{500 + t, Talker{}});
        engine->onEvent(mc.id(), CallEnd{500 + t, EndReason::Normal, ""});
    }
    static void expectFrames(const RoutingRx& rx, unsigned t, std::uint32_t n) {
        ASSERT_EQ(rx.imbe.size(), n) << "talker " << t;
        for (std::uint32_t seq = 0; seq < n; ++seq) {
            const auto f = routingFrame(t, seq);
            EXPECT_EQ(toHex(rx.imbe[seq]), toHex(f.payload.view()))
                << "talker " << t << " frame " << seq << ": not bit-exact or out of order";
        }
    }
    test::IoThread io;
    metrics::Registry metrics;
    ManualClock clock;
    ManualTimerService timers{clock};
    TimerTable values;
    std::shared_ptr<const keymap::Snapshot> snapshot;
    KeymapDirectory directory{[this] { return snapshot; }};
    LinkRegistry registry;
    std::unique_ptr<Engine> engine;
    iwf::test::CollectingSink sink;
    std::vector<std::unique_ptr<Link>> links;
    std::vector<std::unique_ptr<test::UdpPeer>> peers;
    FakeMcLink mc{"mc"};
};

TEST_F(RecordsRouting, McTalkerGoesToTheLinkOfItsTalkgroupOnly) {
    // Two reflector links of one system: p25-0 serves tg 1000, p25-1 serves tg 1001.
    start({1000, 1001}, 2);
    press(1);  // group tg 1001
    for (std::uint32_t seq = 0; seq < 36; ++seq) {
        talk(1, seq);
    }
    release(1);
    const RoutingRx at1 = routingReceive(*peers[1], 5s);
    EXPECT_TRUE(at1.ended);
    expectFrames(at1, 1, 36);
    // Everything was sent before the end record reached peer 1: what the other peer got is
    // already queued at it.
    const RoutingRx at0 = routingReceive(*peers[0], 300ms);
    EXPECT_TRUE(at0.imbe.empty()) << at0.imbe.size() << " frames of tg 1001 reached tg 1000's peer";
    EXPECT_FALSE(at0.ended);
}

TEST_F(RecordsRouting, SimultaneousTalkgroupsEachReachTheirPeerBitExactInOrder) {
    // Three reflector links, listed out of talkgroup order; three MC talkers at once, their
    // frames interleaved one by one as the engine gets them from the MC side.
    start({1002, 1000, 1001}, 3);
    for (unsigned t = 0; t < 3; ++t) {
        press(t);
    }
    constexpr std::uint32_t kFrames = 54;  // three superframes
    for (std::uint32_t seq = 0; seq < kFrames; ++seq) {
        for (unsigned t = 0; t < 3; ++t) {
            talk(t, seq);
        }
    }
    for (unsigned t = 0; t < 3; ++t) {
        release(t);
    }
    // talker t (tg 1000+t) is served by link (t + 1) % 3.
    for (unsigned t = 0; t < 3; ++t) {
        const RoutingRx rx = routingReceive(*peers[(t + 1) % 3], 5s);
        EXPECT_TRUE(rx.ended) << "talker " << t;
        expectFrames(rx, t, kFrames);
    }
    EXPECT_EQ(metrics.counterValue("iwf_engine_deliver_failures_total",
                                   {{"link", "p25-0"}, {"reason", "unknown_call"}}),
              0u);
}

TEST_F(RecordsRouting, GroupNoLinkNamesGoesToTheLinkWithoutTgid) {
    // p25-0 serves tg 1000; p25-1 names no talkgroup: tg 1001 goes there, not to p25-0 (the
    // system's first link, where every MC talker went before).
    start({1000, 0}, 2);
    press(0);
    press(1);
    for (std::uint32_t seq = 0; seq < 18; ++seq) {
        talk(0, seq);
        talk(1, seq);
    }
    release(0);
    release(1);
    expectFrames(routingReceive(*peers[0], 5s), 0, 18);
    expectFrames(routingReceive(*peers[1], 5s), 1, 18);
    // Every link names another talkgroup: the directory leaves the choice to the engine (the
    // first link of the family, as before routes existed).
    KeymapDirectory only_named([this] { return snapshot; });
    only_named.addLmrLink(
        LmrLinkRoute{"p25-0", LmrFamily::P25, Address{P25Group{kRoutingSys, 1000}}});
    EXPECT_EQ(only_named.current()->groupByLmr(P25Group{kRoutingSys, 1000})->lmr_link, "p25-0");
    EXPECT_EQ(only_named.current()->groupByLmr(P25Group{kRoutingSys, 1001})->lmr_link, "");
}

}  // namespace
}  // namespace iwf::lmr::p25
