// Cost of the load generator's own per-frame work (build a frame with the project codecs,
// book-keep it, decode it back, match it), so that generator overhead is a known number.
#include <benchmark/benchmark.h>

#include "tests/bench/load/dmr_shape.hpp"
#include "tests/bench/load/load_book.hpp"
#include "tests/bench/load/stream_source.hpp"

namespace {

using iwf::bench::StreamKind;

void buildFrame(benchmark::State& state, StreamKind kind) {
    iwf::bench::StreamSource src(kind, 7);
    iwf::Bytes buf;
    std::uint64_t seq = 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(src.build(seq++, buf));
    }
}

void extractFrame(benchmark::State& state, StreamKind kind) {
    iwf::bench::StreamSource src(kind, 7);
    iwf::Bytes buf;
    src.build(3, buf);
    for (auto _ : state) {
        benchmark::DoNotOptimize(iwf::bench::extractFrame(kind, buf));
    }
}

// One voice burst of an encrypted DMR call in the HBP-master shape (random vocoder bytes,
// burst joined with its sync / EMB, DMRD encoded, digests of vocoder and burst).
void dmrCallVoice(benchmark::State& state) {
    iwf::bench::DmrCallSource src(7);
    iwf::Bytes buf;
    std::uint64_t seq = 0;
    std::uint32_t burst_digest = 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(src.voice(seq++, buf, &burst_digest));
    }
}

void dmrCallStart(benchmark::State& state) {
    iwf::bench::DmrCallSource src(7);
    iwf::Bytes lc;
    iwf::Bytes pi;
    for (auto _ : state) {
        src.callStart(lc, pi);
        benchmark::DoNotOptimize(pi.data());
    }
}

void bookRoundTrip(benchmark::State& state) {
    const std::size_t streams = 1000;
    iwf::bench::LoadBook book(std::vector<std::uint8_t>(streams, 18));
    book.setWindow(0, 1);  // keep latencies out of the window: no vector growth in the loop
    std::uint64_t seq = 0;
    std::int64_t t = 10;
    for (auto _ : state) {
        const std::size_t s = seq % streams;
        const std::uint64_t frame = seq / streams;
        book.noteSent(s, frame, t, 1);
        benchmark::DoNotOptimize(
            book.noteReceived(s, static_cast<std::uint8_t>(frame % 18), t + 5, 1));
        ++seq;
        ++t;
    }
}

}  // namespace

BENCHMARK_CAPTURE(buildFrame, p25, StreamKind::P25);
BENCHMARK_CAPTURE(buildFrame, dmr, StreamKind::Dmr);
BENCHMARK_CAPTURE(extractFrame, p25, StreamKind::P25);
BENCHMARK_CAPTURE(extractFrame, dmr, StreamKind::Dmr);
BENCHMARK(dmrCallVoice);
BENCHMARK(dmrCallStart);
BENCHMARK(bookRoundTrip);
BENCHMARK_MAIN();
