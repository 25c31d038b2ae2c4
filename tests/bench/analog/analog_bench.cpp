// CPU and memory of one transcoded analogue <-> MCPTT stream (media/speech.hpp).
#include <cmath>
#include <malloc.h>
#include <vector>

#include <benchmark/benchmark.h>

#include "media/speech.hpp"

namespace {

using namespace iwf::media;

// A speech-like 8 kHz signal (harmonics of a gliding pitch), 1 s, looped.
std::vector<NbFrame> input() {
    std::vector<NbFrame> frames(50);
    double phase = 0;
    for (std::size_t f = 0; f < frames.size(); ++f) {
        for (std::size_t i = 0; i < kNbFrameSamples; ++i) {
            const double t = static_cast<double>(f * kNbFrameSamples + i) / 8000;
            const double f0 = 145 + 35 * std::sin(2 * 3.14159265 * 1.3 * t);
            phase += 2 * 3.14159265 * f0 / 8000;
            double v = 0;
            for (int k = 1; k * f0 < 3400; ++k) {
                v += std::sin(k * phase) / k;
            }
            frames[f][i] = static_cast<std::int16_t>(3000 * v);
        }
    }
    return frames;
}

// One 20 ms frame through both directions of a stream: what a transcoded call costs per
// frame period (a stream that only talks one way at a time costs about half).
void BM_TranscodeFrameBothWays(benchmark::State& state) {
    auto up = NbToAmrWb::create(static_cast<AmrWbMode>(state.range(0)));
    auto down = AmrWbToNb::create();
    if (!up || !down) {
        state.SkipWithError("create failed");
        return;
    }
    const auto frames = input();
    std::size_t i = 0;
    NbFrame out{};
    for (auto _ : state) {
        auto amr = (*up)->process(frames[i++ % frames.size()]);
        (*down)->process(*amr, out);
        benchmark::DoNotOptimize(out);
    }
    state.counters["streams_per_core"] =
        benchmark::Counter(state.iterations() * 0.020, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_TranscodeFrameBothWays)->Arg(2)->Arg(8)->ArgName("mode");

// One direction at a time: a PTT call has one talker, so only one of these runs per frame
// period (analogue talker: encode; MC talker: decode).
void BM_EncodeDirection(benchmark::State& state) {
    auto up = NbToAmrWb::create(static_cast<AmrWbMode>(state.range(0)));
    if (!up) {
        state.SkipWithError("create failed");
        return;
    }
    const auto frames = input();
    std::size_t i = 0;
    for (auto _ : state) {
        auto amr = (*up)->process(frames[i++ % frames.size()]);
        benchmark::DoNotOptimize(amr);
    }
}
BENCHMARK(BM_EncodeDirection)->Arg(2)->Arg(8)->ArgName("mode");

void BM_DecodeDirection(benchmark::State& state) {
    auto up = NbToAmrWb::create(static_cast<AmrWbMode>(state.range(0)));
    auto down = AmrWbToNb::create();
    if (!up || !down) {
        state.SkipWithError("create failed");
        return;
    }
    const auto frames = input();
    std::vector<AmrFrame> coded;
    for (const auto& f : frames) {
        coded.push_back(*(*up)->process(f));
    }
    std::size_t i = 0;
    NbFrame out{};
    for (auto _ : state) {
        (*down)->process(coded[i++ % coded.size()], out);
        benchmark::DoNotOptimize(out);
    }
}
BENCHMARK(BM_DecodeDirection)->Arg(2)->Arg(8)->ArgName("mode");

// Heap held by one stream (both directions and a jitter buffer), from mallinfo2.
void BM_StreamMemory(benchmark::State& state) {
    std::size_t bytes = 0;
    for (auto _ : state) {
        const auto before = mallinfo2().uordblks;
        auto up = NbToAmrWb::create(AmrWbMode::R12_65);
        auto down = AmrWbToNb::create();
        auto jb = JitterBuffer::create(160);
        bytes = mallinfo2().uordblks - before;
        benchmark::DoNotOptimize(up);
    }
    state.counters["bytes_per_stream"] = static_cast<double>(bytes);
}
BENCHMARK(BM_StreamMemory)->Iterations(20);

}  // namespace

BENCHMARK_MAIN();
