// TS 24.380 clause 8 floor message codec: golden bytes derived by hand from the coding tables
// (docs/protocols/iwf-1-floor.md), round trips of every message and field, compound RTCP and
// every rejection path.
#include "mc_adapters/floor/floor_message.hpp"

#include <gtest/gtest.h>

namespace {

using namespace iwf;
using namespace iwf::mc::floor;

Bytes hex(const char* s) {
    auto r = fromHex(s);
    EXPECT_TRUE(r.ok()) << s;
    return r.ok() ? *r : Bytes{};
}

Bytes enc(const FloorMessage& m) {
    Bytes out;
    Status s = encode(m, out);
    EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().toString());
    return out;
}

TEST(FloorGolden, GrantedWithAckDurationPriority) {
    FloorMessage m;
    m.type = MessageType::FloorGranted;
    m.ack_required = true;
    m.ssrc = 0x11223344;
    m.add(Duration{30}).add(FloorPriority{7});
    // V=2,P=0,subtype=0x11 -> 0x91; PT 204; 20 octets -> length 4; SSRC; "MCPT";
    // Duration: id 1, len 2, 0x001E; Floor Priority: id 0, len 2, 7, spare 0.
    const Bytes want = hex("91cc0004 11223344 4d435054 0102001e 00020700");
    EXPECT_EQ(enc(m), want);
    auto back = decode(want);
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, m);
}

TEST(FloorGolden, DenyWithRejectCauseAndPaddedUserId) {
    FloorMessage m;
    m.type = MessageType::FloorDeny;
    m.ssrc = 0xDEADBEEF;
    m.add(RejectCause{deny_cause::kAnotherHasPermission, "busy"}).add(UserId{"sip:a@b"});
    // Reject Cause: id 2, len 6 (cause 16 bits + "busy"), no padding (8 octets).
    // User ID: id 6, len 7, "sip:a@b", 3 octets of padding (9 -> 12).
    const Bytes want =
        hex("83cc0007 deadbeef 4d435054 02060001 62757379 0607 7369 703a 6140 6200 0000");
    EXPECT_EQ(enc(m), want);
    auto back = decode(want);
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, m);
}

TEST(FloorGolden, SsrcFieldAndTwoOctetLengthForHighIds) {
    FloorMessage m;
    m.type = MessageType::FloorTaken;
    m.ssrc = 1;
    m.add(Ssrc{0xCAFEBABE}).add(UnknownField{200, {1, 2, 3}});
    // SSRC: id 14, len 6, SSRC, 16-bit spare. Field 200 (>= 192): 2-octet length 0x0003,
    // value, 2 octets of padding (6 -> 8).
    const Bytes want = hex("82cc0006 00000001 4d435054 0e06cafe babe0000 c8000301 02030000");
    EXPECT_EQ(enc(m), want);
    auto back = decode(want);
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, m);
}

TEST(FloorGolden, TrackInfoListsAndLocation) {
    FloorMessage m;
    m.type = MessageType::FloorRequest;
    m.ssrc = 2;
    m.add(TrackInfo{1, "abcde", {9}})
        .add(ListOfSsrcs{{0x01020304}})
        .add(mc::floor::Location{LocationValue{location_type::kPlmnId, {0x62, 0xF2, 0x20}}})
        .add(AckMessageType{0x11});
    // Track Info: id 11, len 14 = cap 1 + ptlen 1 + "abcde" + 3 pad + ref (4).
    // List of SSRCs: id 16, len 6 = count 1 + spare 1 + SSRC (8 octets, no padding).
    // Location: id 19, len 4 = type 3 + PLMN (3), 2 pad. Message Type: id 12, len 2, 0x11,
    // spare.
    const Bytes want =
        hex("80cc000b 00000002 4d435054"
            " 0b0e0105 61626364 65000000 00000009"
            " 10060100 01020304"
            " 13040362 f2200000"
            " 0c021100");
    EXPECT_EQ(enc(m), want);
    auto back = decode(want);
    ASSERT_TRUE(back.ok()) << back.error().toString();
    EXPECT_EQ(*back, m);
}

// One message of every type, with and without the A bit, carrying every field 0..20.
std::vector<Field> everyField() {
    return {FloorPriority{255},
            Duration{65535},
            RejectCause{deny_cause::kOther, "r\xc3\xa9jet"},
            QueueInfo{254, 9},
            GrantedPartyIdentity{"sip:granted@example.org"},
            PermissionToRequestFloor{1},
            UserId{"sip:user@example.org"},
            QueueSize{3},
            MessageSequenceNumber{65535},
            QueuedUserId{"sip:q@example.org"},
            Source{3},
            TrackInfo{0, "", {}},
            AckMessageType{0x15},
            FloorIndicator{indicator::kNormalCall | indicator::kEmergencyCall},
            Ssrc{0xFFFFFFFF},
            ListOfGrantedUsers{{"sip:a@b", "", std::string(200, 'u')}},
            ListOfSsrcs{{}},
            FunctionalAlias{"sip:fa@example.org"},
            ListOfFunctionalAliases{{"sip:f1@x"}},
            mc::floor::Location{geographicLocation(-90.0, 179.99)},
            ListOfLocations{{LocationValue{location_type::kNotProvided, {}},
                             LocationValue{location_type::kEcgi, {1, 2, 3, 4, 5, 6, 7}},
                             LocationValue{location_type::kTai, {1, 2, 3, 4, 5}},
                             LocationValue{location_type::kMbmsSai, {1, 2}},
                             LocationValue{location_type::kMbsfnAreaId, {7}}}},
            UnknownField{21, {0xAA}},
            UnknownField{255, Bytes(300, 0x55)}};
}

TEST(FloorRoundTrip, EveryMessageTypeAckBitAndField) {
    const MessageType types[] = {MessageType::FloorRequest,
                                 MessageType::FloorGranted,
                                 MessageType::FloorTaken,
                                 MessageType::FloorDeny,
                                 MessageType::FloorRelease,
                                 MessageType::FloorIdle,
                                 MessageType::FloorRevoke,
                                 MessageType::FloorQueuePositionRequest,
                                 MessageType::FloorQueuePositionInfo,
                                 MessageType::FloorAck,
                                 MessageType::FloorReleaseMultiTalker};
    for (auto t : types) {
        for (bool ack : {false, true}) {
            FloorMessage m;
            m.type = t;
            m.ack_required = ack;
            m.ssrc = 0x01000000u + static_cast<std::uint32_t>(t);
            m.fields = everyField();
            Bytes b = enc(m);
            EXPECT_EQ(b.size() % 4, 0u);
            EXPECT_EQ(b[0] & 0x1F, m.subtype());
            auto back = decode(b);
            ASSERT_TRUE(back.ok()) << toString(t) << ": " << back.error().toString();
            EXPECT_EQ(*back, m) << describe(m);
            // Field IDs are the 24.380 numbers.
            for (std::size_t i = 0; i + 2 < m.fields.size(); ++i) {
                EXPECT_EQ(fieldId(m.fields[i]), i);
            }
        }
    }
}

TEST(FloorRoundTrip, EmptyMessage) {
    FloorMessage m;
    m.type = MessageType::FloorIdle;
    Bytes b = enc(m);
    EXPECT_EQ(b, hex("85cc0002 00000000 4d435054"));
    auto back = decode(b);
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, m);
}

TEST(FloorLocation, GeographicCoordinatesFollow23032Scaling) {
    auto l = geographicLocation(45.0, -90.0);
    // 45 / 90 * 2^23 = 0x400000; -90 / 180 * 2^23 = -0x400000 -> 0xC00000.
    EXPECT_EQ(l.value, hex("400000 c00000"));
    auto ll = toLatLong(l);
    ASSERT_TRUE(ll.has_value());
    EXPECT_DOUBLE_EQ(ll->latitude, 45.0);
    EXPECT_DOUBLE_EQ(ll->longitude, -90.0);
    EXPECT_FALSE(toLatLong(LocationValue{location_type::kPlmnId, {1, 2, 3}}).has_value());
}

TEST(FloorEncode, RefusesValuesThatDoNotFitAndLeavesOutputUnchanged) {
    Bytes out = {0xAB};
    FloorMessage m;
    m.add(UserId{std::string(256, 'x')});
    Status s = encode(m, out);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().reason, "value_too_long");
    EXPECT_EQ(out, Bytes{0xAB});

    FloorMessage bad_loc;
    bad_loc.add(mc::floor::Location{LocationValue{location_type::kGeographic, {1, 2}}});
    EXPECT_EQ(encode(bad_loc, out).error().reason, "bad_location_length");
    FloorMessage known_as_unknown;
    known_as_unknown.add(UnknownField{4, {1}});
    EXPECT_EQ(encode(known_as_unknown, out).error().reason, "unknown_field_with_known_id");
    FloorMessage too_many;
    too_many.add(ListOfSsrcs{std::vector<std::uint32_t>(256, 1)});
    EXPECT_EQ(encode(too_many, out).error().reason, "too_many_entries");
    EXPECT_EQ(out, Bytes{0xAB});
}

struct BadCase {
    const char* name;
    const char* hex;
    std::string_view reason;
};

TEST(FloorDecode, RejectsMalformedPacketsWithAReason) {
    const BadCase cases[] = {
        {"short", "80cc0002 00000000 4d4350", "truncated"},
        {"version1", "40cc0002 00000000 4d435054", "bad_version"},
        {"not app", "80c90002 00000000 4d435054", "not_app"},
        {"length past end", "80cc0003 00000000 4d435054", "bad_length"},
        {"not mcpt", "80cc0002 00000000 4d434d43", "not_mcpt"},
        {"type 7", "87cc0002 00000000 4d435054", "unknown_message_type"},
        {"type 11", "8bcc0002 00000000 4d435054", "unknown_message_type"},
        {"field past end", "80cc0003 00000000 4d435054 0108001e", "truncated_field"},
        {"priority len 3", "80cc0004 00000000 4d435054 00030700 00000000", "bad_field_length"},
        {"ssrc len 4", "80cc0004 00000000 4d435054 0e040102 03040000", "bad_field_length"},
        {"duration len 1", "80cc0003 00000000 4d435054 01010100", "bad_field_length"},
        {"list count too big", "80cc0004 00000000 4d435054 0f030201 61000000", "bad_list"},
        {"ssrc list mismatch", "80cc0004 00000000 4d435054 10060200 01020304", "bad_list"},
        {"unknown location type in list", "80cc0004 00000000 4d435054 14030109 00000000",
         "unknown_location_type"},
        {"location too short", "80cc0003 00000000 4d435054 13020601", "truncated_location"},
        {"bad padding count", "a0cc0003 00000000 4d435054 00000009", "bad_padding"},
        {"track info bad refs", "80cc0004 00000000 4d435054 0b050100 01020300", "bad_track_info"},
    };
    for (const auto& c : cases) {
        auto r = decode(hex(c.hex));
        ASSERT_FALSE(r.ok()) << c.name;
        EXPECT_EQ(r.error().reason, c.reason) << c.name;
    }
}

TEST(FloorDecode, MissingPaddingOnLastFieldIsRejected) {
    // User ID "ab" (2 octets): the field is 4 octets long so no padding is needed; a
    // 3-octet value needs 1 octet of padding: drop it and fix the length field -> error.
    Bytes b = hex("80cc0003 00000000 4d435054 0603616263");
    b[3] = 3;  // length claims 16 octets but there are 17 -> bad_length first
    EXPECT_EQ(decode(b).error().reason, "bad_length");
    auto fields = decodeFields(hex("0603616263"));
    ASSERT_FALSE(fields.ok());
    EXPECT_EQ(fields.error().reason, "missing_padding");
}

TEST(FloorDecode, AcceptsRtcpPaddingBit) {
    FloorMessage m;
    m.type = MessageType::FloorRelease;
    m.ssrc = 7;
    m.add(UserId{"sip:x@y"});
    Bytes b = enc(m);
    // Append 4 octets of RTCP padding (last octet = count) and set P.
    b.insert(b.end(), {0, 0, 0, 4});
    b[0] |= 0x20;
    const std::size_t words = b.size() / 4 - 1;
    b[2] = static_cast<std::uint8_t>(words >> 8);
    b[3] = static_cast<std::uint8_t>(words);
    auto back = decode(b);
    ASSERT_TRUE(back.ok()) << back.error().toString();
    EXPECT_EQ(*back, m);
}

TEST(FloorCompound, FindsMcptPacketsBetweenOtherRtcpPackets) {
    FloorMessage a;
    a.type = MessageType::FloorTaken;
    a.ack_required = true;
    a.ssrc = 0x10;
    a.add(GrantedPartyIdentity{"sip:alice@example.org"});
    FloorMessage b;
    b.type = MessageType::FloorAck;
    b.ssrc = 0x20;
    b.add(AckMessageType{0x12}).add(Source{1});

    Bytes dgram = hex(
        // RR, no report blocks
        "80c90001 00000010"
        // SDES with one chunk: CNAME "ab", end, padding
        "81ca0003 00000010 01026162 00000000");
    Status s1 = encode(a, dgram);
    ASSERT_TRUE(s1.ok());
    // An APP packet with another name (PoC1) must be skipped, not parsed.
    Bytes poc = hex("80cc0002 00000010 506f4331");
    dgram.insert(dgram.end(), poc.begin(), poc.end());
    Status s2 = encode(b, dgram);
    ASSERT_TRUE(s2.ok());

    std::size_t others = 0;
    auto msgs = decodeDatagram(dgram, &others);
    ASSERT_TRUE(msgs.ok()) << msgs.error().toString();
    ASSERT_EQ(msgs->size(), 2u);
    EXPECT_EQ((*msgs)[0], a);
    EXPECT_EQ((*msgs)[1], b);
    EXPECT_EQ(others, 3u);

    auto packets = splitRtcp(dgram);
    ASSERT_TRUE(packets.ok());
    EXPECT_EQ(packets->size(), 5u);
    EXPECT_EQ((*packets)[1].packet_type, 202);
}

TEST(FloorCompound, RejectsBrokenDatagrams) {
    EXPECT_EQ(decodeDatagram(Bytes{}).error().reason, "empty");
    EXPECT_EQ(decodeDatagram(hex("80c90001 000000")).error().reason, "bad_length");
    EXPECT_EQ(decodeDatagram(hex("80c9")).error().reason, "truncated");
    EXPECT_EQ(decodeDatagram(hex("00c90000")).error().reason, "bad_version");
    // Padding allowed only in the last packet of a compound datagram.
    EXPECT_EQ(decodeDatagram(hex("a0c90001 00000004 80c90000")).error().reason, "padding_not_last");
    // A broken MCPT packet inside a valid compound fails the datagram.
    EXPECT_EQ(decodeDatagram(hex("80c90001 00000001 87cc0002 00000000 4d435054")).error().reason,
              "unknown_message_type");
}

TEST(FloorMessage, FindHelpersAndNames) {
    FloorMessage m;
    m.type = MessageType::FloorGranted;
    m.add(Ssrc{1}).add(QueuedUserId{"q1"}).add(QueueInfo{1, 1}).add(QueuedUserId{"q2"});
    ASSERT_NE(m.find<QueuedUserId>(), nullptr);
    EXPECT_EQ(m.find<QueuedUserId>()->id, "q1");
    EXPECT_EQ(m.findAll<QueuedUserId>().size(), 2u);
    EXPECT_EQ(m.find<Duration>(), nullptr);
    EXPECT_EQ(toString(MessageType::FloorQueuePositionInfo), "Floor Queue Position Info");
    EXPECT_EQ(toString(FieldId::ListOfLocations), "List of Locations");
    EXPECT_NE(describe(m).find("Floor Granted"), std::string::npos);
}

}  // namespace
