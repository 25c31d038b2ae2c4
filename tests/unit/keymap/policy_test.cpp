// The E2EE decision table (tests/unit/engine/policy_table.hpp, docs/engine.md "E2EE policy")
// on the keymap's own data: each row on the example keymap's group of that mode (fire-ops
// secure, ems-dispatch mixed: P25 ALGID 0x84 key 0x0101; city-common clear, DMR) or on a
// private call with a user the keymap allows E2EE (p25-1001) or not (dmr-2007), read through
// the snapshot and the engine's view of it (KeymapSnapshotView), decided by the one policy.
// The keymap states a group's security; it has no rule of its own that could disagree.

#include "gateway/engine/policy.hpp"

#include <gtest/gtest.h>

#include "example_util.hpp"
#include "gateway/engine/keymap_directory.hpp"
#include "keymap/snapshot.hpp"
#include "tests/unit/engine/policy_table.hpp"

namespace iwf::keymap {
namespace {

using gateway::engine::GroupInfo;
using gateway::engine::KeymapSnapshotView;
using gateway::engine::PolicyVerdict;
using gateway::engine::test::PolicyRow;

std::optional<McGroupId> exampleGroup(std::string_view call) {
    if (call == "clear group") {
        return McGroupId{"sip:city-common@iwf.example"};
    }
    if (call == "secure group") {
        return McGroupId{"sip:fire-ops@iwf.example"};
    }
    if (call == "mixed group") {
        return McGroupId{"sip:ems-dispatch@iwf.example"};
    }
    return std::nullopt;
}

TEST(KeymapPolicy, DecisionTableOnTheExampleKeymap) {
    const KeymapSnapshotView view(Snapshot::build(test::exampleKeymap(), 1));
    const auto allowed = view.userByMc(McId{"sip:p25-1001@iwf.example"});
    const auto not_allowed = view.userByMc(McId{"sip:dmr-2007@iwf.example"});
    ASSERT_TRUE(allowed && not_allowed);
    ASSERT_TRUE(allowed->e2ee_allowed);
    ASSERT_FALSE(not_allowed->e2ee_allowed);
    int groups_checked = 0;
    for (const PolicyRow& r : gateway::engine::test::kPolicyRows) {
        SCOPED_TRACE(gateway::engine::test::markdownRow(r));
        PolicyVerdict v;
        if (auto mc_group = exampleGroup(r.call)) {
            const std::optional<GroupInfo> g = view.groupByMc(*mc_group);
            ASSERT_TRUE(g.has_value());
            const auto stream = gateway::engine::test::streamOf(r.stream, g->crypto);
            ASSERT_TRUE(stream.has_value()) << "stream word not in the vocabulary";
            v = gateway::engine::checkGroupPolicy(*g, *stream);
            ++groups_checked;
        } else {
            const auto stream = gateway::engine::test::streamOf(r.stream);
            ASSERT_TRUE(stream.has_value()) << "stream word not in the vocabulary";
            const bool e2ee = r.call == "private call, E2EE allowed" ? allowed->e2ee_allowed
                                                                     : not_allowed->e2ee_allowed;
            v = gateway::engine::checkPrivatePolicy(e2ee, *stream);
        }
        EXPECT_EQ(gateway::engine::toString(v.outcome), r.outcome);
        EXPECT_EQ(v.reason, r.reason);
    }
    EXPECT_EQ(groups_checked, 18);
}

// What was two rules before: a mixed group of the keymap refuses an encrypted stream whose
// ALGID it does not name (GroupView::checkStream said so, the engine let it through).
TEST(KeymapPolicy, MixedGroupRefusesAnAlgorithmItDoesNotName) {
    const KeymapSnapshotView view(Snapshot::build(test::exampleKeymap(), 1));
    const auto g = view.groupByMc(McGroupId{"sip:ems-dispatch@iwf.example"});
    ASSERT_TRUE(g.has_value());
    ASSERT_EQ(g->mode, gateway::engine::E2eeMode::Mixed);
    const std::uint8_t mi[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    const PolicyVerdict v = gateway::engine::checkGroupPolicy(
        *g, CryptoSync::encryptedWith(LmrFamily::P25, 0x85, 0x0101, ByteView(mi, 9)));
    EXPECT_TRUE(v.refused());
    EXPECT_EQ(v.reason, "algid_mismatch");
}

}  // namespace
}  // namespace iwf::keymap
