#include "lmr_adapters/p25/mi_lfsr.hpp"

namespace iwf::lmr::p25 {

std::uint64_t nextMi64(std::uint64_t mi) {
    // Taps at bit positions (degree - 1) of x^64, x^62, x^46, x^38, x^27, x^15 with bit 63 the
    // first bit of the MI on the wire; the feedback enters at bit 0.
    for (int i = 0; i < 64; ++i) {
        const std::uint64_t fb =
            ((mi >> 63) ^ (mi >> 61) ^ (mi >> 45) ^ (mi >> 37) ^ (mi >> 26) ^ (mi >> 14)) & 1U;
        mi = (mi << 1) | fb;
    }
    return mi;
}

Mi nextMi(const Mi& mi) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < 8; ++i) {
        v = (v << 8) | mi[i];
    }
    v = nextMi64(v);
    Mi out{};
    for (std::size_t i = 0; i < 8; ++i) {
        out[i] = static_cast<std::uint8_t>(v >> (8 * (7 - i)));
    }
    out[8] = mi[8];
    return out;
}

bool isZeroMi(const Mi& mi) {
    for (auto b : mi) {
        if (b != 0) {
            return false;
        }
    }
    return true;
}

}  // namespace iwf::lmr::p25
