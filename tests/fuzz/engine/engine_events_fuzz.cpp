// Fuzz target: the engine driven by arbitrary sequences of link events. The input is a
// program: each step picks a link (P25 with floor signalling, P25 without, DMR, an MC link that
// carries calls and data, one that carries data only), an event (every kind of events.hpp), its
// call ref (an adapter's own, or one the engine chose and delivered on that link), group,
// parties, priority and crypto sync (none, clear, the group's key, another key, late entry,
// another family), or lets time pass (timers fire) or publishes a new keymap revision.
//
// What it holds: no sequence a peer can cause reaches an IWF_ASSERT (docs/architecture.md
// "Assert policy": the engine checks what a link reports before any step it asserts), nor a
// sanitizer report; /v1/calls renders at any point; and every call ends once its links report
// the end of every leg and the timers have run.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "common/fsm.hpp"
#include "common/link.hpp"
#include "common/log.hpp"
#include "common/metrics.hpp"
#include "gateway/engine/engine.hpp"
#include "gateway/engine/memory_directory.hpp"
#include "gateway/engine/timer_service.hpp"

namespace {

using namespace iwf;
using namespace iwf::gateway::engine;

const P25System kSys{0xBEE00, 0x001};

// Records the refs the engine chose on this link (so the program can answer on them).
template <typename Base>
class Sink : public Base {
  public:
    explicit Sink(LinkId id) : id_(std::move(id)) {}
    const LinkId& id() const override { return id_; }
    Status start(EventSink&) override { return {}; }
    void stop() override {}
    Status deliver(const Event& e) override {
        if (const auto* s = std::get_if<CallSetup>(&e); s != nullptr && (s->call & kEngineRefBit)) {
            if (engine_refs.size() < 4096) {
                engine_refs.push_back(s->call);
            }
        }
        return {};
    }
    std::vector<CallRef> engine_refs;

  private:
    LinkId id_;
};
class Lmr : public Sink<LmrLink> {
  public:
    Lmr(std::string n, LmrFamily f, bool floor)
        : Sink<LmrLink>(LinkId{Side::Lmr, std::move(n)}), f_(f), floor_(floor) {}
    LmrFamily family() const override { return f_; }
    bool signalsFloor() const override { return floor_; }

  private:
    LmrFamily f_;
    bool floor_;
};
class Mc : public Sink<McLink> {
  public:
    Mc(std::string n, bool calls) : Sink<McLink>(LinkId{Side::Mc, std::move(n)}), calls_(calls) {}
    bool carriesCalls() const override { return calls_; }
    bool carriesData() const override { return true; }

  private:
    bool calls_;
};

DirectoryContent content(std::uint32_t kid) {
    DirectoryContent d;
    const E2eeMode modes[] = {E2eeMode::Secure, E2eeMode::Mixed, E2eeMode::Clear, E2eeMode::Mixed};
    for (int i = 0; i < 4; ++i) {
        GroupInfo g;
        g.mc_group = McGroupId{"sip:g" + std::to_string(i) + "@mc"};
        g.lmr_group = P25Group{kSys, static_cast<std::uint16_t>(100 * (i + 1))};
        g.home = i % 2 == 0 ? Side::Lmr : Side::Mc;
        g.mode = modes[i];
        g.crypto = g.mode == E2eeMode::Clear ? CryptoSync::clear(LmrFamily::P25)
                                             : CryptoSync::encryptedWith(LmrFamily::P25, 0x84, kid);
        g.queueing = i != 3;
        g.lmr_gateway_unit = P25Unit{kSys, 0xFFFFF0};
        d.groups.push_back(g);
    }
    GroupInfo dg;
    dg.mc_group = McGroupId{"sip:dmr@mc"};
    dg.lmr_group = DmrGroup{9};
    dg.mode = E2eeMode::Mixed;
    dg.crypto = CryptoSync::encryptedWith(LmrFamily::Dmr, 5, 0x11);
    d.groups.push_back(dg);
    for (std::uint32_t u = 1; u <= 4; ++u) {
        UserInfo i;
        i.lmr_unit = P25Unit{kSys, u};
        i.mc_id = McId{"sip:u" + std::to_string(u) + "@mc"};
        i.kmf_uri = "sip:kmf@lmr";
        i.e2ee_allowed = u != 4;
        d.users.push_back(i);
    }
    UserInfo du;
    du.lmr_unit = DmrUnit{2001};
    du.mc_id = McId{"sip:d1@mc"};
    d.users.push_back(du);
    d.kmfs.push_back(KmfInfo{"sip:kmf@lmr", P25Unit{kSys, 0xFFFF}, ""});
    d.unknown_talker = McId{"sip:unknown@iwf"};
    return d;
}

class Program {
  public:
    Program(const std::uint8_t* d, std::size_t n) : d_(d), n_(n) {}
    bool more() const { return i_ < n_; }
    std::uint8_t u8() { return i_ < n_ ? d_[i_++] : 0; }

  private:
    const std::uint8_t* d_;
    std::size_t n_;
    std::size_t i_ = 0;
};

struct Rig {
    metrics::Registry reg;
    ManualClock clock;
    ManualTimerService timers{clock};
    MemoryDirectory directory{content(0x1111)};
    TimerTable timer_values;
    Lmr p25{"p25", LmrFamily::P25, true};
    Lmr rec{"rec", LmrFamily::P25, false};
    Lmr dmr{"dmr", LmrFamily::Dmr, false};
    Mc mc{"mc", true};
    Mc mcd{"mcd", false};
    std::unique_ptr<Engine> engine;
    Rig() {
        engine = std::make_unique<Engine>(EngineDeps{reg, clock, timers, directory, timer_values},
                                          EngineOptions{.pending_frames_max = 8, .queue_max = 2});
        for (Link* l : links()) {
            engine->addLink(*l);
        }
    }
    std::vector<Link*> links() { return {&p25, &rec, &dmr, &mc, &mcd}; }
    std::vector<CallRef>& engineRefs(std::size_t i) {
        switch (i) {
            case 0:
                return p25.engine_refs;
            case 1:
                return rec.engine_refs;
            case 2:
                return dmr.engine_refs;
            case 3:
                return mc.engine_refs;
            default:
                return mcd.engine_refs;
        }
    }
};

Address lmrParty(Program& p) {
    switch (p.u8() % 4) {
        case 0:
            return P25Unit{kSys, static_cast<std::uint32_t>(p.u8() % 6)};
        case 1:
            return P25Group{kSys, static_cast<std::uint16_t>(100 * (p.u8() % 5 + 1))};
        case 2:
            return DmrUnit{2001};
        default:
            return DmrGroup{9};
    }
}

Address mcParty(Program& p) {
    switch (p.u8() % 3) {
        case 0:
            return McId{"sip:u" + std::to_string(p.u8() % 6) + "@mc"};
        case 1:
            return McGroupId{"sip:g" + std::to_string(p.u8() % 5) + "@mc"};
        default:
            return McId{"sip:kmf@lmr"};
    }
}

std::optional<CryptoSync> crypto(Program& p) {
    const std::uint8_t mi9[9] = {1, 2, 3, 4, 5, 6, 7, 8, p.u8()};
    const std::uint8_t iv4[4] = {1, 2, 3, 4};
    switch (p.u8() % 7) {
        case 0:
            return std::nullopt;
        case 1:
            return CryptoSync::clear(LmrFamily::P25);
        case 2:
            return CryptoSync::encryptedWith(LmrFamily::P25, 0x84, 0x1111, ByteView(mi9, 9));
        case 3:
            return CryptoSync::encryptedWith(LmrFamily::P25, 0x84, 0x2222, ByteView(mi9, 9));
        case 4:
            return CryptoSync::lateEntry(LmrFamily::P25);
        case 5:
            return CryptoSync::encryptedWith(LmrFamily::Dmr, 5, 0x11, ByteView(iv4, 4));
        default:
            return CryptoSync::clear(LmrFamily::Dmr);
    }
}

Talker talker(Program& p, Side side) {
    Talker t;
    t.id = side == Side::Lmr ? lmrParty(p) : mcParty(p);
    return t;
}

void step(Rig& r, Program& p) {
    const std::uint8_t op = p.u8() % 16;
    const std::size_t li = p.u8() % 5;
    Link& link = *r.links()[li];
    const Side side = link.id().side;
    // The call ref: one of the adapter's own (1..6), or one the engine chose on this link.
    CallRef ref = static_cast<CallRef>(p.u8() % 6 + 1);
    if (auto& own = r.engineRefs(li); !own.empty() && (p.u8() & 1)) {
        ref = own[p.u8() % own.size()];
    }
    const auto prio = static_cast<CallPriority>(p.u8() % 3);
    Event e;
    switch (op) {
        case 0: {
            CallSetup s;
            s.call = ref;
            s.caller = talker(p, side);
            s.callee = side == Side::Lmr ? lmrParty(p) : mcParty(p);
            s.kind = (p.u8() & 1) ? CallKind::Private : CallKind::Group;
            s.priority = prio;
            s.floor_control = (p.u8() % 4) != 0;
            s.crypto = crypto(p);
            e = std::move(s);
            break;
        }
        case 1:
        case 2:
        case 3: {  // voice is the common case
            VoiceFrame f;
            const std::uint8_t seq = p.u8();
            f.seq = seq;
            f.pos = FramePosition{static_cast<std::uint32_t>(seq / 18),
                                  static_cast<std::uint8_t>(seq % 18)};
            f.crypto = crypto(p).value_or(CryptoSync::clear(LmrFamily::P25));
            const std::uint8_t b[11] = {seq};
            f.payload.assign(ByteView(b, sizeof b));
            e = Voice{ref, f};
            break;
        }
        case 4:
            e = CallEnd{ref, static_cast<EndReason>(p.u8() % 6), ""};
            break;
        case 5:
            e = FloorRequest{ref, talker(p, side), prio};
            break;
        case 6:
            e = FloorGranted{ref, talker(p, side), std::chrono::milliseconds(0)};
            break;
        case 7:
            e = FloorTaken{ref, talker(p, side)};
            break;
        case 8:
            e = FloorDeny{ref, talker(p, side), p.u8(), "deny"};
            break;
        case 9:
            e = FloorRelease{ref, talker(p, side)};
            break;
        case 10:
            e = (p.u8() & 1) ? Event{FloorIdle{ref}} : Event{FloorRevoke{ref, p.u8(), "revoke"}};
            break;
        case 11:
            e = FloorQueued{ref, talker(p, side), p.u8()};
            break;
        case 12: {
            DataMessage d;
            d.from = side == Side::Lmr ? lmrParty(p) : mcParty(p);
            d.to = side == Side::Lmr ? lmrParty(p) : mcParty(p);
            d.payload = {p.u8(), p.u8()};
            d.crypto = crypto(p);
            e = std::move(d);
            break;
        }
        case 13:
            e = SecurityMessage{side == Side::Lmr ? lmrParty(p) : mcParty(p),
                                side == Side::Lmr ? lmrParty(p) : mcParty(p), Bytes{p.u8()}};
            break;
        case 14:
            // Time passes: 0 .. ~65 s (every timer default is below that).
            r.timers.advance(std::chrono::milliseconds(static_cast<int>(p.u8()) * 256));
            return;
        default:
            if (p.u8() & 1) {
                r.directory.publish(content(p.u8() & 1 ? 0x1111 : 0x3333));
            } else {
                (void)r.engine->callsJson().dump();
            }
            return;
    }
    r.engine->onEvent(link.id(), std::move(e));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const bool quiet = [] {
        iwf::log::Options o;
        o.level = spdlog::level::off;
        iwf::log::setup(o);
        return true;
    }();
    (void)quiet;
    Rig r;
    Program p(data, size);
    for (int n = 0; p.more() && n < 2000; ++n) {
        step(r, p);
    }
    (void)r.engine->callsJson().dump();
    // Every leg's link reports the end of the leg; with the timers run, no call is left.
    for (int round = 0; round < 3; ++round) {
        for (std::size_t li = 0; li < 5; ++li) {
            Link& link = *r.links()[li];
            std::vector<CallRef> refs = r.engineRefs(li);
            for (CallRef ref = 1; ref <= 6; ++ref) {
                refs.push_back(ref);
            }
            for (CallRef ref : refs) {
                r.engine->onEvent(link.id(), CallEnd{ref, EndReason::Normal, ""});
            }
        }
        r.timers.advance(std::chrono::minutes(2));
    }
    if (r.engine->callCount() != 0) {
        __builtin_trap();  // a call that no leg holds any more never ended
    }
    return 0;
}
