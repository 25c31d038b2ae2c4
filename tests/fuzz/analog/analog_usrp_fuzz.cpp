// Fuzz target: USRP decoder. A decoded packet re-encodes to bytes that decode to the same
// packet (the wire bytes themselves need not repeat: a big-endian type field is read and
// written back little-endian, and a DTMF's trailing NULs are dropped).
#include <cstdint>
#include <cstdlib>

#include "lmr_adapters/analog/usrp.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace iwf::lmr::analog;
    auto r = decodeUsrp(iwf::ByteView(data, size));
    if (!r) {
        return 0;
    }
    if (const auto* t = std::get_if<UsrpText>(&*r)) {
        (void)setInfoOf(*t);
    }
    UsrpBuffer out;
    if (!encodeUsrp(*r, out).ok()) {
        std::abort();
    }
    auto again = decodeUsrp(out.view());
    if (!again || !(*again == *r)) {
        std::abort();
    }
    return 0;
}
