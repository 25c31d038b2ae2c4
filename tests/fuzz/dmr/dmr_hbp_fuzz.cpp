// HBP control messages: decode, and for every message that decodes, encode -> decode again
// must give the same type and peer ID.
#include <cstdint>
#include <cstdlib>

#include "lmr_adapters/dmr/hbp.hpp"

using namespace iwf;
using namespace iwf::lmr::dmr;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto m = decodeHbp(ByteView(data, size));
    if (!m.ok() || m->type == HbpType::Dmrd) {
        return 0;
    }
    auto again = decodeHbp(encodeHbp(*m));
    if (!again.ok() || again->type != m->type || again->peer_id != m->peer_id) {
        std::abort();
    }
    return 0;
}
