#pragma once
// TS 24.380 clause 8 floor control messages ("MCPT" RTCP APP packets) — build and parse.
//
// Wire layout and the source of every fact: docs/protocols/iwf-1-floor.md. In short:
//   RTCP APP header (RFC 3550 6.7): V=2 | P | Subtype(5) | PT=204 | length | SSRC | "MCPT"
//   Subtype = A bit (0x10, acknowledgement required) | message type (4 bits)
//   application data = a sequence of fields: ID (1 octet) | length (1 octet if ID < 192,
//   2 octets if ID >= 192) | value (length octets) | zero padding to a 32-bit boundary.
//
// A message keeps its fields in wire order (repeated fields such as Queued User ID + Queue
// Info in a Floor Granted are meaningful by position), so parse(build(m)) == m and
// build(parse(b)) == b for every well-formed b with zero padding. Unknown field IDs are kept
// as UnknownField so a relay never loses them. Codecs never log, allocate sockets or read
// clocks; every failure is an Error with a snake_case reason.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/bytes.hpp"
#include "common/result.hpp"

namespace iwf::mc::floor {

inline constexpr std::uint8_t kRtcpAppPt = 204;
inline constexpr std::uint8_t kAckBit = 0x10;
inline constexpr char kMcptName[5] = "MCPT";

// 4-bit message type (TS 24.380 8.2.2, Table 8.2.2-1).
enum class MessageType : std::uint8_t {
    FloorRequest = 0,
    FloorGranted = 1,
    FloorTaken = 2,
    FloorDeny = 3,
    FloorRelease = 4,
    FloorIdle = 5,
    FloorRevoke = 6,
    FloorQueuePositionRequest = 8,
    FloorQueuePositionInfo = 9,
    FloorAck = 10,
    FloorReleaseMultiTalker = 15,
};
std::string_view toString(MessageType t);
bool isKnownMessageType(std::uint8_t v);

// Field IDs (TS 24.380 8.2.3.1, Table 8.2.3.1-2).
enum class FieldId : std::uint8_t {
    FloorPriority = 0,
    Duration = 1,
    RejectCause = 2,
    QueueInfo = 3,
    GrantedPartyIdentity = 4,
    PermissionToRequestFloor = 5,
    UserId = 6,
    QueueSize = 7,
    MessageSequenceNumber = 8,
    QueuedUserId = 9,
    Source = 10,
    TrackInfo = 11,
    MessageType = 12,
    FloorIndicator = 13,
    Ssrc = 14,
    ListOfGrantedUsers = 15,
    ListOfSsrcs = 16,
    FunctionalAlias = 17,
    ListOfFunctionalAliases = 18,
    Location = 19,
    ListOfLocations = 20,
};
std::string_view toString(FieldId f);

// Floor Indicator bits (8.2.3.15).
namespace indicator {
inline constexpr std::uint16_t kNormalCall = 0x8000;
inline constexpr std::uint16_t kBroadcastGroupCall = 0x4000;
inline constexpr std::uint16_t kSystemCall = 0x2000;
inline constexpr std::uint16_t kEmergencyCall = 0x1000;
inline constexpr std::uint16_t kImminentPerilCall = 0x0800;
inline constexpr std::uint16_t kQueueingSupported = 0x0400;
inline constexpr std::uint16_t kDualFloor = 0x0200;
inline constexpr std::uint16_t kTemporaryGroupCall = 0x0100;
inline constexpr std::uint16_t kMultiTalker = 0x0080;
}  // namespace indicator

// Source values (8.2.3.12).
enum class SourceValue : std::uint16_t {
    FloorParticipant = 0,
    ParticipatingFunction = 1,
    ControllingFunction = 2,
    NonControllingFunction = 3,
};

// Floor Deny reject causes (8.2.6.2) and Floor Revoke causes (8.2.10.2).
namespace deny_cause {
inline constexpr std::uint16_t kAnotherHasPermission = 1;
inline constexpr std::uint16_t kInternalError = 2;
inline constexpr std::uint16_t kOnlyOneParticipant = 3;
inline constexpr std::uint16_t kRetryAfterNotExpired = 4;
inline constexpr std::uint16_t kReceiveOnly = 5;
inline constexpr std::uint16_t kNoResources = 6;
inline constexpr std::uint16_t kQueueFull = 7;
inline constexpr std::uint16_t kOther = 255;
}  // namespace deny_cause
namespace revoke_cause {
inline constexpr std::uint16_t kOnlyOneClient = 1;
inline constexpr std::uint16_t kMediaBurstTooLong = 2;
inline constexpr std::uint16_t kNoPermissionToSend = 3;
inline constexpr std::uint16_t kMediaBurstPreempted = 4;
inline constexpr std::uint16_t kNoResources = 6;
inline constexpr std::uint16_t kOther = 255;
}  // namespace revoke_cause

// Location types (8.2.3.21) and their value lengths in octets.
namespace location_type {
inline constexpr std::uint8_t kNotProvided = 0;
inline constexpr std::uint8_t kEcgi = 1;         // PLMN ID (3) + ECI (28 bits in 4 octets)
inline constexpr std::uint8_t kTai = 2;          // PLMN ID (3) + TAC (2)
inline constexpr std::uint8_t kPlmnId = 3;       // 3
inline constexpr std::uint8_t kMbmsSai = 4;      // 2
inline constexpr std::uint8_t kMbsfnAreaId = 5;  // 1
inline constexpr std::uint8_t kGeographic = 6;   // latitude (24 bits) + longitude (24 bits)
}  // namespace location_type
// Value length of a known location type, nullopt for an unknown one.
std::optional<std::size_t> locationValueLength(std::uint8_t type);

// ---- field values ----------------------------------------------------------------------

struct FloorPriority {  // 8.2.3.2: priority (8) + spare (8)
    std::uint8_t priority = 0;
    bool operator==(const FloorPriority&) const = default;
};
struct Duration {  // 8.2.3.3: seconds (16)
    std::uint16_t seconds = 0;
    bool operator==(const Duration&) const = default;
};
struct RejectCause {  // 8.2.3.4: cause (16) + reject phrase (UTF-8, may be empty)
    std::uint16_t cause = 0;
    std::string phrase;
    bool operator==(const RejectCause&) const = default;
};
struct QueueInfo {              // 8.2.3.5: queue position (8) + queue priority level (8)
    std::uint8_t position = 0;  // 254 = not queued, 255 = position not disclosed
    std::uint8_t priority = 0;
    bool operator==(const QueueInfo&) const = default;
};
struct GrantedPartyIdentity {  // 8.2.3.6: MCPTT ID (URI)
    std::string id;
    bool operator==(const GrantedPartyIdentity&) const = default;
};
struct PermissionToRequestFloor {  // 8.2.3.7: 16 bits, 0 = not permitted, 1 = permitted
    std::uint16_t value = 0;
    bool operator==(const PermissionToRequestFloor&) const = default;
};
struct UserId {  // 8.2.3.8: MCPTT ID (URI)
    std::string id;
    bool operator==(const UserId&) const = default;
};
struct QueueSize {  // 8.2.3.9: 16 bits
    std::uint16_t value = 0;
    bool operator==(const QueueSize&) const = default;
};
struct MessageSequenceNumber {  // 8.2.3.10: 16 bits
    std::uint16_t value = 0;
    bool operator==(const MessageSequenceNumber&) const = default;
};
struct QueuedUserId {  // 8.2.3.11: MCPTT ID (URI)
    std::string id;
    bool operator==(const QueuedUserId&) const = default;
};
struct Source {  // 8.2.3.12: 16 bits (SourceValue)
    std::uint16_t value = 0;
    bool operator==(const Source&) const = default;
};
struct TrackInfo {                         // 8.2.3.13
    std::uint8_t queueing_capability = 0;  // 0 = not queueing capable, 1 = queueing capable
    std::string participant_type;          // padded to 32 bits on the wire
    std::vector<std::uint32_t> floor_participant_refs;
    bool operator==(const TrackInfo&) const = default;
};
struct AckMessageType {  // 8.2.3.14 "Message Type": subtype of the acknowledged message + spare
    std::uint8_t subtype = 0;
    bool operator==(const AckMessageType&) const = default;
};
struct FloorIndicator {  // 8.2.3.15: 16 bits of flags (namespace indicator)
    std::uint16_t bits = 0;
    bool operator==(const FloorIndicator&) const = default;
};
struct Ssrc {  // 8.2.3.16: SSRC (32) + spare (16)
    std::uint32_t ssrc = 0;
    bool operator==(const Ssrc&) const = default;
};
struct ListOfGrantedUsers {  // 8.2.3.17: count (8), then per user: length (8) + MCPTT ID
    std::vector<std::string> users;
    bool operator==(const ListOfGrantedUsers&) const = default;
};
struct ListOfSsrcs {  // 8.2.3.18: count (8) + spare (8), then SSRC (32) each
    std::vector<std::uint32_t> ssrcs;
    bool operator==(const ListOfSsrcs&) const = default;
};
struct FunctionalAlias {  // 8.2.3.19: functional alias (URI)
    std::string alias;
    bool operator==(const FunctionalAlias&) const = default;
};
struct ListOfFunctionalAliases {  // 8.2.3.20: count (8), then per alias: length (8) + URI
    std::vector<std::string> aliases;
    bool operator==(const ListOfFunctionalAliases&) const = default;
};
struct LocationValue {  // one location: type (8) + value (length by type)
    std::uint8_t type = location_type::kNotProvided;
    Bytes value;
    bool operator==(const LocationValue&) const = default;
};
struct Location {  // 8.2.3.21
    LocationValue location;
    bool operator==(const Location&) const = default;
};
struct ListOfLocations {  // 8.2.3.22: count (8), then locations
    std::vector<LocationValue> locations;
    bool operator==(const ListOfLocations&) const = default;
};
// A field this codec does not know (ID > 20): kept verbatim. IDs >= 192 use a 2-octet length.
struct UnknownField {
    std::uint8_t id = 0;
    Bytes value;
    bool operator==(const UnknownField&) const = default;
};

using Field = std::variant<FloorPriority, Duration, RejectCause, QueueInfo, GrantedPartyIdentity,
                           PermissionToRequestFloor, UserId, QueueSize, MessageSequenceNumber,
                           QueuedUserId, Source, TrackInfo, AckMessageType, FloorIndicator, Ssrc,
                           ListOfGrantedUsers, ListOfSsrcs, FunctionalAlias,
                           ListOfFunctionalAliases, Location, ListOfLocations, UnknownField>;

// The field ID a Field value is sent with.
std::uint8_t fieldId(const Field& f);

// Geographic coordinates as TS 23.032 codes them in a Location field (24-bit latitude, 24-bit
// longitude, two's complement; lat = code * 90 / 2^23 degrees, long = code * 180 / 2^23).
LocationValue geographicLocation(double latitude_deg, double longitude_deg);
struct LatLong {
    double latitude = 0;
    double longitude = 0;
};
std::optional<LatLong> toLatLong(const LocationValue& v);

struct FloorMessage {
    MessageType type = MessageType::FloorRequest;
    bool ack_required = false;  // the A bit of the subtype
    std::uint32_t ssrc = 0;     // SSRC of the sender of the floor message
    std::vector<Field> fields;  // wire order

    bool operator==(const FloorMessage&) const = default;

    std::uint8_t subtype() const {
        return static_cast<std::uint8_t>(static_cast<std::uint8_t>(type) |
                                         (ack_required ? kAckBit : 0));
    }

    // First field of type T, or nullptr.
    template <typename T>
    const T* find() const {
        for (const auto& f : fields) {
            if (const T* p = std::get_if<T>(&f)) {
                return p;
            }
        }
        return nullptr;
    }
    template <typename T>
    std::vector<const T*> findAll() const {
        std::vector<const T*> out;
        for (const auto& f : fields) {
            if (const T* p = std::get_if<T>(&f)) {
                out.push_back(p);
            }
        }
        return out;
    }
    template <typename T>
    FloorMessage& add(T field) {
        fields.emplace_back(std::move(field));
        return *this;
    }
};

// Appends one RTCP APP packet carrying `m` to `out`. Fails ("value_too_long", ...) if a
// value cannot be coded; on failure `out` is left as it was.
Status encode(const FloorMessage& m, Bytes& out);
Bytes encode(const FloorMessage& m, Status* status);  // convenience for tests and tools

// Parses the application-dependent data (the field list) of an MCPT packet.
Result<std::vector<Field>> decodeFields(ByteView app_data);
// Parses one RTCP APP packet (exactly; `packet` is the whole APP packet, RTCP padding
// allowed) into a floor message. Fails with "not_app", "not_mcpt", "bad_version", ...
Result<FloorMessage> decode(ByteView packet);

// One RTCP packet found in a (compound) RTCP datagram.
struct RtcpPacketRef {
    std::uint8_t first_octet = 0;  // V, P, count/subtype
    std::uint8_t packet_type = 0;
    ByteView bytes;  // the whole packet, header included
};
// Splits a datagram into RTCP packets (RFC 3550 6.1: each has its own length field; only
// the last may carry RTCP padding). Fails on a bad version or a length past the end.
Result<std::vector<RtcpPacketRef>> splitRtcp(ByteView datagram);

// Every MCPT floor message in a datagram, compound or not. `others` (if given) receives the
// count of RTCP packets that were not MCPT APP packets (SR, RR, SDES, BYE, other APP names).
Result<std::vector<FloorMessage>> decodeDatagram(ByteView datagram, std::size_t* others = nullptr);

// "Floor Granted(A) ssrc=... duration=30 user=sip:..." for logs and tools.
std::string describe(const FloorMessage& m);

}  // namespace iwf::mc::floor
