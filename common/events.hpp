#pragma once
// Events between adapters and the engine (docs/architecture.md, "What crosses between adapters
// and the engine").
//
// Both directions use the same vocabulary: an adapter reports what arrived on its side with
// EventSink::onEvent(); the engine asks an adapter to act with Link::deliver(). A call is
// named by a CallRef that the side which created it chose; the engine maps refs between sides.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "common/bytes.hpp"
#include "common/crypto.hpp"
#include "common/ids.hpp"
#include "common/voice.hpp"

namespace iwf {

using CallRef = std::uint64_t;  // unique per link for the life of the process; 0 = none

enum class CallKind : std::uint8_t { Group = 0, Private = 1 };
enum class CallPriority : std::uint8_t { Normal = 0, ImminentPeril = 1, Emergency = 2 };
std::string_view toString(CallKind k);
std::string_view toString(CallPriority p);

struct Location {
    double latitude = 0;   // degrees, WGS84
    double longitude = 0;  // degrees, WGS84
    bool operator==(const Location&) const = default;
};

struct Talker {
    Address id;
    std::string alias;  // functional alias / talker alias, may be empty
    std::optional<Location> location;
    bool operator==(const Talker&) const = default;
};

struct CallSetup {
    CallRef call = 0;
    Talker caller;
    Address callee;  // a group or a unit
    CallKind kind = CallKind::Group;
    CallPriority priority = CallPriority::Normal;
    bool broadcast = false;
    bool floor_control = true;         // private calls may be without floor control
    std::optional<CryptoSync> crypto;  // if the setup itself states it (ISSI header word, HDU)
    VoiceCodec codec = VoiceCodec::ImbeFullRate;
};

enum class EndReason : std::uint8_t {
    Normal = 0,  // terminator / BYE
    Timeout,     // stream went silent
    Refused,     // refused by policy or by the peer
    LinkDown,    // peer lost
    Cancelled,   // emergency cancel, CANCEL
    Error,
};
std::string_view toString(EndReason r);

struct CallEnd {
    CallRef call = 0;
    EndReason reason = EndReason::Normal;
    std::string detail;
};

// A frame of a call. `late_entry` marks frames the adapter had to start receiving mid-stream.
struct Voice {
    CallRef call = 0;
    VoiceFrame frame;
};

// Floor control (TS 24.380 names; LMR PTT request/grant/deny map onto these).
struct FloorRequest {
    CallRef call = 0;
    Talker who;
    CallPriority priority = CallPriority::Normal;
};
struct FloorGranted {
    CallRef call = 0;
    Talker who;
    std::chrono::milliseconds duration{0};  // 0 = not limited
};
struct FloorTaken {
    CallRef call = 0;
    Talker who;
};
struct FloorDeny {
    CallRef call = 0;
    Talker who;
    std::uint16_t cause = 0;  // TS 24.380 Reject Cause value where one applies
    std::string reason;       // human-readable reason phrase
};
struct FloorRelease {
    CallRef call = 0;
    Talker who;
};
struct FloorIdle {
    CallRef call = 0;
};
struct FloorRevoke {
    CallRef call = 0;
    std::uint16_t cause = 0;
    std::string reason;
};
struct FloorQueued {
    CallRef call = 0;
    Talker who;
    std::uint8_t position = 0;
};

// What became of a short data message a link reported, for a link that must answer its
// sender (MCData: a SIP final response and disposition notification, issue #21). The engine
// fills it in before EventSink::onEvent() returns: it routes short data synchronously on the
// reporting link's worker. "Sent" means a link took the message, not that the far side got
// it: no LMR bearer the gateway speaks confirms delivery.
struct DataReceipt {
    enum class Outcome : std::uint8_t {
        Unknown = 0,       // nobody said (a sink that does not route)
        Refused = 1,       // the engine refused it (reason: unmapped_sender, unknown_callee, ...)
        NotDelivered = 2,  // routed, but the outgoing link could not carry it (reason: its error)
        Sent = 3,          // handed to the outgoing link
    };
    Outcome outcome = Outcome::Unknown;
    std::string reason;
};

// Short data (LMR short data / MCData SDS). Payload is opaque (may be E2EE).
struct DataMessage {
    Address from;
    Address to;
    std::string message_id;  // the sending side's ID, if it has one
    Bytes payload;
    // The E2EE state of the payload where the sending side states it (crypto->encrypted, its
    // ALGID / key ID / MI); nullopt = it does not, and the engine treats the payload as clear.
    std::optional<CryptoSync> crypto;
    // Optional: set by the reporting link to learn the outcome (DataReceipt); not forwarded.
    std::shared_ptr<DataReceipt> receipt;
    // Optional: the reporting link's own note on the message (the MCData link: what a later
    // disposition notification needs), kept with it in the durable store and handed back to
    // that link with the outcome of a later delivery (Link::storedOutcome); not forwarded.
    std::string origin_note;
};

// An opaque LMR key-management (KMF/OTAR) or other non-3GPP security message.
struct SecurityMessage {
    Address from;
    Address to;
    Bytes payload;
};

using Event =
    std::variant<CallSetup, CallEnd, Voice, FloorRequest, FloorGranted, FloorTaken, FloorDeny,
                 FloorRelease, FloorIdle, FloorRevoke, FloorQueued, DataMessage, SecurityMessage>;

std::string_view eventName(const Event& e);

}  // namespace iwf
