#include "keymap/snapshot.hpp"

#include <array>

#include <gtest/gtest.h>

#include "example_util.hpp"

namespace iwf::keymap {
namespace {

class SnapshotTest : public ::testing::Test {
  protected:
    void SetUp() override { snap_ = Snapshot::build(test::exampleKeymap(), 7); }
    std::shared_ptr<const Snapshot> snap_;
    const P25System north_{0xBEE00, 0x001};
};

TEST_F(SnapshotTest, UserByLmrUnit) {
    EXPECT_EQ(snap_->revision(), 7u);
    EXPECT_EQ(snap_->userCount(), 20u);
    const UserView* u = snap_->user(P25Unit{north_, 1003});
    ASSERT_NE(u, nullptr);
    EXPECT_EQ(u->mcId().uri, "sip:p25-1003@iwf.example");
    EXPECT_EQ(u->kmfUri(), "sip:kmf@kmf.p25-north.example");
    EXPECT_TRUE(u->mayUseE2ee());
    EXPECT_TRUE(u->authorised(LmrFamily::P25, 0x84, 0x0101));
    EXPECT_FALSE(u->authorised(LmrFamily::P25, 0x85, 0x0202));
    EXPECT_EQ(u->system->id, "p25-north");
    // Same unit number in another P25 system: not ours.
    EXPECT_EQ(snap_->user(P25Unit{P25System{0xBEE00, 0x002}, 1003}), nullptr);
    const UserView* d = snap_->user("dmr-city", DmrUnit{2007});
    ASSERT_NE(d, nullptr);
    EXPECT_FALSE(d->mayUseE2ee());
    EXPECT_FALSE(d->authorised(LmrFamily::Dmr, 5, 0x11));
    EXPECT_EQ(snap_->user("dmr-city", DmrUnit{1003}), nullptr);
    EXPECT_EQ(snap_->user("nope", DmrUnit{2007}), nullptr);
}

TEST_F(SnapshotTest, UserByMcIdAndUnknownTalker) {
    const UserView* u = snap_->userByMcId("sip:dmr-2002@iwf.example");
    ASSERT_NE(u, nullptr);
    EXPECT_EQ(u->user->unit, 2002u);
    EXPECT_EQ(snap_->userByMcId("sip:ghost@iwf.example"), nullptr);
    EXPECT_EQ(snap_->unknownTalker().uri, "sip:unknown-lmr-talker@iwf.example");
    EXPECT_EQ(snap_->talkerMcId(P25Unit{north_, 1001}).uri, "sip:p25-1001@iwf.example");
    EXPECT_EQ(snap_->talkerMcId(P25Unit{north_, 999999}).uri, "sip:unknown-lmr-talker@iwf.example");
    EXPECT_EQ(snap_->talkerMcId("dmr-city", DmrUnit{5}).uri, "sip:unknown-lmr-talker@iwf.example");
}

TEST_F(SnapshotTest, GroupByLmrGroupAndByMcGroup) {
    const GroupView* g = snap_->group(P25Group{north_, 100});
    ASSERT_NE(g, nullptr);
    EXPECT_EQ(g->mcGroup().uri, "sip:fire-ops@iwf.example");
    EXPECT_EQ(g->mode(), EncryptionMode::Secure);
    EXPECT_EQ(g->home(), HomeSide::Lmr);
    EXPECT_EQ(g->family, LmrFamily::P25);
    EXPECT_EQ(g->codec, VoiceCodec::ImbeFullRate);
    EXPECT_TRUE(g->crypto.encrypted);
    EXPECT_EQ(g->crypto.algid, 0x84);
    EXPECT_EQ(g->crypto.key_id, 0x0101u);
    ASSERT_EQ(g->members.size(), 6u);
    EXPECT_EQ(g->members[0].mcId().uri, "sip:p25-1001@iwf.example");
    EXPECT_EQ(snap_->groupByMc("sip:fire-ops@iwf.example"), g);

    const GroupView* d = snap_->group("dmr-city", DmrGroup{9001});
    ASSERT_NE(d, nullptr);
    EXPECT_EQ(d->home(), HomeSide::Mc);
    EXPECT_EQ(d->codec, VoiceCodec::DmrAmbe);
    EXPECT_EQ(d->crypto.algid, 5);
    EXPECT_EQ(d->crypto.key_id, 0x11u);

    const GroupView* c = snap_->groupByMc("sip:city-common@iwf.example");
    ASSERT_NE(c, nullptr);
    EXPECT_FALSE(c->e2ee());
    EXPECT_FALSE(c->crypto.encrypted);
    EXPECT_EQ(c->members.size(), 8u);
    EXPECT_EQ(snap_->group(P25Group{north_, 101}), nullptr);
    EXPECT_EQ(snap_->groupByMc("sip:nothing@iwf.example"), nullptr);
    EXPECT_EQ(snap_->p25System(north_)->id, "p25-north");
    EXPECT_EQ(snap_->dmrSystem(3100)->id, "dmr-city");
    EXPECT_EQ(snap_->dmrSystem(3101), nullptr);
}

// The snapshot states each group's security in the shape of a stream's crypto sync; what a
// stream may carry is the engine's one policy (tests/unit/engine/policy_test.cpp runs its
// decision table, KeymapDirectory.EngineAppliesTheKeymapPolicy through this snapshot).
TEST_F(SnapshotTest, GroupSecurityIsACryptoSync) {
    const GroupView* secure = snap_->groupByMc("sip:fire-ops@iwf.example");
    const GroupView* mixed = snap_->groupByMc("sip:ems-dispatch@iwf.example");
    const GroupView* clear = snap_->groupByMc("sip:city-common@iwf.example");
    EXPECT_EQ(secure->mode(), EncryptionMode::Secure);
    EXPECT_EQ(secure->crypto, CryptoSync::encryptedWith(LmrFamily::P25, 0x84, 0x0101));
    EXPECT_EQ(mixed->mode(), EncryptionMode::Mixed);
    EXPECT_EQ(mixed->crypto, CryptoSync::encryptedWith(LmrFamily::P25, 0x84, 0x0101));
    EXPECT_EQ(clear->mode(), EncryptionMode::Clear);
    EXPECT_EQ(clear->crypto, CryptoSync::clear(LmrFamily::Dmr));
    EXPECT_EQ(clear->crypto.family, clear->family);
}

TEST_F(SnapshotTest, KmfByUri) {
    const KmfView* k = snap_->kmf("sip:kmf@kmf.p25-north.example");
    ASSERT_NE(k, nullptr);
    EXPECT_EQ(k->kmf->unit, 9999001u);
    EXPECT_EQ(k->system->id, "p25-north");
    const KmfView* d = snap_->kmf("sip:kmf@kmf.dmr-city.example");
    ASSERT_NE(d, nullptr);
    EXPECT_EQ(d->system->family, LmrFamily::Dmr);
    EXPECT_EQ(snap_->kmf("sip:kmf@elsewhere.example"), nullptr);
}

TEST_F(SnapshotTest, AdhocLender) {
    // A patch of talkgroups inside the rule's range borrows fire-ops' configuration.
    std::array<std::uint32_t, 2> tgs{60001, 60999};
    auto r = snap_->adhocLender("p25-north", tgs, {});
    ASSERT_TRUE(r.ok()) << r.error().toString();
    EXPECT_EQ((*r)->mcGroup().uri, "sip:fire-ops@iwf.example");
    // Outside every rule: the default (city-common, clear).
    std::array<std::uint32_t, 1> other{5};
    r = snap_->adhocLender("p25-north", other, {});
    ASSERT_TRUE(r.ok());
    EXPECT_EQ((*r)->mcGroup().uri, "sip:city-common@iwf.example");
    // Mixing the secure lender with the clear default is refused.
    std::array<std::uint32_t, 2> mix{60001, 5};
    r = snap_->adhocLender("p25-north", mix, {});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().reason, "adhoc_mixed_e2ee");
    EXPECT_EQ(r.error().detail, 1);
    // Patching an interworking group with other E2EE settings into the range is refused too:
    // TG 200 (police-tac, 0x85/0x0202) falls to the default lender (clear) -> mixed.
    std::array<std::uint32_t, 1> police{200};
    r = snap_->adhocLender("p25-north", police, {});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().reason, "adhoc_mixed_e2ee");
    // Units use the default too.
    std::array<std::uint32_t, 2> units{1001, 1002};
    r = snap_->adhocLender("p25-north", {}, units);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ((*r)->mcGroup().uri, "sip:city-common@iwf.example");
    r = snap_->adhocLender("no-such-system", tgs, {});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().reason, "adhoc_unknown_system");
}

TEST(SnapshotNoDefault, NoRuleAndNoDefaultIsRefused) {
    Keymap k = test::exampleKeymap();
    k.adhoc_default.uri.clear();
    auto s = Snapshot::build(std::move(k), 1);
    std::array<std::uint32_t, 1> tg{5};
    auto r = s->adhocLender("p25-north", tg, {});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().reason, "adhoc_no_rule");
    std::array<std::uint32_t, 1> in{60010};
    EXPECT_TRUE(s->adhocLender("p25-north", in, {}).ok());
}

TEST(SnapshotLifetime, AHeldSnapshotOutlivesItsReplacement) {
    std::shared_ptr<const Snapshot> current = Snapshot::build(test::exampleKeymap(), 1);
    std::shared_ptr<const Snapshot> call = current;  // a call takes it at setup
    const GroupView* g = call->groupByMc("sip:fire-ops@iwf.example");
    Keymap next = test::exampleKeymap();
    next.groups[0].key_id = 0x0999;
    current = Snapshot::build(std::move(next), 2);  // reload swaps
    EXPECT_EQ(call->revision(), 1u);
    EXPECT_EQ(g->crypto.key_id, 0x0101u);  // still valid, still the old revision
    EXPECT_EQ(current->groupByMc("sip:fire-ops@iwf.example")->crypto.key_id, 0x0999u);
}

}  // namespace
}  // namespace iwf::keymap
