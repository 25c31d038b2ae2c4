#pragma once
// RTP payload format for AMR and AMR-WB, RFC 4867 section 4: the payload header (CMR), the
// table of contents (F, FT, Q per frame) and the speech bits, in the bandwidth-efficient
// layout (section 4.3: fields packed bit after bit, one padding run at the end) or the
// octet-aligned one (section 4.4: CMR and each ToC entry in an octet of their own, each
// speech frame padded to an octet). Not supported (refused in SDP by the caller, never on
// the wire here): interleaving, frame CRCs, robust sorting, more than one channel.
//
// Speech bits are kept as the codecs' storage format keeps them (RFC 4867 section 5.3):
// MSB first, zero-padded to a whole octet, so an AmrFrame converts to and from the one-byte
// header + bits that libvo-amrwbenc writes and libopencore-amrwb reads.
//
// Pure codec: no I/O, no logging, no allocation.

#include <array>
#include <cstdint>
#include <string_view>

#include "common/bytes.hpp"
#include "common/result.hpp"

namespace iwf::media {

enum class AmrCodec : std::uint8_t { Amr, AmrWb };

inline constexpr std::uint8_t kAmrCmrNone = 15;       // "no mode request" (RFC 4867 4.3.1)
inline constexpr std::uint8_t kAmrFtNoData = 15;      // NO_DATA (both codecs)
inline constexpr std::uint8_t kAmrWbFtSid = 9;        // AMR-WB comfort noise
inline constexpr std::uint8_t kAmrWbFtLost = 14;      // AMR-WB SPEECH_LOST (TS 26.201)
inline constexpr std::uint8_t kAmrFtSid = 8;          // AMR comfort noise
inline constexpr std::size_t kAmrMaxFrameBytes = 60;  // 477 bits, AMR-WB 23.85
inline constexpr std::size_t kAmrMaxFrames = 8;       // 160 ms of speech in one payload
inline constexpr std::size_t kAmrMaxPayload = 1 + kAmrMaxFrames * (1 + kAmrMaxFrameBytes);

// Speech bits of a frame type (TS 26.101 table 1a / TS 26.201 table 1a via RFC 4867 3.6);
// -1 for a frame type this implementation refuses (reserved, or AMR's FT 9-11 SIDs of
// other systems).
int amrSpeechBits(AmrCodec codec, std::uint8_t ft);
// Highest speech mode: 7 (AMR 12.2) or 8 (AMR-WB 23.85).
std::uint8_t amrMaxMode(AmrCodec codec);

struct AmrFrame {
    std::uint8_t ft = kAmrFtNoData;
    bool q = true;                        // frame quality indicator: false = damaged
    InlineBytes<kAmrMaxFrameBytes> bits;  // amrSpeechBits(ft) bits, MSB first, zero padded

    bool operator==(const AmrFrame&) const = default;
};

struct AmrPayload {
    std::uint8_t cmr = kAmrCmrNone;
    std::array<AmrFrame, kAmrMaxFrames> frames{};
    std::size_t count = 0;

    bool operator==(const AmrPayload& o) const;
};

struct AmrLayout {
    AmrCodec codec = AmrCodec::AmrWb;
    bool octet_aligned = false;  // SDP octet-align=1
};

using AmrPayloadBuffer = InlineBytes<kAmrMaxPayload>;

// Errors: "no_frames", "too_many_frames", "bad_frame_type", "bad_frame_length" (bits of the
// wrong size for the frame type), "bad_cmr".
Status encodeAmrPayload(const AmrLayout& layout, const AmrPayload& payload, AmrPayloadBuffer& out);
// Errors: "empty", "truncated", "too_many_frames", "bad_frame_type", "bad_cmr".
// Padding and R bits are ignored as RFC 4867 4.3.2 / 4.4.1 require of a receiver.
Result<AmrPayload> decodeAmrPayload(const AmrLayout& layout, ByteView payload);

// The storage format of one frame (RFC 4867 5.3): header octet 0|FT|Q|0|0, then the bits.
Result<AmrFrame> frameFromStorage(AmrCodec codec, ByteView storage);
std::size_t frameToStorage(const AmrFrame& frame, MutableByteView out);  // bytes written

// SDP "mode-set=0,2,5,7" (RFC 4867 8.1): a bit mask of the allowed modes; 0 means "any".
// Errors: "bad_mode_set" (not a number list, a mode above amrMaxMode, a repeat).
Result<std::uint16_t> parseAmrModeSet(AmrCodec codec, std::string_view list);
// Whether the payload obeys a mode set: every speech frame's FT and the CMR (unless 15) in
// it; SID, SPEECH_LOST and NO_DATA are always allowed (RFC 4867 8.1). Error "mode_not_allowed".
Status checkAmrModeSet(AmrCodec codec, std::uint16_t mode_set, const AmrPayload& payload);

}  // namespace iwf::media
