// Floor events <-> floor messages, through the wire encoding.
#include "mc_adapters/floor/floor_events.hpp"

#include <gtest/gtest.h>

namespace {

using namespace iwf;
using namespace iwf::mc::floor;

Event roundTrip(const Event& e, FloorMapping& map, CallRef call) {
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
    EXPECT_EQ(g.who, Talker{});  // User ID is off-network only (24.380 Table 8.2.3.1-1)
    EXPECT_EQ(g.duration, std::chrono::seconds(30));

    auto t = std::get<FloorTaken>(roundTrip(Event{FloorTaken{1, alice}}, map, 7));
    EXPECT_EQ(t.who, alice);  // location kept through the 23.032 coding (exact for 45/-90)

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

// 24.380 §8.2.5 / §8.2.9: Floor Taken and Floor Idle carry the mandatory Message Sequence
// Number, increased by 1 for each of them in a session; Floor Granted carries no User ID
// on-network (§8.2.3). Expected octets typed from the field tables (8.2.3.x: field ID, length,
// value, 32-bit padding), not produced by our encoder.
TEST(FloorEvents, TakenAndIdleCarryTheMessageSequenceNumberGrantedNoUserId) {
    FloorMapping map;
    map.ssrc = 5;
    auto encoded = [&](const Event& e) {
        auto m = toMessage(e, map);
        EXPECT_TRUE(m.ok());
        Bytes b;
        EXPECT_TRUE(encode(*m, b).ok());
        return b;
    };
    const Bytes idle = encoded(Event{FloorIdle{1}});
    EXPECT_EQ(idle, (Bytes{0x85, 0xcc, 0x00, 0x04,     // V=2, subtype 5 (Idle), PT 204, length 4
                           0x00, 0x00, 0x00, 0x05,     // SSRC
                           'M',  'C',  'P',  'T',      // name
                           0x08, 0x02, 0x00, 0x01,     // Message Sequence Number = 1
                           0x0d, 0x02, 0x80, 0x00}));  // Floor Indicator: normal call
    const Bytes taken = encoded(Event{FloorTaken{1, talker(McId{"sip:a@b"})}});
    EXPECT_EQ(taken,
              (Bytes{0x82, 0xcc, 0x00, 0x07,  // subtype 2 (Taken), length 7
                     0x00, 0x00, 0x00, 0x05, 'M', 'C', 'P', 'T',  0x04, 0x07,
                     's',  'i',  'p',  ':',  'a', '@', 'b', 0x00, 0x00, 0x00,  // Granted Party's Id
                     0x08, 0x02, 0x00, 0x02,  // Message Sequence Number = 2
                     0x0d, 0x02, 0x80, 0x00}));
    // Wraps at 65535.
    map.message_sequence = 0xFFFF;
    auto wrapped = toMessage(Event{FloorIdle{1}}, map);
    EXPECT_EQ(wrapped->find<MessageSequenceNumber>()->value, 0);
    // Floor Granted: Duration only.
    const Bytes granted =
        encoded(Event{FloorGranted{1, talker(McId{"sip:a@b"}), std::chrono::seconds(30)}});
    EXPECT_EQ(granted, (Bytes{0x81, 0xcc, 0x00, 0x03, 0x00, 0x00, 0x00, 0x05, 'M', 'C', 'P', 'T',
                              0x01, 0x02, 0x00, 0x1e}));
}

}  // namespace
