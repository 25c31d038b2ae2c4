// The simulated MC system's floor control (TS 24.380 messages mapped with
// mc_adapters/floor): as controlling function of MC-homed groups it arbitrates; as participant
// of IWF-homed groups its clients send Floor Request / Release and record the decisions.
#include "harness/sim/mc_system_impl.hpp"
#include "mc_adapters/floor/floor_events.hpp"

namespace iwf::harness {

namespace mcfloor = mc::floor;
using mcsim::nowNs;
using mcsim::priorityRank;

const char* mcsim::floorName(mcfloor::MessageType t) {
    switch (t) {
        case mcfloor::MessageType::FloorRequest:
            return "floor_request";
        case mcfloor::MessageType::FloorGranted:
            return "floor_granted";
        case mcfloor::MessageType::FloorTaken:
            return "floor_taken";
        case mcfloor::MessageType::FloorDeny:
            return "floor_deny";
        case mcfloor::MessageType::FloorRelease:
            return "floor_release";
        case mcfloor::MessageType::FloorIdle:
            return "floor_idle";
        case mcfloor::MessageType::FloorRevoke:
            return "floor_revoke";
        case mcfloor::MessageType::FloorQueuePositionInfo:
            return "floor_queued";
        case mcfloor::MessageType::FloorAck:
            return "floor_ack";
        default:
            return "floor_other";
    }
}

void McSystem::Impl::sendFloor(Call& c, mcfloor::FloorMessage m) {
    m.ssrc = c.floor_ssrc;
    if (c.floor->hasRemote()) {
        (void)c.floor->send(m);
    }
}

void McSystem::Impl::sendFloorEvent(Call& c, const Event& e) {
    mcfloor::FloorMapping map;
    map.ssrc = c.floor_ssrc;
    auto m = mcfloor::toMessage(e, map);
    if (m.ok()) {
        sendFloor(c, std::move(*m));
    }
}

void McSystem::Impl::decide(Call& c, const std::string& outcome, const std::string& reason) {
    if (!c.talk) {
        c.early_outcome = outcome;
        c.early_reason = reason;
        return;
    }
    std::lock_guard lock(mu);
    if (c.talk->outcome.empty() || c.talk->outcome == "queued") {
        c.talk->outcome = outcome;
        c.talk->reason = reason;
        c.talk->granted = outcome == "granted";
    }
    cv.notify_all();
}

namespace {

// What a floor message says for the timeline: reject cause, granted party, user.
std::string detailOf(const mcfloor::FloorMessage& m) {
    std::string detail;
    if (const auto* rc = m.find<mcfloor::RejectCause>()) {
        detail = "cause " + std::to_string(rc->cause) + " " + rc->phrase;
    }
    if (const auto* g = m.find<mcfloor::GrantedPartyIdentity>()) {
        detail += (detail.empty() ? "" : " ") + g->id;
    }
    if (const auto* u = m.find<mcfloor::UserId>()) {
        detail += (detail.empty() ? "" : " ") + u->id;
    }
    return detail;
}

}  // namespace

void McSystem::Impl::onFloor(std::uint64_t id, const mcfloor::FloorMessage& m) {
    auto it = calls.find(id);
    if (it == calls.end()) {
        return;
    }
    Call& c = *it->second;
    const std::string detail = detailOf(m);
    event(id, "mc-system", mcsim::floorName(m.type), detail);
    if (m.ack_required) {
        mcfloor::FloorMessage ack;
        ack.type = mcfloor::MessageType::FloorAck;
        ack.add(mcfloor::Source{
            static_cast<std::uint16_t>(c.home_mc ? mcfloor::SourceValue::ControllingFunction
                                                 : mcfloor::SourceValue::ParticipatingFunction)});
        ack.add(mcfloor::AckMessageType{m.subtype()});
        sendFloor(c, std::move(ack));
    }
    switch (m.type) {
        case mcfloor::MessageType::FloorRequest: {
            // The IWF asks the controlling function (us, MC-homed group) for the floor.
            auto ev = mcfloor::toEvent(m, id);
            CallPriority p = CallPriority::Normal;
            Talker who;
            if (ev) {
                if (const auto* fr = std::get_if<FloorRequest>(&*ev)) {
                    p = fr->priority;
                    who = fr->who;
                }
            }
            arbitrateIwfRequest(c, priorityRank(p), who);
            break;
        }
        case mcfloor::MessageType::FloorRelease:
            if (c.holder == "iwf") {
                c.holder.clear();
                sendFloorEvent(c, FloorIdle{id});
            }
            break;
        case mcfloor::MessageType::FloorGranted:
            decide(c, "granted", "");
            break;
        case mcfloor::MessageType::FloorDeny:
            decide(c, "denied", detail);
            break;
        case mcfloor::MessageType::FloorQueuePositionInfo:
            if (c.talk) {
                std::lock_guard lock(mu);
                if (c.talk->outcome.empty()) {
                    c.talk->outcome = "queued";
                    c.talk->was_queued = true;
                    c.talk->queued_ns = nowNs();
                }
                cv.notify_all();
            }
            break;
        case mcfloor::MessageType::FloorRevoke:
            if (c.talk) {
                std::lock_guard lock(mu);
                c.talk->revoked = true;
                c.talk->reason = detail;
                cv.notify_all();
            }
            break;
        default:
            break;
    }
}

void McSystem::Impl::arbitrateIwfRequest(Call& c, int prio, const Talker& who) {
    if (c.holder.empty() || c.holder == "iwf") {
        c.holder = "iwf";
        c.holder_priority = prio;
        sendFloorEvent(c, FloorGranted{c.id, who, {}});
        event(c.id, "mc-system", "granted_to_iwf");
        return;
    }
    if (prio > c.holder_priority && c.talk) {
        // Pre-emption: the MC talker is revoked, the IWF gets the floor.
        {
            std::lock_guard lock(mu);
            c.talk->revoked = true;
            c.talk->reason = "pre-empted by a higher priority request";
            cv.notify_all();
        }
        c.holder = "iwf";
        c.holder_priority = prio;
        sendFloorEvent(c, FloorGranted{c.id, who, {}});
        event(c.id, "mc-system", "preempted_mc_talker", c.talk->client);
        return;
    }
    sendFloorEvent(c, FloorDeny{c.id, who, mcfloor::deny_cause::kAnotherHasPermission,
                                "another MC client has permission"});
    event(c.id, "mc-system", "denied_iwf", c.holder);
}

void McSystem::Impl::clientRequestsFloor(Call& c, const std::shared_ptr<Talk>& talk, bool home_mc) {
    const Talker who{McId{talk->mc_id}, {}, {}};
    if (home_mc) {
        // We are the controlling function: decide here, tell the IWF who talks.
        if (c.holder.empty() || talk->priority > c.holder_priority) {
            const bool preempt = !c.holder.empty();
            c.holder = talk->client;
            c.holder_priority = talk->priority;
            if (preempt) {
                sendFloorEvent(c, FloorRevoke{c.id, mcfloor::revoke_cause::kMediaBurstPreempted,
                                              "pre-empted"});
            }
            sendFloorEvent(c, FloorTaken{c.id, who});
            decide(c, "granted", "");
        } else {
            decide(c, "denied", "cause 1 another participant has permission");
        }
        return;
    }
    const CallPriority prio = talk->priority == 2   ? CallPriority::Emergency
                              : talk->priority == 1 ? CallPriority::ImminentPeril
                                                    : CallPriority::Normal;
    mcfloor::FloorMapping map;
    map.ssrc = c.floor_ssrc;
    map.normal_priority = 5;
    if (talk->priority > 0) {
        map.call_indicator |= talk->priority == 2 ? mcfloor::indicator::kEmergencyCall
                                                  : mcfloor::indicator::kImminentPerilCall;
    }
    auto m = mcfloor::toMessage(FloorRequest{c.id, who, prio}, map);
    if (m.ok()) {
        sendFloor(c, std::move(*m));
    }
    event(c.id, talk->client, "floor_request_sent", c.group);
}

void McSystem::Impl::clientReleasesFloor(std::uint64_t cid, const std::shared_ptr<Talk>& talk,
                                         bool home_mc) {
    auto it = calls.find(cid);
    if (it == calls.end() || it->second->ended) {
        return;
    }
    Call& c = *it->second;
    if (home_mc) {
        if (c.holder == talk->client) {
            c.holder.clear();
            sendFloorEvent(c, FloorIdle{c.id});
        }
    } else {
        sendFloorEvent(c, FloorRelease{c.id, Talker{McId{talk->mc_id}, {}, {}}});
    }
    c.talk.reset();
    event(c.id, talk->client, "floor_release_sent");
}

}  // namespace iwf::harness
