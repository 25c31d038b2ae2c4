#pragma once
// MCData SDS messages (TS 24.282 clause 15, coded with the MONP rules of TS 24.379 Annex I)
// as carried in SIP MESSAGE bodies on IWF-2:
//   application/vnd.3gpp.mcdata-signalling : SDS SIGNALLING PAYLOAD (15.1.2) or
//                                            SDS NOTIFICATION (disposition notification)
//   application/vnd.3gpp.mcdata-payload    : DATA PAYLOAD (15.1.4)
// plus the IWF rules of TS 29.582 6.2.2.1 (fresh Message ID, "UNKNOWN CONVERSATION",
// "LMR MESSAGE ID"). Wire layout and the confidence of each value:
// docs/protocols/iwf-2-mcdata.md. Codecs never log, allocate sockets or read clocks.

#include <array>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.hpp"
#include "common/result.hpp"

namespace iwf::mc::mcdata {

inline constexpr std::string_view kSignallingContentType = "application/vnd.3gpp.mcdata-signalling";
inline constexpr std::string_view kPayloadContentType = "application/vnd.3gpp.mcdata-payload";

// Message type values (24.282 Table 15.2.2-1), as two independent MCData codecs have them:
// vectorcore-mcx internal/sip/mcdata_codec.go (SDS signalling 0x01, FD signalling 0x02, data
// payload 0x03, SDS notification 0x05, FD notification 0x06) and the nexlin/cims MCData
// server's tests/sds_disposition_spec.py (SDS NOTIFICATION built as 05 02 ...). OpenIWF sent
// 0x04 (the FD NOTIFICATION's neighbour, an unassigned value there) before issue 14.
namespace message_type {
inline constexpr std::uint8_t kSdsSignallingPayload = 0x01;
inline constexpr std::uint8_t kDataPayload = 0x03;
inline constexpr std::uint8_t kSdsNotification = 0x05;
}  // namespace message_type

// Optional IEIs of the SDS SIGNALLING PAYLOAD (24.282 Table 15.1.2.1-1).
namespace iei {
inline constexpr std::uint8_t kInReplyTo = 0x21;              // TV 17
inline constexpr std::uint8_t kApplicationId = 0x22;          // TV 2
inline constexpr std::uint8_t kDispositionRequest = 0x8;      // TV 1, half-octet IEI (high nibble)
inline constexpr std::uint8_t kExtendedApplicationId = 0x7D;  // TLV-E
inline constexpr std::uint8_t kUserLocation = 0x7E;           // TLV-E
inline constexpr std::uint8_t kSenderUserId = 0x51;           // TLV-E
inline constexpr std::uint8_t kApplicationMetadata = 0x53;    // TLV-E
inline constexpr std::uint8_t kPayload = 0x78;                // TLV-E (DATA PAYLOAD)
}  // namespace iei

using Uuid = std::array<std::uint8_t, 16>;

// Reserved values of TS 29.582 15.2.9 / 15.2.10. Their bit patterns were not available to us
// (shared/research/specs.md (d) item 9); these are our choice, kept in this one place so that
// they can be changed when the text is checked: the nil UUID for "UNKNOWN CONVERSATION" and
// the max UUID (all ones) for "LMR MESSAGE ID".
inline constexpr Uuid kUnknownConversation = {};
inline constexpr Uuid kLmrMessageId = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                                       0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};

// "8-4-4-4-12" lower-case hex.
std::string toString(const Uuid& u);
std::optional<Uuid> parseUuid(std::string_view s);
// A random (version 4, RFC 4122) UUID.
Uuid randomUuid(std::mt19937_64& rng);

enum class DispositionRequest : std::uint8_t {
    None = 0,
    Delivery = 1,
    Read = 2,
    DeliveryAndRead = 3,
};

enum class DispositionNotification : std::uint8_t {
    Undelivered = 1,
    Delivered = 2,
    Read = 3,
    DeliveredAndRead = 4,
    DispositionPreventedBySystem = 5,
};

// SDS SIGNALLING PAYLOAD (24.282 15.1.2).
struct SdsSignalling {
    std::uint64_t date_time = 0;  // 40 bits: seconds since 1970-01-01 00:00 UTC
    Uuid conversation_id{};
    Uuid message_id{};
    std::optional<Uuid> in_reply_to;
    std::optional<std::uint8_t> application_id;
    std::optional<DispositionRequest> disposition;
    std::optional<Bytes> extended_application_id;
    std::optional<Bytes> user_location;
    std::optional<std::string> sender_user_id;
    std::optional<Bytes> application_metadata;

    bool operator==(const SdsSignalling&) const = default;
};

// SDS NOTIFICATION: the disposition notification of an SDS message.
struct SdsNotification {
    DispositionNotification disposition = DispositionNotification::Delivered;
    std::uint64_t date_time = 0;
    Uuid conversation_id{};
    Uuid message_id{};  // of the SDS message being reported on
    std::optional<std::uint8_t> application_id;
    std::optional<std::string> sender_user_id;

    bool operator==(const SdsNotification&) const = default;
};

// Payload content types (24.282 15.2.13).
namespace content_type {
inline constexpr std::uint8_t kText = 1;
inline constexpr std::uint8_t kBinary = 2;
inline constexpr std::uint8_t kHyperlinks = 3;
inline constexpr std::uint8_t kFileUrl = 4;
inline constexpr std::uint8_t kLocation = 5;
inline constexpr std::uint8_t kEnhancedStatus = 6;
}  // namespace content_type

struct Payload {
    std::uint8_t content_type = content_type::kBinary;
    Bytes data;  // opaque (may be LMR end-to-end encrypted): never looked at
    bool operator==(const Payload&) const = default;
};

// DATA PAYLOAD (24.282 15.1.4): one or more payloads.
struct DataPayload {
    std::vector<Payload> payloads;
    bool operator==(const DataPayload&) const = default;
};

Status encode(const SdsSignalling& m, Bytes& out);
Status encode(const SdsNotification& m, Bytes& out);
Status encode(const DataPayload& m, Bytes& out);

Result<SdsSignalling> decodeSdsSignalling(ByteView in);
Result<SdsNotification> decodeSdsNotification(ByteView in);
Result<DataPayload> decodeDataPayload(ByteView in);
// The message type octet of an mcdata-signalling body (0 if empty).
std::uint8_t peekMessageType(ByteView in);

// The IWF rules of TS 29.582 6.2.2.1 for an SDS sent from the LMR side into the MC system.
struct IwfSdsContext {
    std::uint64_t now_seconds = 0;            // date and time of sending
    std::optional<Uuid> stored_conversation;  // continuing a conversation the IWF knows
    bool continuing_conversation = false;     // the LMR side says "reply/continuation"
    std::optional<Uuid> original_message;     // the message this replies to, if known
    bool is_reply = false;
};
// Builds the signalling part: Date and time = now; Conversation ID = stored one, else
// UNKNOWN CONVERSATION when continuing, else a fresh one; Message ID always fresh; InReplyTo =
// the original ID, else LMR MESSAGE ID when it is a reply whose original was lost.
SdsSignalling makeIwfSignalling(const IwfSdsContext& ctx, std::mt19937_64& rng);

}  // namespace iwf::mc::mcdata
