#pragma once
// Fake LMR and MC links that record what the engine delivers, a fake Directory
// (MemoryDirectory) and a manual timer driver, wired to one Engine.

#include <memory>
#include <vector>

#include <gtest/gtest.h>

#include "common/clock.hpp"
#include "common/fsm.hpp"
#include "common/link.hpp"
#include "common/metrics.hpp"
#include "gateway/engine/engine.hpp"
#include "gateway/engine/memory_directory.hpp"
#include "gateway/engine/policy.hpp"
#include "gateway/engine/timer_service.hpp"
#include "tests/support/link_fixtures.hpp"

namespace iwf::gateway::engine::test {

template <typename Base>
class RecordingLink : public Base {
  public:
    explicit RecordingLink(LinkId id) : id_(std::move(id)) {}
    const LinkId& id() const override { return id_; }
    Status start(EventSink& sink) override {
        sink_ = &sink;
        return {};
    }
    void stop() override {}
    Status deliver(const Event& e) override {
        events.push_back(e);
        return {};
    }

    template <typename T>
    std::vector<T> all() const {
        return iwf::test::eventsOf<T>(events);
    }
    template <typename T>
    std::size_t count() const {
        return iwf::test::countOf<T>(events);
    }
    template <typename T>
    T last() const {
        auto v = all<T>();
        EXPECT_FALSE(v.empty()) << "no event of the asked type on " << id_.name;
        return v.empty() ? T{} : v.back();
    }
    std::vector<Voice> voice(CallRef ref) const {
        std::vector<Voice> out;
        for (const auto& v : all<Voice>()) {
            if (v.call == ref) {
                out.push_back(v);
            }
        }
        return out;
    }
    void clear() { events.clear(); }

    std::vector<Event> events;

  private:
    LinkId id_;
    EventSink* sink_ = nullptr;
};

class FakeLmrLink : public RecordingLink<LmrLink> {
  public:
    FakeLmrLink(std::string name, LmrFamily f, bool floor = true)
        : RecordingLink<LmrLink>(LinkId{Side::Lmr, std::move(name)}), family_(f), floor_(floor) {}
    LmrFamily family() const override { return family_; }
    bool signalsFloor() const override { return floor_; }

  private:
    LmrFamily family_;
    bool floor_;
};

class FakeMcLink : public RecordingLink<McLink> {
  public:
    explicit FakeMcLink(std::string name, bool calls = true, bool data = true)
        : RecordingLink<McLink>(LinkId{Side::Mc, std::move(name)}), calls_(calls), data_(data) {}
    bool carriesCalls() const override { return calls_; }
    bool carriesData() const override { return data_; }

  private:
    bool calls_;
    bool data_;
};

inline const P25System kSys{0xBEE00, 0x001};
inline P25Unit unit(std::uint32_t u) {
    return P25Unit{kSys, u};
}
inline P25Group tg(std::uint16_t t) {
    return P25Group{kSys, t};
}

inline CryptoSync aes(std::uint32_t kid, std::uint8_t mi_seed = 1) {
    CryptoSync c;
    c.family = LmrFamily::P25;
    c.encrypted = true;
    c.algid = 0x84;
    c.key_id = kid;
    std::uint8_t mi[9];
    for (int i = 0; i < 8; ++i) {
        mi[i] = static_cast<std::uint8_t>(mi_seed * 31 + i);
    }
    mi[8] = 0;
    c.mi.assign(ByteView(mi, 9));
    return c;
}

inline VoiceFrame frame(std::uint32_t seq, const CryptoSync& c, std::uint32_t superframe,
                        std::uint8_t index) {
    VoiceFrame f;
    f.codec = VoiceCodec::ImbeFullRate;
    f.pos = FramePosition{superframe, index};
    f.crypto = c;
    std::uint8_t p[11];
    for (int i = 0; i < 11; ++i) {
        p[i] = static_cast<std::uint8_t>(seq * 7 + i * 13);
    }
    f.payload.assign(ByteView(p, 11));
    std::uint8_t side[3] = {static_cast<std::uint8_t>(seq), 0xA5, static_cast<std::uint8_t>(index)};
    f.side.assign(ByteView(side, 3));
    f.seq = seq;
    f.rx_ns = 0;
    return f;
}

// Group 100: LMR-homed secure (AES-256 kid 0x1111); 200: MC-homed mixed; 300: LMR-homed clear;
// 400: LMR-homed mixed without queueing. Users: LMR units 1..3 <-> alice/bob/carol; MC-only
// dave has LMR unit 4 too.
inline DirectoryContent baseContent(std::uint32_t secure_kid = 0x1111) {
    DirectoryContent d;
    auto group = [](std::uint16_t t, const std::string& uri, Side home, E2eeMode mode,
                    std::uint32_t kid, bool queueing) {
        GroupInfo g;
        g.mc_group = McGroupId{uri};
        g.lmr_group = tg(t);
        g.home = home;
        g.mode = mode;
        g.crypto = mode == E2eeMode::Clear ? CryptoSync::clear(LmrFamily::P25)
                                           : CryptoSync::encryptedWith(LmrFamily::P25, 0x84, kid);
        g.queueing = queueing;
        g.lmr_gateway_unit = unit(0xFFFFF0);
        return g;
    };
    d.groups.push_back(group(100, "sip:g100@mc", Side::Lmr, E2eeMode::Secure, secure_kid, true));
    d.groups.push_back(group(200, "sip:g200@mc", Side::Mc, E2eeMode::Mixed, 0x2222, true));
    d.groups.push_back(group(300, "sip:g300@mc", Side::Lmr, E2eeMode::Clear, 0, true));
    d.groups.push_back(group(400, "sip:g400@mc", Side::Lmr, E2eeMode::Mixed, 0x1111, false));
    auto user = [](std::uint32_t u, const std::string& uri) {
        UserInfo i;
        i.lmr_unit = unit(u);
        i.mc_id = McId{uri};
        i.kmf_uri = "sip:kmf@lmr";
        return i;
    };
    d.users.push_back(user(1, "sip:alice@mc"));
    d.users.push_back(user(2, "sip:bob@mc"));
    d.users.push_back(user(3, "sip:carol@mc"));
    d.users.push_back(user(4, "sip:dave@mc"));
    d.users.back().e2ee_allowed = false;
    d.kmfs.push_back(KmfInfo{"sip:kmf@lmr", unit(0x00FFFF), ""});
    d.unknown_talker = McId{"sip:lmr-unknown@iwf"};
    return d;
}

class EngineTest : public ::testing::Test {
  protected:
    explicit EngineTest(TimerTable overrides = {}) : timer_values(std::move(overrides)) {
        engine = std::make_unique<Engine>(
            EngineDeps{metrics, clock, timers, directory, timer_values}, EngineOptions{});
        engine->addLink(p25);
        engine->addLink(mc);
        engine->addLink(mc2);
    }

    void fromLmr(Event e) { engine->onEvent(p25.id(), std::move(e)); }
    void fromMc(Event e) { engine->onEvent(mc.id(), std::move(e)); }
    void fromMc2(Event e) { engine->onEvent(mc2.id(), std::move(e)); }

    CallSetup lmrSetup(CallRef ref, std::uint32_t u, std::uint16_t t,
                       std::optional<CryptoSync> crypto, CallPriority prio = CallPriority::Normal) {
        CallSetup s;
        s.call = ref;
        s.caller.id = unit(u);
        s.callee = tg(t);
        s.priority = prio;
        s.crypto = std::move(crypto);
        return s;
    }
    CallSetup mcSetup(CallRef ref, const std::string& who, const std::string& group,
                      CallPriority prio = CallPriority::Normal) {
        CallSetup s;
        s.call = ref;
        s.caller.id = McId{who};
        s.callee = McGroupId{group};
        s.priority = prio;
        return s;
    }
    // The ref the engine chose for the MC side of an LMR-originated call.
    CallRef mcRef() { return mc.last<CallSetup>().call; }

    std::uint64_t counter(const std::string& name, const metrics::Labels& labels = {}) {
        return metrics.counterValue(name, labels);
    }

    void sendFrames(CallRef ref, std::uint32_t first_seq, std::uint32_t n, const CryptoSync& c,
                    bool from_lmr = true) {
        for (std::uint32_t i = 0; i < n; ++i) {
            std::uint32_t seq = first_seq + i;
            Event e{Voice{ref, frame(seq, c, seq / 18, static_cast<std::uint8_t>(seq % 18))}};
            if (from_lmr) {
                fromLmr(std::move(e));
            } else {
                fromMc(std::move(e));
            }
        }
    }

    metrics::Registry metrics;
    ManualClock clock;
    ManualTimerService timers{clock};
    MemoryDirectory directory{baseContent()};
    TimerTable timer_values;
    FakeLmrLink p25{"p25", LmrFamily::P25};
    FakeMcLink mc{"mc"};
    FakeMcLink mc2{"mc2"};
    std::unique_ptr<Engine> engine;
};

}  // namespace iwf::gateway::engine::test
