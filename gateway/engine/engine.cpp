// The engine's core: construction, the links it delivers to, counters, the event dispatch and
// the identity mapping. Calls and legs: engine_calls.cpp; floor: engine_floor*.cpp; media and
// the E2EE policy gate: engine_media.cpp; short data and KMM: engine_data.cpp; GET /v1/calls:
// engine_view.cpp (docs/engine.md "Files").
#include "gateway/engine/engine.hpp"

#include "common/metrics_histogram.hpp"
#include "gateway/engine/engine_detail.hpp"

namespace iwf::gateway::engine {

using namespace detail;

Engine::Call::Call(std::uint64_t id_, std::string name_, FsmStats& cs, FsmStats& fs, FsmStats& ps)
    : id(id_)
    , name(std::move(name_))
    , fsm(callTable(), CallState::Setup, name, cs)
    , fcs(fcsTable(), FcsState::Idle, name, fs)
    , part(partTable(), PartState::NoPermission, name, ps) {}

Engine::Engine(EngineDeps deps, EngineOptions opts)
    : deps_(deps)
    , opts_(opts)
    , call_stats_(deps.metrics, "call")
    , fcs_stats_(deps.metrics, "floor_fcs")
    , part_stats_(deps.metrics, "floor_part")
    , floor_gate_stats_(deps.metrics, "leg_floor")
    , policy_gate_stats_(deps.metrics, "leg_policy")
    , refusal_log_(opts.shard)
    , log_(log::get("engine"))
    , late_entries_(deps.metrics.counter("iwf_engine_late_entries_total",
                                         "Receivers that joined a call while a stream flowed"))
    , late_synced_(
          deps.metrics.counter("iwf_engine_late_entry_synced_total",
                               "Late receivers that reached a sync point and started receiving"))
    , crypto_changes_(deps.metrics.counter(
          "iwf_engine_crypto_changes_total",
          "Transmissions whose E2EE state changed mid-stream (re-checked against the policy)")) {
    registerEngineTimers(deps_.timer_values);
    metrics::Labels shard;
    if (opts_.shard > 0) {
        shard.emplace_back("shard", std::to_string(opts_.shard));
    }
    for (CallKind k : {CallKind::Group, CallKind::Private}) {
        for (CallState s : {CallState::Setup, CallState::Active, CallState::Hang}) {
            std::size_t idx = stateIndex(k, s);
            metrics::Labels labels{{"kind", std::string(toString(k))},
                                   {"state", std::string(callTable().stateName(s))}};
            labels.insert(labels.end(), shard.begin(), shard.end());
            deps_.metrics.callbackGauge(
                "iwf_engine_calls", "Calls in progress by kind and state", labels, [this, idx] {
                    return static_cast<double>(call_states_[idx].load(std::memory_order_relaxed));
                });
        }
    }
    deps_.metrics.callbackGauge(
        "iwf_engine_frame_latency_p50_seconds",
        "Added latency per relayed frame, upper bound of the median bucket", shard,
        [this] { return static_cast<double>(latency_.quantileUpperNs(0.5)) / 1e9; });
    deps_.metrics.callbackGauge(
        "iwf_engine_frame_latency_p99_seconds",
        "Added latency per relayed frame, upper bound of the 99th percentile bucket", shard,
        [this] { return static_cast<double>(latency_.quantileUpperNs(0.99)) / 1e9; });
    for (Side from : {Side::Lmr, Side::Mc}) {
        for (Side to : {Side::Lmr, Side::Mc}) {
            const std::size_t p = latencyPath(from, to);
            metrics::Labels labels{{"path", std::string(kLatencyPathNames[p])}};
            labels.insert(labels.end(), shard.begin(), shard.end());
            path_latency_[p] = &deps_.metrics.histogram(
                "iwf_engine_frame_latency_seconds",
                "Added latency per relayed frame (receive to hand-over to the destination "
                "link), by path",
                kLatencyBucketsSeconds, labels);
        }
    }
}

Engine::~Engine() {
    for (auto& [id, c] : calls_) {
        deps_.timers.cancel(c->call_timer);
        deps_.timers.cancel(c->floor_timer);
    }
}

std::size_t Engine::callCount() const {
    std::size_t n = 0;
    for (const auto& [id, c] : calls_) {
        n += c->fsm.state() != CallState::Ended ? 1 : 0;
    }
    return n;
}

std::size_t Engine::transmittingCallCount() const {
    std::size_t n = 0;
    for (const auto& [id, c] : calls_) {
        const auto st = c->fsm.state();
        n += st != CallState::Ended && st != CallState::Hang ? 1 : 0;
    }
    return n;
}

std::size_t Engine::callStateBytes(std::size_t legs) {
    // The first legs are inside Call; each further one is a heap node plus its owning pointer.
    const std::size_t inline_legs = decltype(Call::legs)::inlineCapacity();
    const std::size_t extra = legs > inline_legs ? legs - inline_legs : 0;
    return sizeof(Call) + extra * (sizeof(Leg) + sizeof(void*)) +
           legs * (sizeof(RefKey) + sizeof(LegRef) + 16);
}

void Engine::addLink(Link& link) {
    LinkEntry e;
    e.link = &link;
    e.id = link.id();
    if (auto* l = dynamic_cast<LmrLink*>(&link)) {
        e.family = l->family();
        e.signals_floor = l->signalsFloor();
    }
    if (auto* m = dynamic_cast<McLink*>(&link)) {
        e.carries_calls = m->carriesCalls();
        e.carries_data = m->carriesData();
    }
    metrics::Labels labels{{"link", e.id.name}};
    auto& m = deps_.metrics;
    e.frames_in = &m.counter("iwf_engine_frames_in_total", "Voice frames received by link", labels);
    e.floor_unsignalled = &m.counter(
        "iwf_engine_floor_unsignalled_total",
        "Floor events not delivered because the link's protocol has no floor signalling", labels);
    e.frames_out = &m.counter("iwf_engine_frames_relayed_total",
                              "Voice frames relayed, by destination link", labels);
    e.lost = &m.counter("iwf_engine_frames_lost_total",
                        "Voice frames missing on input (sequence gaps), by source link", labels);
    e.out_of_order = &m.counter("iwf_engine_frames_out_of_order_total",
                                "Voice frames whose sequence number went backwards on input "
                                "(relayed as they came)",
                                labels);
    e.late_wait_frames = &m.counter(
        "iwf_engine_late_entry_wait_frames_total",
        "Frames withheld from a late receiver until the next sync point, by receiver link", labels);
    link_index_.emplace(e.id.name, static_cast<std::uint16_t>(links_.size()));
    link_by_id_.emplace(&link.id(), static_cast<std::uint16_t>(links_.size()));
    links_.push_back(std::move(e));
}

metrics::Counter& Engine::reasonCounter(ReasonCounters& cache, std::string_view name,
                                        std::string_view help, const std::string& link,
                                        std::string_view reason, std::string_view key) {
    for (auto& [r, c] : cache) {
        if (r == reason) {
            return *c;
        }
    }
    metrics::Labels labels;
    if (!link.empty()) {
        labels.emplace_back("link", link);
    }
    labels.emplace_back(std::string(key), std::string(reason));
    metrics::Counter& c = deps_.metrics.counter(name, help, labels);
    cache.emplace_back(std::string(reason), &c);
    return c;
}

std::optional<std::uint16_t> Engine::linkIndex(const LinkId& from) const {
    if (auto p = link_by_id_.find(&from); p != link_by_id_.end()) {
        return p->second;
    }
    auto it = link_index_.find(std::string_view(from.name));
    if (it == link_index_.end()) {
        return std::nullopt;
    }
    return it->second;
}

namespace {
bool isFloorEvent(const Event& e) {
    return std::holds_alternative<FloorRequest>(e) || std::holds_alternative<FloorGranted>(e) ||
           std::holds_alternative<FloorTaken>(e) || std::holds_alternative<FloorDeny>(e) ||
           std::holds_alternative<FloorRelease>(e) || std::holds_alternative<FloorIdle>(e) ||
           std::holds_alternative<FloorRevoke>(e) || std::holds_alternative<FloorQueued>(e);
}
}  // namespace

void Engine::send(std::uint16_t link, const Event& e) {
    (void)sendStatus(link, e);
}

Status Engine::sendStatus(std::uint16_t link, const Event& e) {
    if (!links_[link].signals_floor && isFloorEvent(e)) {
        links_[link].floor_unsignalled->inc();
        return Error{"floor_unsignalled"};
    }
    delivering_ = true;  // Link::deliver() never reports back from inside (common/link.hpp)
    Status st = links_[link].link->deliver(e);
    delivering_ = false;
    if (!st.ok()) {
        reasonCounter(links_[link].deliver_failures, "iwf_engine_deliver_failures_total",
                      "Events a link could not carry", links_[link].id.name, st.error().reason)
            .inc();
        warn([&](std::uint64_t sup) {
            log_->warn("link={} deliver=failed event={} reason={} suppressed={}",
                       links_[link].id.name, eventName(e), st.error().toString(), sup);
        });
    }
    return st;
}

void Engine::countRefusal(std::uint16_t link, std::string_view reason, RefusalRecord who) {
    reasonCounter(links_[link].refusals, "iwf_engine_refusals_total",
                  "Transmissions refused, by source link and reason", links_[link].id.name, reason)
        .inc();
    who.time_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      deps_.clock.wallNow().time_since_epoch())
                      .count();
    who.link = links_[link].id.name;
    who.reason = std::string(reason);
    refusal_log_.add(std::move(who));
}

void Engine::dropEvent(std::uint16_t link, std::string_view reason) {
    reasonCounter(links_[link].dropped, "iwf_engine_dropped_total",
                  "Events dropped by the engine, by link and reason", links_[link].id.name, reason)
        .inc();
    warn([&](std::uint64_t sup) {
        log_->warn("link={} dropped=event reason={} suppressed={}", links_[link].id.name, reason,
                   sup);
    });
}

void Engine::floorEvent(std::string_view what) {
    reasonCounter(floor_events_, "iwf_engine_floor_events_total",
                  "Floor control decisions and notifications", std::string(), what, "event")
        .inc();
}

void Engine::callStateChanged(const Call& c, CallState from, CallState to) {
    if (from != CallState::Ended) {
        call_states_[stateIndex(c.kind, from)].fetch_sub(1, std::memory_order_relaxed);
    }
    if (to != CallState::Ended) {
        call_states_[stateIndex(c.kind, to)].fetch_add(1, std::memory_order_relaxed);
    }
}

// ---------------------------------------------------------------------------------------------
// Dispatch

void Engine::onEvent(const LinkId& from, Event&& event) {
    // A link that reported from inside deliver() would re-enter the engine in the middle of a
    // change to some call (a leg half killed, a gate half stepped).
    IWF_ASSERT(!delivering_, "a link does not report events from inside Link::deliver()");
    ++events_in_;
    if (!reap_.empty()) {
        reapEnded();
    }
    const auto idx = linkIndex(from);
    if (!idx) {
        // Not per-frame in a correct setup (a link the engine was not told about).
        deps_.metrics
            .counter("iwf_engine_dropped_total", "Events dropped by the engine, by link and reason",
                     {{"link", from.name}, {"reason", "unknown_link"}})
            .inc();
        return;
    }
    const std::uint16_t link = *idx;
    std::visit(
        [&](auto&& ev) {
            using T = std::decay_t<decltype(ev)>;
            if constexpr (std::is_same_v<T, Voice>) {
                onVoice(link, ev);
            } else if constexpr (std::is_same_v<T, CallSetup>) {
                onCallSetup(link, std::move(ev));
            } else if constexpr (std::is_same_v<T, CallEnd>) {
                onCallEnd(link, ev);
            } else if constexpr (std::is_same_v<T, FloorRequest>) {
                onFloorRequest(link, ev);
            } else if constexpr (std::is_same_v<T, FloorGranted>) {
                onFloorGranted(link, ev);
            } else if constexpr (std::is_same_v<T, FloorTaken>) {
                onFloorTaken(link, ev);
            } else if constexpr (std::is_same_v<T, FloorDeny>) {
                onFloorDeny(link, ev);
            } else if constexpr (std::is_same_v<T, FloorRelease>) {
                onFloorRelease(link, ev);
            } else if constexpr (std::is_same_v<T, FloorIdle>) {
                onFloorIdle(link, ev);
            } else if constexpr (std::is_same_v<T, FloorRevoke>) {
                onFloorRevoke(link, ev);
            } else if constexpr (std::is_same_v<T, FloorQueued>) {
                onFloorQueued(link, ev);
            } else if constexpr (std::is_same_v<T, DataMessage>) {
                onData(link, std::move(ev));
            } else if constexpr (std::is_same_v<T, SecurityMessage>) {
                onSecurity(link, std::move(ev));
            }
        },
        event);
}

// ---------------------------------------------------------------------------------------------
// Identities

Talker Engine::toMc(const Call& c, const Talker& lmr) const {
    Talker t;
    t.alias = lmr.alias;
    t.location = lmr.location;
    if (hasAddress(lmr.id)) {
        if (auto u = c.snap->userByLmr(lmr.id)) {
            t.id = u->mc_id;
            return t;
        }
    }
    t.id = c.snap->unknownTalker();
    return t;
}

Talker Engine::toLmr(const Call& c, const Talker& mc) const {
    Talker t;
    t.alias = mc.alias;
    t.location = mc.location;
    if (auto* id = as<McId>(mc.id)) {
        if (auto u = c.snap->userByMc(*id)) {
            t.id = u->lmr_unit;
            return t;
        }
    }
    if (c.group) {
        t.id = c.group->lmr_gateway_unit;
    }
    return t;
}

CallPriority Engine::lmrPriority(CallPriority p) const {
    return p == CallPriority::ImminentPeril ? opts_.imminent_peril_on_lmr : p;
}

int Engine::linkByName(const std::string& name, Side side, std::optional<LmrFamily> family,
                       Carries what) const {
    auto carries = [what](const LinkEntry& e) {
        return what == Carries::Calls ? e.carries_calls : e.carries_data;
    };
    if (!name.empty()) {
        for (std::size_t i = 0; i < links_.size(); ++i) {
            const LinkEntry& e = links_[i];
            if (e.id.side == side && e.id.name == name) {
                if (carries(e)) {
                    return static_cast<int>(i);
                }
                break;  // named for the group's calls (say); data takes a link that carries it
            }
        }
        if (what == Carries::Calls) {
            return -1;
        }
    }
    for (std::size_t i = 0; i < links_.size(); ++i) {
        const LinkEntry& e = links_[i];
        if (e.id.side != side || !carries(e)) {
            continue;
        }
        if (side == Side::Lmr && family && e.family && *e.family != *family) {
            continue;
        }
        return static_cast<int>(i);
    }
    return -1;
}

}  // namespace iwf::gateway::engine
