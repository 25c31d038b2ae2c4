// SDS NOTIFICATION octets as two independent MCData implementations build them (not our
// encoder): message type 0x05 (24.282 Table 15.2.2-1), notification type, Date and time (5),
// Conversation ID (16), Message ID (16).
//  - nyxymuffin/vectorcore-mcx internal/sip/mcdata_codec.go: const mcdataSDSNotification = 0x05,
//    parseMcdataSignalling reads type(1) + notification-type(1) + date-and-time(5) +
//    conversation(16) + message(16);
//  - nexlin/cims tests/sds_disposition_spec.py notification_body(): bytes([0x05, 0x02]) + time.
#include <gtest/gtest.h>

#include "mc_adapters/mcdata/sds_message.hpp"

namespace iwf::mc::mcdata {
namespace {

Bytes peerNotification(std::uint8_t disposition) {
    Bytes b = {0x05, disposition, 0x00, 0x65, 0x53, 0xf1, 0x00};  // 1,700,000,000 s
    for (int i = 0; i < 16; ++i) {
        b.push_back(static_cast<std::uint8_t>(i + 1));  // Conversation ID
    }
    for (int i = 0; i < 16; ++i) {
        b.push_back(static_cast<std::uint8_t>(0xf0 - i));  // Message ID
    }
    return b;
}

TEST(SdsInterop, NotificationAsPeersBuildIt) {
    const Bytes peer = peerNotification(0x02);
    EXPECT_EQ(peekMessageType(peer), message_type::kSdsNotification);
    auto n = decodeSdsNotification(peer);
    ASSERT_TRUE(n.ok()) << n.error().reason;
    EXPECT_EQ(n->disposition, DispositionNotification::Delivered);
    EXPECT_EQ(n->date_time, 1700000000u);
    EXPECT_EQ(n->conversation_id[0], 0x01);
    EXPECT_EQ(n->message_id[0], 0xf0);
    // And ours is byte for byte what they build.
    Bytes ours;
    ASSERT_TRUE(encode(*n, ours).ok());
    EXPECT_EQ(ours, peer);
    // Read = 3 in both codecs.
    EXPECT_EQ(decodeSdsNotification(peerNotification(0x03))->disposition,
              DispositionNotification::Read);
}

// nexlin/cims tests/sds_tcp_promote_reauth.py mcdata_sds_body(): the SDS SIGNALLING PAYLOAD
// as bytes([0x01]) + b"\x00" + struct.pack(">I", seconds) + conv + mid + bytes([0x81]) (IEI 8-
// disposition request, value 1 = delivery) and the DATA PAYLOAD as
// bytes([0x03, 0x01, 0x78]) + struct.pack(">H", 1 + len(t)) + bytes([0x01]) + t (one payload,
// content type 1 = text).
TEST(SdsInterop, SignallingAndDataPayloadAsAPeerBuildsThem) {
    Bytes sig = {0x01, 0x00, 0x65, 0x53, 0xf1, 0x00};
    for (int i = 0; i < 32; ++i) {
        sig.push_back(static_cast<std::uint8_t>(i));
    }
    sig.push_back(0x81);
    auto s = decodeSdsSignalling(sig);
    ASSERT_TRUE(s.ok()) << s.error().reason;
    EXPECT_EQ(s->date_time, 1700000000u);
    EXPECT_EQ(s->disposition, std::optional<DispositionRequest>(DispositionRequest::Delivery));
    EXPECT_EQ(s->message_id[15], 31);
    Bytes ours;
    ASSERT_TRUE(encode(*s, ours).ok());
    EXPECT_EQ(ours, sig);

    const Bytes pay = {0x03, 0x01, 0x78, 0x00, 0x03, 0x01, 'h', 'i'};
    auto p = decodeDataPayload(pay);
    ASSERT_TRUE(p.ok()) << p.error().reason;
    ASSERT_EQ(p->payloads.size(), 1u);
    EXPECT_EQ(p->payloads[0].content_type, content_type::kText);
    EXPECT_EQ(p->payloads[0].data, (Bytes{'h', 'i'}));
    Bytes ours_pay;
    ASSERT_TRUE(encode(*p, ours_pay).ok());
    EXPECT_EQ(ours_pay, pay);
}

}  // namespace
}  // namespace iwf::mc::mcdata
