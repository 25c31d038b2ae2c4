// mcptt-info XML parser (pugixml) incl. the LMR encryption extension.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "mc_adapters/mcptt/mcptt_info.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    auto info = iwf::mc::mcptt::parseMcpttInfo(text);
    if (info) {
        auto again = iwf::mc::mcptt::parseMcpttInfo(iwf::mc::mcptt::buildMcpttInfo(*info));
        if (!again) {
            __builtin_trap();
        }
    }
    return 0;
}
