#pragma once
// The engine's state machines as tables (common/fsm.hpp). docs/engine.md renders them
// with FsmTable::toDot() and lists the timers with their defaults; every timer is overridable
// by name under the daemon config's `timers:` section.
//
//   call        one per engine call: setup -> active <-> hang -> ended
//   floor_fcs   the floor control server for groups homed in the IWF (LMR-homed groups and
//               private calls with floor control): TS 29.380 6.3.4 general FCS states
//   floor_part  the IWF as floor participant for groups homed in the MC system (the MCPTT
//               controlling function arbitrates): TS 29.380 6.5.5 "P:" states
//   leg_floor   one per leg: the floor gate of the leg's own (inbound) transmission
//   leg_policy  one per leg: the E2EE policy gate of that transmission's stream
//
// A leg's frames are relayed only while both of its gates are open (leg_floor `granted`,
// leg_policy `allowed`); until then they wait (at most EngineOptions::pending_frames_max), and
// once either gate is `refused` they are counted and never relayed (docs/engine.md "Legs").

#include <cstdint>

#include "common/fsm.hpp"

namespace iwf::gateway::engine {

enum class CallState : std::uint8_t { Setup = 0, Active, Hang, Ended };
enum class CallEvent : std::uint8_t { TalkStart = 0, TalkEnd, HangExpire, SetupExpire, End };

enum class FcsState : std::uint8_t { Idle = 0, Taken, PendingRevoke, Released };
enum class FcsEvent : std::uint8_t {
    Request = 0,   // a floor request (LMR transmission or MC Floor Request)
    Release,       // the holder released (LMR end of transmission, MC Floor Release)
    Preempt,       // a higher-priority request arrived while taken
    RevokeExpire,  // T3 ran out in pending revoke
    MaxDuration,   // T2 ran out: the burst is too long
    Denied,        // the LMR side refused the transmission the IWF originated for the holder
    End,           // the call ends
};

enum class PartState : std::uint8_t {
    NoPermission = 0,
    PendingRequest,
    Queued,
    HasPermission,
    Released
};
enum class PartEvent : std::uint8_t {
    Request = 0,     // the IWF asks the MC controlling function for the floor (LMR talker)
    Granted,         // Floor Granted from MC
    Denied,          // Floor Deny from MC
    Queued,          // Floor Queue Position Info from MC
    Release,         // the LMR talker ended; the IWF releases
    Revoked,         // Floor Revoke from MC
    RequestTimeout,  // floor_request ran out without an answer
    QueueTimeout,    // floor_queue ran out while queued
    Taken,           // Floor Taken from MC (an MC user talks): accepted, no state change
    End,
};

// The floor gate of a leg's transmission. Names are those of /v1/calls ("floor" of a leg).
enum class FloorGate : std::uint8_t { None = 0, Pending, Queued, Granted, Refused };
enum class FloorGateEvent : std::uint8_t {
    Request = 0,  // a transmission starts or asks for the floor (LMR CallSetup, FloorRequest),
                  // or waits for a holder it pre-empts
    Queue,        // queued behind the holder (local queue, or MC Floor Queue Position Info)
    Grant,        // the floor is this leg's (local arbiter, MC Floor Granted, full duplex)
    Take,         // the MC controlling function gave the floor to the user behind this MC leg
    Refuse,       // refused (floor busy, E2EE policy, deny, revoke, timeout)
    Release,      // the transmission ended or gave the floor back
};

// The E2EE policy gate of a leg's transmission: decided from the stream (policy.hpp).
enum class PolicyGate : std::uint8_t { Unknown = 0, Allowed, Refused };
enum class PolicyGateEvent : std::uint8_t {
    Allow = 0,  // the stream's CryptoSync passes the call's policy
    Refuse,     // it does not (at the start, or after a change mid-stream)
    Reset,      // the transmission ended: the next one is decided afresh
};

const FsmTable<CallState, CallEvent>& callTable();
const FsmTable<FcsState, FcsEvent>& fcsTable();
const FsmTable<PartState, PartEvent>& partTable();
const FsmTable<FloorGate, FloorGateEvent>& floorGateTable();
const FsmTable<PolicyGate, PolicyGateEvent>& policyGateTable();

// Registers the defaults of every engine timer (config overrides stay in force).
void registerEngineTimers(TimerTable& timers);

}  // namespace iwf::gateway::engine
