// E2EE policy: the decision table (policy_table.hpp = docs/engine.md "E2EE policy") row by row,
// against the one policy function and through the engine; secure groups refuse clear and
// mismatched streams (nothing forwarded, deny reason, counter); clear groups refuse encrypted;
// mixed accepts clear and the group's own key and marks each call's state; encryption state
// comes from the stream.

#include "tests/unit/engine/engine_fixture.hpp"
#include "tests/unit/engine/policy_table.hpp"

namespace iwf::gateway::engine::test {
namespace {

class PolicyTest : public EngineTest {};

// Every row of the decision table (policy_table.hpp, as written in docs/engine.md) against the
// one policy function.
TEST(PolicyRules, DecisionTableRowByRow) {
    const DirectoryContent content = baseContent();
    for (const PolicyRow& r : kPolicyRows) {
        SCOPED_TRACE(markdownRow(r));
        const auto stream = streamOf(r.stream);
        ASSERT_TRUE(stream.has_value()) << "stream word not in the vocabulary";
        PolicyVerdict v;
        if (auto tgid = fixtureGroup(r.call)) {
            const GroupInfo* g = nullptr;
            for (const GroupInfo& x : content.groups) {
                g = x.lmr_group == Address{tg(*tgid)} ? &x : g;
            }
            ASSERT_NE(g, nullptr);
            v = checkGroupPolicy(*g, *stream);
        } else if (r.call == "private call, E2EE allowed") {
            v = checkPrivatePolicy(true, *stream);
        } else {
            ASSERT_EQ(r.call, "private call, E2EE not allowed")
                << "call word not in the vocabulary";
            v = checkPrivatePolicy(false, *stream);
        }
        EXPECT_EQ(toString(v.outcome), r.outcome);
        EXPECT_EQ(v.reason, r.reason);
    }
}

// The same rows through the engine: an LMR transmission (group call on the row's group, or a
// private call from alice to carol / to dave, who may not use E2EE) states the row's crypto in
// its setup and sends three frames. accept: the frames reach the MC side; refuse: the radio
// gets FloorDeny with the row's reason and no frame crosses; wait: neither yet.
class PolicyTableTest : public EngineTest, public ::testing::WithParamInterface<PolicyRow> {};

TEST_P(PolicyTableTest, EngineDecidesAsTheTableSays) {
    const PolicyRow& r = GetParam();
    const CryptoSync stream = streamOf(r.stream).value();
    CallSetup s = lmrSetup(1, 1, 0, stream);
    if (auto tgid = fixtureGroup(r.call)) {
        s.callee = tg(*tgid);
    } else {
        s.kind = CallKind::Private;
        s.callee = unit(r.call == "private call, E2EE allowed" ? 3 : 4);
    }
    fromLmr(s);
    sendFrames(1, 0, 3, stream);
    if (r.outcome == "accept") {
        EXPECT_EQ(p25.count<FloorDeny>(), 0u);
        EXPECT_EQ(mc.count<Voice>(), 3u);
    } else if (r.outcome == "refuse") {
        ASSERT_EQ(p25.count<FloorDeny>(), 1u);
        EXPECT_EQ(p25.last<FloorDeny>().reason, r.reason);
        EXPECT_EQ(mc.count<Voice>(), 0u);
        if (s.kind == CallKind::Group) {
            EXPECT_TRUE(mc.events.empty()) << "nothing of a refused transmission reaches MC";
        }
    } else {
        ASSERT_EQ(r.outcome, "wait");
        EXPECT_EQ(p25.count<FloorDeny>(), 0u);
        EXPECT_EQ(mc.count<Voice>(), 0u);
        EXPECT_EQ(engine->callCount(), 1u);
    }
}

INSTANTIATE_TEST_SUITE_P(DecisionTable, PolicyTableTest, ::testing::ValuesIn(kPolicyRows),
                         [](const ::testing::TestParamInfo<PolicyRow>& row) {
                             return "row" + std::to_string(row.index + 1);
                         });

TEST(PolicyRules, SyncPoints) {
    EXPECT_TRUE(isSyncPoint(CryptoSync::clear(LmrFamily::P25), 7));
    EXPECT_FALSE(isSyncPoint(aes(1), 7));
    EXPECT_TRUE(isSyncPoint(aes(1), 0));
    CryptoSync no_mi = aes(1);
    no_mi.mi.clear();
    EXPECT_FALSE(isSyncPoint(no_mi, 0));  // an encrypted superframe whose MI is unknown
}

TEST_F(PolicyTest, SecureGroupRefusesClearStreamFromSetup) {
    fromLmr(lmrSetup(1, 1, 100, CryptoSync::clear(LmrFamily::P25)));
    sendFrames(1, 0, 20, CryptoSync::clear(LmrFamily::P25));
    auto deny = p25.last<FloorDeny>();
    EXPECT_EQ(deny.call, 1u);
    EXPECT_EQ(deny.reason, "clear_in_secure_group");
    EXPECT_EQ(deny.cause, kDenyOther);
    EXPECT_TRUE(mc.events.empty()) << "nothing of a refused transmission reaches the MC side";
    EXPECT_EQ(counter("iwf_engine_refusals_total",
                      {{"link", "p25"}, {"reason", "clear_in_secure_group"}}),
              1u);
    EXPECT_EQ(counter("iwf_engine_frames_refused_total",
                      {{"link", "p25"}, {"reason", "clear_in_secure_group"}}),
              20u);
}

TEST_F(PolicyTest, SecureGroupReadsClearStateFromFirstFrameNotFromSetup) {
    // The setup says nothing about encryption: the first frame decides.
    fromLmr(lmrSetup(1, 1, 100, std::nullopt));
    EXPECT_TRUE(mc.events.empty());
    sendFrames(1, 0, 5, CryptoSync::clear(LmrFamily::P25));
    EXPECT_EQ(p25.last<FloorDeny>().reason, "clear_in_secure_group");
    EXPECT_TRUE(mc.events.empty());
    EXPECT_EQ(counter("iwf_engine_frames_refused_total",
                      {{"link", "p25"}, {"reason", "clear_in_secure_group"}}),
              5u);
}

TEST_F(PolicyTest, SecureGroupRefusesMismatchedKeyAndAlgid) {
    fromLmr(lmrSetup(1, 1, 100, aes(0x2222)));
    sendFrames(1, 0, 3, aes(0x2222));
    EXPECT_EQ(p25.last<FloorDeny>().reason, "key_id_mismatch");
    CryptoSync des = aes(0x1111);
    des.algid = 0x81;
    fromLmr(lmrSetup(2, 2, 100, des));
    sendFrames(2, 0, 3, des);
    EXPECT_EQ(p25.last<FloorDeny>().reason, "algid_mismatch");
    EXPECT_TRUE(mc.events.empty());
    EXPECT_EQ(
        counter("iwf_engine_refusals_total", {{"link", "p25"}, {"reason", "key_id_mismatch"}}), 1u);
    EXPECT_EQ(counter("iwf_engine_refusals_total", {{"link", "p25"}, {"reason", "algid_mismatch"}}),
              1u);
}

TEST_F(PolicyTest, SecureGroupPassesMatchingStreamBitExact) {
    fromLmr(lmrSetup(1, 1, 100, aes(0x1111)));
    ASSERT_EQ(mc.count<CallSetup>(), 1u);
    auto setup = mc.last<CallSetup>();
    EXPECT_EQ(setup.callee, Address{McGroupId{"sip:g100@mc"}});
    EXPECT_EQ(setup.caller.id, Address{McId{"sip:alice@mc"}});
    ASSERT_TRUE(setup.crypto.has_value());
    EXPECT_EQ(*setup.crypto, aes(0x1111));
    EXPECT_EQ(p25.count<FloorGranted>(), 1u);
    EXPECT_EQ(mc.last<FloorTaken>().who.id, Address{McId{"sip:alice@mc"}});
    sendFrames(1, 0, 36, aes(0x1111));
    auto out = mc.voice(setup.call);
    ASSERT_EQ(out.size(), 36u);
    for (std::uint32_t i = 0; i < 36; ++i) {
        EXPECT_EQ(out[i].frame, frame(i, aes(0x1111), i / 18, static_cast<std::uint8_t>(i % 18)));
    }
    EXPECT_EQ(counter("iwf_engine_frames_relayed_total", {{"link", "mc"}}), 36u);
}

TEST_F(PolicyTest, ClearGroupRefusesEncrypted) {
    fromLmr(lmrSetup(1, 1, 300, aes(0x1111)));
    sendFrames(1, 0, 4, aes(0x1111));
    EXPECT_EQ(p25.last<FloorDeny>().reason, "encrypted_in_clear_group");
    EXPECT_TRUE(mc.events.empty());
    // ...and an encrypted MC talker into the clear group is not carried to LMR either.
    fromMc(mcSetup(50, "sip:bob@mc", "sip:g300@mc"));
    fromMc(FloorRequest{50, Talker{McId{"sip:bob@mc"}, "", std::nullopt}, CallPriority::Normal});
    EXPECT_EQ(mc.last<FloorGranted>().call, 50u);
    p25.clear();
    sendFrames(50, 0, 4, aes(0x1111), false);
    EXPECT_EQ(mc.last<FloorDeny>().reason, "encrypted_in_clear_group");
    EXPECT_EQ(p25.count<CallSetup>(), 0u);
    EXPECT_EQ(p25.count<Voice>(), 0u);
}

TEST_F(PolicyTest, MixedGroupMarksEachCallsState) {
    // Group 400 is LMR-homed and mixed: a clear call, then an encrypted one.
    fromLmr(lmrSetup(1, 1, 400, CryptoSync::clear(LmrFamily::P25)));
    sendFrames(1, 0, 3, CryptoSync::clear(LmrFamily::P25));
    auto j = engine->callsJson();
    ASSERT_EQ(j["calls"].size(), 1u);
    EXPECT_EQ(j["calls"][0]["e2ee"], "clear");
    fromLmr(CallEnd{1, EndReason::Normal, ""});
    timers.advance(std::chrono::seconds(10));  // hang time runs out: the call ends
    EXPECT_EQ(engine->callCount(), 0u);
    fromLmr(lmrSetup(2, 2, 400, aes(0x1111)));
    sendFrames(2, 0, 3, aes(0x1111));
    j = engine->callsJson();
    ASSERT_EQ(j["calls"].size(), 1u);
    EXPECT_EQ(j["calls"][0]["e2ee"], "encrypted");
    EXPECT_EQ(counter("iwf_engine_transmissions_total", {{"e2ee", "clear"}}), 1u);
    EXPECT_EQ(counter("iwf_engine_transmissions_total", {{"e2ee", "encrypted"}}), 1u);
    EXPECT_EQ(mc.count<Voice>(), 6u);
}

TEST_F(PolicyTest, StreamTurningClearMidCallInSecureGroupIsRevoked) {
    fromLmr(lmrSetup(1, 1, 100, aes(0x1111)));
    sendFrames(1, 0, 10, aes(0x1111));
    sendFrames(1, 10, 8, CryptoSync::clear(LmrFamily::P25));
    EXPECT_EQ(mc.count<Voice>(), 10u) << "no clear frame of a secure group is forwarded";
    EXPECT_EQ(p25.last<FloorRevoke>().reason, "clear_in_secure_group");
    EXPECT_EQ(counter("iwf_engine_crypto_changes_total"), 1u);
    EXPECT_EQ(counter("iwf_engine_frames_refused_total",
                      {{"link", "p25"}, {"reason", "clear_in_secure_group"}}),
              8u);
}

TEST_F(PolicyTest, KeymapRevisionChangeMidCall) {
    fromLmr(lmrSetup(1, 1, 100, aes(0x1111)));
    sendFrames(1, 0, 5, aes(0x1111));
    // The group is switched to a new key ID while the call runs.
    EXPECT_EQ(directory.publish(baseContent(0x3333)), 2u);
    sendFrames(1, 5, 5, aes(0x1111));
    EXPECT_EQ(mc.count<Voice>(), 10u);
    fromLmr(CallEnd{1, EndReason::Normal, ""});
    // A new transmission inside the same call (hang time) still runs on revision 1.
    fromLmr(lmrSetup(2, 2, 100, aes(0x1111)));
    sendFrames(2, 0, 5, aes(0x1111));
    EXPECT_EQ(mc.count<Voice>(), 15u);
    EXPECT_EQ(engine->callsJson()["calls"][0]["revision"], 1u);
    fromLmr(CallEnd{2, EndReason::Normal, ""});
    timers.advance(std::chrono::seconds(10));
    ASSERT_EQ(engine->callCount(), 0u);
    // The next call takes revision 2: the old key is refused, the new one passes.
    mc.clear();
    fromLmr(lmrSetup(3, 1, 100, aes(0x1111)));
    EXPECT_EQ(p25.last<FloorDeny>().reason, "key_id_mismatch");
    fromLmr(lmrSetup(4, 1, 100, aes(0x3333)));
    sendFrames(4, 0, 5, aes(0x3333));
    EXPECT_EQ(mc.count<Voice>(), 5u);
    EXPECT_EQ(engine->callsJson()["calls"][0]["revision"], 2u);
}

TEST_F(PolicyTest, UnknownGroupAndUnknownCallAreCounted) {
    fromLmr(lmrSetup(1, 1, 999, aes(1)));
    EXPECT_EQ(p25.last<FloorDeny>().reason, "unknown_group");
    EXPECT_EQ(counter("iwf_engine_refusals_total", {{"link", "p25"}, {"reason", "unknown_group"}}),
              1u);
    sendFrames(77, 0, 3, aes(1));
    EXPECT_EQ(counter("iwf_engine_dropped_total", {{"link", "p25"}, {"reason", "unknown_call"}}),
              3u);
    EXPECT_TRUE(mc.events.empty());
}

}  // namespace
}  // namespace iwf::gateway::engine::test
