// Floor control datagrams (compound RTCP with MCPT APP packets). Property: whatever decodes
// re-encodes, and the re-encoding decodes to the same message.
#include <cstdint>
#include <cstdlib>

#include "mc_adapters/floor/floor_message.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace iwf::mc::floor;
    std::size_t others = 0;
    auto msgs = decodeDatagram(iwf::ByteView(data, size), &others);
    if (!msgs) {
        return 0;
    }
    for (const auto& m : *msgs) {
        iwf::Bytes b;
        if (!encode(m, b).ok()) {
            std::abort();  // a decoded message must be encodable
        }
        auto again = decode(b);
        if (!again || !(*again == m)) {
            std::abort();
        }
        (void)describe(m);
    }
    return 0;
}
