// Engine benchmarks: the cost of routing one voice frame LMR -> MC through an active call
// (policy already decided, floor granted: the steady state of a transmission) with 1..8 MC
// receivers, and the memory held per idle call (a call in hang time with its MC leg).

#include <malloc.h>
#include <memory>

#include <benchmark/benchmark.h>

#include "common/log.hpp"
#include "gateway/engine/engine.hpp"
#include "gateway/engine/memory_directory.hpp"

namespace {

using namespace iwf;
using namespace iwf::gateway::engine;

template <typename Base>
class NullLink : public Base {
  public:
    explicit NullLink(LinkId id) : id_(std::move(id)) {}
    const LinkId& id() const override { return id_; }
    Status start(EventSink&) override { return {}; }
    void stop() override {}
    Status deliver(const Event& e) override {
        delivered += std::holds_alternative<Voice>(e) ? 1 : 0;
        benchmark::DoNotOptimize(&e);
        return {};
    }
    std::uint64_t delivered = 0;

  private:
    LinkId id_;
};

class P25Null : public NullLink<LmrLink> {
  public:
    P25Null() : NullLink<LmrLink>(LinkId{Side::Lmr, "p25"}) {}
    LmrFamily family() const override { return LmrFamily::P25; }
};

class McNull : public NullLink<McLink> {
  public:
    McNull() : NullLink<McLink>(LinkId{Side::Mc, "mc"}) {}
};

const P25System kSys{0xBEE00, 1};

DirectoryContent content(int groups) {
    DirectoryContent d;
    for (int i = 0; i < groups; ++i) {
        GroupInfo g;
        g.mc_group = McGroupId{"sip:g" + std::to_string(i) + "@mc"};
        g.lmr_group = P25Group{kSys, static_cast<std::uint16_t>(i + 1)};
        g.home = Side::Lmr;
        g.mode = E2eeMode::Secure;
        g.crypto = CryptoSync::encryptedWith(LmrFamily::P25, 0x84, 0x1111);
        d.groups.push_back(g);
    }
    UserInfo u;
    u.lmr_unit = P25Unit{kSys, 1};
    u.mc_id = McId{"sip:alice@mc"};
    d.users.push_back(u);
    return d;
}

CryptoSync aes() {
    CryptoSync c;
    c.encrypted = true;
    c.algid = 0x84;
    c.key_id = 0x1111;
    std::uint8_t mi[9] = {1, 2, 3, 4, 5, 6, 7, 8, 0};
    c.mi.assign(ByteView(mi, 9));
    return c;
}

struct Rig {
    metrics::Registry reg;
    ManualClock clock;
    ManualTimerService timers{clock};
    TimerTable values;
    MemoryDirectory dir;
    P25Null p25;
    McNull mc;
    std::unique_ptr<Engine> engine;
    explicit Rig(int groups) : dir(content(groups)) {
        engine = std::make_unique<Engine>(EngineDeps{reg, clock, timers, dir, values});
        engine->addLink(p25);
        engine->addLink(mc);
    }
    void setup(CallRef ref, std::uint16_t tgid) {
        CallSetup s;
        s.call = ref;
        s.caller.id = P25Unit{kSys, 1};
        s.callee = P25Group{kSys, tgid};
        s.crypto = aes();
        engine->onEvent(p25.id(), Event{s});
    }
};

void BM_RouteFrameLmrToMc(benchmark::State& state) {
    Rig rig(1);
    rig.setup(1, 1);
    // Extra MC receivers joining the call (late entry; they sync at the first superframe).
    for (int i = 1; i < state.range(0); ++i) {
        CallSetup j;
        j.call = static_cast<CallRef>(100 + i);
        j.caller.id = McId{"sip:r" + std::to_string(i) + "@mc"};
        j.callee = McGroupId{"sip:g0@mc"};
        rig.engine->onEvent(rig.mc.id(), Event{j});
    }
    VoiceFrame f;
    f.crypto = aes();
    std::uint8_t payload[11] = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xAA, 0xBB};
    f.payload.assign(ByteView(payload, 11));
    std::uint32_t seq = 0;
    for (auto _ : state) {
        f.seq = seq;
        f.pos.superframe = seq / 18;
        f.pos.index = static_cast<std::uint8_t>(seq % 18);
        f.rx_ns = toNs(rig.clock.now());
        ++seq;
        rig.engine->onEvent(rig.p25.id(), Event{Voice{1, f}});
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(seq));
    state.counters["delivered_per_frame"] =
        static_cast<double>(rig.mc.delivered) / static_cast<double>(seq);
}
BENCHMARK(BM_RouteFrameLmrToMc)->Arg(1)->Arg(4)->Arg(8);

void BM_IdleCallState(benchmark::State& state) {
    const int calls = static_cast<int>(state.range(0));
    double per_call = 0;
    for (auto _ : state) {
        state.PauseTiming();
        auto rig = std::make_unique<Rig>(calls);
        malloc_trim(0);
        std::size_t before = mallinfo2().uordblks;
        state.ResumeTiming();
        for (int i = 0; i < calls; ++i) {
            rig->setup(static_cast<CallRef>(i + 1), static_cast<std::uint16_t>(i + 1));
            rig->engine->onEvent(
                rig->p25.id(), Event{CallEnd{static_cast<CallRef>(i + 1), EndReason::Normal, ""}});
        }
        state.PauseTiming();
        std::size_t after = mallinfo2().uordblks;
        per_call = static_cast<double>(after - before) / calls;
        benchmark::DoNotOptimize(rig->engine->callCount());
        rig.reset();
        state.ResumeTiming();
    }
    state.counters["heap_bytes_per_idle_call"] = per_call;
    state.counters["struct_bytes_per_call_2_legs"] = static_cast<double>(Engine::callStateBytes(2));
}
BENCHMARK(BM_IdleCallState)->Arg(1000)->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
    iwf::log::Options quiet;
    quiet.level = spdlog::level::off;
    iwf::log::setup(quiet);
    benchmark::Initialize(&argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
