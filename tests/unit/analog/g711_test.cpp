// media/g711 (libspandsp's G.711) judged against an independent implementation: vectors
// generated with CPython 3.11's audioop (Sun's g711.c), committed in g711_vectors.inc by
// g711_vectors.py, which explains the one convention they differ in: how a negative 16-bit
// sample between two 14-bit µ-law steps is rounded, a choice G.711 leaves open.
#include "media/g711.hpp"

#include <gtest/gtest.h>

namespace iwf::media {
namespace {

struct G711Vector {
    std::int16_t input;
    std::uint8_t ulaw;
    std::uint8_t alaw;
};

#include "tests/unit/analog/g711_vectors.inc"

TEST(G711, ExpansionOfEveryCodeMatchesAudioop) {
    for (int c = 0; c < 256; ++c) {
        EXPECT_EQ(g711Expand(G711Law::Ulaw, static_cast<std::uint8_t>(c)), kUlawExpand[c]) << c;
        EXPECT_EQ(g711Expand(G711Law::Alaw, static_cast<std::uint8_t>(c)), kAlawExpand[c]) << c;
    }
    // Two facts of G.711 itself (Tables 1a and 2a): A-law's even bits are inverted on the
    // line (0xD5 is the smallest positive value), µ-law's whole code is (0xFF: +0).
    EXPECT_EQ(g711Expand(G711Law::Ulaw, 0xFF), 0);
    EXPECT_EQ(g711Expand(G711Law::Alaw, 0xD5), 8);
}

TEST(G711, CompressionMatchesAudioop) {
    std::size_t n = 0;
    for (const auto& v : kG711Vectors) {
        EXPECT_EQ(g711Compress(G711Law::Ulaw, v.input), v.ulaw) << "u-law of " << v.input;
        EXPECT_EQ(g711Compress(G711Law::Alaw, v.input), v.alaw) << "A-law of " << v.input;
        ++n;
    }
    EXPECT_GT(n, 1000u);
}

TEST(G711, SpansAndRoundTripOfDecodedValues) {
    // A decoded value is a reconstruction level: compressing it gives its code back (µ-law's
    // -0, 0x7F, comes back as +0, 0xFF).
    for (int c = 0; c < 256; ++c) {
        const auto code = static_cast<std::uint8_t>(c);
        const std::uint8_t u = g711Compress(G711Law::Ulaw, g711Expand(G711Law::Ulaw, code));
        EXPECT_EQ(u, code == 0x7F ? 0xFF : code) << c;
        EXPECT_EQ(g711Compress(G711Law::Alaw, g711Expand(G711Law::Alaw, code)), code) << c;
    }
    const std::int16_t in[3] = {0, 1000, -1000};
    std::uint8_t out[2];
    EXPECT_EQ(g711Encode(G711Law::Alaw, in, out), 2u);  // bounded by the shorter span
    std::int16_t back[3] = {1, 1, 1};
    EXPECT_EQ(g711Decode(G711Law::Alaw, out, back), 2u);
    EXPECT_EQ(back[2], 1);
    EXPECT_EQ(g711Name(G711Law::Ulaw), "pcmu");
    EXPECT_EQ(g711Name(G711Law::Alaw), "pcma");
}

}  // namespace
}  // namespace iwf::media
