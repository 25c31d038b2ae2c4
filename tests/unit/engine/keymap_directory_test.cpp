// The Directory adapter over the keymap Snapshot: conversions, and the engine refusing a clear
// stream in a group the keymap marks secure.

#include "gateway/engine/keymap_directory.hpp"

#include "tests/unit/engine/engine_fixture.hpp"

namespace iwf::gateway::engine::test {
namespace {

std::shared_ptr<const keymap::Snapshot> sampleKeymap(std::uint64_t revision, std::uint32_t kid) {
    keymap::Keymap k;
    k.unknown_talker = McId{"sip:unknown@iwf"};
    keymap::LmrSystem s;
    s.id = "p25-north";
    s.family = LmrFamily::P25;
    s.p25 = kSys;
    k.systems.push_back(s);
    keymap::User u;
    u.mc_id = McId{"sip:alice@mc"};
    u.system = "p25-north";
    u.unit = 1;
    u.kmf_uri = "sip:kmf@lmr";
    u.e2ee = true;
    k.users.push_back(u);
    keymap::Group g;
    g.mc_group = McGroupId{"sip:g100@mc"};
    g.system = "p25-north";
    g.tgid = 100;
    g.home = keymap::HomeSide::Mc;
    g.mode = keymap::EncryptionMode::Secure;
    g.algid = 0x84;
    g.key_id = kid;
    g.members.push_back(u.mc_id);
    k.groups.push_back(g);
    keymap::Kmf f;
    f.uri = "sip:kmf@lmr";
    f.system = "p25-north";
    f.unit = 9999001;
    k.kmfs.push_back(f);
    return keymap::Snapshot::build(std::move(k), revision);
}

TEST(KeymapDirectory, ConvertsGroupsAndUsers) {
    std::shared_ptr<const keymap::Snapshot> current = sampleKeymap(7, 0x1234);
    KeymapDirectory dir([&] { return current; });
    auto snap = dir.current();
    EXPECT_EQ(snap->revision(), 7u);
    auto g = snap->groupByLmr(tg(100));
    ASSERT_TRUE(g.has_value());
    EXPECT_EQ(g->mc_group, McGroupId{"sip:g100@mc"});
    EXPECT_EQ(g->mode, E2eeMode::Secure);
    EXPECT_EQ(g->home, Side::Mc);
    EXPECT_EQ(g->crypto, CryptoSync::encryptedWith(LmrFamily::P25, 0x84, 0x1234));
    EXPECT_EQ(g->family(), LmrFamily::P25);
    EXPECT_EQ(g->lmr_group, Address{tg(100)});
    auto by_mc = snap->groupByMc(McGroupId{"sip:g100@mc"});
    ASSERT_TRUE(by_mc.has_value());
    EXPECT_EQ(by_mc->lmr_group, Address{tg(100)});
    auto u = snap->userByLmr(unit(1));
    ASSERT_TRUE(u.has_value());
    EXPECT_EQ(u->mc_id, McId{"sip:alice@mc"});
    EXPECT_EQ(u->kmf_uri, "sip:kmf@lmr");
    EXPECT_EQ(snap->userByMc(McId{"sip:alice@mc"})->lmr_unit, Address{unit(1)});
    EXPECT_FALSE(snap->groupByLmr(tg(101)).has_value());
    EXPECT_EQ(snap->unknownTalker(), McId{"sip:unknown@iwf"});
    // The KMF the user names: where a KMM from the user's MC client goes on the LMR side.
    auto kmf = snap->kmfByUri("sip:kmf@lmr");
    ASSERT_TRUE(kmf.has_value());
    EXPECT_EQ(kmf->lmr_address, Address{unit(9999001)});
    EXPECT_FALSE(snap->kmfByUri("sip:other-kmf@lmr").has_value());
    // A new revision: the old view keeps answering from its own.
    current = sampleKeymap(8, 0x9999);
    EXPECT_EQ(snap->groupByLmr(tg(100))->crypto.key_id, 0x1234u);
    EXPECT_EQ(dir.current()->groupByLmr(tg(100))->crypto.key_id, 0x9999u);
}

TEST(KeymapDirectory, CallsUnderOneSnapshotShareOneView) {
    std::shared_ptr<const keymap::Snapshot> current = sampleKeymap(3, 0x1234);
    KeymapDirectory dir([&] { return current; });
    auto a = dir.current();
    auto b = dir.current();
    EXPECT_EQ(a.get(), b.get()) << "same snapshot: the same view";
    current = sampleKeymap(4, 0x9999);
    auto c = dir.current();
    EXPECT_NE(c.get(), a.get());
    EXPECT_EQ(c->revision(), 4u);
    EXPECT_EQ(c->groupByLmr(tg(100))->crypto.key_id, 0x9999u);
    EXPECT_EQ(a->revision(), 3u) << "a call's view keeps its revision";
    EXPECT_EQ(a->groupByLmr(tg(100))->crypto.key_id, 0x1234u);
    EXPECT_EQ(dir.current().get(), c.get());
}

TEST(KeymapDirectory, EngineAppliesTheKeymapPolicy) {
    std::shared_ptr<const keymap::Snapshot> current = sampleKeymap(1, 0x1234);
    KeymapDirectory dir([&] { return current; });
    metrics::Registry reg;
    ManualClock clock;
    ManualTimerService timers(clock);
    TimerTable values;
    Engine engine(EngineDeps{reg, clock, timers, dir, values});
    FakeLmrLink p25("p25", LmrFamily::P25);
    FakeMcLink mc("mc");
    engine.addLink(p25);
    engine.addLink(mc);
    CallSetup s;
    s.call = 1;
    s.caller.id = unit(1);
    s.callee = tg(100);
    s.crypto = CryptoSync::clear(LmrFamily::P25);
    engine.onEvent(p25.id(), s);
    EXPECT_EQ(p25.last<FloorDeny>().reason, "clear_in_secure_group");
    EXPECT_TRUE(mc.events.empty());
    s.call = 2;
    s.crypto = aes(0x1234);
    engine.onEvent(p25.id(), s);
    EXPECT_EQ(mc.last<FloorRequest>().who.id, Address{McId{"sip:alice@mc"}});
}

TEST(KeymapDirectory, NoKeymapYetMeansNoGroups) {
    KeymapDirectory dir([] { return std::shared_ptr<const keymap::Snapshot>(); });
    EXPECT_EQ(dir.current()->revision(), 0u);
    EXPECT_FALSE(dir.current()->groupByLmr(tg(100)).has_value());
}

}  // namespace
}  // namespace iwf::gateway::engine::test
