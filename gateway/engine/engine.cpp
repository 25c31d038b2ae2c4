#include "gateway/engine/engine.hpp"

#include <algorithm>

#include "gateway/engine/policy.hpp"

namespace iwf::gateway::engine {

namespace {

constexpr std::size_t stateIndex(CallKind k, CallState s) {
    return static_cast<std::size_t>(k) * 4 + static_cast<std::size_t>(s);
}

template <typename T>
const T* as(const Address& a) {
    return std::get_if<T>(&a);
}

bool hasAddress(const Address& a) {
    return !std::holds_alternative<std::monostate>(a);
}

std::string_view sideName(Side s) {
    return s == Side::Lmr ? "lmr" : "mc";
}

std::string_view floorGateName(int g) {
    static constexpr std::array<std::string_view, 5> kNames{"none", "pending", "queued", "granted",
                                                            "refused"};
    return kNames[static_cast<std::size_t>(g)];
}

}  // namespace

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

template <typename Fn>
void Engine::warn(Fn&& fn) {
    std::uint64_t suppressed = 0;
    if (warn_limiter_.allow(std::chrono::steady_clock::now(), suppressed)) {
        fn(suppressed);
    }
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
    Status st = links_[link].link->deliver(e);
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

void Engine::countRefusal(std::uint16_t link, std::string_view reason) {
    reasonCounter(links_[link].refusals, "iwf_engine_refusals_total",
                  "Transmissions refused, by source link and reason", links_[link].id.name, reason)
        .inc();
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
// Calls and legs

Engine::Call& Engine::newCall(std::shared_ptr<const DirectorySnapshot> snap, CallKind kind) {
    std::uint64_t id = next_call_++;
    auto c = std::make_unique<Call>(id, "call-" + std::to_string(id), call_stats_, fcs_stats_,
                                    part_stats_);
    c->snap = std::move(snap);
    c->kind = kind;
    c->started_ns = toNs(deps_.clock.now());
    Call& ref = *c;
    calls_.emplace(id, std::move(c));
    callStateChanged(ref, CallState::Ended, CallState::Setup);
    armCallTimer(ref);
    return ref;
}

int Engine::addLeg(Call& c, std::uint16_t link, CallRef ref, Side side, bool engine_ref) {
    int idx = -1;
    for (std::size_t i = 0; i < c.legs.size(); ++i) {
        if (!c.legs[i].alive) {
            idx = static_cast<int>(i);
            break;
        }
    }
    if (idx < 0) {
        c.legs.emplace_back();
        idx = static_cast<int>(c.legs.size() - 1);
    }
    Leg& l = c.legs[static_cast<std::size_t>(idx)];
    l = Leg{};
    l.alive = true;
    l.link = link;
    l.ref = ref;
    l.side = side;
    l.engine_ref = engine_ref;
    refs_[RefKey{link, ref}] = LegRef{&c, idx};
    return idx;
}

void Engine::killLeg(Call& c, int leg) {
    Leg& l = c.legs[static_cast<std::size_t>(leg)];
    if (!l.alive) {
        return;
    }
    l.alive = false;
    std::vector<VoiceFrame>().swap(l.pending);  // an idle call holds no frame buffer
    refs_.erase(RefKey{l.link, l.ref});
    if (c.holder == leg) {
        c.holder = -1;
    }
    if (c.preemptor == leg) {
        c.preemptor = -1;
    }
    if (c.requester == leg) {
        c.requester = -1;
    }
    if (c.lmr_out == leg) {
        c.lmr_out = -1;
    }
    removeFromQueue(c, leg);
}

std::optional<Engine::LegRef> Engine::find(std::uint16_t link, CallRef ref) {
    auto it = refs_.find(RefKey{link, ref});
    if (it == refs_.end()) {
        return std::nullopt;
    }
    return it->second;
}

Engine::Call* Engine::groupCall(const McGroupId& g) {
    auto it = group_calls_.find(g.uri);
    if (it == group_calls_.end()) {
        return nullptr;
    }
    auto c = calls_.find(it->second);
    return c == calls_.end() ? nullptr : c->second.get();
}

int Engine::aliveLegs(const Call& c, Side side) const {
    int n = 0;
    for (const auto& l : c.legs) {
        n += (l.alive && l.side == side) ? 1 : 0;
    }
    return n;
}

int Engine::firstLeg(const Call& c, Side side) const {
    for (std::size_t i = 0; i < c.legs.size(); ++i) {
        if (c.legs[i].alive && c.legs[i].side == side) {
            return static_cast<int>(i);
        }
    }
    return -1;
}

void Engine::endCall(Call& c, EndReason reason, std::string_view detail) {
    if (c.fsm.state() == CallState::Ended) {
        return;
    }
    for (std::size_t i = 0; i < c.legs.size(); ++i) {
        Leg& l = c.legs[i];
        if (l.alive) {
            send(l.link, Event{CallEnd{l.ref, reason, std::string(detail)}});
            killLeg(c, static_cast<int>(i));
        }
    }
    CallState old = c.fsm.state();
    (void)c.fsm.transition(CallState::Ended, CallEvent::End);
    callStateChanged(c, old, CallState::Ended);
    if (c.local_floor) {
        (void)c.fcs.transition(FcsState::Released, FcsEvent::End);
    } else {
        (void)c.part.transition(PartState::Released, PartEvent::End);
    }
    deps_.timers.cancel(c.call_timer);
    deps_.timers.cancel(c.floor_timer);
    c.call_timer = c.floor_timer = 0;
    log_->info("call={} end reason={} detail={} transmissions={} frames={}", c.name,
               toString(reason), detail, c.transmissions, c.frames);
    if (c.group) {
        auto it = group_calls_.find(c.group->mc_group.uri);
        if (it != group_calls_.end() && it->second == c.id) {
            group_calls_.erase(it);
        }
    }
    // Erased at the next event or timer: a caller up the stack may still hold a reference.
    reap_.push_back(c.id);
}

void Engine::reapEnded() {
    for (std::uint64_t id : reap_) {
        auto it = calls_.find(id);
        if (it != calls_.end() && it->second->fsm.state() == CallState::Ended) {
            calls_.erase(it);
        }
    }
    reap_.clear();
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

// ---------------------------------------------------------------------------------------------
// Call setup

void Engine::onCallSetup(std::uint16_t link, CallSetup&& s) {
    if (auto lr = find(link, s.call)) {
        modifyCall(*lr->call, lr->leg, s);
        return;
    }
    if (s.kind == CallKind::Private) {
        privateSetup(link, std::move(s));
    } else if (links_[link].id.side == Side::Lmr) {
        lmrGroupSetup(link, std::move(s));
    } else {
        mcGroupSetup(link, std::move(s));
    }
}

void Engine::modifyCall(Call& c, int leg, const CallSetup& s) {
    Leg& l = c.legs[static_cast<std::size_t>(leg)];
    l.priority = s.priority;
    if (s.priority == c.priority) {
        return;
    }
    bool cancel = s.priority < c.priority;
    c.priority = s.priority;
    deps_.metrics
        .counter("iwf_engine_priority_changes_total",
                 "Emergency / imminent peril raised or cancelled in a call in progress",
                 {{"change", cancel ? "cancel" : "raise"},
                  {"priority", std::string(toString(s.priority))}})
        .inc();
    log_->info("call={} priority={} change={}", c.name, toString(s.priority),
               cancel ? "cancel" : "raise");
    // Tell the other side (a re-INVITE / an LMR emergency update on the adapter's side).
    for (const Leg& o : c.legs) {
        // MC legs always; LMR legs only where the engine originated the transmission.
        if (!o.alive || o.side == l.side || (o.side == Side::Lmr && !o.engine_ref)) {
            continue;
        }
        CallSetup u;
        u.call = o.ref;
        u.caller = o.side == Side::Mc ? toMc(c, l.party) : toLmr(c, l.party);
        u.callee = o.side == Side::Mc ? (c.group ? Address{c.group->mc_group} : o.party.id)
                                      : (c.group ? c.group->lmr_group : o.party.id);
        u.kind = c.kind;
        u.priority = o.side == Side::Lmr ? lmrPriority(c.priority) : c.priority;
        u.broadcast = c.broadcast;
        u.floor_control = c.floor_control;
        send(o.link, Event{u});
    }
    if (!cancel && c.local_floor && c.holder >= 0 && c.holder != leg &&
        c.legs[static_cast<std::size_t>(leg)].floor == FloorGate::Queued) {
        removeFromQueue(c, leg);
        arbitrate(c, leg);
    }
}

// A new group call for `group`, started by `s` from the `origin` side ("lmr" / "mc"): the
// floor is arbitrated here when the group is homed on the LMR side.
Engine::Call& Engine::openGroupCall(std::shared_ptr<const DirectorySnapshot> snap, GroupInfo group,
                                    const CallSetup& s, std::string_view origin) {
    Call& c = newCall(std::move(snap), CallKind::Group);
    c.group = std::move(group);
    c.local_floor = c.group->home == Side::Lmr;
    c.priority = s.priority;
    c.broadcast = s.broadcast;
    // A stale entry for the URI would keep a view into another call's string: replace the key.
    const std::string_view uri = c.group->mc_group.uri;
    if (auto it = group_calls_.find(uri); it != group_calls_.end()) {
        group_calls_.erase(it);
    }
    group_calls_.emplace(uri, c.id);
    deps_.metrics
        .counter("iwf_engine_calls_started_total", "Calls started by kind, origin, priority",
                 {{"kind", "group"},
                  {"origin", std::string(origin)},
                  {"priority", std::string(toString(s.priority))}})
        .inc();
    log_->info("call={} start kind=group origin={} group={} revision={} home={} mode={}", c.name,
               origin, c.group->mc_group.uri, c.snap->revision(), sideName(c.group->home),
               toString(c.group->mode));
    return c;
}

void Engine::lmrGroupSetup(std::uint16_t link, CallSetup&& s) {
    auto snap = deps_.directory.current();
    auto group = snap->groupByLmr(s.callee);
    if (!group) {
        countRefusal(link, "unknown_group");
        send(link, Event{FloorDeny{s.call, s.caller, kDenyOther, "unknown_group"}});
        return;
    }
    Call* c = groupCall(group->mc_group);
    if (!c) {
        c = &openGroupCall(snap, std::move(*group), s, "lmr");
    }
    int leg = addLeg(*c, link, s.call, Side::Lmr, false);
    Leg& l = c->legs[static_cast<std::size_t>(leg)];
    l.party = s.caller;
    l.priority = s.priority;
    l.policy_first = true;  // the radio transmits already: check the stream first
    l.floor = FloorGate::Pending;
    l.pending.reserve(opts_.pending_frames_max);
    if (s.priority > c->priority) {
        CallSetup up = s;
        l.priority = c->priority;  // modifyCall compares against the call's priority
        modifyCall(*c, leg, up);
    }
    if (s.crypto) {
        evaluatePolicy(*c, leg, *s.crypto);
    }
}

void Engine::mcGroupSetup(std::uint16_t link, CallSetup&& s) {
    const auto* gid = as<McGroupId>(s.callee);
    auto snap = deps_.directory.current();
    std::optional<GroupInfo> group;
    if (gid) {
        group = snap->groupByMc(*gid);
    }
    if (!group) {
        countRefusal(link, "unknown_group");
        send(link, Event{CallEnd{s.call, EndReason::Refused, "unknown_group"}});
        return;
    }
    Call* c = groupCall(group->mc_group);
    bool joined = c != nullptr;
    if (!c) {
        c = &openGroupCall(snap, std::move(*group), s, "mc");
    }
    int leg = addLeg(*c, link, s.call, Side::Mc, false);
    Leg& l = c->legs[static_cast<std::size_t>(leg)];
    l.party = s.caller;
    l.priority = s.priority;
    if (joined && c->holder >= 0 && c->legs[static_cast<std::size_t>(c->holder)].flowing) {
        // Late entry (TS 23.283 10.3.5.8): this receiver starts at the next sync point.
        l.synced = false;
        l.late = true;
        l.wait_start_ns = toNs(deps_.clock.now());
        late_entries_.inc();
        log_->info("call={} late_entry=join link={} ref={} waiting_for=sync_point", c->name,
                   links_[link].id.name, s.call);
    }
    if (joined && s.priority > c->priority) {
        l.priority = c->priority;
        modifyCall(*c, leg, s);
    }
}

void Engine::privateSetup(std::uint16_t link, CallSetup&& s) {
    auto snap = deps_.directory.current();
    Side side = links_[link].id.side;
    std::optional<UserInfo> callee;
    if (side == Side::Lmr) {
        callee = snap->userByLmr(s.callee);
    } else if (const auto* id = as<McId>(s.callee)) {
        callee = snap->userByMc(*id);
    }
    std::optional<UserInfo> caller;
    if (side == Side::Lmr) {
        caller = snap->userByLmr(s.caller.id);
    } else if (const auto* id = as<McId>(s.caller.id)) {
        caller = snap->userByMc(*id);
    }
    auto refuseSetup = [&](std::string_view reason) {
        countRefusal(link, reason);
        send(link, Event{FloorDeny{s.call, s.caller, kDenyOther, std::string(reason)}});
        send(link, Event{CallEnd{s.call, EndReason::Refused, std::string(reason)}});
    };
    if (!callee) {
        refuseSetup("unknown_callee");
        return;
    }
    if (side == Side::Mc && !caller) {
        refuseSetup("unmapped_caller");  // an MC user needs an LMR identity to call a radio
        return;
    }
    bool e2ee_allowed = callee->e2ee_allowed && (!caller || caller->e2ee_allowed);
    if (s.crypto) {
        PolicyVerdict v = checkPrivatePolicy(e2ee_allowed, *s.crypto);
        if (!v.allowed) {
            refuseSetup(v.reason);
            return;
        }
    }
    Side other = side == Side::Lmr ? Side::Mc : Side::Lmr;
    int out_link = side == Side::Lmr ? linkByName(callee->mc_link, Side::Mc, std::nullopt)
                                     : linkByName(callee->lmr_link, Side::Lmr, std::nullopt);
    if (out_link < 0) {
        refuseSetup("no_link");
        return;
    }
    Call& c = newCall(snap, CallKind::Private);
    c.private_e2ee_allowed = e2ee_allowed;
    c.priority = s.priority;
    c.floor_control = s.floor_control;
    c.local_floor = true;
    deps_.metrics
        .counter("iwf_engine_calls_started_total", "Calls started by kind, origin, priority",
                 {{"kind", "private"},
                  {"origin", std::string(sideName(side))},
                  {"priority", std::string(toString(s.priority))}})
        .inc();
    log_->info("call={} start kind=private origin={} floor_control={} revision={}", c.name,
               sideName(side), s.floor_control, c.snap->revision());
    int a = addLeg(c, link, s.call, side, false);
    c.legs[static_cast<std::size_t>(a)].party = s.caller;
    c.legs[static_cast<std::size_t>(a)].priority = s.priority;
    int b =
        addLeg(c, static_cast<std::uint16_t>(out_link), kEngineRefBit | next_ref_++, other, true);
    Leg& lb = c.legs[static_cast<std::size_t>(b)];
    lb.party.id = other == Side::Mc ? Address{callee->mc_id} : callee->lmr_unit;
    CallSetup o;
    o.call = lb.ref;
    o.caller = other == Side::Mc ? toMc(c, s.caller) : toLmr(c, s.caller);
    o.callee = lb.party.id;
    o.kind = CallKind::Private;
    o.priority = other == Side::Lmr ? lmrPriority(s.priority) : s.priority;
    o.floor_control = s.floor_control;
    o.crypto = s.crypto;
    o.codec = s.codec;
    send(lb.link, Event{o});
    if (!s.floor_control) {
        // Full duplex: both parties may send at any time; the policy is checked per stream.
        for (int i : {a, b}) {
            Leg& l = c.legs[static_cast<std::size_t>(i)];
            l.floor = FloorGate::Granted;
            l.pending.reserve(opts_.pending_frames_max);
        }
        if (s.crypto) {
            evaluatePolicy(c, a, *s.crypto);
        }
        talkStarted(c);
        return;
    }
    // Half duplex: the caller holds an implicit floor request.
    Leg& la = c.legs[static_cast<std::size_t>(a)];
    la.floor = FloorGate::Pending;
    la.policy_first = side == Side::Lmr;
    la.pending.reserve(opts_.pending_frames_max);
    if (s.crypto) {
        evaluatePolicy(c, a, *s.crypto);
    } else if (!la.policy_first) {
        arbitrate(c, a);
    }
}

// ---------------------------------------------------------------------------------------------
// Policy and floor

void Engine::markCrypto(Call& c, const CryptoSync& crypto) {
    if (c.state_known && c.encrypted_marked != crypto.encrypted) {
        log_->info("call={} e2ee_state={} (changed)", c.name,
                   crypto.encrypted ? "encrypted" : "clear");
    }
    c.state_known = true;
    c.encrypted_marked = crypto.encrypted;
}

void Engine::evaluatePolicy(Call& c, int leg, const CryptoSync& crypto) {
    Leg& l = c.legs[static_cast<std::size_t>(leg)];
    l.crypto = crypto;
    if (crypto.encrypted && crypto.algid == 0 && crypto.key_id == 0 && crypto.mi.empty()) {
        // Late entry: encrypted, but algorithm, key and MI not known yet (a P25 records stream
        // before its first LDU2, CryptoTracker::current()). Decide on the first frame that
        // states them; until then the frames wait in `pending` like any undecided stream.
        return;
    }
    PolicyVerdict v = c.group ? checkGroupPolicy(*c.group, crypto)
                              : checkPrivatePolicy(c.private_e2ee_allowed, crypto);
    if (!v.allowed) {
        l.policy = PolicyGate::Refused;
        refuse(c, leg, v.reason, kDenyOther, false);
        return;
    }
    l.policy = PolicyGate::Allowed;
    deps_.metrics
        .counter("iwf_engine_transmissions_total", "Transmissions accepted by E2EE state",
                 {{"e2ee", crypto.encrypted ? "encrypted" : "clear"}})
        .inc();
    afterPolicyAllowed(c, leg);
}

void Engine::afterPolicyAllowed(Call& c, int leg) {
    Leg& l = c.legs[static_cast<std::size_t>(leg)];
    if (l.policy_first && l.floor == FloorGate::Pending) {
        requestFloor(c, leg);
    } else {
        tryFlow(c, leg);
    }
}

int Engine::ensureMcLeg(Call& c, int talker_leg) {
    int mc = firstLeg(c, Side::Mc);
    if (mc >= 0 || !c.group) {
        return mc;
    }
    int link = linkByName(c.group->mc_link, Side::Mc, std::nullopt);
    if (link < 0) {
        return -1;
    }
    const Leg& t = c.legs[static_cast<std::size_t>(talker_leg)];
    mc = addLeg(c, static_cast<std::uint16_t>(link), kEngineRefBit | next_ref_++, Side::Mc, true);
    Leg& m = c.legs[static_cast<std::size_t>(mc)];
    m.party.id = c.group->mc_group;
    CallSetup o;
    o.call = m.ref;
    o.caller = toMc(c, t.party);
    o.callee = c.group->mc_group;
    o.kind = CallKind::Group;
    o.priority = c.priority;
    o.broadcast = c.broadcast;
    o.floor_control = true;
    if (t.policy == PolicyGate::Allowed) {
        o.crypto = t.crypto;
    }
    o.codec = c.group->codec;
    send(m.link, Event{o});
    return mc;
}

void Engine::requestFloor(Call& c, int leg) {
    Leg& l = c.legs[static_cast<std::size_t>(leg)];
    if (l.side == Side::Lmr && c.kind == CallKind::Group) {
        if (ensureMcLeg(c, leg) < 0) {
            refuse(c, leg, "no_link", kDenyOther, false);
            return;
        }
    }
    if (c.local_floor) {
        arbitrate(c, leg);
        return;
    }
    // floor_part: the MC controlling function decides (TS 23.283 10.5.8).
    if (c.part.state() != PartState::NoPermission) {
        refuse(c, leg, "floor_busy", kDenyAnotherHasPermission, false);
        return;
    }
    int mc = firstLeg(c, Side::Mc);
    if (!c.part.transition(PartState::PendingRequest, PartEvent::Request).ok()) {
        refuse(c, leg, "floor_busy", kDenyAnotherHasPermission, false);
        return;
    }
    armFloorTimer(c, c.part.timerName());
    c.requester = leg;
    floorEvent("requested");
    const Leg& m = c.legs[static_cast<std::size_t>(mc)];
    send(m.link, Event{FloorRequest{m.ref, toMc(c, l.party), l.priority}});
}

void Engine::arbitrate(Call& c, int leg) {
    Leg& l = c.legs[static_cast<std::size_t>(leg)];
    if (c.fcs.state() == FcsState::Idle) {
        grant(c, leg);
        return;
    }
    if (c.holder == leg || c.preemptor == leg) {
        return;  // a repeated request
    }
    (void)c.fcs.accept(FcsEvent::Request);
    CallPriority holder_prio =
        c.holder >= 0 ? c.legs[static_cast<std::size_t>(c.holder)].priority : CallPriority::Normal;
    if (c.fcs.state() == FcsState::Taken && l.priority > holder_prio) {
        preempt(c, leg);
        return;
    }
    bool queueing = c.group ? c.group->queueing : true;
    if (l.queueable && queueing) {
        if (c.queue.size() >= opts_.queue_max) {
            refuse(c, leg, "queue_full", kDenyQueueFull, false);
            return;
        }
        // Ordered by priority, first come first served within one priority.
        auto pos = std::find_if(c.queue.begin(), c.queue.end(), [&](int q) {
            return c.legs[static_cast<std::size_t>(q)].priority < l.priority;
        });
        auto at = c.queue.insert(pos, leg);
        l.floor = FloorGate::Queued;
        floorEvent("queued");
        send(l.link, Event{FloorQueued{l.ref, l.party,
                                       static_cast<std::uint8_t>(at - c.queue.begin() + 1)}});
        return;
    }
    refuse(c, leg, "floor_busy", kDenyAnotherHasPermission, false);
}

void Engine::grant(Call& c, int leg) {
    Leg& l = c.legs[static_cast<std::size_t>(leg)];
    if (!c.fcs.transition(FcsState::Taken, FcsEvent::Request).ok()) {
        return;
    }
    armFloorTimer(c, c.fcs.timerName());
    c.holder = leg;
    l.floor = FloorGate::Granted;
    floorEvent("granted");
    send(l.link, Event{FloorGranted{l.ref, l.party, std::chrono::milliseconds(0)}});
    // Everybody else hears who talks (talker identity and location, TS 23.283 10.11/10.13).
    for (const Leg& o : c.legs) {
        if (!o.alive || &o == &l) {
            continue;
        }
        if (o.side == Side::Mc) {
            send(o.link, Event{FloorTaken{o.ref, l.side == Side::Mc ? l.party : toMc(c, l.party)}});
        } else if (c.kind == CallKind::Private) {
            send(o.link, Event{FloorTaken{o.ref, toLmr(c, l.party)}});
        }
    }
    talkStarted(c);
    tryFlow(c, leg);
}

void Engine::preempt(Call& c, int leg) {
    Leg& h = c.legs[static_cast<std::size_t>(c.holder)];
    if (!c.fcs.transition(FcsState::PendingRevoke, FcsEvent::Preempt).ok()) {
        return;
    }
    armFloorTimer(c, c.fcs.timerName());
    Leg& l = c.legs[static_cast<std::size_t>(leg)];
    if (c.preemptor >= 0) {
        refuse(c, c.preemptor, "preempted_in_queue", kDenyAnotherHasPermission, false);
    }
    c.preemptor = leg;
    l.floor = FloorGate::Pending;
    floorEvent("preempted");
    log_->info("call={} floor=preempt holder_link={} by_link={} priority={}", c.name,
               links_[h.link].id.name, links_[l.link].id.name, toString(l.priority));
    send(h.link, Event{FloorRevoke{h.ref, kRevokePreempted, "media_burst_preempted"}});
}

void Engine::talkStarted(Call& c) {
    CallState old = c.fsm.state();
    if (old == CallState::Active) {
        return;
    }
    if (c.fsm.transition(CallState::Active, CallEvent::TalkStart).ok()) {
        callStateChanged(c, old, CallState::Active);
        deps_.timers.cancel(c.call_timer);
        c.call_timer = 0;
    }
}

void Engine::tryFlow(Call& c, int leg) {
    Leg& l = c.legs[static_cast<std::size_t>(leg)];
    if (l.flowing || l.floor != FloorGate::Granted || l.policy != PolicyGate::Allowed) {
        return;
    }
    if (l.side == Side::Mc && c.kind == CallKind::Group && c.lmr_out < 0) {
        if (originateLmrOut(c, leg) < 0) {
            refuse(c, leg, "no_link", kDenyOther, c.holder == leg);
            return;
        }
    }
    l.flowing = true;
    ++c.transmissions;
    markCrypto(c, l.crypto);
    log_->info("call={} talker_side={} link={} e2ee={} algid={} kid={} revision={}", c.name,
               sideName(l.side), links_[l.link].id.name, l.crypto.encrypted ? "encrypted" : "clear",
               l.crypto.algid, l.crypto.key_id, c.snap->revision());
    for (const VoiceFrame& f : l.pending) {
        forward(c, leg, f);
    }
    std::vector<VoiceFrame>().swap(l.pending);  // not needed while the stream flows
}

int Engine::originateLmrOut(Call& c, int mc_leg) {
    int link = linkByName(c.group->lmr_link, Side::Lmr, c.group->family);
    if (link < 0) {
        return -1;
    }
    const Leg& m = c.legs[static_cast<std::size_t>(mc_leg)];
    CallSetup o;
    o.caller = toLmr(c, m.party);
    o.callee = c.group->lmr_group;
    o.kind = CallKind::Group;
    o.priority = lmrPriority(std::max(c.priority, m.priority));
    o.broadcast = c.broadcast;
    o.crypto = m.crypto;
    o.codec = c.group->codec;
    int out =
        addLeg(c, static_cast<std::uint16_t>(link), kEngineRefBit | next_ref_++, Side::Lmr, true);
    Leg& lo = c.legs[static_cast<std::size_t>(out)];
    lo.party.id = c.group->lmr_group;
    o.call = lo.ref;
    c.lmr_out = out;
    send(lo.link, Event{o});
    return out;
}

void Engine::refuse(Call& c, int leg, std::string_view reason, std::uint16_t cause, bool revoke) {
    Leg& l = c.legs[static_cast<std::size_t>(leg)];
    bool was_holder = c.holder == leg;
    l.floor = FloorGate::Refused;
    l.refuse_reason = reason;
    l.flowing = false;
    l.refused_frames = &deps_.metrics.counter(
        "iwf_engine_frames_refused_total",
        "Voice frames not relayed because their transmission was refused, by link and reason",
        {{"link", links_[l.link].id.name}, {"reason", std::string(reason)}});
    l.refused_frames->inc(l.pending.size());
    std::vector<VoiceFrame>().swap(l.pending);
    countRefusal(l.link, reason);
    floorEvent(revoke ? "revoked" : "denied");
    if (revoke) {
        send(l.link, Event{FloorRevoke{l.ref, cause, std::string(reason)}});
    } else {
        send(l.link, Event{FloorDeny{l.ref, l.party, cause, std::string(reason)}});
    }
    warn([&](std::uint64_t sup) {
        log_->warn("call={} refused link={} ref={} reason={} cause={} suppressed={}", c.name,
                   links_[l.link].id.name, l.ref, reason, cause, sup);
    });
    removeFromQueue(c, leg);
    if (c.requester == leg) {
        c.requester = -1;
        if (c.part.state() == PartState::PendingRequest || c.part.state() == PartState::Queued) {
            (void)c.part.transition(PartState::NoPermission, PartEvent::Release);
            deps_.timers.cancel(c.floor_timer);
            c.floor_timer = 0;
            int mc = firstLeg(c, Side::Mc);
            if (mc >= 0) {
                const Leg& m = c.legs[static_cast<std::size_t>(mc)];
                send(m.link, Event{FloorRelease{m.ref, toMc(c, l.party)}});
            }
        }
    }
    if (was_holder) {
        releaseFloor(c, leg, true);
    }
    if (c.preemptor == leg) {
        c.preemptor = -1;
    }
}

void Engine::removeFromQueue(Call& c, int leg) {
    auto it = std::find(c.queue.begin(), c.queue.end(), leg);
    if (it != c.queue.end()) {
        c.queue.erase(it);
    }
}

void Engine::releaseFloor(Call& c, int leg, bool notify_mc) {
    Leg& l = c.legs[static_cast<std::size_t>(leg)];
    bool was_holder = c.holder == leg;
    if (l.floor != FloorGate::Refused) {
        l.floor = FloorGate::None;
    }
    l.flowing = false;
    l.policy = PolicyGate::Unknown;
    std::vector<VoiceFrame>().swap(l.pending);
    if (!was_holder) {
        return;
    }
    c.holder = -1;
    floorEvent("released");
    if (l.side == Side::Mc && c.lmr_out >= 0) {
        const Leg& lo = c.legs[static_cast<std::size_t>(c.lmr_out)];
        send(lo.link, Event{CallEnd{lo.ref, EndReason::Normal, "end_of_transmission"}});
        killLeg(c, c.lmr_out);
    }
    if (!c.local_floor) {
        if (l.side == Side::Lmr && c.part.state() == PartState::HasPermission) {
            (void)c.part.transition(PartState::NoPermission, PartEvent::Release);
            int mc = firstLeg(c, Side::Mc);
            if (notify_mc && mc >= 0) {
                const Leg& m = c.legs[static_cast<std::size_t>(mc)];
                send(m.link, Event{FloorRelease{m.ref, toMc(c, l.party)}});
            }
        }
        afterFloorFree(c);
        return;
    }
    if (c.fcs.state() == FcsState::PendingRevoke && c.preemptor >= 0) {
        int p = c.preemptor;
        c.preemptor = -1;
        (void)c.fcs.transition(FcsState::Taken, FcsEvent::Release);
        armFloorTimer(c, c.fcs.timerName());
        c.holder = p;
        Leg& pl = c.legs[static_cast<std::size_t>(p)];
        pl.floor = FloorGate::Granted;
        floorEvent("granted");
        send(pl.link, Event{FloorGranted{pl.ref, pl.party, std::chrono::milliseconds(0)}});
        for (const Leg& o : c.legs) {
            if (o.alive && &o != &pl && o.side == Side::Mc) {
                send(o.link,
                     Event{FloorTaken{o.ref, pl.side == Side::Mc ? pl.party : toMc(c, pl.party)}});
            }
        }
        tryFlow(c, p);
        return;
    }
    (void)c.fcs.transition(FcsState::Idle, FcsEvent::Release);
    deps_.timers.cancel(c.floor_timer);
    c.floor_timer = 0;
    if (!c.queue.empty()) {
        int next = c.queue.front();
        c.queue.erase(c.queue.begin());
        grant(c, next);
        return;
    }
    floorEvent("idle");
    for (const Leg& o : c.legs) {
        if (o.alive && o.side == Side::Mc) {
            send(o.link, Event{FloorIdle{o.ref}});
        }
    }
    afterFloorFree(c);
}

void Engine::afterFloorFree(Call& c) {
    if (c.holder >= 0 || c.kind == CallKind::Private) {
        return;
    }
    CallState old = c.fsm.state();
    if (old == CallState::Active && c.fsm.transition(CallState::Hang, CallEvent::TalkEnd).ok()) {
        callStateChanged(c, old, CallState::Hang);
        armCallTimer(c);
    }
}

// ---------------------------------------------------------------------------------------------
// Media

void Engine::trackSeq(Leg& leg, LinkEntry& le, const VoiceFrame& f) {
    if (!leg.seq_init) {
        leg.seq_init = true;
        leg.next_seq = f.seq + 1;
        return;
    }
    if (f.seq == leg.next_seq) {
        ++leg.next_seq;
        return;
    }
    auto gap = static_cast<std::int32_t>(f.seq - leg.next_seq);
    if (gap > 0) {
        leg.lost += static_cast<std::uint64_t>(gap);
        le.lost->inc(static_cast<std::uint64_t>(gap));
        leg.next_seq = f.seq + 1;
    } else {
        le.out_of_order->inc();  // relayed as it came; never reordered or dropped here
    }
}

void Engine::onVoice(std::uint16_t link, const Voice& v) {
    auto lr = find(link, v.call);
    LinkEntry& le = links_[link];
    le.frames_in->inc();
    if (!lr) {
        dropEvent(link, "unknown_call");
        return;
    }
    Call& c = *lr->call;
    int leg = lr->leg;
    Leg& l = c.legs[static_cast<std::size_t>(leg)];
    ++l.frames_in;
    trackSeq(l, le, v.frame);
    if (l.floor == FloorGate::Refused || l.policy == PolicyGate::Refused) {
        if (l.refused_frames) {
            l.refused_frames->inc();
        }
        return;
    }
    if (l.floor == FloorGate::None) {
        dropEvent(link, "no_floor");
        return;
    }
    const CryptoSync& fc = v.frame.crypto;
    if (l.policy == PolicyGate::Allowed &&
        (fc.encrypted != l.crypto.encrypted ||
         (fc.encrypted && (fc.algid != l.crypto.algid || fc.key_id != l.crypto.key_id ||
                           fc.family != l.crypto.family)))) {
        // The stream's E2EE state changed mid-transmission: check it again.
        crypto_changes_.inc();
        PolicyVerdict verdict = c.group ? checkGroupPolicy(*c.group, fc)
                                        : checkPrivatePolicy(c.private_e2ee_allowed, fc);
        if (!verdict.allowed) {
            l.policy = PolicyGate::Refused;
            refuse(c, leg, verdict.reason, kDenyOther, l.flowing);
            l.refused_frames->inc();
            return;
        }
        l.crypto = fc;
        if (l.flowing) {
            markCrypto(c, fc);
        }
    }
    if (l.flowing) {
        forward(c, leg, v.frame);
        return;
    }
    if (l.pending.size() >= opts_.pending_frames_max) {
        refuse(c, leg, "pending_overflow", kDenyOther, false);
        l.refused_frames->inc();
        return;
    }
    l.pending.push_back(v.frame);
    if (l.policy == PolicyGate::Unknown) {
        evaluatePolicy(c, leg, fc);  // encryption state read from the stream itself
    }
}

void Engine::forward(Call& c, int src, const VoiceFrame& frame) {
    const Leg& s = c.legs[static_cast<std::size_t>(src)];
    ++c.frames;
    if (s.side == Side::Lmr) {
        for (std::size_t i = 0; i < c.legs.size(); ++i) {
            if (c.legs[i].alive && c.legs[i].side == Side::Mc) {
                deliverFrame(c, static_cast<int>(i), frame);
            }
        }
        return;
    }
    for (std::size_t i = 0; i < c.legs.size(); ++i) {
        const Leg& d = c.legs[i];
        if (!d.alive || static_cast<int>(i) == src) {
            continue;
        }
        bool to_lmr = d.side == Side::Lmr &&
                      (c.kind == CallKind::Private || static_cast<int>(i) == c.lmr_out);
        // Groups homed in the IWF: the IWF distributes media to its MC participants too.
        bool to_mc = d.side == Side::Mc && c.local_floor && c.kind == CallKind::Group;
        if (to_lmr || to_mc) {
            deliverFrame(c, static_cast<int>(i), frame);
        }
    }
}

void Engine::deliverFrame(Call& c, int dst, const VoiceFrame& frame) {
    Leg& d = c.legs[static_cast<std::size_t>(dst)];
    if (!d.synced) {
        if (!isSyncPoint(frame.crypto, frame.pos.index)) {
            ++d.wait_frames;
            links_[d.link].late_wait_frames->inc();
            return;
        }
        d.synced = true;
        late_synced_.inc();
        std::int64_t waited = toNs(deps_.clock.now()) - d.wait_start_ns;
        log_->info(
            "call={} late_entry=synced link={} ref={} wait_frames={} wait_ms={} superframe={}",
            c.name, links_[d.link].id.name, d.ref, d.wait_frames, waited / 1'000'000,
            frame.pos.superframe);
    }
    Event ev{Voice{d.ref, frame}};
    send(d.link, ev);
    ++d.frames_out;
    links_[d.link].frames_out->inc();
    if (frame.rx_ns != 0) {
        latency_.record(toNs(deps_.clock.now()) - frame.rx_ns);
    }
}

// ---------------------------------------------------------------------------------------------
// Call end and floor events

void Engine::onCallEnd(std::uint16_t link, const CallEnd& e) {
    auto lr = find(link, e.call);
    if (!lr) {
        dropEvent(link, "unknown_call");
        return;
    }
    Call& c = *lr->call;
    int leg = lr->leg;
    Leg& l = c.legs[static_cast<std::size_t>(leg)];
    if (c.kind == CallKind::Private) {
        killLeg(c, leg);
        endCall(c, e.reason, e.detail.empty() ? "party_ended" : e.detail);
        return;
    }
    if (l.side == Side::Lmr) {
        if (leg == c.lmr_out) {
            // The LMR side ended the transmission the engine originated for an MC talker.
            killLeg(c, leg);
            if (c.holder >= 0 && e.reason == EndReason::Refused) {
                refuse(c, c.holder, "lmr_refused", kRevokeOther, true);
            }
            return;
        }
        if (c.holder == leg) {
            releaseFloor(c, leg, true);
        } else if (c.requester == leg || c.preemptor == leg) {
            refuse(c, leg, "ended_before_grant", kDenyOther, false);
        }
        killLeg(c, leg);
        if (aliveLegs(c, Side::Lmr) + aliveLegs(c, Side::Mc) == 0) {
            endCall(c, e.reason, "all_legs_ended");
            return;
        }
        afterFloorFree(c);
        return;
    }
    // An MC leg.
    if (c.holder == leg) {
        releaseFloor(c, leg, false);
    }
    killLeg(c, leg);
    if (aliveLegs(c, Side::Mc) == 0) {
        endCall(c, e.reason, "mc_side_ended");
    }
}

void Engine::onFloorRequest(std::uint16_t link, const FloorRequest& r) {
    auto lr = find(link, r.call);
    if (!lr) {
        dropEvent(link, "unknown_call");
        return;
    }
    Call& c = *lr->call;
    Leg& l = c.legs[static_cast<std::size_t>(lr->leg)];
    if (!c.local_floor && l.side == Side::Mc) {
        dropEvent(link, "unexpected_floor_request");  // the MC side arbitrates its own users
        return;
    }
    if (c.kind == CallKind::Private && !c.floor_control) {
        dropEvent(link, "no_floor_control");
        return;
    }
    if (l.floor == FloorGate::Granted || l.floor == FloorGate::Queued ||
        (l.floor == FloorGate::Pending && lr->leg == c.preemptor)) {
        return;  // already has it or waits for it
    }
    if (hasAddress(r.who.id)) {
        l.party = r.who;
    }
    l.priority = std::max(r.priority, l.priority);
    l.queueable = true;
    l.policy_first = false;
    l.policy = PolicyGate::Unknown;
    l.floor = FloorGate::Pending;
    l.pending.clear();
    l.pending.reserve(opts_.pending_frames_max);
    requestFloor(c, lr->leg);
}

void Engine::onFloorRelease(std::uint16_t link, const FloorRelease& r) {
    auto lr = find(link, r.call);
    if (!lr) {
        dropEvent(link, "unknown_call");
        return;
    }
    Call& c = *lr->call;
    int leg = lr->leg;
    Leg& l = c.legs[static_cast<std::size_t>(leg)];
    if (c.holder == leg) {
        releaseFloor(c, leg, true);
        return;
    }
    if (c.preemptor == leg) {
        c.preemptor = -1;
        l.floor = FloorGate::None;
        return;
    }
    if (l.floor == FloorGate::Queued) {
        removeFromQueue(c, leg);
        l.floor = FloorGate::None;
        return;
    }
    if (c.requester == leg) {
        refuse(c, leg, "released_before_grant", kDenyOther, false);
        l.floor = FloorGate::None;
        return;
    }
    if (l.floor == FloorGate::Refused) {
        l.floor = FloorGate::None;  // the refused transmission ended: the next may come
    }
}

// The MC controlling function's decisions (floor_part) and the LMR side's answers to
// transmissions the engine originated.
void Engine::onFloorGranted(std::uint16_t link, const FloorGranted& g) {
    auto lr = find(link, g.call);
    if (!lr) {
        dropEvent(link, "unknown_call");
        return;
    }
    Call& c = *lr->call;
    if (links_[link].id.side == Side::Lmr || c.local_floor) {
        return;  // an LMR acknowledgement of our origination; nothing to decide
    }
    if (c.requester < 0 || !c.part.transition(PartState::HasPermission, PartEvent::Granted).ok()) {
        dropEvent(link, "unexpected_floor_granted");
        return;
    }
    deps_.timers.cancel(c.floor_timer);
    c.floor_timer = 0;
    int leg = c.requester;
    c.requester = -1;
    if (c.holder >= 0 && c.holder != leg) {
        releaseFloor(c, c.holder, false);  // the MC side moved the floor to us
    }
    c.holder = leg;
    Leg& l = c.legs[static_cast<std::size_t>(leg)];
    l.floor = FloorGate::Granted;
    floorEvent("granted");
    send(l.link, Event{FloorGranted{l.ref, l.party, g.duration}});
    talkStarted(c);
    tryFlow(c, leg);
}

void Engine::onFloorDeny(std::uint16_t link, const FloorDeny& d) {
    auto lr = find(link, d.call);
    if (!lr) {
        dropEvent(link, "unknown_call");
        return;
    }
    Call& c = *lr->call;
    if (links_[link].id.side == Side::Lmr) {
        if (lr->leg == c.lmr_out && c.holder >= 0) {
            // The LMR home refused the transmission: the MC talker loses the floor.
            refuse(c, c.holder, "lmr_denied", kRevokeOther, true);
        }
        return;
    }
    if (c.local_floor || c.requester < 0) {
        dropEvent(link, "unexpected_floor_deny");
        return;
    }
    int leg = c.requester;
    c.requester = -1;
    (void)c.part.transition(PartState::NoPermission, PartEvent::Denied);
    deps_.timers.cancel(c.floor_timer);
    c.floor_timer = 0;
    Leg& l = c.legs[static_cast<std::size_t>(leg)];
    l.floor = FloorGate::Refused;
    l.refuse_reason = "mc_denied";
    l.refused_frames = &deps_.metrics.counter(
        "iwf_engine_frames_refused_total",
        "Voice frames not relayed because their transmission was refused, by link and reason",
        {{"link", links_[l.link].id.name}, {"reason", "mc_denied"}});
    l.refused_frames->inc(l.pending.size());
    std::vector<VoiceFrame>().swap(l.pending);
    countRefusal(l.link, "mc_denied");
    floorEvent("denied");
    // Relay the MC side's verdict with its cause and phrase.
    send(l.link, Event{FloorDeny{l.ref, l.party, d.cause, d.reason}});
    afterFloorFree(c);
}

void Engine::onFloorQueued(std::uint16_t link, const FloorQueued& q) {
    auto lr = find(link, q.call);
    if (!lr) {
        dropEvent(link, "unknown_call");
        return;
    }
    Call& c = *lr->call;
    if (c.local_floor || c.requester < 0) {
        dropEvent(link, "unexpected_floor_queued");
        return;
    }
    if (c.part.state() == PartState::PendingRequest) {
        (void)c.part.transition(PartState::Queued, PartEvent::Queued);
        armFloorTimer(c, c.part.timerName());
    } else if (!c.part.accept(PartEvent::Queued).ok()) {
        return;
    }
    Leg& l = c.legs[static_cast<std::size_t>(c.requester)];
    l.floor = FloorGate::Queued;
    floorEvent("queued");
    send(l.link, Event{FloorQueued{l.ref, l.party, q.position}});
}

void Engine::onFloorTaken(std::uint16_t link, const FloorTaken& t) {
    auto lr = find(link, t.call);
    if (!lr) {
        dropEvent(link, "unknown_call");
        return;
    }
    Call& c = *lr->call;
    int leg = lr->leg;
    Leg& l = c.legs[static_cast<std::size_t>(leg)];
    if (l.side == Side::Lmr || c.local_floor) {
        return;  // informational
    }
    // floor_part: an MC user has the floor (MC floor grant -> LMR call origination).
    if (!c.part.accept(PartEvent::Taken).ok()) {
        return;
    }
    if (c.holder >= 0 && c.holder != leg) {
        Leg& h = c.legs[static_cast<std::size_t>(c.holder)];
        if (h.side == Side::Lmr && toMc(c, h.party).id == t.who.id) {
            return;  // the MC side tells its participants that our LMR talker has the floor
        }
        if (h.side == Side::Lmr) {
            // The MC side gave the floor to somebody else: the LMR talker lost it.
            (void)c.part.transition(PartState::NoPermission, PartEvent::Revoked);
            refuse(c, c.holder, "floor_taken_by_mc", kRevokeOther, true);
        }
    }
    if (c.holder == leg) {
        if (l.party == t.who) {
            return;
        }
        releaseFloor(c, leg, false);  // talker change on the MC side
    }
    l.party = t.who;
    l.priority = c.priority;
    l.policy = PolicyGate::Unknown;
    l.policy_first = false;
    l.floor = FloorGate::Granted;
    l.pending.clear();
    l.pending.reserve(opts_.pending_frames_max);
    c.holder = leg;
    floorEvent("taken");
    talkStarted(c);
}

void Engine::onFloorIdle(std::uint16_t link, const FloorIdle& i) {
    auto lr = find(link, i.call);
    if (!lr) {
        dropEvent(link, "unknown_call");
        return;
    }
    Call& c = *lr->call;
    if (c.local_floor || links_[link].id.side == Side::Lmr) {
        return;
    }
    if (c.holder == lr->leg) {
        releaseFloor(c, lr->leg, false);
    }
}

void Engine::onFloorRevoke(std::uint16_t link, const FloorRevoke& r) {
    auto lr = find(link, r.call);
    if (!lr) {
        dropEvent(link, "unknown_call");
        return;
    }
    Call& c = *lr->call;
    if (c.local_floor || links_[link].id.side == Side::Lmr) {
        dropEvent(link, "unexpected_floor_revoke");
        return;
    }
    if (c.holder < 0 || c.legs[static_cast<std::size_t>(c.holder)].side != Side::Lmr) {
        return;
    }
    (void)c.part.transition(PartState::NoPermission, PartEvent::Revoked);
    int h = c.holder;
    Leg& hl = c.legs[static_cast<std::size_t>(h)];
    hl.refuse_reason = "mc_revoked";
    countRefusal(hl.link, "mc_revoked");
    floorEvent("revoked");
    send(hl.link, Event{FloorRevoke{hl.ref, r.cause, r.reason}});
    hl.floor = FloorGate::Refused;
    hl.refused_frames = &deps_.metrics.counter(
        "iwf_engine_frames_refused_total",
        "Voice frames not relayed because their transmission was refused, by link and reason",
        {{"link", links_[hl.link].id.name}, {"reason", "mc_revoked"}});
    releaseFloor(c, h, false);
}

// ---------------------------------------------------------------------------------------------
// Timers

void Engine::armCallTimer(Call& c) {
    deps_.timers.cancel(c.call_timer);
    c.call_timer = 0;
    std::string_view name = c.fsm.timerName();
    if (name.empty()) {
        return;
    }
    std::uint64_t id = c.id;
    c.call_timer = deps_.timers.start(deps_.timer_values.get(std::string(name)),
                                      [this, id] { onCallTimer(id); });
}

void Engine::armFloorTimer(Call& c, std::string_view name) {
    deps_.timers.cancel(c.floor_timer);
    c.floor_timer = 0;
    if (name.empty()) {
        return;
    }
    std::uint64_t id = c.id;
    c.floor_timer = deps_.timers.start(deps_.timer_values.get(std::string(name)),
                                       [this, id] { onFloorTimer(id); });
}

void Engine::onCallTimer(std::uint64_t id) {
    reapEnded();
    auto it = calls_.find(id);
    if (it == calls_.end()) {
        return;
    }
    Call& c = *it->second;
    c.call_timer = 0;
    if (c.fsm.state() == CallState::Hang && c.fsm.accept(CallEvent::HangExpire).ok()) {
        endCall(c, EndReason::Normal, "hang_expired");
    } else if (c.fsm.state() == CallState::Setup) {
        bool waiting = false;
        for (const Leg& l : c.legs) {
            waiting = waiting ||
                      (l.alive && (l.floor == FloorGate::Pending || l.floor == FloorGate::Queued ||
                                   l.floor == FloorGate::Granted));
        }
        if (waiting) {
            armCallTimer(c);  // a floor decision is pending: its own timer bounds it
        } else if (c.fsm.accept(CallEvent::SetupExpire).ok()) {
            endCall(c, EndReason::Timeout, "setup_expired");
        }
    }
}

void Engine::onFloorTimer(std::uint64_t id) {
    reapEnded();
    auto it = calls_.find(id);
    if (it == calls_.end()) {
        return;
    }
    Call& c = *it->second;
    c.floor_timer = 0;
    if (c.local_floor) {
        if (c.fcs.state() == FcsState::Taken && c.holder >= 0) {
            // T2: the burst is too long. Revoke; the holder gets T3 of grace.
            if (c.fcs.transition(FcsState::PendingRevoke, FcsEvent::MaxDuration).ok()) {
                armFloorTimer(c, c.fcs.timerName());
                const Leg& h = c.legs[static_cast<std::size_t>(c.holder)];
                floorEvent("revoked");
                send(h.link,
                     Event{FloorRevoke{h.ref, kRevokeBurstTooLong, "media_burst_too_long"}});
            }
        } else if (c.fcs.state() == FcsState::PendingRevoke &&
                   c.fcs.accept(FcsEvent::RevokeExpire).ok()) {
            // T3: the revoked holder did not stop: stop relaying it and move on.
            if (c.holder >= 0) {
                refuse(c, c.holder, "revoke_grace_expired", kRevokeOther, true);
            } else if (c.preemptor >= 0) {
                releaseFloor(c, c.preemptor, false);
            }
        }
        return;
    }
    if (c.part.state() == PartState::PendingRequest && c.requester >= 0) {
        (void)c.part.accept(PartEvent::RequestTimeout);
        refuse(c, c.requester, "floor_request_timeout", kDenyOther, false);
    } else if (c.part.state() == PartState::Queued && c.requester >= 0) {
        (void)c.part.accept(PartEvent::QueueTimeout);
        refuse(c, c.requester, "floor_queue_timeout", kDenyOther, false);
    }
    afterFloorFree(c);
}

// ---------------------------------------------------------------------------------------------
// Short data and the key-management tunnel: payload bytes pass unchanged.

void Engine::onData(std::uint16_t link, DataMessage&& d) {
    auto snap = deps_.directory.current();
    Side side = links_[link].id.side;
    auto refuseData = [&](std::string_view reason) {
        countRefusal(link, reason);
        dropEvent(link, reason);
        if (d.receipt) {
            d.receipt->outcome = DataReceipt::Outcome::Refused;
            d.receipt->reason = std::string(reason);
        }
    };
    int out = -1;
    DataMessage o;
    o.message_id = d.message_id;
    o.encrypted = d.encrypted;
    o.crypto = d.crypto;
    std::optional<GroupInfo> group;
    if (side == Side::Lmr) {
        if (isGroup(d.to)) {
            group = snap->groupByLmr(d.to);
            if (!group) {
                refuseData("unknown_group");
                return;
            }
            o.to = group->mc_group;
            out = linkByName(group->mc_link, Side::Mc, std::nullopt, Carries::Data);
        } else {
            auto u = snap->userByLmr(d.to);
            if (!u) {
                refuseData("unknown_callee");
                return;
            }
            o.to = u->mc_id;
            out = linkByName(u->mc_link, Side::Mc, std::nullopt, Carries::Data);
        }
        auto from = snap->userByLmr(d.from);
        o.from = from ? Address{from->mc_id} : Address{snap->unknownTalker()};
    } else {
        const auto* from_id = as<McId>(d.from);
        auto from = from_id ? snap->userByMc(*from_id) : std::nullopt;
        if (!from) {
            refuseData("unmapped_sender");
            return;
        }
        o.from = from->lmr_unit;
        if (const auto* g = as<McGroupId>(d.to)) {
            group = snap->groupByMc(*g);
            if (!group) {
                refuseData("unknown_group");
                return;
            }
            o.to = group->lmr_group;
            out = linkByName(group->lmr_link, Side::Lmr, group->family, Carries::Data);
        } else if (const auto* u_id = as<McId>(d.to)) {
            auto u = snap->userByMc(*u_id);
            if (!u) {
                refuseData("unknown_callee");
                return;
            }
            o.to = u->lmr_unit;
            out = linkByName(u->lmr_link, Side::Lmr, familyOf(u->lmr_unit), Carries::Data);
        } else {
            refuseData("unknown_callee");
            return;
        }
    }
    if (group) {
        CryptoSync state = d.crypto ? *d.crypto : CryptoSync::clear(group->family);
        state.encrypted = d.encrypted || (d.crypto && d.crypto->encrypted);
        PolicyVerdict v = checkGroupPolicy(*group, state);
        if (!v.allowed) {
            refuseData(v.reason);
            return;
        }
    }
    if (out < 0) {
        refuseData("no_link");
        return;
    }
    o.payload = std::move(d.payload);
    deps_.metrics
        .counter("iwf_engine_data_total", "Short data messages relayed, by direction",
                 {{"direction", side == Side::Lmr ? "lmr_to_mc" : "mc_to_lmr"}})
        .inc();
    const Status st = sendStatus(static_cast<std::uint16_t>(out), Event{std::move(o)});
    if (d.receipt) {
        d.receipt->outcome =
            st.ok() ? DataReceipt::Outcome::Sent : DataReceipt::Outcome::NotDelivered;
        d.receipt->reason = st.ok() ? std::string() : std::string(st.error().reason);
    }
}

void Engine::onSecurity(std::uint16_t link, SecurityMessage&& m) {
    auto snap = deps_.directory.current();
    Side side = links_[link].id.side;
    auto refuseKmm = [&](std::string_view reason) {
        countRefusal(link, reason);
        dropEvent(link, reason);
    };
    SecurityMessage o;
    int out = -1;
    if (side == Side::Lmr) {
        // LMR KMF -> the LMR-aware MC client of the target unit (TS 23.283 10.12.2.3).
        auto u = snap->userByLmr(m.to);
        if (!u) {
            refuseKmm("unknown_callee");
            return;
        }
        o.to = u->mc_id;
        if (!u->kmf_uri.empty()) {
            o.from = McId{u->kmf_uri};
        } else if (auto f = snap->userByLmr(m.from)) {
            o.from = f->mc_id;
        } else {
            refuseKmm("no_kmf_uri");
            return;
        }
        out = linkByName(u->mc_link, Side::Mc, std::nullopt, Carries::Data);
    } else {
        // MC client -> the LMR KMF named by its URI (TS 23.283 10.12.2.2).
        const auto* from_id = as<McId>(m.from);
        auto from = from_id ? snap->userByMc(*from_id) : std::nullopt;
        if (!from) {
            refuseKmm("unmapped_sender");
            return;
        }
        const auto* to_id = as<McId>(m.to);
        auto kmf = to_id ? snap->kmfByUri(to_id->uri) : std::nullopt;
        if (!kmf) {
            refuseKmm("unknown_kmf");
            return;
        }
        o.from = from->lmr_unit;
        o.to = kmf->lmr_address;
        out = linkByName(kmf->lmr_link, Side::Lmr, familyOf(kmf->lmr_address), Carries::Data);
    }
    if (out < 0) {
        refuseKmm("no_link");
        return;
    }
    o.payload = std::move(m.payload);
    deps_.metrics
        .counter("iwf_engine_security_messages_total",
                 "Opaque key-management messages relayed, by direction",
                 {{"direction", side == Side::Lmr ? "lmr_to_mc" : "mc_to_lmr"}})
        .inc();
    send(static_cast<std::uint16_t>(out), Event{std::move(o)});
}

// ---------------------------------------------------------------------------------------------
// Admin

nlohmann::json Engine::callsJson() const {
    nlohmann::json calls = nlohmann::json::array();
    std::vector<const Call*> sorted;
    for (const auto& [id, c] : calls_) {
        if (c->fsm.state() != CallState::Ended) {
            sorted.push_back(c.get());
        }
    }
    std::sort(sorted.begin(), sorted.end(),
              [](const Call* a, const Call* b) { return a->id < b->id; });
    for (const Call* c : sorted) {
        nlohmann::json j;
        j["id"] = c->name;
        j["kind"] = toString(c->kind);
        j["state"] = c->fsm.stateName();
        j["priority"] = toString(c->priority);
        j["revision"] = c->snap->revision();
        j["floor_arbiter"] = c->local_floor ? "iwf" : "mc";
        j["floor_state"] = c->local_floor ? c->fcs.stateName() : c->part.stateName();
        if (c->group) {
            j["group"] = c->group->mc_group.uri;
            j["lmr_group"] = toString(c->group->lmr_group);
            j["mode"] = toString(c->group->mode);
        }
        j["e2ee"] = !c->state_known ? "unknown" : (c->encrypted_marked ? "encrypted" : "clear");
        j["transmissions"] = c->transmissions;
        j["frames"] = c->frames;
        j["age_ms"] = (toNs(deps_.clock.now()) - c->started_ns) / 1'000'000;
        if (c->holder >= 0) {
            const Leg& h = c->legs[static_cast<std::size_t>(c->holder)];
            j["talker"] = {
                {"id", toString(h.party.id)}, {"side", sideName(h.side)}, {"alias", h.party.alias}};
        }
        nlohmann::json legs = nlohmann::json::array();
        for (const Leg& l : c->legs) {
            if (!l.alive) {
                continue;
            }
            legs.push_back({{"link", links_[l.link].id.name},
                            {"ref", l.ref},
                            {"side", sideName(l.side)},
                            {"originated_by_iwf", l.engine_ref},
                            {"floor", floorGateName(static_cast<int>(l.floor))},
                            {"synced", l.synced},
                            {"late_entry", l.late},
                            {"late_entry_wait_frames", l.wait_frames},
                            {"frames_in", l.frames_in},
                            {"frames_out", l.frames_out},
                            {"frames_lost", l.lost}});
        }
        j["legs"] = legs;
        calls.push_back(j);
    }
    nlohmann::json out;
    out["calls"] = calls;
    out["latency"] = latency_.toJson();
    out["late_entries"] = late_entries_.value();
    out["late_entries_synced"] = late_synced_.value();
    out["events_in"] = events_in_;
    return out;
}

}  // namespace iwf::gateway::engine
