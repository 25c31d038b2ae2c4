#include "mc_adapters/floor/floor_events.hpp"

#include <type_traits>

namespace iwf::mc::floor {

namespace {

std::optional<std::string> mcUri(const Address& a) {
    if (const auto* u = std::get_if<McId>(&a)) {
        return u->uri;
    }
    return std::nullopt;
}

void addLocation(FloorMessage& m, const Talker& t) {
    if (t.location) {
        m.add(Location{geographicLocation(t.location->latitude, t.location->longitude)});
    }
}

void addTalker(FloorMessage& m, const Talker& t) {
    if (auto uri = mcUri(t.id)) {
        m.add(UserId{*uri});
    }
    addLocation(m, t);
}

// Floor Taken and Floor Idle carry a Message Sequence Number (mandatory, 24.380 Tables
// 8.2.5.1-1 and 8.2.9.1-1), one counter per session increased by 1 for each of the two
// messages sent (24.380 §6.3.4.3.2, §6.3.4.4.2: "a value increased with 1"), wrapping at
// 65535. The first one sent is 1 (the counter starts at 0) [I: start value not checked].
std::uint16_t nextSequence(FloorMapping& map) {
    map.message_sequence = static_cast<std::uint16_t>(map.message_sequence + 1);
    return map.message_sequence;
}

Talker talkerOf(const FloorMessage& m) {
    Talker t;
    if (const auto* g = m.find<GrantedPartyIdentity>()) {
        t.id = McId{g->id};
    } else if (const auto* u = m.find<UserId>()) {
        t.id = McId{u->id};
    }
    if (const auto* l = m.find<Location>()) {
        if (auto ll = toLatLong(l->location)) {
            t.location = iwf::Location{ll->latitude, ll->longitude};
        }
    }
    return t;
}

}  // namespace

Result<FloorMessage> toMessage(const Event& e, FloorMapping& map) {
    FloorMessage m;
    m.ssrc = map.ssrc;
    bool ok = true;
    std::visit(
        [&](const auto& ev) {
            using T = std::decay_t<decltype(ev)>;
            if constexpr (std::is_same_v<T, FloorRequest>) {
                m.type = MessageType::FloorRequest;
                const bool urgent = ev.priority != CallPriority::Normal;
                m.add(FloorPriority{urgent ? map.emergency_priority : map.normal_priority});
                std::uint16_t bits = map.call_indicator;
                if (ev.priority == CallPriority::Emergency) {
                    bits |= indicator::kEmergencyCall;
                } else if (ev.priority == CallPriority::ImminentPeril) {
                    bits |= indicator::kImminentPerilCall;
                }
                addTalker(m, ev.who);
                m.add(FloorIndicator{bits});
            } else if constexpr (std::is_same_v<T, FloorGranted>) {
                m.type = MessageType::FloorGranted;
                const auto secs = ev.duration.count() / 1000;
                m.add(Duration{static_cast<std::uint16_t>(secs > 0xFFFF ? 0xFFFF : secs)});
                // No User ID: 24.380 Table 8.2.3.1-1 uses it in Floor Granted only
                // off-network (the granted participant is the receiver on-network).
            } else if constexpr (std::is_same_v<T, FloorTaken>) {
                m.type = MessageType::FloorTaken;
                if (auto uri = mcUri(ev.who.id)) {
                    m.add(GrantedPartyIdentity{*uri});
                }
                m.add(MessageSequenceNumber{nextSequence(map)});
                addLocation(m, ev.who);
                m.add(FloorIndicator{map.call_indicator});
            } else if constexpr (std::is_same_v<T, FloorDeny>) {
                m.type = MessageType::FloorDeny;
                m.add(RejectCause{ev.cause, ev.reason.substr(0, 253)});
                addTalker(m, ev.who);
            } else if constexpr (std::is_same_v<T, FloorRelease>) {
                m.type = MessageType::FloorRelease;
                addTalker(m, ev.who);
            } else if constexpr (std::is_same_v<T, FloorIdle>) {
                m.type = MessageType::FloorIdle;
                m.add(MessageSequenceNumber{nextSequence(map)});
                m.add(FloorIndicator{map.call_indicator});
            } else if constexpr (std::is_same_v<T, FloorRevoke>) {
                m.type = MessageType::FloorRevoke;
                m.add(RejectCause{ev.cause, ev.reason.substr(0, 253)});
            } else if constexpr (std::is_same_v<T, FloorQueued>) {
                m.type = MessageType::FloorQueuePositionInfo;
                addTalker(m, ev.who);
                m.add(QueueInfo{ev.position, map.normal_priority});
            } else {
                ok = false;
            }
        },
        e);
    if (!ok) {
        return Error{"not_a_floor_event"};
    }
    return m;
}

std::optional<Event> toEvent(const FloorMessage& m, CallRef call) {
    switch (m.type) {
        case MessageType::FloorRequest: {
            FloorRequest r;
            r.call = call;
            r.who = talkerOf(m);
            if (const auto* f = m.find<FloorIndicator>()) {
                if ((f->bits & indicator::kEmergencyCall) != 0) {
                    r.priority = CallPriority::Emergency;
                } else if ((f->bits & indicator::kImminentPerilCall) != 0) {
                    r.priority = CallPriority::ImminentPeril;
                }
            }
            return Event{std::move(r)};
        }
        case MessageType::FloorGranted: {
            FloorGranted g;
            g.call = call;
            g.who = talkerOf(m);
            if (const auto* d = m.find<Duration>()) {
                g.duration = std::chrono::seconds(d->seconds);
            }
            return Event{std::move(g)};
        }
        case MessageType::FloorTaken:
            return Event{FloorTaken{call, talkerOf(m)}};
        case MessageType::FloorDeny: {
            FloorDeny d;
            d.call = call;
            d.who = talkerOf(m);
            if (const auto* c = m.find<RejectCause>()) {
                d.cause = c->cause;
                d.reason = c->phrase;
            }
            return Event{std::move(d)};
        }
        case MessageType::FloorRelease:
            return Event{FloorRelease{call, talkerOf(m)}};
        case MessageType::FloorIdle:
            return Event{FloorIdle{call}};
        case MessageType::FloorRevoke: {
            FloorRevoke r;
            r.call = call;
            if (const auto* c = m.find<RejectCause>()) {
                r.cause = c->cause;
                r.reason = c->phrase;
            }
            return Event{std::move(r)};
        }
        case MessageType::FloorQueuePositionInfo: {
            FloorQueued q;
            q.call = call;
            q.who = talkerOf(m);
            if (const auto* i = m.find<QueueInfo>()) {
                q.position = i->position;
            }
            return Event{std::move(q)};
        }
        case MessageType::FloorQueuePositionRequest:
        case MessageType::FloorAck:
        case MessageType::FloorReleaseMultiTalker:
            return std::nullopt;
    }
    return std::nullopt;
}

}  // namespace iwf::mc::floor
