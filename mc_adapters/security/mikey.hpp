#pragma once
// MIKEY message codec (RFC 3830 with the IDR payload of RFC 6043 and the SAKKE payload of
// RFC 6509): the payload chain of a MIKEY-SAKKE I_MESSAGE as TS 33.180 Annex E profiles it.
// A codec in the house style: a span in, a Result out, no exceptions, no logging, no I/O.
//
// Wire layout (docs/protocols/mc-security.md has the byte tables with their sources):
//   HDR  (RFC 3830 §6.1)   version, data type, next payload, V|PRF, CSB ID, #CS, CS ID map
//   T    (RFC 3830 §6.6)   next, TS type, TS value (8 octets NTP / NTP-UTC, 4 COUNTER)
//   RAND (RFC 3830 §6.11)  next, length (1 octet), RAND
//   IDR  (RFC 6043 §6.6)   next, ID role, ID type, length (2), ID data
//   SP   (RFC 3830 §6.10)  next, policy no, prot type, param length (2), type|length|value...
//   SAKKE(RFC 6509 §4.2)   next, SAKKE params, ID scheme, length (2), SAKKE data
//   EXT  (RFC 3830 §6.15)  next, type, length (2), data
//   SIGN (RFC 3830 §6.5)   S type (4 bits) | signature length (12 bits), signature; always last
// The parser keeps the payloads in wire order so that encode(parse(x)) == x.

#include <cstdint>
#include <optional>
#include <variant>
#include <vector>

#include "common/bytes.hpp"
#include "common/result.hpp"

namespace iwf::mc::security::mikey {

// Next-payload values (RFC 3830 §6.1 table, RFC 6043 §6.1, RFC 6509 §4.2).
enum PayloadType : std::uint8_t {
    kLast = 0,
    kSign = 4,
    kTimestamp = 5,
    kSp = 10,
    kRand = 11,
    kIdr = 14,
    kGeneralExt = 21,
    kSakke = 26,
};

inline constexpr std::uint8_t kVersion = 1;
inline constexpr std::uint8_t kDataTypeSakke = 26;  // RFC 6509 §4.1 "SAKKE msg"
inline constexpr std::uint8_t kPrfHmacSha256 = 1;   // RFC 6043 §6.1 PRF-HMAC-SHA-256
inline constexpr std::uint8_t kMapSrtpId = 0;       // RFC 3830 §6.1.1
inline constexpr std::uint8_t kMapEmpty = 1;        // TS 33.180 E.1.2 ("empty map")
inline constexpr std::uint8_t kMapGenericId = 2;    // RFC 6043 §6.1.1 GENERIC-ID
inline constexpr std::uint8_t kTsNtpUtc = 0;        // RFC 3830 §6.6
inline constexpr std::uint8_t kTsNtp = 1;
inline constexpr std::uint8_t kTsCounter = 2;
inline constexpr std::uint8_t kSignEccsi = 2;         // RFC 6509 §4.3 S type ECCSI
inline constexpr std::uint8_t kSakkeParamSet1 = 1;    // RFC 6509 §7 SAKKE parms 1
inline constexpr std::uint8_t kIdTypeUri = 1;         // RFC 6043 §6.6 ID type URI
inline constexpr std::uint8_t kExtKeyParameters = 7;  // TS 33.180 E.6.1 ("3GPP key parameters")
inline constexpr std::uint8_t kExtSakkeToSelf = 6;    // TS 33.180 E.5

// IDR roles (RFC 6043 §6.6 table 6.6): 1 IDRi, 2 IDRr, 6 IDRkmsi, 7 IDRkmsr; TS 33.180
// E.7 (identity hiding) adds 8 and 9: the initiator's / responder's UID instead of the URI.
enum IdRole : std::uint8_t {
    kRoleInitiator = 1,
    kRoleResponder = 2,
    kRoleKms = 3,
    kRoleInitiatorKms = 6,
    kRoleResponderKms = 7,
    kRoleUidInitiator = 8,
    kRoleUidResponder = 9,
};

// One crypto session of a GENERIC-ID map (RFC 6043 §6.1.1).
struct GenericCs {
    std::uint8_t cs_id = 0;
    std::uint8_t prot_type = 0;  // 0 = SRTP
    bool s_flag = false;
    std::vector<std::uint8_t> policies;
    Bytes session_data;
    Bytes spi;  // TS 33.180 puts the SRTP MKI here (GMK-ID || GUK-ID for a group)
    bool operator==(const GenericCs&) const = default;
};

// One crypto session of an SRTP-ID map (RFC 3830 §6.1.1).
struct SrtpCs {
    std::uint8_t policy_no = 0;
    std::uint32_t ssrc = 0;
    std::uint32_t roc = 0;
    bool operator==(const SrtpCs&) const = default;
};

struct CommonHeader {
    std::uint8_t version = kVersion;
    std::uint8_t data_type = kDataTypeSakke;
    bool v_flag = false;
    std::uint8_t prf_func = kPrfHmacSha256;
    std::uint32_t csb_id = 0;
    std::uint8_t map_type = kMapEmpty;
    std::vector<GenericCs> generic;   // map_type == kMapGenericId (#CS entries)
    std::vector<SrtpCs> srtp;         // map_type == kMapSrtpId (#CS entries)
    std::uint8_t empty_cs_count = 0;  // #CS for an empty map (33.180 E.1.2 says 0)
    bool operator==(const CommonHeader&) const = default;
};

struct Timestamp {
    std::uint8_t type = kTsNtpUtc;
    std::uint64_t value = 0;  // 64-bit NTP (seconds << 32 | fraction) or 32-bit counter
    bool operator==(const Timestamp&) const = default;
};
struct RandPayload {
    Bytes rand;
    bool operator==(const RandPayload&) const = default;
};
struct IdrPayload {
    std::uint8_t role = 0;
    std::uint8_t id_type = kIdTypeUri;
    Bytes data;
    bool operator==(const IdrPayload&) const = default;
};
struct SpParam {
    std::uint8_t type = 0;
    Bytes value;
    bool operator==(const SpParam&) const = default;
};
struct SpPayload {
    std::uint8_t policy_no = 0;
    std::uint8_t prot_type = 0;
    std::vector<SpParam> params;
    bool operator==(const SpPayload&) const = default;
};
struct SakkePayload {
    std::uint8_t params = kSakkeParamSet1;
    std::uint8_t id_scheme = 0;
    Bytes data;  // the Encapsulated Data R || H (RFC 6508 §4)
    bool operator==(const SakkePayload&) const = default;
};
struct GeneralExt {
    std::uint8_t type = 0;
    Bytes data;
    bool operator==(const GeneralExt&) const = default;
};

using Payload =
    std::variant<Timestamp, RandPayload, IdrPayload, SpPayload, SakkePayload, GeneralExt>;

struct Message {
    CommonHeader hdr;
    std::vector<Payload> payloads;  // between HDR and SIGN, in wire order
    std::uint8_t sign_type = kSignEccsi;
    Bytes signature;
    // Octets covered by the signature: the whole message up to the signature field, i.e.
    // including the SIGN payload's type/length octets (RFC 3830 §5.2).
    std::size_t signed_length = 0;
    bool operator==(const Message&) const = default;

    const Timestamp* timestamp() const;
    const RandPayload* rand() const;
    const IdrPayload* idr(std::uint8_t role) const;
    const SakkePayload* sakke() const;
    const GeneralExt* ext(std::uint8_t type) const;
    const SpPayload* sp() const;
};

// Parses a whole message; the last payload must be SIGN and nothing may follow it.
// Errors: "mikey_truncated", "mikey_bad_version", "mikey_bad_map", "mikey_unknown_payload",
// "mikey_no_signature", "mikey_trailing_bytes", "mikey_bad_length".
Result<Message> parse(ByteView in);

// The octets the signer signs: every payload with next-payload links, and the SIGN
// payload's header for a signature of `signature_length` octets.
Result<Bytes> encodeForSigning(const Message& m, std::size_t signature_length);
// encodeForSigning(m, m.signature.size()) followed by the signature.
Result<Bytes> encode(const Message& m);

}  // namespace iwf::mc::security::mikey
