// The analogue speech path end to end at unit level: 8 kHz PCM -> 16 kHz -> AMR-WB ->
// 16 kHz -> 8 kHz, with the real libraries (libspeexdsp, libvo-amrwbenc, libopencore-amrwb),
// on the harness's test signals, judged by its measurements (delay, level, segmental SNR:
// harness/sim/analog_signal.hpp says how each is computed and why). The thresholds below are
// floors that catch a broken path (wrong byte order, wrong sample rate, a frame misaligned, a
// resampler run at the wrong ratio: each gives ~0 dB or less), set a few dB under what the
// libraries measure here (printed by the test), not a listening-quality score.
#include "media/speech.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <ostream>
#include <vector>

#include <gtest/gtest.h>

#include "harness/sim/analog_signal.hpp"

namespace iwf::media {
namespace {

using harness::analogFrameLevel;
using harness::MeasureOptions;
using Measured = harness::SignalMeasure;

std::vector<std::int16_t> tone(double hz, double amplitude, int frames) {
    return harness::analogTone(hz, amplitude, frames);
}
std::vector<std::int16_t> speechLike(int frames) {
    return harness::analogSpeechLike(frames);
}
Measured measure(const std::vector<std::int16_t>& in, const std::vector<std::int16_t>& out,
                 int delay = -1) {
    MeasureOptions opt;
    opt.delay = delay;
    return harness::measureSignal(in, out, opt);
}

// Runs the signal through both directions; frames for which lost(i) is true never reach
// the decoder (concealed, or replaced by silence when zero_fill).
template <typename Lost>
std::vector<std::int16_t> roundTrip(const std::vector<std::int16_t>& in, AmrWbMode mode, Lost lost,
                                    bool zero_fill = false) {
    auto up = NbToAmrWb::create(mode);
    auto down = AmrWbToNb::create();
    EXPECT_TRUE(up.ok() && down.ok());
    std::vector<std::int16_t> out(in.size() + 480, 0);
    const std::size_t frames = in.size() / kNbFrameSamples;
    for (std::size_t f = 0; f < frames; ++f) {
        NbFrame nb;
        std::copy_n(in.begin() + static_cast<std::ptrdiff_t>(f * kNbFrameSamples), kNbFrameSamples,
                    nb.begin());
        auto amr = (*up)->process(nb);
        EXPECT_TRUE(amr.ok());
        EXPECT_EQ(amr->ft, static_cast<std::uint8_t>(mode));
        NbFrame dec{};
        if (!lost(f)) {
            (*down)->process(*amr, dec);
        } else if (!zero_fill) {
            (*down)->conceal(dec);
        } else {
            dec.fill(0);  // the gap left silent; the decoder sees the next frame as usual
        }
        std::copy(dec.begin(), dec.end(),
                  out.begin() + static_cast<std::ptrdiff_t>(f * kNbFrameSamples));
    }
    return out;
}

const auto kNoLoss = [](std::size_t) { return false; };

struct Case {
    const char* name;
    AmrWbMode mode;
    double min_seg_snr_tone;
    double min_seg_snr_speech;
};

void PrintTo(const Case& c, std::ostream* os) {
    *os << "AMR-WB " << c.name;
}

class SpeechPath : public ::testing::TestWithParam<Case> {};

void report(const char* mode, const char* what, const Measured& m) {
    std::printf(
        "[ measure  ] AMR-WB %s %s: delay %d samples (%.2f ms), level %+.2f dB, "
        "segSNR %.1f dB\n",
        mode, what, m.delay, m.delay / 8.0, m.level_db, m.seg_snr);
}

TEST_P(SpeechPath, ToneAndSpeechKeepLevelAndWaveform) {
    const Case c = GetParam();
    auto speech = speechLike(150);
    const Measured ms = measure(speech, roundTrip(speech, c.mode, kNoLoss));
    report(c.name, "speech-like", ms);
    auto sine = tone(1000, 8000, 150);
    const Measured mt = measure(sine, roundTrip(sine, c.mode, kNoLoss), ms.delay);
    report(c.name, "1 kHz tone", mt);
    EXPECT_NEAR(ms.level_db, 0.0, 1.0);
    EXPECT_NEAR(mt.level_db, 0.0, 1.0);
    EXPECT_GE(ms.seg_snr, c.min_seg_snr_speech);
    EXPECT_GE(mt.seg_snr, c.min_seg_snr_tone);
    // Delay: two resampler filters (6 ms) and the codec's 5 ms look-ahead; a frame lost or
    // doubled in the path would show as 20 ms more.
    EXPECT_LT(ms.delay, 120);
}

// 3 % of the frames lost (a fixed pseudo-random pattern). Judged on what concealment is
// for: the lost frames are filled at about the right level (mean within 6 dB, where leaving
// them silent measures -40 dB), the waveform around them is closer than with silence, and the
// overall level stays within 1 dB.
TEST_P(SpeechPath, ConcealsThreePercentLoss) {
    const Case c = GetParam();
    auto speech = speechLike(300);
    double peak = 0;
    for (std::size_t f = 0; f < 300; ++f) {
        double e = 0;
        for (std::size_t i = f * kNbFrameSamples; i < (f + 1) * kNbFrameSamples; ++i) {
            e += double(speech[i]) * speech[i];
        }
        peak = std::max(peak, e);
    }
    std::vector<bool> lost(300, false);
    std::uint32_t x = 12345;  // LCG of Numerical Recipes: the same pattern on every platform
    for (std::size_t f = 25; f < lost.size() - 3; ++f) {
        x = x * 1664525u + 1013904223u;
        if ((x >> 8) % 1000 < 30) {
            lost[f] = true;
        }
    }
    const Measured clean = measure(speech, roundTrip(speech, c.mode, kNoLoss));
    auto is_lost = [&](std::size_t f) { return lost[f]; };
    auto concealed_out = roundTrip(speech, c.mode, is_lost);
    auto silent_out = roundTrip(speech, c.mode, is_lost, true);
    const Measured concealed = measure(speech, concealed_out, clean.delay);
    const Measured silence = measure(speech, silent_out, clean.delay);
    double sum_c = 0, sum_s = 0;
    int n = 0;
    for (std::size_t f = 0; f < lost.size(); ++f) {
        double e = 0;
        for (std::size_t i = f * kNbFrameSamples; i < (f + 1) * kNbFrameSamples; ++i) {
            e += double(speech[i]) * speech[i];
        }
        if (!lost[f] || e < peak * 0.01) {
            continue;  // judge only frames lost in the middle of a syllable
        }
        sum_c += analogFrameLevel(speech, concealed_out, f, clean.delay);
        sum_s += analogFrameLevel(speech, silent_out, f, clean.delay);
        ++n;
    }
    ASSERT_GE(n, 2) << "the loss pattern must hit voiced frames";
    std::printf(
        "[ measure  ] AMR-WB %s, 3 %% loss (%d lost frames in syllables): level in "
        "lost frames %.1f dB concealed / %.1f dB silent; segSNR %.1f dB concealed, "
        "%.1f dB silent, %.1f dB without loss; overall level %+.2f dB\n",
        c.name, n, sum_c / n, sum_s / n, concealed.seg_snr, silence.seg_snr, clean.seg_snr,
        concealed.level_db);
    EXPECT_GT(sum_c / n, -6.0);
    EXPECT_GT(concealed.seg_snr, silence.seg_snr);
    EXPECT_NEAR(concealed.level_db, 0.0, 1.0);
}

// A burst of six lost frames in a syllable: the first ones are filled, the later ones muted
// (repeating the last frame for ever would turn a gap into a stuck tone).
TEST_P(SpeechPath, LongLossBurstIsMuted) {
    const Case c = GetParam();
    auto sine = tone(440, 8000, 80);
    const std::size_t first = 40;
    auto in_burst = [&](std::size_t f) { return f >= first && f < first + 6; };
    const int delay = measure(speechLike(150), roundTrip(speechLike(150), c.mode, kNoLoss)).delay;
    auto out = roundTrip(sine, c.mode, in_burst);
    const double l0 = analogFrameLevel(sine, out, first, delay);
    const double l5 = analogFrameLevel(sine, out, first + 5, delay);
    std::printf("[ measure  ] AMR-WB %s, 6 lost in a row: first %.1f dB, sixth %.1f dB\n", c.name,
                l0, l5);
    EXPECT_GT(l0, -6.0);
    EXPECT_LT(l5, -20.0);
}

INSTANTIATE_TEST_SUITE_P(AmrWb, SpeechPath,
                         ::testing::Values(Case{"12.65", AmrWbMode::R12_65, 7.0, 6.0},
                                           Case{"23.85", AmrWbMode::R23_85, 7.0, 6.0}),
                         [](const auto& param_info) {
                             return std::string(
                                 param_info.param.mode == AmrWbMode::R12_65 ? "R12_65" : "R23_85");
                         });

}  // namespace
}  // namespace iwf::media
