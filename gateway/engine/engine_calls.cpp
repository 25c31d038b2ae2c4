// Calls and legs: setup (LMR group, MC group, private), modification, end, the call timer.
#include "gateway/engine/engine.hpp"
#include "gateway/engine/engine_detail.hpp"
#include "gateway/engine/engine_transcode.hpp"
#include "gateway/engine/policy.hpp"

namespace iwf::gateway::engine {

using namespace detail;

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
    Leg& l = c.leg(idx);
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
    Leg& l = c.leg(leg);
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
    // killLeg() erases a leg's entry: an entry for a dead leg, or one naming another
    // (link, ref), would hand this event to another call's leg.
    const Leg& l = it->second.call->leg(it->second.leg);
    IWF_ASSERT(l.alive && l.link == link && l.ref == ref, "a call ref maps to its own live leg");
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
    // Every state but `ended` (returned above) accepts End, and so does every floor state but
    // `releasing`, which only this function enters.
    IWF_ASSERT_OK(c.fsm.transition(CallState::Ended, CallEvent::End), "a live call ends");
    callStateChanged(c, old, CallState::Ended);
    if (c.local_floor) {
        IWF_ASSERT_OK(c.fcs.transition(FcsState::Released, FcsEvent::End), "its floor ends");
    } else {
        IWF_ASSERT_OK(c.part.transition(PartState::Released, PartEvent::End), "its floor ends");
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
            const Call& c = *it->second;
            // group_calls_ keys view the call's own group URI: an entry left behind would view
            // freed memory (endCall() erases it).
            IWF_ASSERT(
                !c.group ||
                    [&] {
                        auto g = group_calls_.find(c.group->mc_group.uri);
                        return g == group_calls_.end() || g->second != c.id;
                    }(),
                "an ended call leaves no group index entry");
            calls_.erase(it);
        }
    }
    reap_.clear();
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
    Leg& l = c.leg(leg);
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
        c.leg(leg).floor == FloorGate::Queued) {
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
        countRefusal(link, "unknown_group",
                     refusalOf({}, toString(s.callee), toString(s.caller.id), toString(s.callee),
                               kDenyOther));
        send(link, Event{FloorDeny{s.call, s.caller, kDenyOther, "unknown_group"}});
        return;
    }
    if (auto why = analogueRefusal(*group, links_[link].family, s.codec)) {
        countRefusal(link, *why,
                     refusalOf({}, group->mc_group.uri, toString(s.caller.id), toString(s.callee),
                               kDenyOther));
        send(link, Event{CallEnd{s.call, EndReason::Refused, std::string(*why)}});
        return;
    }
    Call* c = groupCall(group->mc_group);
    if (!c) {
        c = &openGroupCall(snap, std::move(*group), s, "lmr");
    }
    int leg = addLeg(*c, link, s.call, Side::Lmr, false);
    Leg& l = c->leg(leg);
    l.party = s.caller;
    l.priority = s.priority;
    l.policy_first = true;  // the radio transmits already: check the stream first
    setFloor(*c, leg, FloorGate::Pending, FloorGateEvent::Request);
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
        countRefusal(link, "unknown_group",
                     refusalOf({}, toString(s.callee), toString(s.caller.id), toString(s.callee),
                               std::nullopt));
        send(link, Event{CallEnd{s.call, EndReason::Refused, "unknown_group"}});
        return;
    }
    if (auto why = analogueRefusal(*group, std::nullopt, s.codec)) {
        countRefusal(link, *why,
                     refusalOf({}, group->mc_group.uri, toString(s.caller.id), toString(s.callee),
                               std::nullopt));
        send(link, Event{CallEnd{s.call, EndReason::Refused, std::string(*why)}});
        return;
    }
    Call* c = groupCall(group->mc_group);
    bool joined = c != nullptr;
    if (!c) {
        c = &openGroupCall(snap, std::move(*group), s, "mc");
    }
    int leg = addLeg(*c, link, s.call, Side::Mc, false);
    Leg& l = c->leg(leg);
    l.party = s.caller;
    l.priority = s.priority;
    if (joined && c->holder >= 0 && c->leg(c->holder).flowing) {
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
        countRefusal(link, reason,
                     refusalOf({}, {}, toString(s.caller.id), toString(s.callee), kDenyOther));
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
        if (v.refused()) {
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
    c.leg(a).party = s.caller;
    c.leg(a).priority = s.priority;
    int b =
        addLeg(c, static_cast<std::uint16_t>(out_link), kEngineRefBit | next_ref_++, other, true);
    Leg& lb = c.leg(b);
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
            Leg& l = c.leg(i);
            setFloor(c, i, FloorGate::Granted, FloorGateEvent::Grant);
            l.pending.reserve(opts_.pending_frames_max);
        }
        if (s.crypto) {
            evaluatePolicy(c, a, *s.crypto);
        }
        talkStarted(c);
        return;
    }
    // Half duplex: the caller holds an implicit floor request.
    Leg& la = c.leg(a);
    setFloor(c, a, FloorGate::Pending, FloorGateEvent::Request);
    la.policy_first = side == Side::Lmr;
    la.pending.reserve(opts_.pending_frames_max);
    if (s.crypto) {
        evaluatePolicy(c, a, *s.crypto);
    } else if (!la.policy_first) {
        arbitrate(c, a);
    }
}

// ---------------------------------------------------------------------------------------------
// Call end

void Engine::onCallEnd(std::uint16_t link, const CallEnd& e) {
    auto lr = find(link, e.call);
    if (!lr) {
        dropEvent(link, "unknown_call");
        return;
    }
    Call& c = *lr->call;
    int leg = lr->leg;
    Leg& l = c.leg(leg);
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

// ---------------------------------------------------------------------------------------------
// Call timer

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

bool Engine::waitingToTalk(const Call& c) const {
    for (const Leg& l : c.legs) {
        if (l.alive && (l.floor == FloorGate::Pending || l.floor == FloorGate::Queued)) {
            return true;
        }
    }
    return false;
}

void Engine::onCallTimer(std::uint64_t id) {
    reapEnded();
    auto it = calls_.find(id);
    if (it == calls_.end()) {
        return;
    }
    Call& c = *it->second;
    c.call_timer = 0;
    if (c.fsm.state() == CallState::Hang && !c.hang_extended && waitingToTalk(c)) {
        // A transmission joined during hang time and is still being decided (its first frame,
        // the E2EE policy, a floor request): ending the call now would drop its stream as
        // unknown_call (seen in harness scenario 4: a PTT 22 ms before the hang ran out). One
        // more hang period, once: talk starts (state active) or the call ends after it.
        c.hang_extended = true;
        deps_.metrics
            .counter("iwf_engine_hang_extended_total",
                     "Hang timers given one more period for a transmission still being decided")
            .inc();
        log_->info("call={} hang=extended reason=transmission_pending", c.name);
        armCallTimer(c);
    } else if (c.fsm.state() == CallState::Hang && c.fsm.accept(CallEvent::HangExpire).ok()) {
        endCall(c, EndReason::Normal, "hang_expired");
    } else if (c.fsm.state() == CallState::Setup) {
        if (c.floor_timer != 0) {
            // A floor decision is pending and its own timer (floor_request, floor_queue) ends
            // it; look again when call_setup has run once more. Only such a timer keeps a call
            // in setup: a transmission waiting for its stream (no frame, or still in late entry)
            // has nothing else that would end it (issue #21: re-arming for it kept a call, and
            // everything it held, for good).
            armCallTimer(c);
        } else if (c.fsm.accept(CallEvent::SetupExpire).ok()) {
            for (std::size_t i = 0; i < c.legs.size(); ++i) {
                const Leg& l = c.legs[i];
                if (l.alive && (l.floor == FloorGate::Pending || l.floor == FloorGate::Queued ||
                                l.floor == FloorGate::Granted)) {
                    refuse(c, static_cast<int>(i), "setup_expired", kDenyOther, false);
                }
            }
            endCall(c, EndReason::Timeout, "setup_expired");
        }
    }
}

}  // namespace iwf::gateway::engine
