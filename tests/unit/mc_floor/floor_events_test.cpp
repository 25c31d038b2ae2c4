// Floor events <-> floor messages, through the wire encoding.
#include "mc_adapters/floor/floor_events.hpp"

#include <gtest/gtest.h>

namespace {

using namespace iwf;
using namespace iwf::mc::floor;

Event roundTrip(const Event& e, const FloorMapping& map, CallRef call) {
    auto m = toMessage(e, map);
    EXPECT_TRUE(m.ok()) << eventName(e);
    Bytes b;
    EXPECT_TRUE(encode(*m, b).ok());
    auto back = decode(b);
    EXPECT_TRUE(back.ok());
    auto ev = toEvent(*back, call);
    EXPECT_TRUE(ev.has_value());
    return *ev;
}

TEST(FloorEvents, EveryFloorEventSurvivesTheWire) {
    FloorMapping map;
    map.ssrc = 0x42;
    Talker alice{McId{"sip:alice@mc.example"}, "", iwf::Location{45.0, -90.0}};
    Talker lmr{McId{"sip:lmr-1001@iwf.example"}, "", std::nullopt};

    auto req = std::get<FloorRequest>(
        roundTrip(Event{FloorRequest{1, lmr, CallPriority::Emergency}}, map, 7));
    EXPECT_EQ(req.call, 7u);
    EXPECT_EQ(req.who, lmr);
    EXPECT_EQ(req.priority, CallPriority::Emergency);
    auto peril = std::get<FloorRequest>(
        roundTrip(Event{FloorRequest{1, lmr, CallPriority::ImminentPeril}}, map, 7));
    EXPECT_EQ(peril.priority, CallPriority::ImminentPeril);

    auto g = std::get<FloorGranted>(
        roundTrip(Event{FloorGranted{1, alice, std::chrono::seconds(30)}}, map, 7));
    EXPECT_EQ(g.who, alice);  // location kept through the 23.032 coding (exact for 45/-90)
    EXPECT_EQ(g.duration, std::chrono::seconds(30));

    auto t = std::get<FloorTaken>(roundTrip(Event{FloorTaken{1, alice}}, map, 7));
    EXPECT_EQ(t.who, alice);

    auto d = std::get<FloorDeny>(
        roundTrip(Event{FloorDeny{1, lmr, deny_cause::kReceiveOnly, "secure-only group"}}, map, 7));
    EXPECT_EQ(d.cause, deny_cause::kReceiveOnly);
    EXPECT_EQ(d.reason, "secure-only group");
    EXPECT_EQ(d.who, lmr);

    auto r = std::get<FloorRelease>(roundTrip(Event{FloorRelease{1, lmr}}, map, 7));
    EXPECT_EQ(r.who, lmr);
    EXPECT_EQ(std::get<FloorIdle>(roundTrip(Event{FloorIdle{1}}, map, 9)).call, 9u);
    auto rv = std::get<FloorRevoke>(
        roundTrip(Event{FloorRevoke{1, revoke_cause::kMediaBurstTooLong, "too long"}}, map, 7));
    EXPECT_EQ(rv.cause, revoke_cause::kMediaBurstTooLong);
    EXPECT_EQ(rv.reason, "too long");
    auto q = std::get<FloorQueued>(roundTrip(Event{FloorQueued{1, lmr, 3}}, map, 7));
    EXPECT_EQ(q.position, 3);
    EXPECT_EQ(q.who, lmr);
}

Talker talker(Address a) {
    Talker t;
    t.id = std::move(a);
    return t;
}

TEST(FloorEvents, MessageDetails) {
    FloorMapping map;
    map.ssrc = 5;
    map.normal_priority = 4;
    auto m = toMessage(Event{FloorRequest{1, talker(McId{"sip:a@b"}), CallPriority::Normal}}, map);
    ASSERT_TRUE(m.ok());
    EXPECT_EQ(m->type, MessageType::FloorRequest);
    EXPECT_EQ(m->ssrc, 5u);
    ASSERT_NE(m->find<FloorPriority>(), nullptr);
    EXPECT_EQ(m->find<FloorPriority>()->priority, 4);
    EXPECT_EQ(m->find<FloorIndicator>()->bits, indicator::kNormalCall);
    // A talker that is not an MC identity is not put on the wire.
    auto anon = toMessage(Event{FloorTaken{1, talker(DmrUnit{5})}}, map);
    ASSERT_TRUE(anon.ok());
    EXPECT_EQ(anon->find<GrantedPartyIdentity>(), nullptr);
    // Durations beyond 16 bits saturate.
    auto g = toMessage(Event{FloorGranted{1, {}, std::chrono::hours(48)}}, map);
    EXPECT_EQ(g->find<Duration>()->seconds, 0xFFFF);
    EXPECT_EQ(toMessage(Event{CallEnd{}}, map).error().reason, "not_a_floor_event");
    FloorMessage ack;
    ack.type = MessageType::FloorAck;
    EXPECT_FALSE(toEvent(ack, 1).has_value());
}

}  // namespace
