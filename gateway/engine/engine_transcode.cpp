#include "gateway/engine/engine_transcode.hpp"

namespace iwf::gateway::engine {

std::optional<std::string_view> analogueRefusal(const GroupInfo& group,
                                                std::optional<LmrFamily> lmr_family,
                                                VoiceCodec codec) {
    const bool analog_group = group.family() == LmrFamily::Analog;
    if (lmr_family == LmrFamily::Analog) {
        if (!analog_group) {
            return "family_mismatch";
        }
        if (group.mode != E2eeMode::Clear) {
            return "analog_into_encrypted";  // TS 23.283 §10.13.1: no E2EE on analogue
        }
        return std::nullopt;
    }
    if (lmr_family) {
        return std::nullopt;  // digital LMR talkers: as before
    }
    if (analog_group && codec != VoiceCodec::AmrWb) {
        return "no_vocoder";
    }
    if (!analog_group && codec == VoiceCodec::AmrWb) {
        return "no_vocoder";
    }
    return std::nullopt;
}

}  // namespace iwf::gateway::engine
