// Floor control: arbitration at the group's home, queueing, priority and emergency pre-emption,
// hang timer, MC floor grant -> LMR origination, emergency raise and cancel.

#include "tests/unit/engine/engine_fixture.hpp"

namespace iwf::gateway::engine::test {
namespace {

using namespace std::chrono_literals;

Talker mcUser(const std::string& uri) {
    return Talker{McId{uri}, "", std::nullopt};
}

class FloorTest : public EngineTest {};

// --- Groups homed in the IWF (LMR-homed): the IWF's floor control server decides. ----------

TEST_F(FloorTest, LmrHomedContentionFirstComerWinsMcIsQueuedThenGranted) {
    fromLmr(lmrSetup(1, 1, 100, aes(0x1111)));
    CallRef m = mcRef();
    sendFrames(1, 0, 3, aes(0x1111));
    // An MC participant presses while the radio talks: queued (group 100 supports queueing).
    fromMc(FloorRequest{m, mcUser("sip:bob@mc"), CallPriority::Normal});
    auto q = mc.last<FloorQueued>();
    EXPECT_EQ(q.call, m);
    EXPECT_EQ(q.position, 1u);
    EXPECT_EQ(mc.count<FloorGranted>(), 0u);
    // The radio ends: the queued MC user gets the floor and the IWF originates toward LMR.
    fromLmr(CallEnd{1, EndReason::Normal, ""});
    EXPECT_EQ(mc.last<FloorGranted>().call, m);
    sendFrames(m, 0, 4, aes(0x1111), false);
    auto out = p25.last<CallSetup>();
    EXPECT_NE(out.call & kEngineRefBit, 0u);
    EXPECT_EQ(out.caller.id, Address{unit(2)});  // bob's LMR identity
    EXPECT_EQ(out.callee, Address{tg(100)});
    EXPECT_EQ(p25.voice(out.call).size(), 4u);
    EXPECT_EQ(counter("iwf_engine_floor_events_total", {{"event", "queued"}}), 1u);
}

TEST_F(FloorTest, LmrHomedWithoutQueueingDeniesWithCauseOne) {
    fromLmr(lmrSetup(1, 1, 400, CryptoSync::clear(LmrFamily::P25)));
    CallRef m = mcRef();
    fromMc(FloorRequest{m, mcUser("sip:bob@mc"), CallPriority::Normal});
    auto d = mc.last<FloorDeny>();
    EXPECT_EQ(d.cause, kDenyAnotherHasPermission);
    EXPECT_EQ(d.reason, "floor_busy");
}

TEST_F(FloorTest, LmrHomedRadioKeyingWhileMcTalksIsDeniedAndNotForwarded) {
    fromMc(mcSetup(50, "sip:bob@mc", "sip:g100@mc"));
    fromMc(FloorRequest{50, mcUser("sip:bob@mc"), CallPriority::Normal});
    EXPECT_EQ(mc.last<FloorGranted>().call, 50u);
    sendFrames(50, 0, 5, aes(0x1111), false);
    CallRef out = p25.last<CallSetup>().call;
    // A radio keys up on the same talkgroup at the same priority: the IWF (home) denies it.
    fromLmr(lmrSetup(9, 3, 100, aes(0x1111)));
    sendFrames(9, 0, 6, aes(0x1111));
    auto d = p25.last<FloorDeny>();
    EXPECT_EQ(d.call, 9u);
    EXPECT_EQ(d.cause, kDenyAnotherHasPermission);
    EXPECT_EQ(mc.voice(50).size(), 0u);
    EXPECT_EQ(
        counter("iwf_engine_frames_refused_total", {{"link", "p25"}, {"reason", "floor_busy"}}),
        6u);
    EXPECT_EQ(p25.voice(out).size(), 5u);
}

TEST_F(FloorTest, LmrHomeRefusingOurOriginationRevokesTheMcTalker) {
    fromMc(mcSetup(50, "sip:bob@mc", "sip:g100@mc"));
    fromMc(FloorRequest{50, mcUser("sip:bob@mc"), CallPriority::Normal});
    sendFrames(50, 0, 2, aes(0x1111), false);
    CallRef out = p25.last<CallSetup>().call;
    fromLmr(FloorDeny{out, Talker{}, 1, "busy"});
    EXPECT_EQ(mc.last<FloorRevoke>().call, 50u);
    EXPECT_EQ(p25.last<CallEnd>().call, out);
    sendFrames(50, 2, 3, aes(0x1111), false);
    EXPECT_EQ(p25.voice(out).size(), 2u);
}

TEST_F(FloorTest, EmergencyFromLmrPreemptsMcTalker) {
    fromMc(mcSetup(50, "sip:bob@mc", "sip:g100@mc"));
    fromMc(FloorRequest{50, mcUser("sip:bob@mc"), CallPriority::Normal});
    sendFrames(50, 0, 3, aes(0x1111), false);
    CallRef out = p25.last<CallSetup>().call;
    fromLmr(lmrSetup(9, 3, 100, aes(0x1111), CallPriority::Emergency));
    // The MC talker is revoked (cause 4) and the MC side hears of the emergency.
    auto rv = mc.last<FloorRevoke>();
    EXPECT_EQ(rv.call, 50u);
    EXPECT_EQ(rv.cause, kRevokePreempted);
    auto upd = mc.last<CallSetup>();
    EXPECT_EQ(upd.call, 50u);
    EXPECT_EQ(upd.priority, CallPriority::Emergency);
    // The emergency talker's frames wait (not lost) until the MC talker stops.
    sendFrames(9, 0, 4, aes(0x1111));
    EXPECT_EQ(mc.voice(50).size(), 0u);
    fromMc(FloorRelease{50, mcUser("sip:bob@mc")});
    EXPECT_EQ(p25.last<CallEnd>().call, out);
    EXPECT_EQ(p25.last<FloorGranted>().call, 9u);
    EXPECT_EQ(mc.last<FloorTaken>().who.id, Address{McId{"sip:carol@mc"}});
    sendFrames(9, 4, 2, aes(0x1111));
    auto v = mc.voice(50);
    ASSERT_EQ(v.size(), 6u);
    for (std::uint32_t i = 0; i < 6; ++i) {
        EXPECT_EQ(v[i].frame.seq, i);
    }
    EXPECT_EQ(counter("iwf_engine_floor_events_total", {{"event", "preempted"}}), 1u);
}

TEST_F(FloorTest, PreemptedTalkerThatKeepsTalkingLosesItAfterT3) {
    fromMc(mcSetup(50, "sip:bob@mc", "sip:g100@mc"));
    fromMc(FloorRequest{50, mcUser("sip:bob@mc"), CallPriority::Normal});
    sendFrames(50, 0, 2, aes(0x1111), false);
    fromLmr(lmrSetup(9, 3, 100, aes(0x1111), CallPriority::Emergency));
    sendFrames(9, 0, 2, aes(0x1111));
    timers.advance(999ms);
    EXPECT_EQ(p25.count<FloorGranted>(), 0u);
    timers.advance(2ms);  // T3 (1 s) runs out
    EXPECT_EQ(p25.last<FloorGranted>().call, 9u);
    EXPECT_EQ(mc.voice(50).size(), 2u);
    std::size_t before = p25.count<Voice>();
    sendFrames(50, 2, 3, aes(0x1111), false);
    EXPECT_EQ(p25.count<Voice>(), before) << "the revoked talker is not relayed any more";
}

TEST_F(FloorTest, HangTimerEndsTheCallAndATalkerInHangReusesIt) {
    fromLmr(lmrSetup(1, 1, 100, aes(0x1111)));
    CallRef m = mcRef();
    fromLmr(CallEnd{1, EndReason::Normal, ""});
    EXPECT_EQ(mc.last<FloorIdle>().call, m);
    EXPECT_EQ(engine->callsJson()["calls"][0]["state"], "hang");
    timers.advance(2500ms);
    // Somebody talks within the hang time: same call, same MC leg.
    fromLmr(lmrSetup(2, 2, 100, aes(0x1111)));
    EXPECT_EQ(mc.count<CallSetup>(), 1u);
    EXPECT_EQ(engine->callsJson()["calls"][0]["state"], "active");
    fromLmr(CallEnd{2, EndReason::Normal, ""});
    timers.advance(2999ms);
    EXPECT_EQ(engine->callCount(), 1u);
    EXPECT_EQ(mc.count<CallEnd>(), 0u);
    timers.advance(2ms);
    EXPECT_EQ(engine->callCount(), 0u);
    EXPECT_EQ(mc.last<CallEnd>().call, m);
}

// Harness scenario 4 (docs/harness.md): a radio keyed up 22 ms before the hang timer ran out;
// its CallSetup joined the call in hang, but its transmission was still undecided (no frame
// yet: the policy is checked on the stream) when the timer fired, so the call ended and every
// frame after was dropped as unknown_call. The hang gets one more period, once.
TEST_F(FloorTest, TransmissionJoiningJustBeforeTheHangRunsOutIsCarried) {
    fromLmr(lmrSetup(1, 1, 100, aes(0x1111)));
    CallRef m = mcRef();
    fromLmr(CallEnd{1, EndReason::Normal, ""});
    timers.advance(2978ms);
    fromLmr(lmrSetup(2, 2, 100, std::nullopt));  // undecided: no crypto in the setup
    timers.advance(22ms);                        // the hang period runs out
    EXPECT_EQ(engine->callCount(), 1u) << engine->callsJson().dump();
    EXPECT_EQ(counter("iwf_engine_hang_extended_total"), 1u);
    sendFrames(2, 0, 18, aes(0x1111));
    EXPECT_EQ(engine->callsJson()["calls"][0]["state"], "active");
    EXPECT_EQ(mc.voice(m).size(), 18u) << "the new transmission reaches the MC side";
    EXPECT_EQ(counter("iwf_engine_dropped_total", {{"link", "p25"}, {"reason", "unknown_call"}}),
              0u);
    // The extension is once per hang: after this talk, the next hang ends the call on time.
    fromLmr(CallEnd{2, EndReason::Normal, ""});
    timers.advance(3001ms);
    EXPECT_EQ(engine->callCount(), 0u);
}

// A transmission that joins during hang time and never starts does not keep the call: after
// the one extra period it ends (issue #21: every call ends).
TEST_F(FloorTest, TransmissionThatNeverStartsInHangEndsAfterOneMorePeriod) {
    fromLmr(lmrSetup(1, 1, 100, aes(0x1111)));
    fromLmr(CallEnd{1, EndReason::Normal, ""});
    timers.advance(2000ms);
    fromLmr(lmrSetup(2, 2, 100, std::nullopt));
    timers.advance(1000ms);
    EXPECT_EQ(engine->callCount(), 1u);
    timers.advance(3000ms);
    EXPECT_EQ(engine->callCount(), 0u) << engine->callsJson().dump();
    EXPECT_EQ(timers.pending(), 0u);
}

class HangOverrideTest : public EngineTest {
  protected:
    static TimerTable overrides() {
        TimerTable t;
        t.override("hang", 500ms);
        return t;
    }
    HangOverrideTest() : EngineTest(overrides()) {}
};

TEST_F(HangOverrideTest, HangTimeComesFromConfig) {
    EXPECT_EQ(timer_values.get("hang"), 500ms);
    EXPECT_EQ(timer_values.get("T3"), 1000ms);  // default registered by the engine
    fromLmr(lmrSetup(1, 1, 100, aes(0x1111)));
    fromLmr(CallEnd{1, EndReason::Normal, ""});
    timers.advance(499ms);
    EXPECT_EQ(engine->callCount(), 1u);
    timers.advance(1ms);
    EXPECT_EQ(engine->callCount(), 0u);
}

TEST_F(FloorTest, LongBurstIsRevokedByT2) {
    fromLmr(lmrSetup(1, 1, 100, aes(0x1111)));
    timers.advance(60s);
    EXPECT_EQ(p25.last<FloorRevoke>().cause, kRevokeBurstTooLong);
    timers.advance(1s);  // T3: still talking -> no longer relayed
    sendFrames(1, 0, 3, aes(0x1111));
    EXPECT_EQ(mc.count<Voice>(), 0u);
}

// --- Groups homed in the MC system: the MCPTT controlling function decides. -----------------

TEST_F(FloorTest, McHomedLmrTalkerWaitsForMcGrantFramesFlushedInOrder) {
    fromLmr(lmrSetup(1, 1, 200, aes(0x2222)));
    CallRef m = mcRef();
    auto req = mc.last<FloorRequest>();
    EXPECT_EQ(req.call, m);
    EXPECT_EQ(req.who.id, Address{McId{"sip:alice@mc"}});
    sendFrames(1, 0, 7, aes(0x2222));
    EXPECT_EQ(mc.voice(m).size(), 0u) << "nothing before the MC side grants";
    fromMc(FloorGranted{m, req.who, 0ms});
    EXPECT_EQ(p25.last<FloorGranted>().call, 1u);
    sendFrames(1, 7, 3, aes(0x2222));
    auto v = mc.voice(m);
    ASSERT_EQ(v.size(), 10u);
    for (std::uint32_t i = 0; i < 10; ++i) {
        EXPECT_EQ(v[i].frame.seq, i);
    }
    fromLmr(CallEnd{1, EndReason::Normal, ""});
    EXPECT_EQ(mc.last<FloorRelease>().call, m);
}

TEST_F(FloorTest, McHomedContentionMcWinsLmrGetsTheMcDeny) {
    fromLmr(lmrSetup(1, 1, 200, aes(0x2222)));
    CallRef m = mcRef();
    sendFrames(1, 0, 4, aes(0x2222));
    // The MC user pressed at the same time and the controlling function chose them.
    fromMc(FloorTaken{m, mcUser("sip:bob@mc")});
    fromMc(FloorDeny{m, mcUser("sip:alice@mc"), 1, "another user has permission"});
    auto d = p25.last<FloorDeny>();
    EXPECT_EQ(d.call, 1u);
    EXPECT_EQ(d.cause, 1u);
    EXPECT_EQ(d.reason, "another user has permission");
    EXPECT_EQ(mc.voice(m).size(), 0u);
    EXPECT_EQ(
        counter("iwf_engine_frames_refused_total", {{"link", "p25"}, {"reason", "mc_denied"}}), 4u);
    // The MC talker reaches LMR: MC floor grant -> LMR call origination.
    sendFrames(m, 0, 3, aes(0x2222), false);
    auto o = p25.last<CallSetup>();
    EXPECT_EQ(o.caller.id, Address{unit(2)});
    ASSERT_TRUE(o.crypto.has_value());
    EXPECT_EQ(o.crypto->key_id, 0x2222u);
    EXPECT_EQ(p25.voice(o.call).size(), 3u);
    fromMc(FloorIdle{m});
    EXPECT_EQ(p25.last<CallEnd>().call, o.call);
}

TEST_F(FloorTest, McHomedQueuedThenTimeout) {
    fromLmr(lmrSetup(1, 1, 200, aes(0x2222)));
    CallRef m = mcRef();
    fromMc(FloorQueued{m, mcUser("sip:alice@mc"), 2});
    EXPECT_EQ(p25.last<FloorQueued>().position, 2u);
    timers.advance(10001ms);
    EXPECT_EQ(p25.last<FloorDeny>().reason, "floor_queue_timeout");
    EXPECT_EQ(mc.last<FloorRelease>().call, m);
}

// The radio lets go of PTT while the MC side has its request queued (an ISSI PTT end, or the
// end of a DMR/P25 transmission): the request is withdrawn at the MC side too, and the MC side's
// late answers find no request (counted, dropped). Before the fix the queue timer's expiry or
// the MC side's answer aborted iwfd, so any radio and MC system could do it. The
// input the libFuzzer smoke of engine_events found (tests/fuzz/corpus/engine_events/
// regression-queued-release) ran this sequence into an assertion: the leg went back to none
// while the call still named it as the requester, and the MC side's Floor Deny then asked
// the leg's floor gate for none -> refused.
TEST_F(FloorTest, McHomedQueuedRequestReleasedByTheRadioIsWithdrawnAtTheMcSide) {
    fromLmr(lmrSetup(1, 1, 200, aes(0x2222)));
    CallRef m = mcRef();
    fromMc(FloorQueued{m, mcUser("sip:alice@mc"), 1});
    ASSERT_EQ(p25.last<FloorQueued>().position, 1u);
    fromLmr(FloorRelease{1, Talker{unit(1), "", std::nullopt}});
    EXPECT_EQ(mc.count<FloorRelease>(), 1u) << "the queued request is withdrawn at the MC side";
    EXPECT_EQ(mc.last<FloorRelease>().call, m);
    fromMc(FloorDeny{m, mcUser("sip:alice@mc"), 1, "late"});
    fromMc(FloorGranted{m, mcUser("sip:alice@mc"), 0ms});
    EXPECT_EQ(
        counter("iwf_engine_dropped_total", {{"link", "mc"}, {"reason", "unexpected_floor_deny"}}),
        1u);
    EXPECT_EQ(counter("iwf_engine_dropped_total",
                      {{"link", "mc"}, {"reason", "unexpected_floor_granted"}}),
              1u);
    EXPECT_EQ(p25.count<FloorGranted>(), 0u);
    // The radio keys again: a new request goes to the MC side and its grant opens the flow.
    fromLmr(FloorRequest{1, Talker{unit(1), "", std::nullopt}, CallPriority::Normal});
    EXPECT_EQ(mc.count<FloorRequest>(), 2u);
    fromMc(FloorGranted{m, mcUser("sip:alice@mc"), 0ms});
    EXPECT_EQ(p25.count<FloorGranted>(), 1u);
    sendFrames(1, 0, 3, aes(0x2222));
    EXPECT_EQ(mc.voice(m).size(), 3u);
}

TEST_F(FloorTest, McHomedQueuedRequestReleasedByTheRadioStopsTheQueueTimer) {
    fromLmr(lmrSetup(1, 1, 200, aes(0x2222)));
    CallRef m = mcRef();
    fromMc(FloorQueued{m, mcUser("sip:alice@mc"), 1});
    fromLmr(FloorRelease{1, Talker{unit(1), "", std::nullopt}});
    // The queue timer, whose expiry refuses the requester, went with the request.
    timers.advance(10001ms);
    EXPECT_EQ(p25.count<FloorDeny>(), 1u) << "only the released_before_grant answer";
    EXPECT_EQ(mc.count<FloorRelease>(), 1u);
}

TEST_F(FloorTest, McHomedEmergencyRequestCarriesPriorityAndCancel) {
    fromLmr(lmrSetup(1, 1, 200, aes(0x2222), CallPriority::Emergency));
    EXPECT_EQ(mc.last<CallSetup>().priority, CallPriority::Emergency);
    EXPECT_EQ(mc.last<FloorRequest>().priority, CallPriority::Emergency);
    CallRef m = mcRef();
    // Emergency cancel: the LMR side re-states the call at normal priority.
    fromLmr(lmrSetup(1, 1, 200, aes(0x2222), CallPriority::Normal));
    auto upd = mc.last<CallSetup>();
    EXPECT_EQ(upd.call, m);
    EXPECT_EQ(upd.priority, CallPriority::Normal);
    EXPECT_EQ(counter("iwf_engine_priority_changes_total",
                      {{"change", "cancel"}, {"priority", "normal"}}),
              1u);
}

TEST_F(FloorTest, ImminentPerilFromMcBecomesEmergencyOnLmr) {
    fromMc(mcSetup(50, "sip:bob@mc", "sip:g200@mc", CallPriority::ImminentPeril));
    fromMc(FloorTaken{50, mcUser("sip:bob@mc")});
    sendFrames(50, 0, 1, aes(0x2222), false);
    EXPECT_EQ(p25.last<CallSetup>().priority, CallPriority::Emergency);
}

TEST_F(FloorTest, TalkerIdentityAndLocationPropagate) {
    CallSetup s = lmrSetup(1, 3, 100, aes(0x1111));
    s.caller.alias = "Engine 7";
    s.caller.location = Location{48.1, 11.5};
    fromLmr(s);
    auto t = mc.last<FloorTaken>();
    EXPECT_EQ(t.who.id, Address{McId{"sip:carol@mc"}});
    EXPECT_EQ(t.who.alias, "Engine 7");
    ASSERT_TRUE(t.who.location.has_value());
    EXPECT_EQ(*t.who.location, (Location{48.1, 11.5}));
    // An unknown radio appears as the reserved MC ID.
    fromLmr(CallEnd{1, EndReason::Normal, ""});
    fromLmr(lmrSetup(2, 0x777, 100, aes(0x1111)));
    EXPECT_EQ(mc.last<FloorTaken>().who.id, Address{McId{"sip:lmr-unknown@iwf"}});
    // MC -> LMR: an MC user's location reaches the LMR origination.
    fromLmr(CallEnd{2, EndReason::Normal, ""});
    fromMc(FloorRequest{mcRef(), Talker{McId{"sip:bob@mc"}, "", Location{1, 2}},
                        CallPriority::Normal});
    sendFrames(mcRef(), 0, 1, aes(0x1111), false);
    auto o = p25.last<CallSetup>();
    EXPECT_EQ(o.caller.id, Address{unit(2)});
    EXPECT_EQ(o.caller.location, (Location{1, 2}));
}

TEST_F(FloorTest, PrivateCallWithFloorControl) {
    CallSetup s = lmrSetup(1, 1, 0, aes(0x1111));
    s.kind = CallKind::Private;
    s.callee = unit(2);
    fromLmr(s);
    auto o = mc.last<CallSetup>();
    EXPECT_EQ(o.kind, CallKind::Private);
    EXPECT_EQ(o.callee, Address{McId{"sip:bob@mc"}});
    EXPECT_EQ(o.caller.id, Address{McId{"sip:alice@mc"}});
    EXPECT_TRUE(o.floor_control);
    sendFrames(1, 0, 3, aes(0x1111));
    EXPECT_EQ(mc.voice(o.call).size(), 3u);
    // Bob asks while alice talks: queued (private calls queue by default), then granted.
    fromMc(FloorRequest{o.call, mcUser("sip:bob@mc"), CallPriority::Normal});
    EXPECT_EQ(mc.last<FloorQueued>().call, o.call);
    fromLmr(FloorRelease{1, Talker{unit(1), "", std::nullopt}});
    EXPECT_EQ(mc.last<FloorGranted>().call, o.call);
    EXPECT_EQ(p25.last<FloorTaken>().who.id, Address{unit(2)});
    sendFrames(o.call, 0, 2, aes(0x1111), false);
    EXPECT_EQ(p25.voice(1).size(), 2u);
    fromMc(CallEnd{o.call, EndReason::Normal, ""});
    EXPECT_EQ(p25.last<CallEnd>().call, 1u);
    EXPECT_EQ(engine->callCount(), 0u);
}

TEST_F(FloorTest, PrivateCallWithoutFloorControlIsFullDuplex) {
    CallSetup s;
    s.call = 70;
    s.caller.id = McId{"sip:bob@mc"};
    s.callee = McId{"sip:carol@mc"};
    s.kind = CallKind::Private;
    s.floor_control = false;
    fromMc(s);
    auto o = p25.last<CallSetup>();
    EXPECT_EQ(o.callee, Address{unit(3)});
    EXPECT_EQ(o.caller.id, Address{unit(2)});
    EXPECT_FALSE(o.floor_control);
    sendFrames(70, 0, 3, CryptoSync::clear(LmrFamily::P25), false);
    sendFrames(o.call, 0, 4, CryptoSync::clear(LmrFamily::P25), true);
    EXPECT_EQ(p25.voice(o.call).size(), 3u);
    EXPECT_EQ(mc.voice(70).size(), 4u);
}

TEST_F(FloorTest, PrivateEncryptedCallRefusedWhenUserMayNotUseE2ee) {
    CallSetup s = lmrSetup(1, 1, 0, aes(0x1111));
    s.kind = CallKind::Private;
    s.callee = unit(4);  // dave: e2ee not allowed
    fromLmr(s);
    EXPECT_EQ(p25.last<FloorDeny>().reason, "e2ee_not_authorised");
    EXPECT_TRUE(mc.events.empty());
}

TEST(EngineTables, TablesRenderAndTimersRegister) {
    EXPECT_NE(callTable().toDot().find("hang -> active"), std::string::npos);
    EXPECT_NE(fcsTable().toDot().find("G_floor_taken -> G_pending_floor_revoke"),
              std::string::npos);
    EXPECT_NE(partTable().toDot().find("P_pending_request -> P_has_permission"), std::string::npos);
    EXPECT_FALSE(fcsTable().allows(FcsState::Idle, FcsState::PendingRevoke));
    TimerTable t;
    t.override("floor_request", 700ms);
    registerEngineTimers(t);
    EXPECT_EQ(t.get("floor_request"), 700ms);
    EXPECT_EQ(t.get("hang"), 3000ms);
    EXPECT_EQ(t.get("call_setup"), 5000ms);
    EXPECT_EQ(t.get("T2"), 60000ms);
    EXPECT_EQ(t.get("floor_queue"), 10000ms);
}

}  // namespace
}  // namespace iwf::gateway::engine::test
