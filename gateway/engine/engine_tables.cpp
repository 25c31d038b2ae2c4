#include "gateway/engine/engine_tables.hpp"

namespace iwf::gateway::engine {

using namespace std::chrono_literals;

const FsmTable<CallState, CallEvent>& callTable() {
    using S = CallState;
    using E = CallEvent;
    static const FsmTable<S, E> table{
        "call",
        {
            {S::Setup, "setup", fsmMask({E::TalkStart, E::SetupExpire, E::End}),
             fsmMask({S::Active, S::Ended}), "call_setup"},
            {S::Active, "active", fsmMask({E::TalkEnd, E::End}), fsmMask({S::Hang, S::Ended}), ""},
            {S::Hang, "hang", fsmMask({E::TalkStart, E::HangExpire, E::End}),
             fsmMask({S::Active, S::Ended}), "hang"},
            {S::Ended, "ended", 0, 0, ""},
        },
        {"talk_start", "talk_end", "hang_expire", "setup_expire", "end"},
        {{"call_setup", 5000ms}, {"hang", 3000ms}}};
    return table;
}

const FsmTable<FcsState, FcsEvent>& fcsTable() {
    using S = FcsState;
    using E = FcsEvent;
    static const FsmTable<S, E> table{
        "floor_fcs",
        {
            {S::Idle, "G_floor_idle", fsmMask({E::Request, E::End}),
             fsmMask({S::Taken, S::Released}), ""},
            {S::Taken, "G_floor_taken",
             fsmMask({E::Request, E::Release, E::Preempt, E::MaxDuration, E::Denied, E::End}),
             fsmMask({S::Idle, S::PendingRevoke, S::Released}), "T2"},
            {S::PendingRevoke, "G_pending_floor_revoke",
             fsmMask({E::Request, E::Release, E::RevokeExpire, E::Preempt, E::End}),
             fsmMask({S::Taken, S::Idle, S::Released}), "T3"},
            {S::Released, "releasing", 0, 0, ""},
        },
        {"request", "release", "preempt", "revoke_expire", "max_duration", "denied", "end"},
        // T2 "stop talking" and T3 "stop talking grace" after TS 24.380's floor control
        // server timers; values are OpenIWF defaults (the 24.380 values were not retrieved).
        {{"T2", 60000ms}, {"T3", 1000ms}}};
    return table;
}

const FsmTable<PartState, PartEvent>& partTable() {
    using S = PartState;
    using E = PartEvent;
    static const FsmTable<S, E> table{
        "floor_part",
        {
            {S::NoPermission, "P_has_no_permission", fsmMask({E::Request, E::Taken, E::End}),
             fsmMask({S::PendingRequest, S::Released}), ""},
            {S::PendingRequest, "P_pending_request",
             fsmMask({E::Granted, E::Denied, E::Queued, E::Release, E::RequestTimeout, E::Taken,
                      E::End}),
             fsmMask({S::HasPermission, S::NoPermission, S::Queued, S::Released}), "floor_request"},
            {S::Queued, "P_queued",
             fsmMask(
                 {E::Granted, E::Denied, E::Queued, E::Release, E::QueueTimeout, E::Taken, E::End}),
             fsmMask({S::HasPermission, S::NoPermission, S::Released}), "floor_queue"},
            {S::HasPermission, "P_has_permission", fsmMask({E::Release, E::Revoked, E::End}),
             fsmMask({S::NoPermission, S::Released}), ""},
            {S::Released, "releasing", 0, 0, ""},
        },
        {"request", "granted", "denied", "queued", "release", "revoked", "request_timeout",
         "queue_timeout", "taken", "end"},
        {{"floor_request", 2000ms}, {"floor_queue", 10000ms}}};
    return table;
}

const FsmTable<FloorGate, FloorGateEvent>& floorGateTable() {
    using S = FloorGate;
    using E = FloorGateEvent;
    static const FsmTable<S, E> table{
        "leg_floor",
        {
            {S::None, "none", fsmMask({E::Request, E::Grant, E::Take}),
             fsmMask({S::Pending, S::Granted}), ""},
            // A pending request may be repeated (an LMR PTT request while the stream's E2EE is
            // read) or wait for a holder it pre-empts: pending -> pending.
            {S::Pending, "pending",
             fsmMask({E::Request, E::Queue, E::Grant, E::Refuse, E::Release}),
             fsmMask({S::Pending, S::Queued, S::Granted, S::Refused, S::None}), ""},
            // A queued request whose priority rises is arbitrated again: it may pre-empt
            // (-> pending) or be queued at its new place (-> queued).
            {S::Queued, "queued", fsmMask({E::Request, E::Queue, E::Grant, E::Refuse, E::Release}),
             fsmMask({S::Pending, S::Queued, S::Granted, S::Refused, S::None}), ""},
            {S::Granted, "granted", fsmMask({E::Refuse, E::Release}),
             fsmMask({S::Refused, S::None}), ""},
            // A refused transmission stays refused until it ends; the next one starts afresh.
            {S::Refused, "refused", fsmMask({E::Request, E::Take, E::Release}),
             fsmMask({S::Pending, S::Granted, S::None}), ""},
        },
        {"request", "queue", "grant", "take", "refuse", "release"}};
    return table;
}

const FsmTable<PolicyGate, PolicyGateEvent>& policyGateTable() {
    using S = PolicyGate;
    using E = PolicyGateEvent;
    static const FsmTable<S, E> table{
        "leg_policy",
        {
            {S::Unknown, "unknown", fsmMask({E::Allow, E::Refuse}),
             fsmMask({S::Allowed, S::Refused}), ""},
            {S::Allowed, "allowed", fsmMask({E::Refuse, E::Reset}),
             fsmMask({S::Refused, S::Unknown}), ""},
            {S::Refused, "refused", fsmMask({E::Reset}), fsmMask({S::Unknown}), ""},
        },
        {"allow", "refuse", "reset"}};
    return table;
}

void registerEngineTimers(TimerTable& timers) {
    callTable().registerTimers(timers);
    fcsTable().registerTimers(timers);
    partTable().registerTimers(timers);
}

}  // namespace iwf::gateway::engine
