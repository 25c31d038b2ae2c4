// ns per DMRD packet: wire decode + burst metadata + stream decoder (events) + encoder +
// wire encode, over the hand-assembled encrypted call (LC headers, PI header, voice A..F,
// terminator). Also the pieces alone, to see where the time goes.
#include <benchmark/benchmark.h>

#include "lmr_adapters/dmr/calls.hpp"
#include "lmr_adapters/dmr/dmrd.hpp"
#include "tests/unit/lmr_dmr/superframe.hpp"

namespace {

using namespace iwf;
using namespace iwf::lmr::dmr;

std::vector<Bytes> callWire() {
    std::vector<Bytes> out;
    for (const auto& p : testdata::encryptedCall(3)) {
        out.push_back(encodeDmrd(p));
    }
    return out;
}

void BM_DmrdDecodeEncode(benchmark::State& state) {
    const auto wire = callWire();
    Bytes out;
    for (auto _ : state) {
        for (const auto& w : wire) {
            auto p = decodeDmrd(w);
            out.clear();
            encodeDmrd(*p, out);
            benchmark::DoNotOptimize(out.data());
        }
    }
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(wire.size()));
}
BENCHMARK(BM_DmrdDecodeEncode);

void BM_BurstMetadata(benchmark::State& state) {
    std::vector<DmrdPacket> pkts = testdata::encryptedCall(3);
    for (auto _ : state) {
        for (const auto& p : pkts) {
            auto info = inspectBurst(p);
            benchmark::DoNotOptimize(info);
        }
    }
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(pkts.size()));
}
BENCHMARK(BM_BurstMetadata);

// The whole adapter path: wire -> DmrdPacket -> events -> packets -> wire.
void BM_AdapterDecodeEncodePerPacket(benchmark::State& state) {
    const auto wire = callWire();
    std::vector<Event> ev;
    Bytes out;
    std::int64_t t = 0;
    for (auto _ : state) {
        CallDecoder dec;
        CallEncoder enc(EncoderConfig{1, 1, 1, 2}, 1);
        for (const auto& w : wire) {
            auto p = decodeDmrd(w);
            ev.clear();
            (void)dec.onPacket(*p, t += 60'000'000, ev);
            for (auto& e : ev) {
                auto r = enc.onEvent(e);
                if (r.ok()) {
                    for (const auto& q : *r) {
                        out.clear();
                        encodeDmrd(q, out);
                        benchmark::DoNotOptimize(out.data());
                    }
                }
            }
        }
    }
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(wire.size()));
}
BENCHMARK(BM_AdapterDecodeEncodePerPacket);

void BM_VoiceBurstOnly(benchmark::State& state) {
    const auto pkts = testdata::encryptedCall(1);
    const Bytes wire = encodeDmrd(pkts[4]);  // burst B with EMB + embedded LC fragment
    Bytes out;
    for (auto _ : state) {
        auto p = decodeDmrd(wire);
        auto info = inspectBurst(*p);
        const VoiceParts parts = splitVoiceBurst(p->burst);
        DmrdPacket q = *p;
        q.burst = joinVoiceBurst(parts.ambe, parts.middle);
        out.clear();
        encodeDmrd(q, out);
        benchmark::DoNotOptimize(info);
        benchmark::DoNotOptimize(out.data());
    }
}
BENCHMARK(BM_VoiceBurstOnly);

void BM_PiHeaderBurst(benchmark::State& state) {
    const auto pkts = testdata::encryptedCall(1);
    const Burst b = pkts[2].burst;
    for (auto _ : state) {
        auto d = decodeDataBurst(b);
        auto pi = decodePiHeader(*d);
        Burst again = buildPiHeaderBurst(*pi, 1, SyncPattern::BsData);
        benchmark::DoNotOptimize(again);
    }
}
BENCHMARK(BM_PiHeaderBurst);

}  // namespace

BENCHMARK_MAIN();
