#include "lmr_adapters/p25/mi_lfsr.hpp"

#include <gtest/gtest.h>

namespace iwf::lmr::p25 {
namespace {

// TIA-102.AAAD-B example (research digest §1.2): 1234567890ABCDEF -> 6FE2802AA403828B.
TEST(P25MiLfsr, StandardVector) {
    EXPECT_EQ(nextMi64(0x1234567890ABCDEFULL), 0x6FE2802AA403828BULL);
}

TEST(P25MiLfsr, SeventyTwoBitFormKeepsReservedByte) {
    Mi mi{0x12, 0x34, 0x56, 0x78, 0x90, 0xAB, 0xCD, 0xEF, 0x5A};
    Mi next = nextMi(mi);
    Mi expect{0x6F, 0xE2, 0x80, 0x2A, 0xA4, 0x03, 0x82, 0x8B, 0x5A};
    EXPECT_EQ(next, expect);
}

TEST(P25MiLfsr, ZeroStaysZeroAndSequenceDoesNotRepeatQuickly) {
    EXPECT_EQ(nextMi64(0), 0U);
    std::uint64_t v = 1;
    for (int i = 0; i < 1000; ++i) {
        v = nextMi64(v);
        ASSERT_NE(v, 1U) << "cycle after " << i;
        ASSERT_NE(v, 0U);
    }
    EXPECT_TRUE(isZeroMi(Mi{}));
    EXPECT_FALSE(isZeroMi(Mi{0, 0, 0, 0, 0, 0, 0, 0, 1}));
}

}  // namespace
}  // namespace iwf::lmr::p25
