// A leg's two gates (engine_tables.hpp leg_floor, leg_policy) as the engine steps them: every
// change goes through the table (counted per fsm), a refused transmission stays refused until
// it ends, and /v1/calls shows the floor gate by its table name.

#include "tests/unit/engine/engine_fixture.hpp"

namespace iwf::gateway::engine::test {
namespace {

class GatesTest : public EngineTest {
  protected:
    std::uint64_t steps(const std::string& fsm) {
        return counter("iwf_fsm_transitions_total", {{"fsm", fsm}});
    }
    std::string legFloor(std::size_t i) {
        return engine->callsJson()["calls"][0]["legs"][i]["floor"].get<std::string>();
    }
};

TEST(LegTables, RefusedStaysRefusedUntilTheTransmissionEnds) {
    const auto& t = floorGateTable();
    EXPECT_FALSE(t.accepts(FloorGate::Refused, FloorGateEvent::Grant));
    EXPECT_FALSE(t.accepts(FloorGate::Refused, FloorGateEvent::Queue));
    EXPECT_TRUE(t.accepts(FloorGate::Refused, FloorGateEvent::Release));
    EXPECT_FALSE(t.allows(FloorGate::Granted, FloorGate::Queued));
    EXPECT_FALSE(t.allows(FloorGate::None, FloorGate::Refused)) << "nothing to refuse";
    const auto& p = policyGateTable();
    EXPECT_FALSE(p.allows(PolicyGate::Refused, PolicyGate::Allowed))
        << "a refused stream is not allowed again within its transmission";
}

TEST_F(GatesTest, AnAllowedTransmissionOpensBothGatesThroughTheTables) {
    fromLmr(lmrSetup(1, 1, 100, aes(0x1111)));
    // LMR leg: none -> pending (request) -> granted (grant); policy unknown -> allowed.
    EXPECT_EQ(steps("leg_floor"), 2u);
    EXPECT_EQ(steps("leg_policy"), 1u);
    EXPECT_EQ(legFloor(0), "granted");
    fromLmr(CallEnd{1, EndReason::Normal, ""});
    EXPECT_EQ(steps("leg_floor"), 3u);   // granted -> none (release)
    EXPECT_EQ(steps("leg_policy"), 2u);  // allowed -> unknown (reset)
    EXPECT_EQ(counter("iwf_fsm_refused_transitions_total", {{"fsm", "leg_floor"}}), 0u);
}

TEST_F(GatesTest, ARefusedTransmissionCountsItsFramesUntilItEnds) {
    fromLmr(lmrSetup(1, 1, 100, aes(0x1111)));
    fromMc(mcSetup(50, "sip:bob@mc", "sip:g100@mc"));
    fromMc(FloorRequest{50, Talker{McId{"sip:bob@mc"}, "", std::nullopt}, CallPriority::Normal});
    ASSERT_EQ(mc.last<FloorQueued>().call, 50u);
    // The MC participant leaves the queue, asks again and is queued again.
    fromMc(FloorRelease{50, Talker{McId{"sip:bob@mc"}, "", std::nullopt}});
    fromMc(FloorRequest{50, Talker{McId{"sip:bob@mc"}, "", std::nullopt}, CallPriority::Normal});
    EXPECT_EQ(mc.count<FloorQueued>(), 2u);
    // A second LMR radio keys up while the first talks: refused (it cannot wait).
    fromLmr(lmrSetup(2, 2, 100, aes(0x1111)));
    EXPECT_EQ(p25.last<FloorDeny>().reason, "floor_busy");
    sendFrames(2, 0, 5, aes(0x1111));
    EXPECT_EQ(
        counter("iwf_engine_frames_refused_total", {{"link", "p25"}, {"reason", "floor_busy"}}),
        5u);
    EXPECT_EQ(counter("iwf_fsm_refused_transitions_total", {{"fsm", "leg_floor"}}), 0u);
    EXPECT_EQ(counter("iwf_fsm_refused_events_total", {{"fsm", "leg_floor"}}), 0u);
}

}  // namespace
}  // namespace iwf::gateway::engine::test
