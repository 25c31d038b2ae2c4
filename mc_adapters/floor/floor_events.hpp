#pragma once
// Floor messages <-> the engine's floor events (common/events.hpp). Identities must
// already be MC identities (McId): mapping LMR units to MCPTT IDs is the engine's job.
//
//   Floor Request           <-> FloorRequest  (User ID, Floor Priority, Floor Indicator
//                                              emergency / imminent peril, Location)
//   Floor Granted           <-> FloorGranted  (Duration; User ID read, never sent: off-network)
//   Floor Taken             <-> FloorTaken    (Granted Party's Identity, Message Sequence
//                                              Number, Location)
//   Floor Deny              <-> FloorDeny     (Reject Cause + phrase, User ID)
//   Floor Release           <-> FloorRelease  (User ID)
//   Floor Idle              <-> FloorIdle     (Message Sequence Number)
//   Floor Revoke            <-> FloorRevoke   (Reject Cause + phrase)
//   Floor Queue Position Info <-> FloorQueued (User ID, Queue Info position)

#include <optional>

#include "common/events.hpp"
#include "mc_adapters/floor/floor_message.hpp"

namespace iwf::mc::floor {

struct FloorMapping {
    std::uint32_t ssrc = 0;                 // our SSRC on the floor control channel
    std::uint8_t normal_priority = 0;       // Floor Priority sent for a normal request
    std::uint8_t emergency_priority = 255;  // ... for emergency / imminent peril
    std::uint16_t call_indicator = indicator::kNormalCall;  // Floor Indicator base bits
    // Message Sequence Number of the last Floor Taken / Floor Idle built with this mapping
    // (one mapping per session: toMessage increases it for each of those two messages).
    std::uint16_t message_sequence = 0;
};

// The floor message for an engine event; "not_a_floor_event" for other events. Floor Taken
// and Floor Idle advance map.message_sequence.
Result<FloorMessage> toMessage(const Event& e, FloorMapping& map);
// The engine event for a received floor message (nullopt for messages with no event:
// Floor Ack, Queue Position Request, Release Multi-Talker).
std::optional<Event> toEvent(const FloorMessage& m, CallRef call);

}  // namespace iwf::mc::floor
