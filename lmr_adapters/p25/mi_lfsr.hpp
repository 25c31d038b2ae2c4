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
bool isZeroMi(const Mi& mi);

}  // namespace iwf::lmr::p25
