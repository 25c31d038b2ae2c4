// mcdata-payload bodies (DATA PAYLOAD). Property: what decodes re-encodes to the same bytes
// (payload contents are opaque and must survive bit-exact).
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "mc_adapters/mcdata/sds_message.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace iwf::mc::mcdata;
    auto p = decodeDataPayload(iwf::ByteView(data, size));
    if (p) {
        iwf::Bytes out;
        if (!encode(*p, out).ok() || out.size() != size ||
            std::memcmp(out.data(), data, size) != 0) {
            std::abort();
        }
    }
    return 0;
}
