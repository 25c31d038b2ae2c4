// USRP codec against packets built the way the real peers build them:
// - AllStarLink/app_rpt channels/chan_usrp.c: usrp_xwrite (voice: memset the header, "USRP",
//   seq = htonl(txseq++), keyup = htonl(1), memcpy of the host-order slin frame) and
//   usrp_indicate (unkey: the header alone, seq = htonl(txseq++), everything else zero). The
//   struct below is chan_usrp.c's struct _chan_usrp_bufhdr and the builders do what those
//   functions do, with the same calls.
// - DVSwitch/USRP_Client pyUC.py: sendUSRPCommand packs
//   'USRP' + struct.pack('>iiiiiii', seq, 0, 0, 0, packetType << 24, 0, 0) + cmd; the hex
//   strings below are what that expression yields (checked by hand against Python's struct
//   rules: '>' = big-endian, 'i' = 4 bytes).
#include "lmr_adapters/analog/usrp.hpp"

#include <arpa/inet.h>
#include <cstring>
#include <vector>

#include <gtest/gtest.h>

namespace iwf::lmr::analog {
namespace {

// chan_usrp.c, verbatim field order and types.
struct ChanUsrpBufhdr {
    char eye[4];
    std::uint32_t seq;
    std::uint32_t memory;
    std::uint32_t keyup;
    std::uint32_t talkgroup;
    std::uint32_t type;
    std::uint32_t mpxid;
    std::uint32_t reserved;
};
static_assert(sizeof(ChanUsrpBufhdr) == kUsrpHeaderBytes);

// usrp_xwrite: a voice packet with the frame's samples memcpy()d in host order.
std::vector<std::uint8_t> chanUsrpVoice(std::uint32_t txseq, const std::int16_t* slin) {
    char sendbuf[sizeof(ChanUsrpBufhdr) + kUsrpVoiceBytes];
    auto* bufhdrp = reinterpret_cast<ChanUsrpBufhdr*>(sendbuf);
    char* bufdata = &sendbuf[sizeof(ChanUsrpBufhdr)];
    std::memcpy(bufdata, slin, kUsrpVoiceBytes);
    std::memset(bufhdrp, 0, sizeof(ChanUsrpBufhdr));
    std::memcpy(bufhdrp->eye, "USRP", 4);
    bufhdrp->seq = htonl(txseq);
    bufhdrp->keyup = htonl(1);
    return {sendbuf, sendbuf + sizeof(sendbuf)};
}

// usrp_indicate: the unkey, a bare header.
std::vector<std::uint8_t> chanUsrpUnkey(std::uint32_t txseq) {
    ChanUsrpBufhdr bufhdr;
    std::memset(&bufhdr, 0, sizeof(ChanUsrpBufhdr));
    std::memcpy(bufhdr.eye, "USRP", 4);
    bufhdr.seq = htonl(txseq);
    const auto* p = reinterpret_cast<const std::uint8_t*>(&bufhdr);
    return {p, p + sizeof(bufhdr)};
}

std::vector<std::uint8_t> hex(std::string_view s) {
    auto r = fromHex(s);
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : std::vector<std::uint8_t>{};
}

TEST(Usrp, DecodesChanUsrpVoiceWithBigEndianHeaderAndHostOrderPcm) {
    std::int16_t slin[kUsrpVoiceSamples];
    for (std::size_t i = 0; i < kUsrpVoiceSamples; ++i) {
        slin[i] = static_cast<std::int16_t>(i * 199 - 16000);
    }
    auto pkt = chanUsrpVoice(0x01020304, slin);
    ASSERT_EQ(pkt.size(), 352u);
    // The wire bytes themselves: seq big-endian at 4..7, keyup 1 at 15, first sample
    // little-endian at 32..33 (-16000 = 0xC180).
    EXPECT_EQ(pkt[4], 0x01);
    EXPECT_EQ(pkt[7], 0x04);
    EXPECT_EQ(pkt[15], 0x01);
    EXPECT_EQ(pkt[32], 0x80);
    EXPECT_EQ(pkt[33], 0xC1);

    auto r = decodeUsrp(pkt);
    ASSERT_TRUE(r.ok()) << r.error().toString();
    const auto& v = std::get<UsrpVoice>(*r);
    EXPECT_EQ(v.header.seq, 0x01020304u);
    EXPECT_TRUE(v.header.keyed());
    EXPECT_EQ(v.header.type, UsrpType::Voice);
    ASSERT_TRUE(v.has_audio);
    for (std::size_t i = 0; i < kUsrpVoiceSamples; ++i) {
        ASSERT_EQ(v.pcm[i], slin[i]) << i;
    }
}

TEST(Usrp, EncodesVoiceByteForByteAsChanUsrp) {
    std::int16_t slin[kUsrpVoiceSamples];
    UsrpVoice v;
    v.header.seq = 77;
    v.header.keyup = 1;
    v.has_audio = true;
    for (std::size_t i = 0; i < kUsrpVoiceSamples; ++i) {
        slin[i] = static_cast<std::int16_t>(32767 - i * 411);
        v.pcm[i] = slin[i];
    }
    UsrpBuffer out;
    ASSERT_TRUE(encodeUsrp(v, out).ok());
    auto want = chanUsrpVoice(77, slin);
    ASSERT_EQ(out.size(), want.size());
    EXPECT_EQ(std::memcmp(out.data(), want.data(), want.size()), 0);

    UsrpVoice unkey;
    unkey.header.seq = 78;
    ASSERT_TRUE(encodeUsrp(unkey, out).ok());
    auto want_unkey = chanUsrpUnkey(78);
    ASSERT_EQ(out.size(), 32u);
    EXPECT_EQ(std::memcmp(out.data(), want_unkey.data(), 32), 0);
}

TEST(Usrp, DecodesChanUsrpUnkeyAsHeaderOnlyVoice) {
    auto r = decodeUsrp(chanUsrpUnkey(9));
    ASSERT_TRUE(r.ok());
    const auto& v = std::get<UsrpVoice>(*r);
    EXPECT_FALSE(v.header.keyed());
    EXPECT_FALSE(v.has_audio);
    EXPECT_EQ(v.header.seq, 9u);
}

TEST(Usrp, DecodesPyUcCommandsWithTheTypeInByte20) {
    // setRemoteTG(3100): sendUSRPCommand(b"3100", USRP_TYPE_DTMF) with usrpSeq 5.
    auto dtmf =
        hex("55535250 00000005 00000000 00000000 00000000 01000000 00000000 00000000"
            "33313030");
    auto r = decodeUsrp(dtmf);
    ASSERT_TRUE(r.ok()) << r.error().toString();
    const auto& d = std::get<UsrpDtmf>(*r);
    EXPECT_EQ(d.header.seq, 5u);
    EXPECT_EQ(std::string_view(reinterpret_cast<const char*>(d.digits.data()), d.digits.size()),
              "3100");
    // Our encoder writes it the same way (type value in byte 20).
    UsrpBuffer out;
    ASSERT_TRUE(encodeUsrp(d, out).ok());
    ASSERT_EQ(out.size(), dtmf.size());
    EXPECT_EQ(std::memcmp(out.data(), dtmf.data(), dtmf.size()), 0);

    // ping_thread: sendUSRPCommand(b"PING", USRP_TYPE_PING).
    auto ping =
        hex("55535250 00000006 00000000 00000000 00000000 03000000 00000000 00000000"
            "50494e47");
    auto p = decodeUsrp(ping);
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(std::get<UsrpPing>(*p).header.seq, 6u);
    ASSERT_TRUE(encodeUsrp(std::get<UsrpPing>(*p), out).ok());
    EXPECT_EQ(std::memcmp(out.data(), ping.data(), ping.size()), 0);
}

TEST(Usrp, AcceptsATypeWrittenBigEndian) {
    // A peer that htonl()s every field puts the TEXT type (2) in byte 23.
    auto text =
        hex("55535250 00000001 00000000 00000000 00000000 00000002 00000000 00000000"
            "5245473a4f4b00");  // "REG:OK\0", Analog_Bridge's registration answer
    auto r = decodeUsrp(text);
    ASSERT_TRUE(r.ok()) << r.error().toString();
    EXPECT_EQ(std::get<UsrpText>(*r).text.size(), 7u);
}

TEST(Usrp, DecodesPyUcSetInfoMetadata) {
    // sendMetadata with subscriber 3112345 (0x2F7D99), callsign "N0CALL": tag 8, length
    // 3+4+3+1+1+6+1 = 19, the ID, nine zeros, then the NUL-terminated call.
    auto text =
        hex("55535250 00000002 00000000 00000000 00000000 02000000 00000000 00000000"
            "0813 2f7d99 00000000 000000 00 00 4e3043414c4c00");
    auto r = decodeUsrp(text);
    ASSERT_TRUE(r.ok()) << r.error().toString();
    auto info = setInfoOf(std::get<UsrpText>(*r));
    ASSERT_TRUE(info.ok()) << info.error().toString();
    EXPECT_EQ(info->source_id, 3112345u);
    EXPECT_EQ(info->callsign, "N0CALL");

    UsrpText reg;
    reg.text.assign(asBytes("REG:DVSWITCH"));
    EXPECT_EQ(setInfoOf(reg).error().reason, "not_set_info");
}

TEST(Usrp, RefusesWhatItCannotCarryWithANamedReason) {
    auto base = chanUsrpUnkey(1);
    EXPECT_EQ(decodeUsrp(ByteView(base).first(31)).error().reason, "truncated");
    auto bad = base;
    bad[0] = 'X';
    EXPECT_EQ(decodeUsrp(bad).error().reason, "bad_eye");
    auto odd = base;
    odd.resize(32 + 100);
    EXPECT_EQ(decodeUsrp(odd).error().reason, "bad_voice_length");
    auto typed = [&](std::uint8_t t) {
        auto p = base;
        p[20] = t;
        p.push_back('x');
        return decodeUsrp(p);
    };
    EXPECT_EQ(typed(4).error().reason, "tlv_unsupported");
    EXPECT_EQ(typed(5).error().reason, "adpcm_unsupported");
    EXPECT_EQ(typed(6).error().reason, "ulaw_unsupported");
    EXPECT_EQ(typed(9).error().reason, "unknown_type");
    auto empty_dtmf = base;
    empty_dtmf[20] = 1;
    EXPECT_EQ(decodeUsrp(empty_dtmf).error().reason, "bad_dtmf");
    auto big = base;
    big.resize(32 + 481);
    EXPECT_EQ(decodeUsrp(big).error().reason, "too_long");
}

}  // namespace
}  // namespace iwf::lmr::analog
