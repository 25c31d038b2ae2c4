// DMRD: the packet codec (decode -> encode must reproduce the input), the burst metadata
// decoder, and the stateful stream decoder fed with the input cut into 53-byte packets.
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "lmr_adapters/dmr/calls.hpp"
#include "lmr_adapters/dmr/dmrd.hpp"

using namespace iwf;
using namespace iwf::lmr::dmr;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    ByteView in(data, size);
    auto p = decodeDmrd(in);
    if (p.ok()) {
        const Bytes again = encodeDmrd(*p);
        if (again.size() != size || !std::equal(again.begin(), again.end(), data)) {
            std::abort();  // the codec lost or invented a bit
        }
        (void)inspectBurst(*p);
    }
    CallDecoder dec;
    std::vector<Event> ev;
    std::int64_t t = 0;
    for (std::size_t off = 0; off + kDmrdLength <= size; off += kDmrdLength) {
        auto q = decodeDmrd(in.subspan(off, kDmrdLength));
        if (q.ok()) {
            (void)dec.onPacket(*q, t += 60'000'000, ev);
        }
    }
    dec.expire(t + 10'000'000'000, 1'000'000'000, ev);
    if (dec.activeStreams() != 0) {
        std::abort();
    }
    return 0;
}
