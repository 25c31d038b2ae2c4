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
    Leg& l = c.leg(lr->leg);
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
    resetPolicy(c, lr->leg);
    setFloor(c, lr->leg, FloorGate::Pending, FloorGateEvent::Request);
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
    Leg& l = c.leg(leg);
    if (c.holder == leg) {
        releaseFloor(c, leg, true);
        return;
    }
    if (c.preemptor == leg) {
        c.preemptor = -1;
        setFloor(c, leg, FloorGate::None, FloorGateEvent::Release);
        return;
    }
    // floor_part: a request the MC side holds, pending or queued there, is withdrawn toward
    // the MC side as well (refuse sends its Floor Release). This comes before the local queue
    // case: a request the MC side queued is also Queued at the leg, and only releasing the
    // leg there left `requester` naming a leg no longer waiting, so the MC side's later
    // answer (deny, grant, queue position) hit a floor gate that cannot take it.
    if (c.requester == leg) {
        refuse(c, leg, "released_before_grant", kDenyOther, false);
        setFloor(c, leg, FloorGate::None, FloorGateEvent::Release);
        return;
    }
    if (l.floor == FloorGate::Queued) {
        removeFromQueue(c, leg);
        setFloor(c, leg, FloorGate::None, FloorGateEvent::Release);
        return;
    }
    if (l.floor == FloorGate::Refused) {
        // The refused transmission ended: the next may come.
        setFloor(c, leg, FloorGate::None, FloorGateEvent::Release);
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
    Leg& l = c.leg(leg);
    setFloor(c, leg, FloorGate::Granted, FloorGateEvent::Grant);
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
    // A request is pending or queued while it has a requester (requestFloor .. refuse).
    IWF_ASSERT_OK(c.part.transition(PartState::NoPermission, PartEvent::Denied),
                  "the MC side denies a pending or queued request");
    deps_.timers.cancel(c.floor_timer);
    c.floor_timer = 0;
    // Relay the MC side's verdict with its cause and phrase.
    refuse(c, leg, "mc_denied", d.cause, false, d.reason);
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
        IWF_ASSERT_OK(c.part.transition(PartState::Queued, PartEvent::Queued), "checked state");
        armFloorTimer(c, c.part.timerName());
    } else if (!c.part.accept(PartEvent::Queued).ok()) {
        return;
    }
    Leg& l = c.leg(c.requester);
    setFloor(c, c.requester, FloorGate::Queued, FloorGateEvent::Queue);
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
    Leg& l = c.leg(leg);
    if (l.side == Side::Lmr || c.local_floor) {
        return;  // informational
    }
    // floor_part: an MC user has the floor (MC floor grant -> LMR call origination). While our
    // LMR talker has permission the table does not accept Floor Taken (the controlling function
    // revokes first, TS 24.380): refused and counted by the FSM. So the holder, if any, is an
    // MC leg here (an LMR holder exists only in P_has_permission).
    if (!c.part.accept(PartEvent::Taken).ok()) {
        return;
    }
    IWF_ASSERT(c.holder < 0 || c.leg(c.holder).side == Side::Mc,
               "an LMR leg holds the MC side's floor only with permission");
    if (c.holder == leg && l.party == t.who) {
        return;
    }
    if (c.holder >= 0) {
        releaseFloor(c, c.holder, false);  // talker change on the MC side
    }
    if (!floorGateTable().accepts(l.floor, FloorGateEvent::Take)) {
        dropEvent(link, "unexpected_floor_taken");
        return;
    }
    l.party = t.who;
    l.priority = c.priority;
    resetPolicy(c, leg);
    l.policy_first = false;
    setFloor(c, leg, FloorGate::Granted, FloorGateEvent::Take);
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
    if (c.holder < 0 || c.leg(c.holder).side != Side::Lmr) {
        return;
    }
    // An LMR leg holds the MC side's floor only in P_has_permission (onFloorGranted).
    IWF_ASSERT_OK(c.part.transition(PartState::NoPermission, PartEvent::Revoked),
                  "the MC side revokes our LMR talker's permission");
    // Relayed with the MC side's cause and phrase; refuse() releases the floor.
    refuse(c, c.holder, "mc_revoked", r.cause, true, r.reason);
}

}  // namespace iwf::gateway::engine
