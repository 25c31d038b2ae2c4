// The harness's analogue radio (harness/sim/analog_radio.hpp), judged by outside facts:
// µ-law against CPython 3.11 audioop's tables (tests/unit/analog/g711_vectors.inc), the USRP
// and RTP datagrams at the offsets of chan_usrp.c struct _chan_usrp_bufhdr and RFC 3550 5.1.
#include "harness/sim/analog_radio.hpp"

#include <cstdlib>

#include <gtest/gtest.h>

namespace iwf::harness {
namespace {

struct G711Vector {
    std::int16_t input;
    std::uint8_t ulaw;
    std::uint8_t alaw;
};

#include "tests/unit/analog/g711_vectors.inc"

TEST(AnalogRadioUlaw, ExpandsEveryCodeAsAudioop) {
    for (int c = 0; c < 256; ++c) {
        EXPECT_EQ(ulawDecode(static_cast<std::uint8_t>(c)), kUlawExpand[c]) << c;
    }
}

// audioop and the G.711 reference round a sample between two steps differently for some
// negative inputs (docs/protocols/analog-rtp.md): ours must pick audioop's code or one whose
// expansion is no farther from the input.
TEST(AnalogRadioUlaw, CompressesToTheNearestStep) {
    int same = 0;
    for (const auto& v : kG711Vectors) {
        const std::uint8_t ours = ulawEncode(v.input);
        same += ours == v.ulaw ? 1 : 0;
        EXPECT_LE(std::abs(kUlawExpand[ours] - v.input), std::abs(kUlawExpand[v.ulaw] - v.input))
            << v.input;
    }
    EXPECT_GT(same, static_cast<int>(std::size(kG711Vectors)) * 9 / 10);
}

TEST(AnalogRadio, UsrpVoiceAtChanUsrpOffsets) {
    std::int16_t pcm[160];
    for (int i = 0; i < 160; ++i) {
        pcm[i] = static_cast<std::int16_t>(i * 100 - 8000);
    }
    const Bytes d = analogRadioFrame(AnalogFlavour::Usrp, 6, pcm, 5);
    ASSERT_EQ(d.size(), 32u + 320u);
    EXPECT_EQ(Bytes(d.begin(), d.begin() + 24),
              (Bytes{'U', 'S', 'R', 'P', 0, 0, 0, 7, 0, 0, 0, 0,
                     0,   0,   0,   1,   0, 0, 0, 5, 0, 0, 0, 0}));  // eye, seq 7, memory, keyup 1,
                                                                     // talkgroup 5, type 0 (voice)
    auto back = analogRadioRead(AnalogFlavour::Usrp, d);
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(std::vector<std::int16_t>(pcm, pcm + 160), *back);
    const auto unkey = analogRadioUnkey(AnalogFlavour::Usrp, 10);
    ASSERT_TRUE(unkey.has_value());
    EXPECT_EQ(*unkey, (Bytes{'U', 'S', 'R', 'P', 0, 0, 0, 11, 0, 0, 0, 0, 0, 0, 0, 0,
                             0,   0,   0,   0,   0, 0, 0, 0,  0, 0, 0, 0, 0, 0, 0, 0}));
    EXPECT_FALSE(analogRadioRead(AnalogFlavour::Usrp, *unkey).has_value());
}

TEST(AnalogRadio, RtpPcmuHeaderAndMarker) {
    std::int16_t pcm[160] = {};
    const Bytes first = analogRadioFrame(AnalogFlavour::Rtp, 0, pcm, 5);
    const Bytes second = analogRadioFrame(AnalogFlavour::Rtp, 1, pcm, 5);
    ASSERT_EQ(first.size(), 12u + 160u);
    EXPECT_EQ(first[0], 0x80);   // V 2
    EXPECT_EQ(first[1], 0x80);   // M, PT 0
    EXPECT_EQ(second[1], 0x00);  // no marker after the first
    EXPECT_EQ((second[2] << 8 | second[3]) - (first[2] << 8 | first[3]), 1);
    EXPECT_EQ(second[7] - first[7], 160);  // timestamp + 160 per 20 ms
    EXPECT_EQ(first[12], 0xFF);            // µ-law of 0
    EXPECT_FALSE(analogRadioUnkey(AnalogFlavour::Rtp, 1).has_value());
    EXPECT_TRUE(analogRadioRead(AnalogFlavour::Rtp, first).has_value());
}

}  // namespace
}  // namespace iwf::harness
