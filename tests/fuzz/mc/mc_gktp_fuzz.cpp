// Group documents with GKTPs (TS 24.481 urn:3gpp:ns:mcpttGKTP:1.0, gktp.hpp). Properties: no
// crash; what parses respects the bounds (at most kMaxGktpsPerMember payloads, each non-empty,
// at most kMaxGktpOctets, each with a group).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "mc_adapters/mcptt/gktp.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace iwf::mc::mcptt;
    const std::string_view doc(reinterpret_cast<const char*>(data), size);
    if (auto got = parseGroupKeyTransports(doc, "sip:iwf@iwf.example")) {
        if (got->size() > kMaxGktpsPerMember) {
            std::abort();
        }
        for (const auto& g : *got) {
            if (g.group.empty() || g.i_message.empty() || g.i_message.size() > kMaxGktpOctets) {
                std::abort();
            }
        }
    }
    return 0;
}
