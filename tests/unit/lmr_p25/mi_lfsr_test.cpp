#include "lmr_adapters/p25/mi_lfsr.hpp"

#include <gtest/gtest.h>

namespace iwf::lmr::p25 {
namespace {

// TIA-102.AAAD-B example (research digest §1.2): 1234567890ABCDEF -> 6FE2802AA403828B.
TEST(P25MiLfsr, StandardVector) {
    EXPECT_EQ(nextMi64(0x1234567890ABCDEFULL), 0x6FE2802AA403828BULL);
}

// The same published vector read backwards: the MI of the superframe before 6FE2802AA403828B is
// 1234567890ABCDEF. A records call announces its first MI only for the NEXT superframe (no
// HDU); this is how superframe 0 gets its MI back.
TEST(P25MiLfsr, StandardVectorBackwards) {
    EXPECT_EQ(prevMi64(0x6FE2802AA403828BULL), 0x1234567890ABCDEFULL);
    Mi next{0x6F, 0xE2, 0x80, 0x2A, 0xA4, 0x03, 0x82, 0x8B, 0x00};
    Mi expect{0x12, 0x34, 0x56, 0x78, 0x90, 0xAB, 0xCD, 0xEF, 0x00};
    EXPECT_EQ(prevMi(next), expect);
}

TEST(P25MiLfsr, BackwardsUndoesForwardForEveryBitPosition) {
    for (int b = 0; b < 64; ++b) {
        const std::uint64_t v = 1ULL << b;
        ASSERT_EQ(prevMi64(nextMi64(v)), v) << b;
        ASSERT_EQ(nextMi64(prevMi64(v)), v) << b;
    }
    std::uint64_t x = 0x9E3779B97F4A7C15ULL;
    for (int i = 0; i < 200; ++i) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        ASSERT_EQ(prevMi64(nextMi64(x)), x);
    }
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
