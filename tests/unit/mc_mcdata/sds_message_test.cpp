// MCData SDS codecs (24.282 15.1.2 / 15.1.4, notification), the 29.582 IWF rules and the SIP
// MESSAGE bodies for SDS and Interworking Security Data. Golden bytes derived by hand from the
// tables in docs/protocols/iwf-2-mcdata.md.
#include "mc_adapters/mcdata/sds_message.hpp"

#include <gtest/gtest.h>

#include "mc_adapters/mcdata/sds_sip.hpp"
#include "mc_adapters/security/interworking_data.hpp"
#include "sip/multipart.hpp"

namespace {

using namespace iwf;
using namespace iwf::mc::mcdata;

Bytes hex(const char* s) {
    auto r = fromHex(s);
    EXPECT_TRUE(r.ok()) << s;
    return r.ok() ? *r : Bytes{};
}

Uuid seqUuid(std::uint8_t first) {
    Uuid u{};
    for (std::size_t i = 0; i < 16; ++i) {
        u[i] = static_cast<std::uint8_t>(first + i);
    }
    return u;
}

TEST(SdsSignalling, GoldenWithEveryOptionalIe) {
    SdsSignalling m;
    m.date_time = 0x0102030405;
    m.conversation_id = seqUuid(0x00);
    m.message_id = seqUuid(0x10);
    m.in_reply_to = seqUuid(0x20);
    m.application_id = 7;
    m.disposition = DispositionRequest::DeliveryAndRead;
    m.extended_application_id = hex("abcd");
    m.user_location = hex("01");
    m.sender_user_id = "sip:a@b";
    m.application_metadata = hex("");
    Bytes out;
    ASSERT_TRUE(encode(m, out).ok());
    const Bytes want =
        hex("01"                                   // SDS SIGNALLING PAYLOAD
            "0102030405"                           // date and time (40 bits)
            "000102030405060708090a0b0c0d0e0f"     // conversation ID
            "101112131415161718191a1b1c1d1e1f"     // message ID
            "21 202122232425262728292a2b2c2d2e2f"  // InReplyTo (TV 17)
            "22 07"                                // application ID (TV 2)
            "83"                                   // disposition request: delivery and read
            "7d 0002 abcd"                         // extended application ID (TLV-E)
            "7e 0001 01"                           // user location (TLV-E)
            "51 0007 7369703a614062"               // sender MCData user ID (TLV-E)
            "53 0000");                            // application metadata container (TLV-E)
    EXPECT_EQ(out, want);
    auto back = decodeSdsSignalling(out);
    ASSERT_TRUE(back.ok()) << back.error().toString();
    EXPECT_EQ(*back, m);
}

TEST(SdsSignalling, MandatoryOnlyAndUnknownIesSkippedWhenFormatKnown) {
    SdsSignalling m;
    m.date_time = 1;
    Bytes out;
    ASSERT_TRUE(encode(m, out).ok());
    EXPECT_EQ(out.size(), 1u + 5 + 16 + 16);
    // Append an unknown single-octet IE (0x9X) and an unknown TLV-E (0x7A): both skipped.
    Bytes ext = out;
    ext.insert(ext.end(), {0x95, 0x7A, 0x00, 0x02, 0xEE, 0xEE});
    auto back = decodeSdsSignalling(ext);
    ASSERT_TRUE(back.ok()) << back.error().toString();
    EXPECT_EQ(*back, m);
    Bytes unknown = out;
    unknown.push_back(0x30);
    EXPECT_EQ(decodeSdsSignalling(unknown).error().reason, "unknown_iei");
}

TEST(SdsSignalling, Rejections) {
    SdsSignalling m;
    Bytes out;
    ASSERT_TRUE(encode(m, out).ok());
    EXPECT_EQ(decodeSdsSignalling({}).error().reason, "truncated");
    EXPECT_EQ(decodeSdsSignalling(ByteView(out).first(20)).error().reason, "truncated");
    Bytes b = out;
    b[0] = 3;
    EXPECT_EQ(decodeSdsSignalling(b).error().reason, "wrong_message_type");
    b = out;
    b.push_back(0x21);  // InReplyTo without its 16 octets
    EXPECT_EQ(decodeSdsSignalling(b).error().reason, "truncated_ie");
    b = out;
    b.insert(b.end(), {0x51, 0x00, 0x05, 0x61});
    EXPECT_EQ(decodeSdsSignalling(b).error().reason, "truncated_ie");
    b = out;
    b.push_back(0x84);  // disposition value 4 does not exist
    EXPECT_EQ(decodeSdsSignalling(b).error().reason, "bad_disposition_request");
    m.date_time = 1ULL << 40;
    Bytes none;
    EXPECT_EQ(encode(m, none).error().reason, "bad_date_time");
    EXPECT_TRUE(none.empty());
}

TEST(SdsNotification, GoldenAndRoundTrip) {
    SdsNotification n;
    n.disposition = DispositionNotification::Read;
    n.date_time = 0x0000000010;
    n.conversation_id = seqUuid(0x40);
    n.message_id = seqUuid(0x50);
    n.application_id = 1;
    n.sender_user_id = "sip:x";
    Bytes out;
    ASSERT_TRUE(encode(n, out).ok());
    // Message type 0x05: TS 24.282 Table 15.2.2-1 as independent codecs have it
    // (sds_interop_test.cpp); 0x04 before issue 14.
    EXPECT_EQ(out, hex("05 03 0000000010"
                       "404142434445464748494a4b4c4d4e4f"
                       "505152535455565758595a5b5c5d5e5f"
                       "22 01 51 0005 7369703a78"));
    auto back = decodeSdsNotification(out);
    ASSERT_TRUE(back.ok()) << back.error().toString();
    EXPECT_EQ(*back, n);
    Bytes bad = out;
    bad[1] = 9;
    EXPECT_EQ(decodeSdsNotification(bad).error().reason, "bad_disposition_notification");
    EXPECT_EQ(decodeSdsNotification(hex("01")).error().reason, "wrong_message_type");
}

TEST(DataPayload, GoldenOpaqueBytesAndRejections) {
    DataPayload p;
    p.payloads.push_back(Payload{content_type::kBinary, hex("00ff10")});
    p.payloads.push_back(Payload{content_type::kText, Bytes{'h', 'i'}});
    Bytes out;
    ASSERT_TRUE(encode(p, out).ok());
    EXPECT_EQ(out, hex("03 02 78 0004 02 00ff10 78 0003 01 6869"));
    auto back = decodeDataPayload(out);
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, p);
    EXPECT_EQ(decodeDataPayload(hex("03 00")).error().reason, "bad_payload_count");
    EXPECT_EQ(decodeDataPayload(hex("03 01 79 0001 01")).error().reason, "unexpected_iei");
    EXPECT_EQ(decodeDataPayload(hex("03 01 78 0000")).error().reason, "truncated_ie");
    EXPECT_EQ(decodeDataPayload(hex("03 01 78 0002 01")).error().reason, "truncated_ie");
    EXPECT_EQ(decodeDataPayload(hex("03 01 78 0001 01 00")).error().reason, "trailing_bytes");
    EXPECT_EQ(decodeDataPayload(hex("01 01")).error().reason, "wrong_message_type");
    Bytes none;
    EXPECT_EQ(encode(DataPayload{}, none).error().reason, "bad_payload_count");
    // A large E2EE blob passes through bit-exact.
    Bytes blob(60000);
    for (std::size_t i = 0; i < blob.size(); ++i) {
        blob[i] = static_cast<std::uint8_t>(i * 7 + 3);
    }
    DataPayload big;
    big.payloads.push_back(Payload{content_type::kBinary, blob});
    Bytes enc;
    ASSERT_TRUE(encode(big, enc).ok());
    auto big_back = decodeDataPayload(enc);
    ASSERT_TRUE(big_back.ok());
    EXPECT_EQ(big_back->payloads[0].data, blob);
}

TEST(Uuid, FormatParseAndVersion4) {
    EXPECT_EQ(toString(seqUuid(0)), "00010203-0405-0607-0809-0a0b0c0d0e0f");
    auto u = parseUuid("00010203-0405-0607-0809-0a0b0c0d0e0f");
    ASSERT_TRUE(u.has_value());
    EXPECT_EQ(*u, seqUuid(0));
    EXPECT_FALSE(parseUuid("00010203-0405-0607-0809-0a0b0c0d0e0").has_value());
    EXPECT_FALSE(parseUuid("0001020304050607080900a0b0c0d0e0f123").has_value());
    std::mt19937_64 rng(42);
    Uuid a = randomUuid(rng);
    Uuid b = randomUuid(rng);
    EXPECT_NE(a, b);
    EXPECT_EQ(a[6] >> 4, 4);
    EXPECT_EQ(a[8] >> 6, 2);
}

TEST(IwfRules, FreshMessageIdStoredOrUnknownConversationAndLmrMessageId) {
    std::mt19937_64 rng(1);
    IwfSdsContext ctx;
    ctx.now_seconds = 1'700'000'000;
    // New conversation: fresh conversation ID and message ID, no InReplyTo.
    SdsSignalling a = makeIwfSignalling(ctx, rng);
    EXPECT_EQ(a.date_time, 1'700'000'000u);
    EXPECT_NE(a.conversation_id, kUnknownConversation);
    EXPECT_NE(a.message_id, a.conversation_id);
    EXPECT_FALSE(a.in_reply_to.has_value());
    // Continuing a known conversation: its stored ID; message ID always fresh.
    ctx.stored_conversation = a.conversation_id;
    SdsSignalling b = makeIwfSignalling(ctx, rng);
    EXPECT_EQ(b.conversation_id, a.conversation_id);
    EXPECT_NE(b.message_id, a.message_id);
    // Continuing one the IWF does not know: UNKNOWN CONVERSATION.
    ctx.stored_conversation.reset();
    ctx.continuing_conversation = true;
    EXPECT_EQ(makeIwfSignalling(ctx, rng).conversation_id, kUnknownConversation);
    // A reply: the original ID if known, else LMR MESSAGE ID.
    ctx.is_reply = true;
    EXPECT_EQ(makeIwfSignalling(ctx, rng).in_reply_to, kLmrMessageId);
    ctx.original_message = a.message_id;
    EXPECT_EQ(makeIwfSignalling(ctx, rng).in_reply_to, a.message_id);
}

TEST(SdsSip, BuildAndParseOneToOneAndGroup) {
    for (bool group : {false, true}) {
        SdsSipMessage m;
        m.env.request_uri = "sip:mcdata@mc.example";
        m.env.sender = "sip:lmr-1001@iwf.example";
        m.env.target = group ? "sip:group-7@mc.example" : "sip:alice@mc.example";
        m.env.group = group;
        m.env.iwf_psi = "sip:iwf@iwf.example";
        SdsSignalling s;
        s.date_time = 5;
        s.message_id = seqUuid(9);
        s.disposition = DispositionRequest::Delivery;
        m.signalling = s;
        DataPayload p;
        p.payloads.push_back(Payload{content_type::kBinary, hex("000d0a2d2d0d0a00ff")});
        m.payload = p;
        auto msg = buildSdsMessage(m);
        ASSERT_TRUE(msg.ok());
        EXPECT_EQ(msg->method(), "MESSAGE");
        EXPECT_EQ(msg->header("P-Asserted-Service").value_or(""), std::string(kMcdataSdsIcsi));
        EXPECT_NE(msg->header("Accept-Contact").value_or("").find("g.3gpp.mcdata.sds"),
                  std::string::npos);
        // Through the wire form and libosip2 again.
        auto reparsed = sip::parseMessage(msg->serialize());
        ASSERT_TRUE(reparsed.ok()) << reparsed.error().toString();
        auto back = parseSdsMessage(*reparsed);
        ASSERT_TRUE(back.ok()) << back.error().toString();
        EXPECT_EQ(back->env.sender, m.env.sender);
        EXPECT_EQ(back->env.target, m.env.target);
        EXPECT_EQ(back->env.group, group);
        EXPECT_EQ(back->env.iwf_psi, m.env.iwf_psi);
        EXPECT_EQ(std::get<SdsSignalling>(back->signalling), s);
        EXPECT_EQ(*back->payload, p);
    }
}

TEST(SdsSip, NotificationAndMissingParts) {
    SdsSipMessage m;
    m.env.request_uri = "sip:mcdata@mc.example";
    m.env.sender = "sip:a@x";
    m.env.target = "sip:b@x";
    SdsNotification n;
    n.message_id = seqUuid(3);
    m.signalling = n;
    auto msg = buildSdsMessage(m);
    ASSERT_TRUE(msg.ok());
    auto back = parseSdsMessage(*msg);
    ASSERT_TRUE(back.ok()) << back.error().toString();
    EXPECT_EQ(std::get<SdsNotification>(back->signalling), n);
    EXPECT_FALSE(back->payload.has_value());

    SdsSipMessage no_payload = m;
    no_payload.signalling = SdsSignalling{};
    EXPECT_EQ(buildSdsMessage(no_payload).error().reason, "no_mcdata_payload");
    sip::Message empty = sip::Message::request("MESSAGE", "sip:x");
    EXPECT_EQ(parseSdsMessage(empty).error().reason, "no_mcdata_signalling");
    sip::Message bad_info = sip::Message::request("MESSAGE", "sip:x");
    Bytes sig;
    ASSERT_TRUE(encode(SdsNotification{}, sig).ok());
    sip::setBodies(
        bad_info, {{std::string(kMcdataInfoContentType), {}, "<not xml"},
                   {std::string(kSignallingContentType), {}, std::string(sig.begin(), sig.end())}});
    EXPECT_EQ(parseSdsMessage(bad_info).error().reason, "bad_mcdata_info");
}

TEST(SecurityMessage, BuildAndParseCarryOpaquePayloadBitExact) {
    using namespace iwf::mc::security;
    SecurityRequest r;
    r.request_uri = "sip:pf@mc.example";
    r.from_uri = "sip:iwf@iwf.example";
    r.target_id = "sip:alice@mc.example";
    r.iwf_psi = "sip:iwf@iwf.example";
    r.payload = hex("00 01 02 0d 0a 2d 2d ff fe 00");  // KMM-like bytes, CRLF, dashes, NULs
    sip::Message m = buildSecurityMessage(r);
    EXPECT_EQ(m.headers("Accept-Contact").size(), 2u);
    EXPECT_EQ(m.header("P-Asserted-Service").value_or(""), std::string(kMcpttIcsi));
    auto wire = sip::parseMessage(m.serialize());
    ASSERT_TRUE(wire.ok()) << wire.error().toString();
    auto back = parseSecurityMessage(*wire);
    ASSERT_TRUE(back.ok()) << back.error().toString();
    EXPECT_EQ(back->payload, r.payload);
    EXPECT_EQ(back->target_id, r.target_id);
    EXPECT_EQ(back->sender, r.iwf_psi);
    EXPECT_EQ(mcpttRequestUri(mcpttInfoXml("sip:t@x", "sip:c@x")).value_or(""), "sip:t@x");
    EXPECT_FALSE(mcpttRequestUri("<<<").has_value());
    EXPECT_EQ(parseSecurityMessage(sip::Message::request("MESSAGE", "sip:x")).error().reason,
              "no_interworking_data");
}

}  // namespace
