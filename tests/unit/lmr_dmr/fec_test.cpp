// FEC and CRC golden vectors and exhaustive round trips (TS 102 361-1 annex B).
#include "lmr_adapters/dmr/fec.hpp"

#include <bit>
#include <random>

#include <gtest/gtest.h>

namespace iwf::lmr::dmr {
namespace {

TEST(DmrCrc, CheckValueOfTheDmrCcitt) {
    // x^16+x^12+x^5+1, preset 0, inverted: the XMODEM check value 0x31C3 inverted.
    const std::string s = "123456789";
    EXPECT_EQ(crcCcitt(asBytes(s)), 0xCE3C);
    EXPECT_EQ(crcCcitt({}), 0xFFFF);
}

TEST(DmrCrc, MaskedBlockRoundTripAndEveryBitFlipDetected) {
    std::array<std::uint8_t, 12> b = {0x24, 0x10, 0x2A, 0xDE, 0xAD, 0xBE, 0xEF, 0, 0, 0x5B, 0, 0};
    setCrcBlock(b, kCrcMaskPiHeader);
    EXPECT_TRUE(checkCrcBlock(b, kCrcMaskPiHeader));
    EXPECT_FALSE(checkCrcBlock(b, kCrcMaskDataHeader));  // mask tells block kinds apart
    for (std::size_t i = 0; i < 96; ++i) {
        auto c = b;
        setBit(c, i, !getBit(c, i));
        EXPECT_FALSE(checkCrcBlock(c, kCrcMaskPiHeader)) << "bit " << i;
    }
}

TEST(DmrGolay2087, GoldenCodewords) {
    // Parity of data 0x01 / 0x02 as tabulated in MMDVMHost's ENCODING_TABLE_2087 (entries
    // 0xB08E, 0xE093, stored nibble-swapped): 0x8EB, 0x93E.
    EXPECT_EQ(golay2087Encode(0x01), 0x018EBu);
    EXPECT_EQ(golay2087Encode(0x02), 0x0293Eu);
    EXPECT_EQ(golay2087Encode(0x00), 0u);
}

TEST(DmrGolay2087, EveryCodewordAndEveryPatternOfUpToThreeErrors) {
    unsigned min_weight = 99;
    for (unsigned d = 0; d < 256; ++d) {
        const std::uint32_t cw = golay2087Encode(static_cast<std::uint8_t>(d));
        ASSERT_EQ(cw >> 12, d);
        if (d != 0) {
            min_weight = std::min(min_weight, static_cast<unsigned>(std::popcount(cw)));
        }
        auto r = golay2087Decode(cw);
        ASSERT_TRUE(r.ok());
        EXPECT_EQ(r->data, d);
        EXPECT_EQ(r->corrected, 0u);
        for (unsigned a = 0; a < 20; ++a) {
            for (unsigned b = a; b < 20; ++b) {
                for (unsigned c = b; c < 20; ++c) {
                    std::uint32_t e = (1u << a) | (1u << b) | (1u << c);
                    auto rr = golay2087Decode(cw ^ e);
                    ASSERT_TRUE(rr.ok()) << d << " " << a << b << c;
                    ASSERT_EQ(rr->data, d);
                    ASSERT_EQ(rr->corrected, static_cast<unsigned>(std::popcount(e)));
                }
            }
        }
        // Four errors are always detected (minimum distance 8).
        auto four = golay2087Decode(cw ^ 0x0F000u);
        EXPECT_FALSE(four.ok());
    }
    EXPECT_EQ(min_weight, 8u);  // linear code: minimum distance = minimum weight
}

TEST(DmrQr1676, GoldenCodewords) {
    // MMDVMHost ENCODING_TABLE_1676 entries 1, 64 and 127.
    EXPECT_EQ(qr1676Encode(0x01), 0x0273);
    EXPECT_EQ(qr1676Encode(0x40), 0x804F);
    EXPECT_EQ(qr1676Encode(0x7F), 0xFE5B);
}

TEST(DmrQr1676, EveryCodewordAndEveryPatternOfUpToTwoErrors) {
    unsigned min_weight = 99;
    for (unsigned d = 0; d < 128; ++d) {
        const std::uint16_t cw = qr1676Encode(static_cast<std::uint8_t>(d));
        ASSERT_EQ(cw >> 9, d);
        if (d != 0) {
            min_weight = std::min(min_weight, static_cast<unsigned>(std::popcount(cw)));
        }
        auto r = qr1676Decode(cw);
        ASSERT_TRUE(r.ok());
        EXPECT_EQ(r->data, d);
        for (unsigned a = 0; a < 16; ++a) {
            for (unsigned b = a; b < 16; ++b) {
                const auto e = static_cast<std::uint16_t>((1u << a) | (1u << b));
                auto rr = qr1676Decode(static_cast<std::uint16_t>(cw ^ e));
                ASSERT_TRUE(rr.ok());
                ASSERT_EQ(rr->data, d);
            }
        }
        EXPECT_FALSE(qr1676Decode(static_cast<std::uint16_t>(cw ^ 0x0007)).ok());
    }
    EXPECT_EQ(min_weight, 6u);
}

template <int N, int K>
void exhaustiveHamming(void (*enc)(std::uint8_t*), int (*dec)(std::uint8_t*)) {
    for (unsigned v = 0; v < (1u << K); ++v) {
        std::uint8_t cw[N] = {};
        for (int i = 0; i < K; ++i) {
            cw[i] = (v >> i) & 1;
        }
        enc(cw);
        std::uint8_t t[N];
        std::copy(cw, cw + N, t);
        ASSERT_EQ(dec(t), 0);
        for (int bit = 0; bit < N; ++bit) {
            std::copy(cw, cw + N, t);
            t[bit] ^= 1;
            ASSERT_EQ(dec(t), 1) << "v=" << v << " bit=" << bit;
            ASSERT_TRUE(std::equal(cw, cw + N, t));
        }
    }
}

TEST(DmrHamming, EveryCodewordAndEverySingleErrorCorrected) {
    exhaustiveHamming<15, 11>(hamming15113Encode, hamming15113Decode);
    exhaustiveHamming<13, 9>(hamming1393Encode, hamming1393Decode);
    exhaustiveHamming<16, 11>(hamming16114Encode, hamming16114Decode);
}

TEST(DmrHamming, Hamming16114DetectsEveryDoubleError) {
    for (unsigned v = 0; v < 2048; v += 7) {
        std::uint8_t cw[16] = {};
        for (int i = 0; i < 11; ++i) {
            cw[i] = (v >> i) & 1;
        }
        hamming16114Encode(cw);
        for (int a = 0; a < 16; ++a) {
            for (int b = a + 1; b < 16; ++b) {
                std::uint8_t t[16];
                std::copy(cw, cw + 16, t);
                t[a] ^= 1;
                t[b] ^= 1;
                ASSERT_EQ(hamming16114Decode(t), -1);
            }
        }
    }
}

TEST(DmrBptc19696, RoundTripAndCorrection) {
    std::mt19937 rng(7);
    for (int n = 0; n < 300; ++n) {
        std::array<std::uint8_t, 12> info{};
        for (auto& b : info) {
            b = static_cast<std::uint8_t>(rng());
        }
        const Bits196 cw = bptc19696Encode(info);
        auto r = bptc19696Decode(cw);
        ASSERT_TRUE(r.ok());
        EXPECT_EQ(r->info, info);
        EXPECT_EQ(r->corrected, 0u);
        // Every single transmitted bit flipped is corrected (bit 0 of the matrix is the
        // reserved R(3), outside every code: flipping it changes nothing).
        for (std::size_t i = 0; i < 196; ++i) {
            Bits196 c = cw;
            c[i] ^= 1;
            auto rr = bptc19696Decode(c);
            ASSERT_TRUE(rr.ok()) << i;
            ASSERT_EQ(rr->info, info) << i;
        }
        // Three random errors: the iterated row/column decoding corrects them.
        Bits196 c = cw;
        for (int k = 0; k < 3; ++k) {
            c[rng() % 196] ^= 1;
        }
        auto r3 = bptc19696Decode(c);
        ASSERT_TRUE(r3.ok());
        EXPECT_EQ(r3->info, info);
    }
}

TEST(DmrBptc19696, EveryPairOfErrorsCorrected) {
    std::mt19937 rng(9);
    for (int n = 0; n < 3; ++n) {
        std::array<std::uint8_t, 12> info{};
        for (auto& b : info) {
            b = static_cast<std::uint8_t>(rng());
        }
        const Bits196 cw = bptc19696Encode(info);
        for (std::size_t a = 0; a < 196; ++a) {
            for (std::size_t b = a + 1; b < 196; ++b) {
                Bits196 c = cw;
                c[a] ^= 1;
                c[b] ^= 1;
                auto r = bptc19696Decode(c);
                ASSERT_TRUE(r.ok()) << a << " " << b;
                ASSERT_EQ(r->info, info) << a << " " << b;
            }
        }
    }
}

TEST(DmrBptc19696, DenseDamageIsReportedNotInvented) {
    std::array<std::uint8_t, 12> info{};
    Bits196 cw = bptc19696Encode(info);
    // A 2x2 square of errors in the matrix defeats both row and column codes.
    for (std::size_t m : {16u, 17u, 31u, 32u}) {
        cw[(m * 181) % 196] ^= 1;
    }
    auto r = bptc19696Decode(cw);
    if (r.ok()) {
        EXPECT_NE(r->info, info);  // if "corrected", the CRC layer above must catch it
    } else {
        EXPECT_EQ(r.error().reason, "bptc_uncorrectable");
    }
}

TEST(DmrRs129, EverySingleByteErrorCorrectedEveryDoubleDetected) {
    std::mt19937 rng(11);
    for (int n = 0; n < 20; ++n) {
        std::array<std::uint8_t, 12> cw{};
        for (std::size_t i = 0; i < 9; ++i) {
            cw[i] = static_cast<std::uint8_t>(rng());
        }
        const auto p = rs129Parity(ByteView(cw).first(9));
        std::copy(p.begin(), p.end(), cw.begin() + 9);
        auto ok = cw;
        ASSERT_TRUE(rs129Correct(ok).ok());
        EXPECT_EQ(*rs129Correct(ok), 0u);
        for (std::size_t pos = 0; pos < 12; ++pos) {
            for (unsigned e = 1; e < 256; ++e) {
                auto c = cw;
                c[pos] ^= static_cast<std::uint8_t>(e);
                auto r = rs129Correct(c);
                ASSERT_TRUE(r.ok()) << pos << " " << e;
                ASSERT_EQ(*r, 1u);
                ASSERT_EQ(c, cw);
            }
        }
        for (int k = 0; k < 500; ++k) {
            auto c = cw;
            const std::size_t a = rng() % 12;
            const std::size_t b = (a + 1 + rng() % 11) % 12;
            c[a] ^= static_cast<std::uint8_t>(1 + rng() % 255);
            c[b] ^= static_cast<std::uint8_t>(1 + rng() % 255);
            EXPECT_FALSE(rs129Correct(c).ok());
        }
    }
}

TEST(DmrEmbeddedLc, RoundTripSingleErrorsAndChecksum) {
    std::mt19937 rng(3);
    const std::array<std::uint8_t, 9> fixed = {0x00, 0x00, 0x40, 0x00, 0x00,
                                               0x5B, 0x2F, 0x9B, 0xE1};
    EXPECT_EQ(embeddedLcChecksum(fixed), (0x40 + 0x5B + 0x2F + 0x9B + 0xE1) % 31);
    for (int n = 0; n < 200; ++n) {
        std::array<std::uint8_t, 9> lc{};
        for (auto& b : lc) {
            b = static_cast<std::uint8_t>(rng());
        }
        const auto f = encodeEmbeddedLc(lc);
        auto r = decodeEmbeddedLc(f);
        ASSERT_TRUE(r.ok());
        EXPECT_EQ(r->lc, lc);
        for (std::size_t bit = 0; bit < 128; ++bit) {
            auto c = f;
            setBit(c[bit / 32], bit % 32, !getBit(c[bit / 32], bit % 32));
            auto rr = decodeEmbeddedLc(c);
            if (bit % 8 == 7) {
                // Row 7 is the column parity row: a flip there is detected, not corrected.
                EXPECT_FALSE(rr.ok());
            } else {
                ASSERT_TRUE(rr.ok()) << bit;
                EXPECT_EQ(rr->lc, lc);
            }
        }
    }
}

}  // namespace
}  // namespace iwf::lmr::dmr
