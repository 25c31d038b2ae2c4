// decode + encode cost of the P25 codecs. Inputs are real layouts: an LDU1 LC record
// (0x64, 17 bytes), an LDU2 ES record (0x6D), and the NIST ISSI PTT Progress packet with
// one IMBE block (51 bytes) and the one with the ISSI header word.
#include <benchmark/benchmark.h>

#include "lmr_adapters/p25/crypto_tracker.hpp"
#include "lmr_adapters/p25/issi_rtp.hpp"
#include "lmr_adapters/p25/mi_lfsr.hpp"
#include "lmr_adapters/p25/records.hpp"

namespace {

using namespace iwf;
using namespace iwf::lmr::p25;

Bytes hex(const char* s) {
    return fromHex(s).value();
}

void recordRoundTrip(benchmark::State& state, const Bytes& in) {
    InlineBytes<kMaxRecordLen> out;
    for (auto _ : state) {
        auto r = decodeRecord(in);
        benchmark::DoNotOptimize(r);
        Status st = encodeRecord(*r, out);
        benchmark::DoNotOptimize(st);
        benchmark::DoNotOptimize(out);
    }
    state.SetItemsProcessed(state.iterations());
}

void BM_RecordLdu1Lc(benchmark::State& state) {
    recordRoundTrip(state, hex("6480004400000102030405060708090a02"));
}
BENCHMARK(BM_RecordLdu1Lc);

void BM_RecordLdu2Es(benchmark::State& state) {
    recordRoundTrip(state, hex("6d12345600000102030405060708090a02"));
}
BENCHMARK(BM_RecordLdu2Es);

// A whole superframe (18 records) through decode, the crypto tracker and encode.
void BM_RecordSuperframeWithTracker(benchmark::State& state) {
    std::vector<Bytes> sf;
    for (int t = 0x62; t <= 0x73; ++t) {
        auto l = voiceLayout(static_cast<std::uint8_t>(t));
        Bytes b(l->length, 0x11);
        b[0] = static_cast<std::uint8_t>(t);
        sf.push_back(b);
    }
    InlineBytes<kMaxRecordLen> out;
    for (auto _ : state) {
        CryptoTracker tr;
        for (const auto& rec : sf) {
            auto r = decodeRecord(rec);
            const auto& v = std::get<VoiceRecord>(*r);
            auto pos = tr.onFrame(v.index());
            if (auto es = esOf(v)) {
                tr.onEsFragment(v.index(), *es);
            }
            auto c = tr.current();
            benchmark::DoNotOptimize(pos);
            benchmark::DoNotOptimize(c);
            Status st = encodeRecord(*r, out);
            benchmark::DoNotOptimize(st);
        }
    }
    state.SetItemsProcessed(state.iterations() * 18);
}
BENCHMARK(BM_RecordSuperframeWithTracker);

void issiRoundTrip(benchmark::State& state, const Bytes& in) {
    Bytes out;
    out.reserve(256);
    for (auto _ : state) {
        auto r = decodeIssiPacket(in);
        benchmark::DoNotOptimize(r);
        out.clear();
        Status st = encodeIssiPacket(*r, out);
        benchmark::DoNotOptimize(st);
        benchmark::DoNotOptimize(out.data());
    }
    state.SetItemsProcessed(state.iterations());
}

void BM_IssiProgressImbe(benchmark::State& state) {
    issiRoundTrip(state, hex("80645c7200001f970000000283810000048b0000088000000e02040400bee07ad5"
                             "0000c504c2ce4021b16eb00004febfa00000"));
}
BENCHMARK(BM_IssiProgressImbe);

void BM_IssiProgressHeaderWord(benchmark::State& state) {
    issiRoundTrip(state, hex("80645c7100001f960000000283810000048b0000088500001202040400bee07ad5"
                             "0000c504000000000000000000800000000333f7e0ec"));
}
BENCHMARK(BM_IssiProgressHeaderWord);

void BM_MiLfsr(benchmark::State& state) {
    Mi mi{0x12, 0x34, 0x56, 0x78, 0x90, 0xAB, 0xCD, 0xEF, 0};
    for (auto _ : state) {
        mi = nextMi(mi);
        benchmark::DoNotOptimize(mi);
    }
}
BENCHMARK(BM_MiLfsr);

}  // namespace

BENCHMARK_MAIN();
