// Raw bursts: the first 33 bytes as a DMR burst through every metadata decoder, the next 16
// bytes as four embedded LC fragments, the next 12 as an RS(12,9) codeword.
#include <array>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "lmr_adapters/dmr/burst.hpp"

using namespace iwf;
using namespace iwf::lmr::dmr;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::array<std::uint8_t, 33 + 16 + 12> buf{};
    std::memcpy(buf.data(), data, std::min(size, buf.size()));
    Burst b{};
    std::memcpy(b.data(), buf.data(), 33);
    (void)identifySync(syncField(b));
    (void)decodeSlotType(b);
    (void)decodeEmb(b);
    auto d = decodeDataBurst(b);
    if (d.ok()) {
        (void)decodePiHeader(*d);
        (void)decodeFullLc(*d);
    }
    const VoiceParts parts = splitVoiceBurst(b);
    if (joinVoiceBurst(parts.ambe, parts.middle) != b) {
        std::abort();  // voice bits must pass bit-exact
    }
    EmbeddedFragments f{};
    for (std::size_t i = 0; i < 4; ++i) {
        std::memcpy(f[i].data(), buf.data() + 33 + 4 * i, 4);
    }
    auto lc = decodeEmbeddedLc(f);
    if (lc.ok() && encodeEmbeddedLc(lc->lc) != f && lc->corrected == 0) {
        std::abort();  // an uncorrected codeword must re-encode to itself
    }
    std::array<std::uint8_t, 12> rs{};
    std::memcpy(rs.data(), buf.data() + 49, 12);
    auto r = rs129Correct(rs);
    if (r.ok()) {
        auto check = rs;
        if (!rs129Correct(check).ok() || *rs129Correct(check) != 0) {
            std::abort();  // a corrected word must be a codeword
        }
    }
    return 0;
}
