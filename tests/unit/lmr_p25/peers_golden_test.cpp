// P25 records exactly as the deployed peers write them, byte for byte, and what iwfd makes of
// them. Every vector below was written out by hand from the peer's source (file and function
// named at each one), never produced by the code under test:
//
//   g4klx/MMDVMHost P25Network.cpp writeLDU1() / writeLDU2(): the templates REC62..REC73 with
//     LCF/MFID (0x64 bytes 1-2), destination (0x65), source (0x66), MI (0x6D-0x6F), ALGID/KID
//     (0x70) and LSD (0x6A, 0x73) filled in; byte 3 of 0x64 (service options) stays 0; no
//     header record exists. Stock MMDVMHost resets its crypto fields at every RF LDU1
//     (P25Control.cpp writeModem: m_rfData.reset()) and its LDU2 decode is commented out
//     (P25Data.cpp decodeLDU2), so it writes ALGID 0x80, KID 0, MI 0 for every call; a build
//     that passes LDU2 through writes the radio's ES, which is the shape tested here.
//   g4klx/P25Clients P25Gateway/P25Network.cpp poll() / unlink(): 0xF0 / 0xF1 + the callsign
//     resized to 10 with spaces; P25Gateway.cpp run(): rewrites byte 1 of 0x64 to 0x00 and
//     0x65 to its talkgroup, and while idle forwards nothing before the 0x65 that links it.
#include <gtest/gtest.h>

#include "lmr_adapters/p25/crypto_tracker.hpp"
#include "lmr_adapters/p25/issi_rtp.hpp"
#include "lmr_adapters/p25/mi_lfsr.hpp"
#include "lmr_adapters/p25/records.hpp"
#include "lmr_adapters/p25/side_fields.hpp"

namespace iwf::lmr::p25 {
namespace {

// One superframe of an AES-256 (ALGID 0x84, KID 0x0101) call from unit 1001 to TG 100 as
// MMDVMHost writes it when its LDU2 carries the radio's ES: LDU2 announces the next MI
// 6FE2802AA403828B 00; LSD 5A A5 (LDU1) and 3C C3 (LDU2); IMBE of frame i = bytes 16 i + k.
const char* const kMmdvmSuperframe[18] = {
    "6202020c0b1264000080000102030405060708090a00",  // REC62: IMBE at 10, status 0x00
    "63101112131415161718191a0002",                  // REC63: IMBE at 1, 00 02
    "6400000000202122232425262728292a02",            // LCF 00, MFID 00, service options 00
    "6500006400303132333435363738393a02",            // destination 0x000064
    "660003e900404142434445464748494a02",            // source 0x0003E9
    "67f09d6a00505152535455565758595a02",            // REC67 constant parity
    "6819d42600606162636465666768696a02",            // REC68
    "69e0eb7b00707172737475767778797a02",            // REC69
    "6a5aa502808182838485868788898a00",              // LSD 5A A5, 02, IMBE at 4
    "6b02020c0b1264000080909192939495969798999a00",  // REC6B
    "6ca0a1a2a3a4a5a6a7a8a9aa0002",                  // REC6C
    "6d6fe28000b0b1b2b3b4b5b6b7b8b9ba02",            // MI bytes 0-2 (next superframe)
    "6e2aa40300c0c1c2c3c4c5c6c7c8c9ca02",            // MI bytes 3-5
    "6f828b0000d0d1d2d3d4d5d6d7d8d9da02",            // MI bytes 6-8
    "7084010100e0e1e2e3e4e5e6e7e8e9ea02",            // ALGID 0x84, KID 0x0101
    "71acb8a400f0f1f2f3f4f5f6f7f8f9fa02",            // REC71
    "729bdc7500000102030405060708090a02",            // REC72
    "733cc302101112131415161718191a00",              // LSD 3C C3
};

Bytes hex(const char* h) {
    auto b = fromHex(h);
    EXPECT_TRUE(b.ok()) << h;
    return b.ok() ? *b : Bytes{};
}

VoiceRecord voice(const Bytes& b) {
    auto r = decodeRecord(b);
    EXPECT_TRUE(r.ok()) << toHex(b);
    return std::get<VoiceRecord>(*r);
}

// Our side-byte builder writes MMDVMHost's records exactly (the harness radio and iwfd's own
// origination use it).
TEST(P25PeersGolden, MmdvmRecordSideIsWhatMmdvmHostWrites) {
    MmdvmLc lc;
    lc.dst = 100;
    lc.src = 1001;
    MmdvmEs es;
    es.mi = {0x6F, 0xE2, 0x80, 0x2A, 0xA4, 0x03, 0x82, 0x8B, 0x00};
    es.algid = 0x84;
    es.kid = 0x0101;
    for (std::uint8_t i = 0; i < 18; ++i) {
        VoiceRecord r;
        r.tag = tagOfFrameIndex(i);
        for (std::size_t k = 0; k < kImbeBytes; ++k) {
            r.imbe[k] = static_cast<std::uint8_t>(16 * i + k);
        }
        const std::array<std::uint8_t, 2> lsd = i < 9 ? std::array<std::uint8_t, 2>{0x5A, 0xA5}
                                                      : std::array<std::uint8_t, 2>{0x3C, 0xC3};
        r.side = mmdvmRecordSide(i, lc, es, lsd);
        InlineBytes<kMaxRecordLen> out;
        ASSERT_TRUE(encodeRecord(r, out).ok());
        EXPECT_EQ(toHex(out.view()), kMmdvmSuperframe[i]) << "frame " << int(i);
    }
}

// Nothing before frame 15 says the call is encrypted: MMDVMHost leaves the service options
// byte 0 and sends no header. The tracker stays undecided (not "clear") until the 0x70 record;
// then the call is encrypted with the announced ALGID/KID, and the MI of the superframe in
// progress is the one before the announced MI (TIA-102.AAAD-B vector read backwards:
// 6FE2802AA403828B is announced, so this superframe's MI is 1234567890ABCDEF).
TEST(P25PeersGolden, MmdvmEncryptedCallUndecidedUntilFrame15ThenSuperframe0GetsItsMi) {
    CryptoTracker t;
    for (std::uint8_t i = 0; i < 18; ++i) {
        const VoiceRecord r = voice(hex(kMmdvmSuperframe[i]));
        t.onFrame(r.index());
        if (auto lc = lcOf(r)) {
            t.onLcf(lc->lcf);
            t.onServiceOptions(lc->service_options);
        }
        if (auto es = esOf(r)) {
            t.onEsFragment(r.index(), *es);
        }
        if (i < 14) {
            EXPECT_FALSE(t.decided()) << int(i);
            continue;
        }
        ASSERT_TRUE(t.decided()) << int(i);
        const CryptoSync c = t.current();
        EXPECT_TRUE(c.encrypted);
        EXPECT_EQ(c.algid, 0x84);
        EXPECT_EQ(c.key_id, 0x0101u);
        EXPECT_EQ(toHex(c.mi.view()), "1234567890abcdef00");
    }
    EXPECT_EQ(t.miBackfilled(), 1u);
    // The next superframe uses the announced MI.
    t.onFrame(0);
    EXPECT_EQ(toHex(t.current().mi.view()), "6fe2802aa403828b00");
    EXPECT_EQ(toHex(t.cryptoOfSuperframe(0).mi.view()), "1234567890abcdef00");
}

// The four ALGIDs of the brief, and stock MMDVMHost (0x80, KID 0, MI 0): encrypted exactly
// when the ALGID is not 0x80; the stream's own statement decides.
TEST(P25PeersGolden, AlgidsAsAnnouncedInFrame15) {
    for (std::uint8_t algid : {0x80, 0x81, 0x84, 0xAA}) {
        CryptoTracker t;
        for (std::uint8_t i = 0; i < 18; ++i) {
            Bytes b = hex(kMmdvmSuperframe[i]);
            if (i == 14) {
                b[1] = algid;
            }
            if (algid == 0x80 && (i == 11 || i == 12 || i == 13 || i == 14)) {
                b[1] = i == 14 ? 0x80 : 0x00;  // stock MMDVMHost: MI 0, KID 0
                b[2] = 0;
                b[3] = 0;
            }
            const VoiceRecord r = voice(b);
            t.onFrame(r.index());
            if (auto es = esOf(r)) {
                t.onEsFragment(r.index(), *es);
            }
        }
        ASSERT_TRUE(t.decided());
        EXPECT_EQ(t.current().encrypted, algid != 0x80) << int(algid);
        EXPECT_EQ(t.current().algid, algid);
    }
}

// Lost LDU2 ES: frame 15 arrives but an MI record is lost: the ALGID decides, the MI stays
// unknown (never invented) until the next complete LDU2.
TEST(P25PeersGolden, LostMiRecordDecidesOnTheAlgidWithoutAnMi) {
    CryptoTracker t;
    for (std::uint8_t i = 0; i < 18; ++i) {
        if (i == 12) {
            continue;  // 0x6E lost
        }
        const VoiceRecord r = voice(hex(kMmdvmSuperframe[i]));
        t.onFrame(r.index());
        if (auto es = esOf(r)) {
            t.onEsFragment(r.index(), *es);
        }
    }
    ASSERT_TRUE(t.decided());
    EXPECT_TRUE(t.current().encrypted);
    EXPECT_EQ(t.current().algid, 0x84);
    EXPECT_TRUE(t.current().mi.empty());
    EXPECT_EQ(t.miBackfilled(), 0u);
}

// P25Gateway's poll and unlink (P25Network.cpp poll() / unlink()): tag + callsign resized to
// 10 with spaces, 11 bytes.
TEST(P25PeersGolden, P25GatewayPollAndUnlink) {
    auto p = decodeRecord(hex("f047344b4c582020202020"));
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(std::get<PollRecord>(*p).callsignView(), "G4KLX");
    EXPECT_FALSE(std::get<PollRecord>(*p).unlink);
    auto u = decodeRecord(hex("f147344b4c582020202020"));
    ASSERT_TRUE(u.ok());
    EXPECT_TRUE(std::get<PollRecord>(*u).unlink);
    // The 4-byte "0x65 + TG" record P25Gateway writes only to its MMDVMHost when it links or
    // unlinks (P25Gateway.cpp run(): talkgroupBuff) is not a network record.
    EXPECT_EQ(decodeRecord(hex("65000064")).error().reason, "bad_length");
}

// A call through an idle P25Gateway reaches the network from its 0x65 on (P25Gateway.cpp
// run(): 0x62..0x64 are read while m_currentTG is unused and written nowhere; the 0x65 links
// it and is forwarded with everything after it). Frames 3..17 keep their positions and the
// LDU2 still decides.
TEST(P25PeersGolden, CallFromIdleP25GatewayStartsAtFrame4) {
    CryptoTracker t;
    for (std::uint8_t i = 3; i < 18; ++i) {
        Bytes b = hex(kMmdvmSuperframe[i]);
        const VoiceRecord r = voice(b);
        const FramePosition pos = t.onFrame(r.index());
        EXPECT_EQ(pos.superframe, 0u);
        EXPECT_EQ(pos.index, i);
        if (auto es = esOf(r)) {
            t.onEsFragment(r.index(), *es);
        }
    }
    EXPECT_TRUE(t.decided());
    EXPECT_EQ(toHex(t.current().mi.view()), "1234567890abcdef00");
}

// ISSI RFSS: the ISSI header word as NIST's RFSS emulator lays it out (p25-wireline
// gov/nist/p25/issi/p25payload/ISSIHeaderWord.java getBytes(): MI (9), ALGID, key ID (2), MFID,
// group ID (2), NID (2), SF (2 bits) VBB (2) reserved (4)), in the PTT progress packet of
// NIST's VHF_UHF_ISSI.pcap (third RTP packet, clear) with the crypto fields of an encrypted
// call written in: ALGID 0x80 / 0x81 / 0x84 / 0xAA, key 0x0101, MI 1234567890ABCDEF00. The
// header word gives superframe 0 its MI: an ISSI call needs no back-fill.
TEST(P25PeersGolden, IssiHeaderWordOfAnEncryptedCall) {
    for (std::uint8_t algid : {0x80, 0x81, 0x84, 0xAA}) {
        const std::string hw =
            "1234567890abcdef00" + toHex(Bytes{algid}) + "0101" + "00" + "0333" + "f7e0" + "ec";
        const Bytes pkt = hex(("80645c7100001f960000000283810000048b0000088500001202040400bee07ad5"
                               "0000c504" +
                               hw)
                                  .c_str());
        auto r = decodeIssiPacket(pkt);
        ASSERT_TRUE(r.ok()) << r.error().toString();
        const auto* h = r->payload.headerWord();
        ASSERT_NE(h, nullptr);
        EXPECT_EQ(h->algid, algid);
        EXPECT_EQ(h->kid, 0x0101);
        EXPECT_EQ(toHex(ByteView(h->mi.data(), h->mi.size())), "1234567890abcdef00");
        EXPECT_EQ(h->group, 0x333);
        Bytes out;
        ASSERT_TRUE(encodeIssiPacket(*r, out).ok());
        EXPECT_EQ(out, pkt);  // sent back exactly as an RFSS sent it
    }
}

}  // namespace
}  // namespace iwf::lmr::p25
