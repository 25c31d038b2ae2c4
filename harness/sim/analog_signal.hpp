#pragma once
// Test signals for the analogue speech path and what is measured on them (issue #19):
//
//   signals  a sine tone, and a voiced-speech-like signal: a harmonic series (1/k roll-off)
//            on a pitch gliding between 110 and 180 Hz, shaped by three formant peaks
//            (700, 1200, 2600 Hz), in syllables (a 3 Hz envelope, silent half of the time:
//            a CELP decoder's error after a lost frame propagates through voiced speech and
//            ends in a pause, so a signal without pauses would measure the decoder, not the
//            concealment). 8 kHz, 16-bit, generated here so a run needs no audio files.
//   delay    the lag (0..max_lag samples) that maximises the normalised cross-correlation of
//            input and output (over 0.5 s after the settling time);
//   level    RMS of the output against RMS of the input over the same, delay-aligned,
//            samples, in dB (the issue asks for +-1 dB);
//   segSNR   mean over 20 ms segments of 10 log10(signal / error energy), each segment
//            clamped to [-10, 35] dB (the usual convention, so one silent or one perfect
//            segment cannot dominate); input segments more than 40 dB below the loudest are
//            skipped.
// Why segmental SNR: no PESQ / POLQA / ViSQOL implementation is packaged in Debian 12, and a
// waveform measure computed here needs no model. AMR-WB is a CELP codec (it keeps spectrum
// envelope and pitch, not the waveform), so the values are low for good-sounding speech;
// they are floors that catch a broken path (wrong byte order, sample rate or frame
// alignment, a lost or doubled frame: each gives about 0 dB or less), not a listening score.
//
// Used by tests/unit/analog/speech_test.cpp and the harness's analogue scenarios.
#include <cstdint>
#include <vector>

namespace iwf::harness {

inline constexpr int kAnalogRate = 8000;
inline constexpr std::size_t kAnalogFrameSamples = 160;  // 20 ms

// `frames` x 20 ms of a sine tone.
std::vector<std::int16_t> analogTone(double hz, double amplitude, int frames);
// `frames` x 20 ms of the speech-like signal, peak amplitude about `scale` x 1.8.
std::vector<std::int16_t> analogSpeechLike(int frames, double scale = 3000);

struct SignalMeasure {
    int delay = 0;  // samples
    double level_db = 0;
    double seg_snr = 0;  // dB
};

struct MeasureOptions {
    std::size_t skip = 20 * kAnalogFrameSamples;  // 400 ms: codec and filters settle
    int max_lag = 480;                            // 60 ms
    int delay = -1;  // >= 0: use this delay (a tone's correlation repeats every period)
};

// `out` must hold at least in.size() + max_lag (or + delay) samples.
SignalMeasure measureSignal(const std::vector<std::int16_t>& in,
                            const std::vector<std::int16_t>& out, const MeasureOptions& opt = {});

// Level (dB, floored at -40) of output frame f against the input frame it carries (`delay`
// samples earlier).
double analogFrameLevel(const std::vector<std::int16_t>& in, const std::vector<std::int16_t>& out,
                        std::size_t f, int delay);

}  // namespace iwf::harness
