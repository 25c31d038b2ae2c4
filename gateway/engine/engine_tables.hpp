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

const FsmTable<CallState, CallEvent>& callTable();
const FsmTable<FcsState, FcsEvent>& fcsTable();
const FsmTable<PartState, PartEvent>& partTable();

// Registers the defaults of every engine timer (config overrides stay in force).
void registerEngineTimers(TimerTable& timers);

}  // namespace iwf::gateway::engine
