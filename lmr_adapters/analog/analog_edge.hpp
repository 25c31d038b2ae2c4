#pragma once
// What the two analogue links (analog-usrp, analog-rtp) share at their transcoding edge: the
// 20 ms packet period of both wire formats, the concealment bound for lost MC frames, the
// `amr_mode` config key and the engine frame of an encoded 20 ms.
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/config_node.hpp"
#include "common/voice.hpp"
#include "media/speech.hpp"

namespace iwf::lmr::analog::edge {

// Both wire formats carry 20 ms (160 samples at 8 kHz) per packet: chan_usrp.c's
// USRP_VOICE_FRAME_SIZE, and the default G.711 packet time of RFC 3551 section 4.2.
inline constexpr auto kFramePeriod = std::chrono::milliseconds(20);

// Lost MC frames rebuilt by concealment before the next good one; a longer gap is silence on
// the channel (the decoder mutes after media::AmrWbDecoder::kMaxRepeats anyway).
inline constexpr std::uint32_t kMaxConcealed = 5;

// `amr_mode`: any AMR-WB speech mode, named by its rate in kbit/s (TS 26.171); 12.65 unless
// the link says otherwise. Every storage frame fits VoiceFrame::payload (kVoicePayloadBytes).
inline media::AmrWbMode amrModeFromConfig(const ConfigNode& n) {
    struct ModeName {
        std::string_view name;
        media::AmrWbMode mode;
    };
    static constexpr ModeName kModes[] = {
        {"6.60", media::AmrWbMode::R6_60},   {"8.85", media::AmrWbMode::R8_85},
        {"12.65", media::AmrWbMode::R12_65}, {"14.25", media::AmrWbMode::R14_25},
        {"15.85", media::AmrWbMode::R15_85}, {"18.25", media::AmrWbMode::R18_25},
        {"19.85", media::AmrWbMode::R19_85}, {"23.05", media::AmrWbMode::R23_05},
        {"23.85", media::AmrWbMode::R23_85}};
    const std::string mode = n.getEnum(
        "amr_mode", {"6.60", "8.85", "12.65", "14.25", "15.85", "18.25", "19.85", "23.05", "23.85"},
        "12.65");
    for (const auto& m : kModes) {
        if (m.name == mode) {
            return m.mode;
        }
    }
    return media::AmrWbMode::R12_65;
}

// The engine frame of one encoded 20 ms of the analogue talker: a clear AMR-WB storage frame
// (RFC 4867 5.3), numbered `seq` (also its position: the MC side's RTP timestamp).
inline VoiceFrame amrVoiceFrame(const media::AmrFrame& amr, std::uint32_t seq, std::int64_t rx_ns) {
    VoiceFrame f;
    f.codec = VoiceCodec::AmrWb;
    f.crypto = CryptoSync::clear(LmrFamily::Analog);
    f.seq = seq;
    f.pos.superframe = seq;
    std::uint8_t storage[1 + media::kAmrMaxFrameBytes];
    const std::size_t n = media::frameToStorage(amr, MutableByteView(storage, sizeof storage));
    static_assert(sizeof storage <= decltype(f.payload)::capacity());
    f.payload.assign(ByteView(storage, n));
    f.rx_ns = rx_ns;
    return f;
}

}  // namespace iwf::lmr::analog::edge
