#include "common/fsm.hpp"

#include <gtest/gtest.h>

namespace iwf {
namespace {

enum class S { Idle, Taken, Pending };
enum class E { Request, Grant, Release, Expire };

const FsmTable<S, E>& table() {
    static const FsmTable<S, E> t{
        "test",
        {
            {S::Idle, "idle", fsmMask({E::Request}), fsmMask({S::Pending}), ""},
            {S::Pending, "pending", fsmMask({E::Grant, E::Expire}), fsmMask({S::Taken, S::Idle}),
             "T1"},
            {S::Taken, "taken", fsmMask({E::Release, E::Expire}), fsmMask({S::Idle}), "hang"},
        },
        {"request", "grant", "release", "expire"},
        {{"T1", std::chrono::milliseconds(500)}, {"hang", std::chrono::seconds(3)}}};
    return t;
}

TEST(Fsm, FollowsAllowedTransitionsAndCounts) {
    metrics::Registry reg;
    FsmStats stats(reg, "test");
    Fsm<S, E> fsm(table(), S::Idle, "call-1", stats);
    EXPECT_TRUE(fsm.transition(S::Pending, E::Request).ok());
    EXPECT_EQ(fsm.state(), S::Pending);
    EXPECT_EQ(fsm.timerName(), "T1");
    EXPECT_TRUE(fsm.transition(S::Taken, E::Grant).ok());
    EXPECT_TRUE(fsm.transition(S::Idle, E::Release).ok());
    EXPECT_EQ(reg.counterValue("iwf_fsm_transitions_total", {{"fsm", "test"}}), 3u);
    EXPECT_EQ(reg.counterValue("iwf_fsm_refused_events_total", {{"fsm", "test"}}), 0u);
}

TEST(Fsm, RefusesEventNotAcceptedInState) {
    metrics::Registry reg;
    FsmStats stats(reg, "test");
    Fsm<S, E> fsm(table(), S::Idle, "call-2", stats);
    Status st = fsm.transition(S::Pending, E::Release);  // idle does not accept release
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().reason, "event_not_accepted");
    EXPECT_EQ(fsm.state(), S::Idle);
    EXPECT_FALSE(fsm.accept(E::Grant).ok());
    EXPECT_EQ(reg.counterValue("iwf_fsm_refused_events_total", {{"fsm", "test"}}), 2u);
    EXPECT_EQ(reg.counterValue("iwf_fsm_transitions_total", {{"fsm", "test"}}), 0u);
}

TEST(Fsm, RefusesTransitionNotInTable) {
    metrics::Registry reg;
    FsmStats stats(reg, "test");
    Fsm<S, E> fsm(table(), S::Idle, "call-3", stats);
    // request is accepted in idle, but idle -> taken is not an allowed transition.
    Status st = fsm.transition(S::Taken, E::Request);
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().reason, "transition_not_allowed");
    EXPECT_EQ(fsm.state(), S::Idle);
    EXPECT_EQ(reg.counterValue("iwf_fsm_refused_transitions_total", {{"fsm", "test"}}), 1u);
    EXPECT_EQ(reg.counterValue("iwf_fsm_refused_events_total", {{"fsm", "test"}}), 0u);
}

TEST(Fsm, TableRejectsMissingStateAndUnknownTimer) {
    using T = FsmTable<S, E>;
    EXPECT_THROW(T("bad", {{S::Idle, "idle", 0, 0, ""}, {S::Pending, "p", 0, 0, ""}}, {}),
                 std::invalid_argument);  // S::Taken index 1? order: Idle=0, Taken=1 missing
    EXPECT_THROW(T("bad",
                   {{S::Idle, "idle", 0, 0, ""},
                    {S::Taken, "taken", 0, 0, "nope"},
                    {S::Pending, "pending", 0, 0, ""}},
                   {}),
                 std::invalid_argument);
}

TEST(Fsm, TimerTableDefaultsAndOverrides) {
    TimerTable timers;
    table().registerTimers(timers);
    EXPECT_EQ(timers.get("T1"), std::chrono::milliseconds(500));
    timers.override("T1", std::chrono::milliseconds(80));
    table().registerTimers(timers);  // re-registering keeps the override
    EXPECT_EQ(timers.get("T1"), std::chrono::milliseconds(80));
    EXPECT_EQ(timers.get("hang"), std::chrono::seconds(3));
    EXPECT_THROW(timers.get("T9"), std::out_of_range);
}

TEST(Fsm, DotRenderingListsAllowedTransitions) {
    std::string dot = table().toDot();
    EXPECT_NE(dot.find("idle -> pending"), std::string::npos);
    EXPECT_NE(dot.find("pending -> taken"), std::string::npos);
    EXPECT_EQ(dot.find("idle -> taken"), std::string::npos);
}

}  // namespace
}  // namespace iwf
