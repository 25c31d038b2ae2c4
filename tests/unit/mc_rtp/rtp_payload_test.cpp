// RTP packet view/builder and the LMR voice payload format (docs/protocols/iwf-1-media.md):
// golden bytes derived by hand, bit-exact round trips of encrypted frames of every family.
#include <gtest/gtest.h>

#include "mc_adapters/rtp/lmr_payload.hpp"
#include "mc_adapters/rtp/rtp_packet.hpp"

namespace {

using namespace iwf;
using namespace iwf::mc::rtp;

Bytes hex(const char* s) {
    auto r = fromHex(s);
    EXPECT_TRUE(r.ok()) << s;
    return r.ok() ? *r : Bytes{};
}

TEST(RtpPacket, BuildAndParseGolden) {
    RtpHeader h;
    h.marker = true;
    h.payload_type = 96;
    h.sequence = 0x1234;
    h.timestamp = 0x01020304;
    h.ssrc = 0xA0B0C0D0;
    h.csrcs = {0x11111111};
    h.extension = RtpHeader::Extension{0xBEDE, hex("01020304")};
    Bytes out;
    ASSERT_TRUE(buildRtp(h, hex("cafe"), out, 2).ok());
    // V=2 P=1 X=1 CC=1 -> 0xB1; M=1 PT=96 -> 0xE0; then seq, ts, ssrc, csrc, ext header
    // (profile, 1 word), ext word, payload, padding (0x00, count 0x02).
    EXPECT_EQ(out, hex("b1e01234 01020304 a0b0c0d0 11111111 bede0001 01020304 cafe 0002"));
    auto v = RtpView::parse(out);
    ASSERT_TRUE(v.ok()) << v.error().toString();
    EXPECT_TRUE(v->marker());
    EXPECT_EQ(v->payloadType(), 96);
    EXPECT_EQ(v->sequence(), 0x1234);
    EXPECT_EQ(v->timestamp(), 0x01020304u);
    EXPECT_EQ(v->ssrc(), 0xA0B0C0D0u);
    EXPECT_EQ(v->csrcCount(), 1);
    EXPECT_EQ(v->csrc(0), 0x11111111u);
    EXPECT_EQ(v->extensionProfile(), 0xBEDE);
    EXPECT_EQ(Bytes(v->extension().begin(), v->extension().end()), hex("01020304"));
    EXPECT_EQ(Bytes(v->payload().begin(), v->payload().end()), hex("cafe"));
    EXPECT_EQ(v->paddingSize(), 2u);
}

TEST(RtpPacket, MinimalPacketAndRejections) {
    auto v = RtpView::parse(hex("80000001 00000002 00000003"));
    ASSERT_TRUE(v.ok());
    EXPECT_TRUE(v->payload().empty());
    EXPECT_EQ(RtpView::parse(hex("800000")).error().reason, "truncated");
    EXPECT_EQ(RtpView::parse(hex("40000001 00000002 00000003")).error().reason, "bad_version");
    EXPECT_EQ(RtpView::parse(hex("82000001 00000002 00000003 00000004")).error().reason,
              "bad_csrc");
    EXPECT_EQ(RtpView::parse(hex("90000001 00000002 00000003 bede")).error().reason,
              "bad_extension");
    EXPECT_EQ(RtpView::parse(hex("90000001 00000002 00000003 bede0002 00000000")).error().reason,
              "bad_extension");
    EXPECT_EQ(RtpView::parse(hex("a0000001 00000002 00000003 0005")).error().reason, "bad_padding");
    EXPECT_EQ(RtpView::parse(hex("a0000001 00000002 00000003 0000")).error().reason, "bad_padding");
    RtpHeader h;
    Bytes out;
    h.payload_type = 128;
    EXPECT_EQ(buildRtp(h, {}, out).error().reason, "bad_payload_type");
    h.payload_type = 0;
    h.csrcs.assign(16, 1);
    EXPECT_EQ(buildRtp(h, {}, out).error().reason, "too_many_csrcs");
    h.csrcs.clear();
    h.extension = RtpHeader::Extension{1, hex("010203")};
    EXPECT_EQ(buildRtp(h, {}, out).error().reason, "bad_extension");
    EXPECT_TRUE(out.empty());
}

TEST(SequenceExtender, WrapsForwardAndKeepsBackwardSteps) {
    SequenceExtender e;
    const std::uint64_t a = e.extend(65534);
    EXPECT_EQ(e.extend(65535), a + 1);
    EXPECT_EQ(e.extend(0), a + 2);
    EXPECT_EQ(e.extend(1), a + 3);
    EXPECT_EQ(e.extend(65535), a + 1);  // a late packet from before the wrap
    EXPECT_EQ(e.highest(), a + 3);
    EXPECT_EQ(e.extend(100), a + 102);
}

VoiceFrame p25EncryptedFrame() {
    VoiceFrame f;
    f.codec = VoiceCodec::ImbeFullRate;
    f.pos = {0x00010203, 10};
    f.crypto.family = LmrFamily::P25;
    f.crypto.encrypted = true;
    f.crypto.algid = 0x84;  // AES-256
    f.crypto.key_id = 0x1234;
    f.crypto.mi.assign(hex("010203040506070809"));
    f.payload.assign(hex("a1a2a3a4a5a6a7a8a9aaab"));  // 88 bits
    f.side.assign(hex("5a5b5c"));
    return f;
}

TEST(LmrPayload, GoldenP25EncryptedFrame) {
    Bytes out;
    ASSERT_TRUE(encodeLmrPayload(p25EncryptedFrame(), out).ok());
    // V=1,E=1 -> 0x60; family P25 0; codec IMBE 0; index 10; superframe 0x00010203;
    // ALGID 0x0084; KID 0x00001234; lengths 9, 11, 3; MI; payload; side.
    EXPECT_EQ(out, hex("60 00 00 0a 00010203 0084 00001234 09 0b 03"
                       " 010203040506070809 a1a2a3a4a5a6a7a8a9aaab 5a5b5c"));
    EXPECT_EQ(out.size(), kLmrPayloadHeader + 9 + 11 + 3);
    auto back = decodeLmrPayload(out);
    ASSERT_TRUE(back.ok()) << back.error().toString();
    EXPECT_EQ(*back, p25EncryptedFrame());
}

TEST(LmrPayload, BitExactRoundTripForEveryFamilyAndEdgeSizes) {
    std::vector<VoiceFrame> frames;
    frames.push_back(p25EncryptedFrame());
    VoiceFrame dmr;
    dmr.codec = VoiceCodec::DmrAmbe;
    dmr.pos = {7, 5};
    dmr.crypto.family = LmrFamily::Dmr;
    dmr.crypto.encrypted = true;
    dmr.crypto.algid = 5;
    dmr.crypto.key_id = 0xFF;
    dmr.crypto.mi.assign(hex("deadbeef"));
    Bytes burst(27);
    for (std::size_t i = 0; i < burst.size(); ++i) {
        burst[i] = static_cast<std::uint8_t>(i * 37);
    }
    dmr.payload.assign(burst);
    dmr.side.assign(hex("0102"));
    frames.push_back(dmr);
    VoiceFrame tetra;
    tetra.codec = VoiceCodec::TetraAcelp;
    tetra.pos = {0xFFFFFFFF, 255};
    tetra.crypto.family = LmrFamily::Tetra;
    tetra.crypto.encrypted = true;
    tetra.crypto.algid = 0x3FF;
    tetra.crypto.key_id = 0xFFFFF;
    tetra.crypto.mi.assign(Bytes(16, 0xEE));
    tetra.payload.assign(Bytes(40, 0x77));  // the format's vocoder field at its maximum
    tetra.side.assign(Bytes(16, 0x99));     // capacity
    frames.push_back(tetra);
    VoiceFrame clear = {};
    clear.crypto = CryptoSync::clear(LmrFamily::P25);
    clear.payload.assign(hex("00"));
    frames.push_back(clear);
    VoiceFrame analog;
    analog.codec = VoiceCodec::Pcm;
    analog.crypto = CryptoSync::clear(LmrFamily::Analog);
    analog.payload.assign(Bytes(40, 1));
    frames.push_back(analog);
    for (const auto& f : frames) {
        Bytes out;
        ASSERT_TRUE(encodeLmrPayload(f, out).ok()) << toString(f.crypto);
        auto back = decodeLmrPayload(out);
        ASSERT_TRUE(back.ok()) << back.error().toString();
        EXPECT_EQ(*back, f) << toString(f.crypto);
    }
}

// VoiceFrame::payload holds 61 bytes (an AMR-WB 23.85 storage frame, which travels as RFC
// 4867); X-IWF-LMR's vocoder field stays at 40 bytes (offset 15: 0..40), so a longer payload
// is refused rather than written with a length the format does not allow.
TEST(LmrPayload, VocoderFieldStaysFortyBytes) {
    VoiceFrame f;
    f.codec = VoiceCodec::Pcm;
    f.crypto = CryptoSync::clear(LmrFamily::Analog);
    ASSERT_TRUE(f.payload.assign(Bytes(41, 1)));
    Bytes out;
    auto st = encodeLmrPayload(f, out);
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().reason, "bad_payload_length");
    EXPECT_TRUE(out.empty());
}

TEST(LmrPayload, RefusesFieldsWiderThanTheFamilyAllows) {
    Bytes out;
    VoiceFrame f = p25EncryptedFrame();
    f.crypto.algid = 0x100;
    EXPECT_EQ(encodeLmrPayload(f, out).error().reason, "bad_algid");
    f = p25EncryptedFrame();
    f.crypto.key_id = 0x10000;
    EXPECT_EQ(encodeLmrPayload(f, out).error().reason, "bad_key_id");
    f = p25EncryptedFrame();
    f.crypto.mi.assign(Bytes(10, 1));
    EXPECT_EQ(encodeLmrPayload(f, out).error().reason, "bad_mi_length");
    f = p25EncryptedFrame();
    f.pos.index = 18;
    EXPECT_EQ(encodeLmrPayload(f, out).error().reason, "bad_index");
    f = p25EncryptedFrame();
    f.codec = VoiceCodec::Pcm;
    EXPECT_EQ(encodeLmrPayload(f, out).error().reason, "pcm_encrypted");
    f.crypto.family = LmrFamily::Dmr;
    f.crypto.algid = 8;
    f.codec = VoiceCodec::DmrAmbe;
    f.pos.index = 5;
    f.crypto.mi.assign(hex("01020304"));
    EXPECT_EQ(encodeLmrPayload(f, out).error().reason, "bad_algid");
    f.pos.index = 6;  // bursts A..F only
    f.crypto.algid = 1;
    EXPECT_EQ(encodeLmrPayload(f, out).error().reason, "bad_index");
    VoiceFrame a;
    a.crypto.family = LmrFamily::Analog;
    a.crypto.encrypted = true;
    EXPECT_EQ(encodeLmrPayload(a, out).error().reason, "analog_encrypted");
    EXPECT_TRUE(out.empty());
}

TEST(LmrPayload, RejectsMalformedPayloads) {
    Bytes good;
    ASSERT_TRUE(encodeLmrPayload(p25EncryptedFrame(), good).ok());
    EXPECT_EQ(decodeLmrPayload({}).error().reason, "truncated");
    EXPECT_EQ(decodeLmrPayload(ByteView(good).first(10)).error().reason, "truncated");
    EXPECT_EQ(decodeLmrPayload(ByteView(good).first(good.size() - 1)).error().reason, "truncated");
    Bytes extra = good;
    extra.push_back(0);
    EXPECT_EQ(decodeLmrPayload(extra).error().reason, "trailing_bytes");
    Bytes b = good;
    b[0] = 0x80;  // version 2
    EXPECT_EQ(decodeLmrPayload(b).error().reason, "bad_version");
    b = good;
    b[0] |= 0x01;
    EXPECT_EQ(decodeLmrPayload(b).error().reason, "reserved_bits_set");
    b = good;
    b[1] = 9;
    EXPECT_EQ(decodeLmrPayload(b).error().reason, "bad_family");
    b = good;
    b[2] = 9;
    EXPECT_EQ(decodeLmrPayload(b).error().reason, "bad_codec");
    b = good;
    b[14] = 17;
    EXPECT_EQ(decodeLmrPayload(b).error().reason, "bad_mi_length");
    b = good;
    b[15] = 41;
    EXPECT_EQ(decodeLmrPayload(b).error().reason, "bad_payload_length");
    b = good;
    b[16] = 17;
    EXPECT_EQ(decodeLmrPayload(b).error().reason, "bad_side_length");
    b = good;
    b[8] = 0x01;  // ALGID 0x0184 does not fit P25's 8 bits
    EXPECT_EQ(decodeLmrPayload(b).error().reason, "bad_algid");
}

TEST(LmrPayload, TimestampFollowsFramePosition) {
    VoiceFrame f = p25EncryptedFrame();
    f.pos = {2, 3};
    EXPECT_EQ(rtpTimestampOffset(f), (2u * 18 + 3) * 160);
    f.codec = VoiceCodec::DmrAmbe;
    f.crypto.family = LmrFamily::Dmr;
    f.pos = {1, 5};
    EXPECT_EQ(rtpTimestampOffset(f), (1u * 6 + 5) * 480);
}

}  // namespace
