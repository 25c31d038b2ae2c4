#pragma once
// VoiceFrame: one vocoder frame of a stream, with its position and crypto sync.
//
// Position is part of the data: P25 keystream is bound to the 18-frame superframe (LDU1 =
// frames 0..8, LDU2 = frames 9..17), DMR to the A..F burst sequence of a voice superframe,
// TETRA to the frame number. The engine never drops, duplicates or reorders frames of an
// encrypted stream.

#include <cstdint>
#include <string_view>

#include "common/bytes.hpp"
#include "common/crypto.hpp"

namespace iwf {

enum class VoiceCodec : std::uint8_t {
    ImbeFullRate = 0,   // P25 Phase 1, 88 bits per 20 ms
    AmbePlus2HalfRate,  // P25 Phase 2, 49 bits per 20 ms
    DmrAmbe,            // DMR AMBE+2, 3 x 72-bit frames per 60 ms burst
    TetraAcelp,         // TETRA ACELP, 137 bits per 30 ms (two per slot)
    Pcm,                // linear PCM (clear analogue only; never for E2EE)
    // AMR-WB (the MCPTT codec), clear only: an analogue link transcodes its PCM to it, so
    // the payload is one RFC 4867 section 5.3 storage frame (header octet FT|Q, then the
    // speech bits); every mode fits the payload below, up to 23.85 kbit/s (1 + 60 bytes).
    AmrWb,
};
std::string_view toString(VoiceCodec c);

struct FramePosition {
    std::uint32_t superframe = 0;  // counts from the start of the stream
    std::uint8_t index = 0;        // P25: 0..17; DMR: 0..5 (A..F); TETRA: frame number
    bool operator==(const FramePosition&) const = default;
};

// Bytes a VoiceFrame's payload holds: the largest frame of any codec the engine carries, an
// AMR-WB 23.85 kbit/s storage frame (RFC 4867 5.3: one header octet, 477 bits in 60 octets).
// The digital vocoders' frames are smaller (DMR: 27 bytes, the largest) and keep their own
// bound on the wire (X-IWF-LMR: 40 bytes, mc_adapters/rtp/lmr_payload.hpp).
inline constexpr std::size_t kVoicePayloadBytes = 61;

struct VoiceFrame {
    VoiceCodec codec = VoiceCodec::ImbeFullRate;
    FramePosition pos;
    CryptoSync crypto;
    // The vocoder bits exactly as received (encrypted or not): opaque.
    InlineBytes<kVoicePayloadBytes> payload;
    // Per-frame side bytes carried with the voice and, in an encrypted P25 stream, covered by
    // the keystream too (LC / ES / LSD bytes of the LDU record, DMR EMB/embedded signalling).
    // Opaque as well; copied bit-exact.
    InlineBytes<16> side;
    // Sequence number of this frame in its stream as seen by the receiving adapter; gaps
    // are reported as loss, never filled in.
    std::uint32_t seq = 0;
    // Steady-clock nanoseconds when the adapter received it (latency bookkeeping only).
    std::int64_t rx_ns = 0;

    bool operator==(const VoiceFrame&) const = default;
};

}  // namespace iwf
