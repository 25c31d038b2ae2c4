// DMR packet data: build a PDU into DMRD packets (DataSender: header + rate 1/2 blocks, BPTC
// encode, message CRC) and reassemble it (DataReceiver: BPTC decode, header CRC, message CRC),
// through the DMRD wire format both ways, for short, medium and maximum payloads.
#include <benchmark/benchmark.h>

#include "lmr_adapters/dmr/data.hpp"

namespace {

using namespace iwf;
using namespace iwf::lmr::dmr;

DataMessage message(std::size_t n) {
    DataMessage m;
    m.from = DmrUnit{2001};
    m.to = DmrUnit{3002};
    m.payload.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
        m.payload[i] = static_cast<std::uint8_t>(i * 7);
    }
    return m;
}

void BM_DataSend(benchmark::State& state) {
    const DataMessage m = message(static_cast<std::size_t>(state.range(0)));
    DataSender tx(DataSenderConfig{1, 1, 1}, DataConfig{}, 1);
    std::size_t packets = 0;
    for (auto _ : state) {
        auto pkts = tx.onEvent(m);
        for (const auto& p : *pkts) {
            benchmark::DoNotOptimize(encodeDmrd(p));
        }
        packets += pkts->size();
    }
    state.counters["packets"] =
        benchmark::Counter(static_cast<double>(packets), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_DataSend)->Arg(20)->Arg(140)->Arg(1520);

void BM_DataReceive(benchmark::State& state) {
    DataSender tx(DataSenderConfig{1, 1, 1}, DataConfig{}, 1);
    std::vector<Bytes> wire;
    const auto pkts = tx.onEvent(message(static_cast<std::size_t>(state.range(0))));
    for (const auto& p : *pkts) {  // (not `: *tx.onEvent(...)`: the Result would dangle)
        wire.push_back(encodeDmrd(p));
    }
    DataReceiver rx(DataConfig{});
    std::vector<Event> out;
    std::vector<std::string_view> drops;
    std::size_t packets = 0;
    for (auto _ : state) {
        for (const auto& w : wire) {
            rx.onPacket(*decodeDmrd(w), 1, out, drops);
        }
        if (out.size() != 1 || !drops.empty()) {
            state.SkipWithError(drops.empty() ? "no event" : std::string(drops[0]).c_str());
            break;
        }
        out.clear();
        packets += wire.size();
    }
    state.counters["packets"] =
        benchmark::Counter(static_cast<double>(packets), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_DataReceive)->Arg(20)->Arg(140)->Arg(1520);

}  // namespace

BENCHMARK_MAIN();
