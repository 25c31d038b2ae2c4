#include "lmr_adapters/p25/issi_rtp.hpp"

#include <gtest/gtest.h>

#include "common/pcap.hpp"

namespace iwf::lmr::p25 {
namespace {

Bytes issiHex(const char* s) {
    return fromHex(s).value();
}

// Third RTP packet of NIST's VHF_UHF_ISSI.pcap: PTT progress + PTT control word + ISSI
// header word (group 0x333, clear).
TEST(P25IssiRtp, NistProgressWithHeaderWord) {
    Bytes pkt = issiHex(
        "80645c7100001f960000000283810000048b0000088500001202040400bee07ad50000c504"
        "000000000000000000800000000333f7e0ec");
    auto r = decodeIssiPacket(pkt);
    ASSERT_TRUE(r.ok()) << r.error().toString();
    EXPECT_EQ(r->rtp.payload_type, 100);
    EXPECT_EQ(r->rtp.seq, 0x5c71);
    EXPECT_EQ(r->rtp.ssrc, 2U);
    EXPECT_TRUE(r->payload.signal);
    EXPECT_FALSE(r->payload.compact);
    ASSERT_EQ(r->payload.blocks.size(), 3U);
    const auto* pt = r->payload.packetType();
    ASSERT_NE(pt, nullptr);
    EXPECT_EQ(pt->type, static_cast<std::uint8_t>(IssiPacketKind::PttProgress));
    EXPECT_EQ(pt->service_options, 0x04);
    EXPECT_EQ(pt->tsn, 2);
    const auto* ptt = r->payload.pttControl();
    ASSERT_NE(ptt, nullptr);
    EXPECT_EQ(ptt->wacn, 0xBEE07U);
    EXPECT_EQ(ptt->system, 0xAD5);
    EXPECT_EQ(ptt->unit, 0x0000C5U);
    EXPECT_EQ(ptt->priority, 0x04);
    const auto* hw = r->payload.headerWord();
    ASSERT_NE(hw, nullptr);
    EXPECT_EQ(hw->algid, 0x80);
    EXPECT_EQ(hw->kid, 0);
    EXPECT_EQ(hw->group, 0x333);
    EXPECT_EQ(hw->nid, 0xF7E0);
    EXPECT_EQ(hw->sf_vbb, 0xEC);
    EXPECT_EQ(hw->superframe(), 3);
    Bytes out;
    ASSERT_TRUE(encodeIssiPacket(*r, out).ok());
    EXPECT_EQ(out, pkt);
}

TEST(P25IssiRtp, NistImbeBlocks) {
    // frame 1 (FT 0xC2, 14 bytes) and frame 12 (FT 0x6D, 18 bytes)
    Bytes p1 = issiHex(
        "80645c7200001f970000000283810000048b0000088000000e02040400bee07ad50000c504"
        "c2ce4021b16eb00004febfa00000");
    auto r = decodeIssiPacket(p1);
    ASSERT_TRUE(r.ok());
    const auto& v = std::get<ImbeBlock>(r->payload.blocks[2].body);
    EXPECT_EQ(v.ft, 0xC2);
    EXPECT_EQ(v.index(), 0);
    EXPECT_EQ(toHex(ByteView(v.imbe.data(), v.imbe.size())), "ce4021b16eb00004febfa0");
    EXPECT_TRUE(v.extra.empty());
    Bytes p12 = issiHex(
        "80645c7d00001fa20000000283810000048b0000088000001202040400bee07ad50000c504"
        "6d6d4c13f149ab00074b8fef000000000000");
    r = decodeIssiPacket(p12);
    ASSERT_TRUE(r.ok());
    const auto& v12 = std::get<ImbeBlock>(r->payload.blocks[2].body);
    EXPECT_EQ(v12.index(), 11);
    EXPECT_EQ(v12.extra.size(), 4U);
    EXPECT_EQ(issiFrameType(0), 0xC2);
    EXPECT_EQ(issiFrameType(8), 0x6A);
    EXPECT_EQ(issiFrameType(9), 0xCB);
    EXPECT_EQ(issiFrameType(11), 0x6D);
    EXPECT_EQ(*imbeBlockLength(0x6D), 18U);
    EXPECT_EQ(*imbeBlockLength(0x6A), 17U);
    EXPECT_EQ(*imbeBlockLength(0xCB), 14U);
}

TEST(P25IssiRtp, CompactHeadersRoundTrip) {
    IssiPayload p;
    p.compact = true;
    p.signal = true;
    PacketTypeBlock t;
    t.type = 4;
    t.tsn = 5;
    t.heartbeat = 30;
    p.blocks.push_back(IssiBlock{true, 1, 0, t});
    p.blocks.push_back(IssiBlock{true, 11, 0, PttControlWord{0xBEE07, 0xAD5, 0x123456, 0x44}});
    ImbeBlock v;
    v.ft = 0x6D;
    v.extra.assign(Bytes{1, 2, 3, 0});
    p.blocks.push_back(IssiBlock{true, 0, 0, v});
    Bytes out;
    ASSERT_TRUE(encodeIssiPayload(p, out).ok());
    EXPECT_EQ(out.size(), 1U + 3 + 4 + 8 + 18);
    auto back = decodeIssiPayload(out);
    ASSERT_TRUE(back.ok()) << back.error().toString();
    EXPECT_EQ(*back, p);
}

TEST(P25IssiRtp, VerboseTsoIsFourteenBits) {
    IssiPayload p;
    OpaqueBlock o{Bytes{9, 9, 9}};
    p.blocks.push_back(IssiBlock{true, 63, 0x3FFF, o});
    Bytes out;
    ASSERT_TRUE(encodeIssiPayload(p, out).ok());
    EXPECT_EQ(toHex(out), "01bffffc03090909");
    auto back = decodeIssiPayload(out);
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(back->blocks[0].tso, 0x3FFF);
    EXPECT_EQ(back->blocks[0].type, 63);
}

TEST(P25IssiRtp, MalformedPayloads) {
    EXPECT_EQ(decodeIssiPacket(issiHex("8064")).error().reason, "truncated");
    EXPECT_EQ(decodeIssiPacket(issiHex("40645c7100001f9600000002010a")).error().reason,
              "bad_rtp_version");
    EXPECT_EQ(decodeIssiPayload(issiHex("00")).error().reason, "no_blocks");
    EXPECT_EQ(decodeIssiPayload(issiHex("0181000004")).error().reason, "block_overrun");
    EXPECT_EQ(decodeIssiPayload(issiHex("01810000040a00001eff")).error().reason, "trailing_bytes");
    EXPECT_EQ(decodeIssiPayload(issiHex("018100000300001e")).error().reason, "bad_block_length");
    EXPECT_EQ(decodeIssiPayload(issiHex("41a2")).error().reason, "compact_unknown_length");
    EXPECT_EQ(decodeIssiPayload(issiHex("018b00")).error().reason, "truncated");
}

// Every ISSI RTP packet (payload type 100) of the three NIST captures decodes without error
// and re-encodes bit-exact; packet-type and PTT words are consistent with a group call.
TEST(P25IssiRtp, EveryNistCapturePacketDecodes) {
    struct Expect {
        const char* file;
        std::size_t issi_packets;
    };
    const Expect files[] = {{"VHF_UHF_ISSI.pcap", 122},
                            {"subnet_test.pcap", 124},
                            {"all_call_demo_successful.pcap", 5449}};
    std::size_t voice_blocks = 0;
    for (const auto& f : files) {
        auto cap = pcap::readPcapFile(std::string(IWF_ISSI_DATA_DIR) + "/" + f.file);
        ASSERT_TRUE(cap.ok()) << f.file;
        std::size_t n = 0;
        for (const auto& d : cap->udp) {
            if (d.payload.size() < kRtpHeaderLen || (d.payload[0] >> 6) != 2 ||
                (d.payload[1] & 0x7F) != kIssiRtpPayloadType) {
                continue;
            }
            ++n;
            auto r = decodeIssiPacket(d.payload);
            ASSERT_TRUE(r.ok()) << f.file << " frame " << d.index << ": " << r.error().toString();
            ASSERT_NE(r->payload.packetType(), nullptr) << "frame " << d.index;
            for (const auto& b : r->payload.blocks) {
                if (const auto* v = std::get_if<ImbeBlock>(&b.body)) {
                    ASSERT_TRUE(v->index().has_value()) << "frame " << d.index;
                    ASSERT_EQ(v->extra.size() + kImbeBlockBase, *imbeBlockLength(v->ft));
                    ++voice_blocks;
                }
            }
            Bytes out;
            ASSERT_TRUE(encodeIssiPacket(*r, out).ok());
            ASSERT_EQ(out, d.payload) << f.file << " frame " << d.index;
        }
        EXPECT_EQ(n, f.issi_packets) << f.file;
    }
    EXPECT_GT(voice_blocks, 5000U);
}

}  // namespace
}  // namespace iwf::lmr::p25
