// Floor control: arbitration at the group's home (floor_fcs), the IWF as floor participant
// (floor_part), refusal and release of a transmission, the floor timers.
#include <algorithm>

#include "gateway/engine/engine.hpp"
#include "gateway/engine/engine_detail.hpp"

namespace iwf::gateway::engine {

using namespace detail;

// ---------------------------------------------------------------------------------------------
// Floor

int Engine::ensureMcLeg(Call& c, int talker_leg) {
    int mc = firstLeg(c, Side::Mc);
    if (mc >= 0 || !c.group) {
        return mc;
    }
    int link = linkByName(c.group->mc_link, Side::Mc, std::nullopt);
    if (link < 0) {
        return -1;
    }
    const Leg& t = c.leg(talker_leg);
    mc = addLeg(c, static_cast<std::uint16_t>(link), kEngineRefBit | next_ref_++, Side::Mc, true);
    Leg& m = c.leg(mc);
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
    Leg& l = c.leg(leg);
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
    const Leg& m = c.leg(mc);
    send(m.link, Event{FloorRequest{m.ref, toMc(c, l.party), l.priority}});
}

void Engine::arbitrate(Call& c, int leg) {
    Leg& l = c.leg(leg);
    if (c.fcs.state() == FcsState::Idle) {
        grant(c, leg);
        return;
    }
    if (c.holder == leg || c.preemptor == leg) {
        return;  // a repeated request
    }
    IWF_ASSERT_OK(c.fcs.accept(FcsEvent::Request),
                  "a live call's floor server is idle, taken or revoking");
    CallPriority holder_prio = c.holder >= 0 ? c.leg(c.holder).priority : CallPriority::Normal;
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
        auto pos = std::find_if(c.queue.begin(), c.queue.end(),
                                [&](int q) { return c.leg(q).priority < l.priority; });
        auto at = c.queue.insert(pos, leg);
        setFloor(c, leg, FloorGate::Queued, FloorGateEvent::Queue);
        floorEvent("queued");
        send(l.link, Event{FloorQueued{l.ref, l.party,
                                       static_cast<std::uint8_t>(at - c.queue.begin() + 1)}});
        return;
    }
    refuse(c, leg, "floor_busy", kDenyAnotherHasPermission, false);
}

void Engine::grant(Call& c, int leg) {
    Leg& l = c.leg(leg);
    // Callers grant only an idle floor (arbitrate) or the head of the queue once it went idle.
    IWF_ASSERT_OK(c.fcs.transition(FcsState::Taken, FcsEvent::Request), "grant on an idle floor");
    armFloorTimer(c, c.fcs.timerName());
    c.holder = leg;
    setFloor(c, leg, FloorGate::Granted, FloorGateEvent::Grant);
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
    Leg& h = c.leg(c.holder);
    IWF_ASSERT_OK(c.fcs.transition(FcsState::PendingRevoke, FcsEvent::Preempt),
                  "pre-emption of a taken floor (arbitrate checked it)");
    armFloorTimer(c, c.fcs.timerName());
    Leg& l = c.leg(leg);
    if (c.preemptor >= 0) {
        refuse(c, c.preemptor, "preempted_in_queue", kDenyAnotherHasPermission, false);
    }
    c.preemptor = leg;
    setFloor(c, leg, FloorGate::Pending, FloorGateEvent::Request);
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
        c.hang_extended = false;
        callStateChanged(c, old, CallState::Active);
        deps_.timers.cancel(c.call_timer);
        c.call_timer = 0;
    }
}

void Engine::tryFlow(Call& c, int leg) {
    Leg& l = c.leg(leg);
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
    int link = linkByName(c.group->lmr_link, Side::Lmr, c.group->family());
    if (link < 0) {
        return -1;
    }
    const Leg& m = c.leg(mc_leg);
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
    Leg& lo = c.leg(out);
    lo.party.id = c.group->lmr_group;
    o.call = lo.ref;
    c.lmr_out = out;
    send(lo.link, Event{o});
    return out;
}

namespace {
// The call's group as `side` names it ("p25:group:..." / "mcgroup:sip:..."; "" if private).
template <typename C>
std::string groupName(const C& c, Side side) {
    if (!c.group) {
        return {};
    }
    return side == Side::Lmr ? toString(c.group->lmr_group) : toString(Address{c.group->mc_group});
}
}  // namespace

void Engine::refuse(Call& c, int leg, std::string_view reason, std::uint16_t cause, bool revoke,
                    std::optional<std::string_view> phrase) {
    Leg& l = c.leg(leg);
    const bool was_holder = c.holder == leg;
    setFloor(c, leg, FloorGate::Refused, FloorGateEvent::Refuse);
    l.refuse_reason = reason;
    l.flowing = false;
    l.refused_frames = &deps_.metrics.counter(
        "iwf_engine_frames_refused_total",
        "Voice frames not relayed because their transmission was refused, by link and reason",
        {{"link", links_[l.link].id.name}, {"reason", std::string(reason)}});
    l.refused_frames->inc(l.pending.size());
    std::vector<VoiceFrame>().swap(l.pending);
    countRefusal(
        l.link, reason,
        refusalOf(c.name, groupName(c, l.side), toString(l.party.id), std::string(), cause));
    floorEvent(revoke ? "revoked" : "denied");
    const std::string told(phrase.value_or(reason));
    if (revoke) {
        send(l.link, Event{FloorRevoke{l.ref, cause, told}});
    } else {
        send(l.link, Event{FloorDeny{l.ref, l.party, cause, told}});
    }
    warn([&](std::uint64_t sup) {
        log_->warn("call={} refused link={} ref={} reason={} cause={} suppressed={}", c.name,
                   links_[l.link].id.name, l.ref, reason, cause, sup);
    });
    removeFromQueue(c, leg);
    if (c.requester == leg) {
        c.requester = -1;
        if (c.part.state() == PartState::PendingRequest || c.part.state() == PartState::Queued) {
            IWF_ASSERT_OK(c.part.transition(PartState::NoPermission, PartEvent::Release),
                          "a pending or queued floor request is withdrawn");
            deps_.timers.cancel(c.floor_timer);
            c.floor_timer = 0;
            int mc = firstLeg(c, Side::Mc);
            if (mc >= 0) {
                const Leg& m = c.leg(mc);
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
    Leg& l = c.leg(leg);
    bool was_holder = c.holder == leg;
    // A refused transmission stays refused until it ends (its frames are counted, not relayed).
    if (l.floor != FloorGate::Refused && l.floor != FloorGate::None) {
        setFloor(c, leg, FloorGate::None, FloorGateEvent::Release);
    }
    l.flowing = false;
    resetPolicy(c, leg);
    std::vector<VoiceFrame>().swap(l.pending);
    if (!was_holder) {
        return;
    }
    c.holder = -1;
    floorEvent("released");
    if (l.side == Side::Mc && c.lmr_out >= 0) {
        const Leg& lo = c.leg(c.lmr_out);
        send(lo.link, Event{CallEnd{lo.ref, EndReason::Normal, "end_of_transmission"}});
        killLeg(c, c.lmr_out);
    }
    if (!c.local_floor) {
        if (l.side == Side::Lmr && c.part.state() == PartState::HasPermission) {
            IWF_ASSERT_OK(c.part.transition(PartState::NoPermission, PartEvent::Release),
                          "the LMR talker that held the MC floor releases it");
            int mc = firstLeg(c, Side::Mc);
            if (notify_mc && mc >= 0) {
                const Leg& m = c.leg(mc);
                send(m.link, Event{FloorRelease{m.ref, toMc(c, l.party)}});
            }
        }
        afterFloorFree(c);
        return;
    }
    if (c.fcs.state() == FcsState::PendingRevoke && c.preemptor >= 0) {
        int p = c.preemptor;
        c.preemptor = -1;
        IWF_ASSERT_OK(c.fcs.transition(FcsState::Taken, FcsEvent::Release),
                      "the revoked holder released: the pre-emptor takes the floor");
        armFloorTimer(c, c.fcs.timerName());
        c.holder = p;
        Leg& pl = c.leg(p);
        setFloor(c, p, FloorGate::Granted, FloorGateEvent::Grant);
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
    IWF_ASSERT_OK(c.fcs.transition(FcsState::Idle, FcsEvent::Release),
                  "a floor with a holder is taken or revoking");
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
// The gates of a leg

void Engine::setFloor(Call& c, int leg, FloorGate next, FloorGateEvent e) {
    Leg& l = c.leg(leg);
    char id[64];
    const auto n = fmt::format_to_n(id, sizeof id, "{}/leg{}", c.name, leg).size;
    IWF_ASSERT_OK(floorGateTable().step(l.floor, next, e, floor_gate_stats_,
                                        std::string_view(id, std::min(n, sizeof id))),
                  "a leg's floor step its caller proved legal");
}

void Engine::setPolicy(Call& c, int leg, PolicyGate next, PolicyGateEvent e) {
    Leg& l = c.leg(leg);
    char id[64];
    const auto n = fmt::format_to_n(id, sizeof id, "{}/leg{}", c.name, leg).size;
    IWF_ASSERT_OK(policyGateTable().step(l.policy, next, e, policy_gate_stats_,
                                         std::string_view(id, std::min(n, sizeof id))),
                  "a leg's policy step its caller proved legal");
}

void Engine::resetPolicy(Call& c, int leg) {
    if (c.leg(leg).policy != PolicyGate::Unknown) {
        setPolicy(c, leg, PolicyGate::Unknown, PolicyGateEvent::Reset);
    }
}

// ---------------------------------------------------------------------------------------------
// Floor timer

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
                const Leg& h = c.leg(c.holder);
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
        IWF_ASSERT_OK(c.part.accept(PartEvent::RequestTimeout), "checked state");
        refuse(c, c.requester, "floor_request_timeout", kDenyOther, false);
    } else if (c.part.state() == PartState::Queued && c.requester >= 0) {
        IWF_ASSERT_OK(c.part.accept(PartEvent::QueueTimeout), "checked state");
        refuse(c, c.requester, "floor_queue_timeout", kDenyOther, false);
    }
    afterFloorFree(c);
}

}  // namespace iwf::gateway::engine
