#pragma once
// P25 message indicator (MI) sequence: the MI of the next superframe is the current one
// shifted 64 times through the LFSR C(x) = 1 + x^15 + x^27 + x^38 + x^46 + x^62 + x^64
// (TIA-102.AAAD-B; shared/research/lmr.md §1.2). The MI is 72 bits: 64 LFSR bits followed by
// 8 reserved bits that are carried unchanged. No key is involved: a lost LDU2 MI can be
// recomputed from the previous one.

#include <array>
#include <cstdint>

namespace iwf::lmr::p25 {

inline constexpr std::size_t kMiBytes = 9;
using Mi = std::array<std::uint8_t, kMiBytes>;

// The 64-bit LFSR step (64 shifts) on the MI's first 64 bits.
std::uint64_t nextMi64(std::uint64_t mi);
// The 72-bit MI of the next superframe (the 9th byte is copied).
Mi nextMi(const Mi& mi);
// The inverse: the MI of the superframe BEFORE `mi` (prevMi64(nextMi64(x)) == x for every x).
// C(x) has both the x^0 and the x^64 term, so each shift is invertible: the bit that left the
// register is the feedback bit XOR the other five taps. A records call carries no HDU, so its
// first MI is only announced, for the next superframe, by the first LDU2: this recovers the MI
// of the superframe that LDU2 belongs to (docs/protocols/p25-network-records.md "Superframe 0").
std::uint64_t prevMi64(std::uint64_t mi);
Mi prevMi(const Mi& mi);
bool isZeroMi(const Mi& mi);

}  // namespace iwf::lmr::p25
