#include "common/voice.hpp"

namespace iwf {

std::string_view toString(VoiceCodec c) {
    switch (c) {
        case VoiceCodec::ImbeFullRate:
            return "imbe";
        case VoiceCodec::AmbePlus2HalfRate:
            return "ambe2-half";
        case VoiceCodec::DmrAmbe:
            return "dmr-ambe";
        case VoiceCodec::TetraAcelp:
            return "tetra-acelp";
        case VoiceCodec::Pcm:
            return "pcm";
        case VoiceCodec::AmrWb:
            return "amr-wb";
    }
    return "unknown";
}

}  // namespace iwf
