// Every engine call ends (issue #21: 20,000 ISSI INVITEs left one call in "setup" for good,
// its setup timer re-armed forever). A transmission announced by a CallSetup whose stream never
// states its E2EE parameters (no frame at all, or an encrypted stream still in late entry)
// waits for nothing that bounds it: when `call_setup` runs out the transmission is refused and
// the call ends with EndReason::Timeout, on every leg, and holds no timer.

#include "tests/unit/engine/engine_fixture.hpp"

namespace iwf::gateway::engine::test {
namespace {

class CallEndTest : public EngineTest {
  protected:
    // Lets `d` pass in 1-second steps (each step fires what fell due).
    void run(std::chrono::seconds d) {
        for (auto t = std::chrono::seconds(0); t < d; t += std::chrono::seconds(1)) {
            timers.advance(std::chrono::seconds(1));
        }
    }
    // An ISSI INVITE for a c-protected call: encrypted, ALGID/KID/MI to come with the stream
    // (lmr_adapters/p25/issi_link.cpp, IssiLink::onInvite).
    static CryptoSync protectedCall() { return CryptoSync::lateEntry(LmrFamily::P25); }
};

TEST_F(CallEndTest, SetupWithoutAnyFrameEndsWhenCallSetupRunsOut) {
    fromLmr(lmrSetup(1, 1, 100, std::nullopt));
    ASSERT_EQ(engine->callCount(), 1u);
    run(std::chrono::seconds(60));
    EXPECT_EQ(engine->callCount(), 0u) << engine->callsJson().dump();
    ASSERT_EQ(p25.count<CallEnd>(), 1u);
    EXPECT_EQ(p25.last<CallEnd>().call, 1u);
    EXPECT_EQ(p25.last<CallEnd>().reason, EndReason::Timeout);
    EXPECT_TRUE(mc.events.empty()) << "nothing of an undecided transmission reaches MC";
    EXPECT_EQ(timers.pending(), 0u) << "an ended call holds no timer";
}

TEST_F(CallEndTest, ProtectedIssiSetupWithoutStreamEndsWhenCallSetupRunsOut) {
    fromLmr(lmrSetup(1, 1, 100, protectedCall()));
    run(std::chrono::seconds(60));
    EXPECT_EQ(engine->callCount(), 0u) << engine->callsJson().dump();
    ASSERT_EQ(p25.count<CallEnd>(), 1u);
    EXPECT_EQ(p25.last<CallEnd>().reason, EndReason::Timeout);
    EXPECT_EQ(timers.pending(), 0u);
}

TEST_F(CallEndTest, LateEntryStreamThatNeverStatesItsKeyEndsToo) {
    // Frames come, but the stream stays in late entry (no LDU2 ever completes): the frames wait
    // for the policy decision until call_setup runs out, then count as refused.
    fromLmr(lmrSetup(1, 1, 100, protectedCall()));
    sendFrames(1, 0, 10, protectedCall());
    run(std::chrono::seconds(60));
    EXPECT_EQ(engine->callCount(), 0u) << engine->callsJson().dump();
    EXPECT_EQ(p25.last<CallEnd>().reason, EndReason::Timeout);
    EXPECT_EQ(mc.count<Voice>(), 0u);
    EXPECT_EQ(
        counter("iwf_engine_frames_refused_total", {{"link", "p25"}, {"reason", "setup_expired"}}),
        10u);
}

TEST_F(CallEndTest, ManySetupsOnOneGroupAllEnd) {
    // The shape of the #21 probe: many INVITEs for one group, none followed by media.
    for (CallRef r = 1; r <= 200; ++r) {
        fromLmr(lmrSetup(r, static_cast<std::uint32_t>(r % 3 + 1), 100, protectedCall()));
    }
    run(std::chrono::seconds(60));
    EXPECT_EQ(engine->callCount(), 0u) << engine->callsJson().dump();
    EXPECT_EQ(p25.count<CallEnd>(), 200u);
    EXPECT_EQ(timers.pending(), 0u);
}

TEST_F(CallEndTest, AFloorDecisionBoundedByItsOwnTimerStillKeepsTheCall) {
    // MC-homed group: the floor request to the MC side is bounded by floor_request (2 s);
    // the call lives while it runs, then the refused call ends at the next setup expiry.
    fromLmr(lmrSetup(1, 1, 200, aes(0x2222)));
    ASSERT_EQ(mc.count<FloorRequest>(), 1u);
    run(std::chrono::seconds(1));
    EXPECT_EQ(engine->callCount(), 1u);
    run(std::chrono::seconds(60));
    EXPECT_EQ(p25.last<FloorDeny>().reason, "floor_request_timeout");
    EXPECT_EQ(engine->callCount(), 0u) << engine->callsJson().dump();
    EXPECT_EQ(timers.pending(), 0u);
}

}  // namespace
}  // namespace iwf::gateway::engine::test
