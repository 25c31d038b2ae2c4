// RFC 4867 payloads against the layouts of the RFC's own figures. The expected bytes are
// built in this file as a string of '0'/'1' characters, field after field as the figure
// draws them, and only then turned into bytes: no bit packing of media/ is involved.
#include "media/amr_payload.hpp"

#include <string>

#include <gtest/gtest.h>

namespace iwf::media {
namespace {

std::string bitsOf(std::uint32_t v, int n) {
    std::string s;
    for (int i = n - 1; i >= 0; --i) {
        s += ((v >> i) & 1u) ? '1' : '0';
    }
    return s;
}

std::vector<std::uint8_t> bytesOf(const std::string& bits) {
    EXPECT_EQ(bits.size() % 8, 0u) << "the figure's payload is octet-aligned";
    std::vector<std::uint8_t> out(bits.size() / 8, 0);
    for (std::size_t i = 0; i < bits.size(); ++i) {
        if (bits[i] == '1') {
            out[i / 8] |= static_cast<std::uint8_t>(0x80u >> (i % 8));
        }
    }
    return out;
}

// A frame of n speech bits with a recognisable pattern (bit i = 1 when i % 3 == 0 or i % 7
// == 1), as bits (for the expected string) and as the MSB-first octets AmrFrame holds.
struct Speech {
    std::string bits;
    AmrFrame frame;
};
Speech speech(std::uint8_t ft, bool q, int n) {
    Speech s;
    std::vector<std::uint8_t> packed((static_cast<std::size_t>(n) + 7) / 8, 0);
    for (int i = 0; i < n; ++i) {
        const bool one = i % 3 == 0 || i % 7 == 1;
        s.bits += one ? '1' : '0';
        if (one) {
            packed[static_cast<std::size_t>(i / 8)] |= static_cast<std::uint8_t>(0x80u >> (i % 8));
        }
    }
    s.frame.ft = ft;
    s.frame.q = q;
    s.frame.bits.assign(packed);
    return s;
}

void expectPayload(const AmrLayout& layout, const AmrPayload& p, const std::string& figure) {
    AmrPayloadBuffer out;
    ASSERT_TRUE(encodeAmrPayload(layout, p, out).ok());
    auto want = bytesOf(figure);
    ASSERT_EQ(out.size(), want.size());
    EXPECT_EQ(std::vector<std::uint8_t>(out.view().begin(), out.view().end()), want);
    auto back = decodeAmrPayload(layout, want);
    ASSERT_TRUE(back.ok()) << back.error().toString();
    EXPECT_TRUE(*back == p);
}

// RFC 4867 4.3.5.1: bandwidth-efficient, one AMR 7.4 frame (FT=4, 148 bits), CMR=15, Q=1,
// "two padding bits (P) are added to the end".
//   | CMR=15|0| FT=4  |1|d(0) ... d(147)|P|P|
TEST(AmrPayload, Rfc4867Sec4351BandwidthEfficientSingleFrame) {
    auto d = speech(4, true, 148);
    AmrPayload p;
    p.cmr = 15;
    p.frames[0] = d.frame;
    p.count = 1;
    std::string fig = bitsOf(15, 4) + "0" + bitsOf(4, 4) + "1" + d.bits + "00";
    ASSERT_EQ(fig.size(), 160u);
    expectPayload({AmrCodec::Amr, false}, p, fig);
}

// RFC 4867 4.4.5.1: the same frame octet-aligned: CMR in its own octet (R bits 0), the ToC
// entry |F|FT|Q|P|P| in one octet, the 148 bits padded with four P bits.
TEST(AmrPayload, Rfc4867Sec4451OctetAlignedSingleFrame) {
    auto d = speech(4, true, 148);
    AmrPayload p;
    p.cmr = 15;
    p.frames[0] = d.frame;
    p.count = 1;
    std::string fig = bitsOf(15, 4) + "0000" + "0" + bitsOf(4, 4) + "1" + "00" + d.bits + "0000";
    ASSERT_EQ(fig.size(), 8u * 21);
    expectPayload({AmrCodec::Amr, true}, p, fig);
}

// RFC 4867 4.3.5.2: bandwidth-efficient AMR-WB compound payload, CMR=1 (8.85 requested),
// four ToC entries: 6.60 (FT=0, 132 bits), SID (FT=9, 40 bits), NO_DATA (FT=15, no bits),
// 8.85 (FT=1, 177 bits); F=1 on all entries but the last; then the speech bits of the
// frames in ToC order and padding to the octet.
TEST(AmrPayload, Rfc4867Sec4352BandwidthEfficientAmrWbFourFrames) {
    auto d = speech(0, true, 132);
    auto f = speech(9, true, 40);
    AmrFrame nodata;  // FT 15, no bits
    auto g = speech(1, true, 177);
    AmrPayload p;
    p.cmr = 1;
    p.frames[0] = d.frame;
    p.frames[1] = f.frame;
    p.frames[2] = nodata;
    p.frames[3] = g.frame;
    p.count = 4;
    std::string fig = bitsOf(1, 4) + "1" + bitsOf(0, 4) + "1" + "1" + bitsOf(9, 4) + "1" + "1" +
                      bitsOf(15, 4) + "1" + "0" + bitsOf(1, 4) + "1" + d.bits + f.bits + g.bits;
    const std::size_t pad = (8 - fig.size() % 8) % 8;
    fig += std::string(pad, '0');
    expectPayload({AmrCodec::AmrWb, false}, p, fig);

    // The same frames octet-aligned (4.4): CMR octet, four ToC octets, each frame padded.
    auto padded = [](const std::string& b) { return b + std::string((8 - b.size() % 8) % 8, '0'); };
    std::string oa = bitsOf(1, 4) + "0000" + "1" + bitsOf(0, 4) + "100" + "1" + bitsOf(9, 4) +
                     "100" + "1" + bitsOf(15, 4) + "100" + "0" + bitsOf(1, 4) + "100" +
                     padded(d.bits) + padded(f.bits) + padded(g.bits);
    expectPayload({AmrCodec::AmrWb, true}, p, oa);
}

TEST(AmrPayload, Amr_WbRatesOfTheMcpttCodec) {
    // TS 26.201 table 1a: 12.65 kbit/s = 253 bits, 23.85 = 477 bits per 20 ms.
    EXPECT_EQ(amrSpeechBits(AmrCodec::AmrWb, 2), 253);
    EXPECT_EQ(amrSpeechBits(AmrCodec::AmrWb, 8), 477);
    EXPECT_EQ(amrSpeechBits(AmrCodec::AmrWb, 9), 40);
    EXPECT_EQ(amrSpeechBits(AmrCodec::AmrWb, 10), -1);
}

TEST(AmrPayload, RefusesMalformedPayloadsWithANamedReason) {
    const AmrLayout be{AmrCodec::AmrWb, false};
    EXPECT_EQ(decodeAmrPayload(be, {}).error().reason, "empty");
    // CMR 15, ToC F=0 FT=2 Q=1, but no speech bits.
    auto toc_only = bytesOf(bitsOf(15, 4) + "0" + bitsOf(2, 4) + "1" + "000000");
    EXPECT_EQ(decodeAmrPayload(be, toc_only).error().reason, "truncated");
    auto reserved = bytesOf(bitsOf(15, 4) + "0" + bitsOf(11, 4) + "1" + "000000");
    EXPECT_EQ(decodeAmrPayload(be, reserved).error().reason, "bad_frame_type");
    auto bad_cmr = bytesOf(bitsOf(12, 4) + "0" + bitsOf(15, 4) + "1" + "000000");
    EXPECT_EQ(decodeAmrPayload(be, bad_cmr).error().reason, "bad_cmr");
    std::string many = bitsOf(15, 4);
    for (int i = 0; i < 9; ++i) {
        many += "1" + bitsOf(15, 4) + "1";
    }
    many += std::string((8 - many.size() % 8) % 8, '0');
    EXPECT_EQ(decodeAmrPayload(be, bytesOf(many)).error().reason, "too_many_frames");

    AmrPayload p;
    AmrPayloadBuffer out;
    EXPECT_EQ(encodeAmrPayload(be, p, out).error().reason, "no_frames");
    p.count = 1;
    p.frames[0].ft = 2;  // 253 bits expected, none given
    EXPECT_EQ(encodeAmrPayload(be, p, out).error().reason, "bad_frame_length");
}

TEST(AmrPayload, ModeSetFromSdpIsParsedAndEnforced) {
    auto ms = parseAmrModeSet(AmrCodec::AmrWb, "0,2,8");
    ASSERT_TRUE(ms.ok());
    EXPECT_EQ(*ms, 0b100000101);
    EXPECT_FALSE(parseAmrModeSet(AmrCodec::AmrWb, "0,9").ok());
    EXPECT_FALSE(parseAmrModeSet(AmrCodec::AmrWb, "2,2").ok());
    EXPECT_FALSE(parseAmrModeSet(AmrCodec::AmrWb, "2,").ok());
    EXPECT_FALSE(parseAmrModeSet(AmrCodec::AmrWb, "").ok());
    EXPECT_FALSE(parseAmrModeSet(AmrCodec::Amr, "8").ok());

    auto s = speech(2, true, 253);
    AmrPayload p;
    p.frames[0] = s.frame;
    p.count = 1;
    EXPECT_TRUE(checkAmrModeSet(AmrCodec::AmrWb, *ms, p).ok());
    p.cmr = 1;  // asks for 8.85, outside the set
    EXPECT_EQ(checkAmrModeSet(AmrCodec::AmrWb, *ms, p).error().reason, "mode_not_allowed");
    p.cmr = 15;
    p.frames[0] = speech(1, true, 177).frame;
    EXPECT_EQ(checkAmrModeSet(AmrCodec::AmrWb, *ms, p).error().reason, "mode_not_allowed");
    p.frames[0] = speech(9, true, 40).frame;  // SID: always allowed
    EXPECT_TRUE(checkAmrModeSet(AmrCodec::AmrWb, *ms, p).ok());
}

}  // namespace
}  // namespace iwf::media
