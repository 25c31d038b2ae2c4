// The engine of shard 0 fed from another shard's thread through the hand-off ring (iwfd
// `workers: N` with links that run on shard 0 only: docs/engine.md "Worker threads"), while a
// third thread scrapes /metrics the way the admin thread does (the engine's gauges are atomics
// and its latency histogram is lock-free: docs/architecture.md "Threading"). Every call's
// frames reach the MC side once, in order, on the owner's thread; every call ends. Under the
// ThreadSanitizer build (scripts/test) the same run must show no data race.

#include <atomic>
#include <future>
#include <map>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "common/asio.hpp"
#include "common/clock.hpp"
#include "common/fsm.hpp"
#include "common/metrics.hpp"
#include "gateway/daemon/shard_handoff.hpp"
#include "gateway/engine/engine.hpp"
#include "gateway/engine/memory_directory.hpp"
#include "gateway/engine/timer_service.hpp"

namespace iwf::gateway {
namespace {

using namespace std::chrono_literals;

// Records what the engine delivers; touched only on the owner's thread.
template <typename Base>
class Recorder : public Base {
  public:
    explicit Recorder(LinkId id) : id_(std::move(id)) {}
    const LinkId& id() const override { return id_; }
    Status start(EventSink&) override { return {}; }
    void stop() override {}
    Status deliver(const Event& e) override {
        thread = std::this_thread::get_id();
        events.push_back(e);
        return {};
    }
    std::vector<Event> events;
    std::thread::id thread;

  private:
    LinkId id_;
};
class LmrRecorder : public Recorder<LmrLink> {
  public:
    LmrRecorder() : Recorder<LmrLink>(LinkId{Side::Lmr, "p25"}) {}
    LmrFamily family() const override { return LmrFamily::P25; }
};
class McRecorder : public Recorder<McLink> {
  public:
    McRecorder() : Recorder<McLink>(LinkId{Side::Mc, "mc"}) {}
};

const P25System kSys{0xBEE00, 1};
constexpr int kCalls = 40;
constexpr std::uint32_t kFrames = 54;  // three superframes per call

engine::DirectoryContent groups() {
    engine::DirectoryContent d;
    for (int i = 0; i < kCalls; ++i) {
        engine::GroupInfo g;
        g.mc_group = McGroupId{"sip:g" + std::to_string(i) + "@mc"};
        g.lmr_group = P25Group{kSys, static_cast<std::uint16_t>(100 + i)};
        g.home = Side::Lmr;
        g.mode = engine::E2eeMode::Secure;
        g.crypto = CryptoSync::encryptedWith(LmrFamily::P25, 0x84, 0x1111);
        d.groups.push_back(g);
    }
    d.unknown_talker = McId{"sip:lmr-unknown@iwf"};
    return d;
}

Event voice(CallRef call, std::uint32_t seq) {
    VoiceFrame f;
    f.pos = FramePosition{seq / 18, static_cast<std::uint8_t>(seq % 18)};
    const std::uint8_t mi[9] = {1, 2, 3, 4, 5, 6, 7, 8, static_cast<std::uint8_t>(seq / 18)};
    f.crypto = CryptoSync::encryptedWith(LmrFamily::P25, 0x84, 0x1111, ByteView(mi, 9));
    const std::uint8_t b[11] = {static_cast<std::uint8_t>(seq), static_cast<std::uint8_t>(call)};
    f.payload.assign(ByteView(b, sizeof b));
    f.seq = seq;
    f.rx_ns = toNs(SteadyClock::instance().now());
    return Voice{call, f};
}

TEST(EngineShards, EventsHandedFromAWorkerReachTheEngineWhileMetricsAreScraped) {
    asio::io_context owner_io;
    auto work = asio::make_work_guard(owner_io);
    metrics::Registry reg;
    engine::AsioTimerService timers(owner_io);
    engine::MemoryDirectory directory(groups());
    TimerTable timer_values;
    timer_values.override("hang", 20ms);  // calls end soon after their transmission
    engine::Engine eng({reg, SteadyClock::instance(), timers, directory, timer_values});
    LmrRecorder p25;
    McRecorder mc;
    eng.addLink(p25);
    eng.addLink(mc);
    ShardHandoff handoff(1, owner_io, eng, reg, 256);  // small: the producer outruns it
    const LinkId shard1_p25{Side::Lmr, "p25"};
    handoff.addLink(shard1_p25, p25.id());

    std::thread owner([&] { owner_io.run(); });
    const std::thread::id owner_id = owner.get_id();
    std::atomic<bool> scraping{true};
    std::thread scraper([&] {
        std::size_t renders = 0;
        while (scraping.load()) {
            const std::string text = reg.renderPrometheus();
            renders += text.find("iwf_engine_calls") != std::string::npos ? 1 : 0;
        }
        EXPECT_GT(renders, 0u);
    });
    std::thread producer([&] {
        auto hand = [&](Event e) {
            for (;;) {  // retry what a full ring refused: every event must get through
                const auto before = handoff.dropped();
                handoff.onEvent(shard1_p25, Event(e));
                if (handoff.dropped() == before) {
                    return;
                }
                std::this_thread::yield();
            }
        };
        for (int c = 0; c < kCalls; ++c) {
            CallSetup s;
            s.call = static_cast<CallRef>(c + 1);
            s.caller.id = P25Unit{kSys, static_cast<std::uint32_t>(1000 + c)};
            s.callee = P25Group{kSys, static_cast<std::uint16_t>(100 + c)};
            s.crypto = CryptoSync::encryptedWith(LmrFamily::P25, 0x84, 0x1111);
            hand(s);
        }
        for (std::uint32_t seq = 0; seq < kFrames; ++seq) {  // the calls interleaved
            for (int c = 0; c < kCalls; ++c) {
                hand(voice(static_cast<CallRef>(c + 1), seq));
            }
        }
        for (int c = 0; c < kCalls; ++c) {
            hand(CallEnd{static_cast<CallRef>(c + 1), EndReason::Normal, ""});
        }
    });
    producer.join();

    // Wait (on the owner's thread, with a deadline) until every call ended (hang ran out).
    auto onOwner = [&](auto fn) {
        std::promise<decltype(fn())> p;
        asio::post(owner_io, [&] { p.set_value(fn()); });
        return p.get_future().get();
    };
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (std::chrono::steady_clock::now() < deadline &&
           onOwner([&] { return eng.callCount() != 0 || eng.eventsIn() < handoff.handedOff(); })) {
        std::this_thread::sleep_for(5ms);
    }
    scraping = false;
    scraper.join();
    const std::size_t calls_left = onOwner([&] { return eng.callCount(); });
    work.reset();
    owner.join();

    EXPECT_EQ(calls_left, 0u);
    EXPECT_EQ(handoff.handedOff(), static_cast<std::uint64_t>(kCalls) * (kFrames + 2));
    EXPECT_EQ(eng.eventsIn(), handoff.handedOff());
    EXPECT_EQ(mc.thread, owner_id) << "the engine delivers on the owner's thread";
    // Per MC call (the engine's ref), its frames once each, in order, bit-exact.
    std::map<CallRef, std::vector<Voice>> by_call;
    std::size_t setups = 0;
    for (const Event& e : mc.events) {
        if (const auto* v = std::get_if<Voice>(&e)) {
            by_call[v->call].push_back(*v);
        }
        setups += std::holds_alternative<CallSetup>(e) ? 1 : 0;
    }
    EXPECT_EQ(setups, static_cast<std::size_t>(kCalls));
    ASSERT_EQ(by_call.size(), static_cast<std::size_t>(kCalls));
    for (const auto& [ref, frames] : by_call) {
        ASSERT_EQ(frames.size(), kFrames) << "MC call " << ref;
        const CallRef lmr_ref = frames.front().frame.payload.data()[1];
        for (std::uint32_t seq = 0; seq < kFrames; ++seq) {
            VoiceFrame want = std::get<Voice>(voice(lmr_ref, seq)).frame;
            want.rx_ns = frames[seq].frame.rx_ns;  // the receive time is the producer's
            EXPECT_EQ(frames[seq].frame, want) << "MC call " << ref << " frame " << seq;
        }
    }
    EXPECT_EQ(reg.counterValue("iwf_engine_frames_relayed_total", {{"link", "mc"}}),
              static_cast<std::uint64_t>(kCalls) * kFrames);
}

}  // namespace
}  // namespace iwf::gateway
