#pragma once
// The RTP packets of a commercial Radio-over-IP gateway's analogue channel ("analog-rtp"):
// RTP (RFC 3550 section 5.1) carrying G.711, payload type 0 PCMU (µ-law) or 8 PCMA (A-law)
// (RFC 3551 section 4.5.14 and Table 4), 8000 Hz clock, 20 ms = 160 samples = 160 bytes per
// packet (RFC 3551 section 4.5: G.711's default packetisation is 20 ms). PTT / carrier
// (COR) is the marker bit: RFC 3551 section 4.1, "the marker bit ... set to one in the first
// packet of a talkspurt". Byte tables: docs/protocols/analog-rtp.md.
//
//   0: V=2 (2 bits) | P | X | CC (4)    1: M | PT (7)    2-3: sequence number
//   4-7: timestamp                      8-11: SSRC       12..: CC x CSRC
//   if X: profile (16) | length in 32-bit words (16) | the words
//   payload; if P: padding whose last octet counts the padding octets
//
// Pure codec: no I/O, no allocation.

#include <cstdint>

#include "common/bytes.hpp"
#include "common/result.hpp"
#include "media/g711.hpp"

namespace iwf::lmr::analog {

inline constexpr std::size_t kRtpHeaderBytes = 12;
inline constexpr std::size_t kG711FrameBytes = 160;  // 20 ms at 8000 Hz, one byte per sample
inline constexpr std::uint8_t kPtPcmu = 0;           // RFC 3551 Table 4
inline constexpr std::uint8_t kPtPcma = 8;
// The largest datagram the link reads: header, 15 CSRCs, an extension and a 20 ms payload
// fit well below it; anything longer is not a 20 ms G.711 packet.
inline constexpr std::size_t kAnalogRtpMaxDatagram = 1500;

inline std::uint8_t payloadTypeOf(media::G711Law law) {
    return law == media::G711Law::Ulaw ? kPtPcmu : kPtPcma;
}

struct AnalogRtpPacket {
    bool marker = false;
    std::uint8_t payload_type = 0;
    std::uint16_t sequence = 0;
    std::uint32_t timestamp = 0;
    std::uint32_t ssrc = 0;
    std::uint8_t csrc_count = 0;
    ByteView payload;  // 160 bytes of G.711, into the datagram
};

// Decodes one datagram. Errors (reason strings, usable as counter labels):
//   "truncated"           shorter than the 12-byte header, its CSRCs or its extension header
//   "bad_version"         V is not 2
//   "bad_extension"       the extension's length runs past the datagram
//   "bad_padding"         P set with a padding count of 0 or longer than what follows the header
//   "wrong_pt"            a payload type other than 0 (PCMU) and 8 (PCMA)
//   "bad_payload_length"  a payload of other than 160 bytes (not 20 ms of G.711)
Result<AnalogRtpPacket> decodeAnalogRtp(ByteView datagram);

using AnalogRtpBuffer = InlineBytes<kRtpHeaderBytes + kG711FrameBytes>;

// Writes V=2, no padding, extension or CSRC, the header fields and the payload (at most
// 160 bytes; error "too_long").
Status encodeAnalogRtp(const AnalogRtpPacket& packet, AnalogRtpBuffer& out);

}  // namespace iwf::lmr::analog
