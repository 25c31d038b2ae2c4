// SDP parser (libosip2 sdp_message) + the MCPTT SDP reader.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "mc_adapters/mcptt/mcptt_sdp.hpp"
#include "sip/sdp.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    auto sdp = iwf::sip::parseSdp(text);
    if (sdp) {
        auto again = iwf::sip::parseSdp(sdp->toString());
        if (!again) {
            __builtin_trap();
        }
        auto media = iwf::mc::mcptt::readMcpttSdp(*sdp);
        if (media) {
            (void)iwf::mc::mcptt::answerMedia(*media, *media);
        }
    }
    (void)iwf::mc::mcptt::parseFloorFmtp(text);
    return 0;
}
