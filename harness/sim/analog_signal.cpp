#include "harness/sim/analog_signal.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

namespace iwf::harness {

namespace {
constexpr double kAnalogSignalPi = 3.14159265358979323846;
}  // namespace

std::vector<std::int16_t> analogTone(double hz, double amplitude, int frames) {
    std::vector<std::int16_t> s(static_cast<std::size_t>(frames) * kAnalogFrameSamples);
    for (std::size_t i = 0; i < s.size(); ++i) {
        s[i] = static_cast<std::int16_t>(amplitude *
                                         std::sin(2 * kAnalogSignalPi * hz * i / kAnalogRate));
    }
    return s;
}

std::vector<std::int16_t> analogSpeechLike(int frames, double scale) {
    std::vector<std::int16_t> s(static_cast<std::size_t>(frames) * kAnalogFrameSamples);
    double phase = 0;
    auto formant = [](double f) {
        auto peak = [f](double c, double bw) { return 1.0 / (1.0 + std::pow((f - c) / bw, 2)); };
        return 0.2 + peak(700, 150) + 0.7 * peak(1200, 200) + 0.4 * peak(2600, 300);
    };
    for (std::size_t i = 0; i < s.size(); ++i) {
        const double t = static_cast<double>(i) / kAnalogRate;
        const double f0 = 145 + 35 * std::sin(2 * kAnalogSignalPi * 1.3 * t);
        phase += 2 * kAnalogSignalPi * f0 / kAnalogRate;
        double v = 0;
        for (int k = 1; k * f0 < 3400; ++k) {
            v += formant(k * f0) / k * std::sin(k * phase);
        }
        const double env = std::max(0.0, std::sin(2 * kAnalogSignalPi * 3 * t));
        s[i] = static_cast<std::int16_t>(scale * env * v);
    }
    return s;
}

SignalMeasure measureSignal(const std::vector<std::int16_t>& in,
                            const std::vector<std::int16_t>& out, const MeasureOptions& opt) {
    SignalMeasure m;
    const int max_lag = opt.delay >= 0 ? opt.delay : opt.max_lag;
    if (in.size() <= opt.skip + static_cast<std::size_t>(max_lag) ||
        out.size() < in.size() + static_cast<std::size_t>(max_lag)) {
        m.level_db = -100;
        m.seg_snr = -10;
        return m;
    }
    const std::size_t len = in.size() - opt.skip - static_cast<std::size_t>(max_lag);
    m.delay = opt.delay;
    double best = -1;
    for (int lag = 0; opt.delay < 0 && lag <= opt.max_lag; ++lag) {
        double xy = 0, yy = 0, xx = 0;
        // 0.5 s is plenty to find the lag, and a fraction of the cost of the whole signal.
        for (std::size_t i = opt.skip; i < opt.skip + std::min<std::size_t>(len, 4000); ++i) {
            const double y = out[i + static_cast<std::size_t>(lag)];
            xy += double(in[i]) * y;
            yy += y * y;
            xx += double(in[i]) * in[i];
        }
        const double c = xy / std::sqrt(xx * yy + 1e-9);
        if (c > best) {
            best = c;
            m.delay = lag;
        }
    }
    const auto d = static_cast<std::size_t>(m.delay);
    double ex = 0, ey = 0;
    for (std::size_t i = opt.skip; i < opt.skip + len; ++i) {
        ex += double(in[i]) * in[i];
        ey += double(out[i + d]) * out[i + d];
    }
    m.level_db = 10 * std::log10((ey + 1e-9) / (ex + 1e-9));
    double peak = 0;
    std::vector<std::pair<double, double>> segs;
    for (std::size_t s = opt.skip; s + kAnalogFrameSamples <= opt.skip + len;
         s += kAnalogFrameSamples) {
        double sig = 0, err = 0;
        for (std::size_t i = s; i < s + kAnalogFrameSamples; ++i) {
            const double e = double(in[i]) - out[i + d];
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
    m.seg_snr = n != 0 ? sum / n : -10;
    return m;
}

double analogFrameLevel(const std::vector<std::int16_t>& in, const std::vector<std::int16_t>& out,
                        std::size_t f, int delay) {
    double a = 0, b = 0;
    for (std::size_t i = f * kAnalogFrameSamples; i < (f + 1) * kAnalogFrameSamples; ++i) {
        const std::size_t j = i - static_cast<std::size_t>(delay);
        a += double(in[j]) * in[j];
        b += double(out[i]) * out[i];
    }
    return std::max(-40.0, 10 * std::log10((b + 1e-9) / (a + 1e-9)));
}

}  // namespace iwf::harness
