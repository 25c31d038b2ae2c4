#pragma once
// What the two analogue links (analog-usrp, analog-rtp) share at their transcoding edge: the
// 20 ms packet period of both wire formats, the concealment bound for lost MC frames and the
// `amr_mode` config key.
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/config_node.hpp"
#include "media/speech.hpp"

namespace iwf::lmr::analog::edge {

// Both wire formats carry 20 ms (160 samples at 8 kHz) per packet: chan_usrp.c's
// USRP_VOICE_FRAME_SIZE, and the default G.711 packet time of RFC 3551 section 4.2.
inline constexpr auto kFramePeriod = std::chrono::milliseconds(20);

// Lost MC frames rebuilt by concealment before the next good one; a longer gap is silence on
// the channel (the decoder mutes after media::AmrWbDecoder::kMaxRepeats anyway).
inline constexpr std::uint32_t kMaxConcealed = 5;

// `amr_mode`: the AMR-WB modes whose storage frame (1 + ceil(bits / 8) bytes) fits
// VoiceFrame::payload; 12.65 kbit/s unless the link says otherwise.
inline media::AmrWbMode amrModeFromConfig(const ConfigNode& n) {
    struct ModeName {
        std::string_view name;
        media::AmrWbMode mode;
    };
    static constexpr ModeName kModes[] = {{"6.60", media::AmrWbMode::R6_60},
                                          {"8.85", media::AmrWbMode::R8_85},
                                          {"12.65", media::AmrWbMode::R12_65},
                                          {"14.25", media::AmrWbMode::R14_25}};
    const std::string mode = n.getEnum("amr_mode", {"6.60", "8.85", "12.65", "14.25"}, "12.65");
    for (const auto& m : kModes) {
        if (m.name == mode) {
            return m.mode;
        }
    }
    return media::AmrWbMode::R12_65;
}

}  // namespace iwf::lmr::analog::edge
