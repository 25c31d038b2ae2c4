// Floor events from the links: requests and releases (both sides), the MC controlling
// function's decisions (floor_part) and the LMR side's answers to transmissions the engine
// originated.
#include <algorithm>

#include "gateway/engine/engine.hpp"
#include "gateway/engine/engine_detail.hpp"

namespace iwf::gateway::engine {

using namespace detail;

// ---------------------------------------------------------------------------------------------
// Floor events from the links

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

}  // namespace iwf::gateway::engine
