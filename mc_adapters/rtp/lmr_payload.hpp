#pragma once
// The OpenIWF LMR voice payload format ("X-IWF-LMR" RTP payload, version 1): one
// iwf::VoiceFrame per RTP packet, carrying its CryptoSync and frame position so that the far
// side rebuilds the LMR frame bit-exact. The vocoder bits and side bytes are opaque (they may
// be encrypted): copied, never looked at. Layout and rationale: docs/protocols/iwf-1-media.md.
//
//   0      V(2)=1 | E(1) encrypted | reserved(5)=0
//   1      LMR family (iwf::LmrFamily)
//   2      codec (iwf::VoiceCodec)
//   3      frame index within the superframe
//   4-7    superframe counter
//   8-9    ALGID
//   10-13  key ID
//   14     MI length m (0..16)     15  payload length p (0..40)     16  side length s (0..16)
//   17..   MI (m) | vocoder payload (p) | side bytes (s)

#include <cstdint>

#include "common/bytes.hpp"
#include "common/result.hpp"
#include "common/voice.hpp"

namespace iwf::mc::rtp {

inline constexpr std::uint8_t kLmrPayloadVersion = 1;
inline constexpr std::size_t kLmrPayloadHeader = 17;
// Vocoder bytes the format carries (field at offset 15): 40, whatever VoiceFrame::payload
// holds for the transcoded AMR-WB frames of analogue legs (those travel as RFC 4867 instead).
inline constexpr std::size_t kLmrVocoderMax = 40;
inline constexpr std::size_t kLmrPayloadMax = kLmrPayloadHeader + 16 + kLmrVocoderMax + 16;
// rtpmap encoding name used in SDP for this format (dynamic payload type, 8000 Hz clock).
inline constexpr char kLmrEncodingName[] = "X-IWF-LMR";
inline constexpr std::uint32_t kLmrClockRate = 8000;

// Appends the payload for `f` to `out`. Fails ("bad_algid", "bad_key_id", "bad_mi_length",
// "bad_payload_length", "bad_family", "bad_codec", "bad_index") when a field does not fit its
// family's width, so nothing is ever silently truncated; `out` is unchanged on failure.
Status encodeLmrPayload(const VoiceFrame& f, Bytes& out);

// Parses one payload. seq and rx_ns of the result are 0 (the receiver sets them).
Result<VoiceFrame> decodeLmrPayload(ByteView payload);

// Frame duration in RTP clock ticks (8 kHz) and frames per superframe, for the RTP timestamp:
//   ts = base + (superframe * framesPerSuperframe + index) * frameTicks
std::uint32_t frameTicks(VoiceCodec c);
std::uint32_t framesPerSuperframe(LmrFamily f, VoiceCodec c);
std::uint32_t rtpTimestampOffset(const VoiceFrame& f);

}  // namespace iwf::mc::rtp
