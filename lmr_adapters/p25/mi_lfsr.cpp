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

std::uint64_t prevMi64(std::uint64_t mi) {
    // One forward shift: new = (old << 1) | fb, fb = old63 ^ old61 ^ old45 ^ old37 ^ old26 ^
    // old14. So old62..old0 = new63..new1, and old63 = new0 ^ old61 ^ old45 ^ old37 ^ old26 ^
    // old14 with old_k = new_(k+1).
    for (int i = 0; i < 64; ++i) {
        const std::uint64_t out =
            (mi ^ (mi >> 62) ^ (mi >> 46) ^ (mi >> 38) ^ (mi >> 27) ^ (mi >> 15)) & 1U;
        mi = (mi >> 1) | (out << 63);
    }
    return mi;
}

namespace {
template <typename F>
Mi step(const Mi& mi, F f) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < 8; ++i) {
        v = (v << 8) | mi[i];
    }
    v = f(v);
    Mi out{};
    for (std::size_t i = 0; i < 8; ++i) {
        out[i] = static_cast<std::uint8_t>(v >> (8 * (7 - i)));
    }
    out[8] = mi[8];
    return out;
}
}  // namespace

Mi nextMi(const Mi& mi) {
    return step(mi, nextMi64);
}

Mi prevMi(const Mi& mi) {
    return step(mi, prevMi64);
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
