// The analogue speech path end to end at unit level: 8 kHz PCM -> 16 kHz -> AMR-WB ->
// 16 kHz -> 8 kHz, with the real libraries (libspeexdsp, libvo-amrwbenc, libopencore-amrwb),
// on signals this file generates, judged by measurements this file computes:
//   delay    the lag (0..60 ms) that maximises the normalised cross-correlation of input
//            and output;
//   level    RMS of the output against RMS of the input over the same (delay-aligned)
//            samples, in dB: within +-1 dB (the requirement);
//   segSNR   mean over 20 ms segments of 10 log10(signal / error energy), each segment
//            clamped to [-10, 35] dB (the usual segmental SNR convention, so that one silent
//            or one perfect segment cannot dominate); segments of the input more than 40 dB
//            below its peak segment are skipped.
// AMR-WB is a CELP codec: it keeps the spectrum envelope and pitch, not the waveform, so a
// waveform SNR is low even where it sounds good. The thresholds below are therefore floors
// that catch a broken path (wrong byte order, wrong sample rate, a frame misaligned, a
// resampler run at the wrong ratio: each gives ~0 dB or less), set a few dB under what
// the libraries measure here (printed by the test), not a listening-quality score.
#include "media/speech.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <ostream>
#include <vector>

#include <gtest/gtest.h>

namespace iwf::media {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr int kRate = 8000;

std::vector<std::int16_t> tone(double hz, double amplitude, int frames) {
    std::vector<std::int16_t> s(static_cast<std::size_t>(frames) * kNbFrameSamples);
    for (std::size_t i = 0; i < s.size(); ++i) {
        s[i] = static_cast<std::int16_t>(amplitude * std::sin(2 * kPi * hz * i / kRate));
    }
    return s;
}

// A voiced-speech-like signal: a glottal-like harmonic series (1/k roll-off) on a pitch that
// glides between 110 and 180 Hz, shaped by three formant peaks (700, 1200, 2600 Hz), in
// syllables: a 3 Hz envelope that is silent half of the time (pauses matter: a CELP
// decoder's state error after a lost frame propagates through voiced speech and ends in a
// pause, so a signal without pauses would measure the decoder, not the concealment).
std::vector<std::int16_t> speechLike(int frames) {
    std::vector<std::int16_t> s(static_cast<std::size_t>(frames) * kNbFrameSamples);
    double phase = 0;
    auto formant = [](double f) {
        auto peak = [f](double c, double bw) { return 1.0 / (1.0 + std::pow((f - c) / bw, 2)); };
        return 0.2 + peak(700, 150) + 0.7 * peak(1200, 200) + 0.4 * peak(2600, 300);
    };
    for (std::size_t i = 0; i < s.size(); ++i) {
        const double t = static_cast<double>(i) / kRate;
        const double f0 = 145 + 35 * std::sin(2 * kPi * 1.3 * t);
        phase += 2 * kPi * f0 / kRate;
        double v = 0;
        for (int k = 1; k * f0 < 3400; ++k) {
            v += formant(k * f0) / k * std::sin(k * phase);
        }
        const double env = std::max(0.0, std::sin(2 * kPi * 3 * t));
        s[i] = static_cast<std::int16_t>(3000 * env * v);
    }
    return s;
}

struct Measured {
    int delay = 0;
    double level_db = 0;
    double seg_snr = 0;
};

// delay < 0: search it; otherwise use it (a pure tone's correlation repeats every period,
// so its delay is taken from the speech-like run through the same path).
Measured measure(const std::vector<std::int16_t>& in, const std::vector<std::int16_t>& out,
                 int delay = -1) {
    const std::size_t skip = 20 * kNbFrameSamples;  // 400 ms: codec and filters settle
    const std::size_t len = in.size() - skip - 480;
    Measured m;
    m.delay = delay;
    double best = -1;
    for (int lag = 0; delay < 0 && lag <= 480; ++lag) {
        double xy = 0, yy = 0, xx = 0;
        // 0.5 s is plenty to find the lag, and a quarter of the cost of the whole signal.
        for (std::size_t i = skip; i < skip + std::min<std::size_t>(len, 4000); ++i) {
            xy += double(in[i]) * out[i + lag];
            yy += double(out[i + lag]) * out[i + lag];
            xx += double(in[i]) * in[i];
        }
        const double c = xy / std::sqrt(xx * yy + 1e-9);
        if (c > best) {
            best = c;
            m.delay = lag;
        }
    }
    double ex = 0, ey = 0;
    for (std::size_t i = skip; i < skip + len; ++i) {
        ex += double(in[i]) * in[i];
        ey += double(out[i + m.delay]) * out[i + m.delay];
    }
    m.level_db = 10 * std::log10(ey / ex);
    double peak = 0;
    std::vector<std::pair<double, double>> segs;
    for (std::size_t s = skip; s + kNbFrameSamples <= skip + len; s += kNbFrameSamples) {
        double sig = 0, err = 0;
        for (std::size_t i = s; i < s + kNbFrameSamples; ++i) {
            const double e = double(in[i]) - out[i + m.delay];
            sig += double(in[i]) * in[i];
            err += e * e;
        }
        segs.emplace_back(sig, err);
        peak = std::max(peak, sig);
    }
    double sum = 0;
    int n = 0;
    for (auto [sig, err] : segs) {
        if (sig < peak * 1e-4) {
            continue;
        }
        sum += std::clamp(10 * std::log10(sig / (err + 1e-9)), -10.0, 35.0);
        ++n;
    }
    m.seg_snr = n ? sum / n : -10;
    return m;
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

// Level of decoded frame f (output samples f*160 .. f*160+159) against the input samples it
// carries (delay earlier), in dB, floored at -40.
double frameLevel(const std::vector<std::int16_t>& in, const std::vector<std::int16_t>& out,
                  std::size_t f, int delay) {
    double a = 0, b = 0;
    for (std::size_t i = f * kNbFrameSamples; i < (f + 1) * kNbFrameSamples; ++i) {
        a += double(in[i - delay]) * in[i - delay];
        b += double(out[i]) * out[i];
    }
    return std::max(-40.0, 10 * std::log10((b + 1e-9) / (a + 1e-9)));
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
        sum_c += frameLevel(speech, concealed_out, f, clean.delay);
        sum_s += frameLevel(speech, silent_out, f, clean.delay);
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
    const double l0 = frameLevel(sine, out, first, delay);
    const double l5 = frameLevel(sine, out, first + 5, delay);
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
