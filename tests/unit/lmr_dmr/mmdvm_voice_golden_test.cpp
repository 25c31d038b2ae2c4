// DMR voice exactly as g4klx/MMDVMHost forwards it to the network, clear and encrypted, and
// what iwfd's decoder makes of it; and what iwfd's encoder sends toward an MMDVMHost,
// compared with the bursts MMDVMHost itself builds.
//
// The 33-byte bursts below were computed outside this tree by a small program linked with
// MMDVMHost's own classes (commit b5b119fa, April 2026), making exactly the calls
// DMRSlot.cpp writeModem() makes before writeNetworkRF():
//   voice LC header / terminator: CDMRFullLC::encode(lc, data, DT_VOICE_LC_HEADER or
//     DT_TERMINATOR_WITH_LC), CDMRSlotType::getData() (colour code 1), CSync::
//     addDMRDataSync(duplex) (BS sourced);
//   PI header: the radio's 12-byte block (written here by hand, CRC-CCITT by CCRC::
//     addCCITT162 then XOR 0x6969 as DMRCSBK.cpp does with its mask), CBPTC19696::encode(),
//     slot type DT_VOICE_PI_HEADER, data sync (writeModem regenerates exactly these);
//   voice: 216 pseudo-random vocoder bits standing in for the radio's ciphertext (opaque to
//     MMDVMHost's framing and to iwfd), burst A CSync::addDMRAudioSync(), bursts B..F the
//     embedded data CDMREmbeddedData::setLC() + getData(data, n) (B..E the four fragments
//     of the LC with LCSS first / continuation / continuation / last, F zeroed with LCSS
//     single) and CDMREMB::getData() with colour code 1 and the radio's PI bit.
// The 55-byte DMRD around each burst is written byte by byte here as DMRNetwork.cpp
// write() lays it out. Nothing here is produced by the code under test.
//
// Shapes MMDVMHost gives a call on the network (DMRSlot.cpp writeModem / writeEndRF):
//   - one voice LC header (DMRD sequence 0, new stream ID), then, only when [DMR]
//     Protect=1, the radio's PI header (sequence 1): with the default Protect=0 the PI
//     header is dropped, so ALGID, key ID and IV never reach the network (since March 2025,
//     commit 78fc96b); then the voice bursts, sequence numbers counting every packet
//     written, and a terminator with LC;
//   - RF late entry (RPT_RF_STATE::LATE_ENTRY): no radio header was heard; when the
//     embedded LC completes (burst E) MMDVMHost writes a dummy voice LC header built from
//     it and then the burst that completed it: the stream starts at burst E, no PI header;
//   - a burst missing on air: writeModem drops every later burst of the superframe
//     (m_rfN != m_lastrfN + 1) until the next sync and numbers only what it writes, so the
//     network sees the burst index jump with no sequence gap;
//   - signal lost (TAG_LOST): writeEndRF(true) queues a terminator for the modem only;
//     the network gets nothing more, the call ends by iwfd's stream timeout.
#include <algorithm>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "lmr_adapters/dmr/calls.hpp"
#include "lmr_adapters/dmr/dmrd.hpp"

namespace iwf::lmr::dmr {
namespace {

// LC (TS 102 361-2 §7.1.1): group voice, FID 0, service options 0x40 (privacy) or 0, TG 91,
// source 3120097.
constexpr const char* kEncLcHeader =
    "03744d4a1e881ee84ac03c80046dff57d75df5de3110090033f009842489c803b1";
constexpr const char* kEncTerminator =
    "031b4d9e1e381e904ab03c2004adff57d75df5d964040a38349005c42c89d10382";
constexpr const char* kClrLcHeader =
    "03350dce1e8c1e984a903440046dff57d75df5de31000870323005002801cc03a4";
constexpr const char* kClrTerminator =
    "035a0d1a1e3c1ee04ae034e004adff57d75df5d964140b48355009402001d50397";
// PI header of a Motorola radio, AES-256: byte 0 = G/I 1 (0x20) | ALGID 5, FID 0x10, key
// ID 0x2A, IV 3C 5A 96 E1, destination 00 00 5B, CRC masked 0x6969.
constexpr const char* kPiBlock = "25102a3c5a96e100005bdbbe";
constexpr const char* kPiHeader =
    "7cad30e315985d1c37620861040dff57d75df5dd9dbbe3786252cbe091de029b66";
// Four encrypted superframes (EMB PI = 1), bursts A..F each.
constexpr const char* kEncVoice[24] = {
    "a9432093585551e9061abd8b8a3755fd7df75f7f963ed2a971ecabcb015b26f959",  // superframe 0 burst A
    "fe84499f72d9ccb09a27e80013c1a060f0f0658ba0e2e4f1135ade7cc0fc70b810",  // superframe 0 burst B
    "4b630b4534469b3f8817a23e5171e0f094105bd77c63d1d4b18a6ec82786d0c02b",  // superframe 0 burst C
    "5e9113f3cdb96e0a4bea1971de81e0c123000bd42e6c56c230f9460623f6698f03",  // superframe 0 burst D
    "b0d4cee504b313b23fbe8ee08651c56287d6fce2b9de3052066144802191fe5a88",  // superframe 0 burst E
    "abef1ad0d6ee81cf7503c1e6f0918000000002bfff4ddb114969dd00ed2f7a6121",  // superframe 0 burst F
    "99af5b996c89194cacfb6157a72755fd7df75f7047e20bf6b536f0250ddace8822",  // superframe 1 burst A
    "aa2ef884141379ec5cd2b4ab7a51a060f0f06585939346df91533c7c0f736f3e9f",  // superframe 1 burst B
    "eecbdcf87762971c3586cde8ff01e0f094105bd5b02eb24c787055c998def1c99b",  // superframe 1 burst C
    "2848d229e73023bd55b6e4ed17f1e0c123000bdb0d9edd13b8f40af2ef10099d4b",  // superframe 1 burst D
    "c0d64c02da3b4bddcf034dfe62b1c56287d6fce7ed573397200fea3e301ffc8352",  // superframe 1 burst E
    "1783c9873430e88aecc5dd136d318000000002b64b908a78217ba25b6bb4936fce",  // superframe 1 burst F
    "162fa8c53d248d3d267d8e4d6ea755fd7df75f720efa7eb5bbfa4c15bd33a06bcb",  // superframe 2 burst A
    "6f7d2bfaadf3834e6de6a4633311a060f0f06583f8cd1fb3f72b3148026cc10300",  // superframe 2 burst B
    "78c93771ce80a42a7632eba2dbf1e0f094105bdc073a54759933bb219fe9b7c689",  // superframe 2 burst C
    "ffda92749cf7eedf6be031a25071e0c123000bd7530d16b23872f15f114cfdc3fe",  // superframe 2 burst D
    "d2c0a3dd0b4d93a1d8daf11a3181c56287d6fce320783ac084c7a98dfad50d7918",  // superframe 2 burst E
    "bed2ff97fd2c70fc532e1f739a918000000002b0c7bc97e51afca75336d0bc2229",  // superframe 2 burst F
    "cf2b07efd92b928d2ccd59116b6755fd7df75f75667e4077d2ef2d6a5d03b97efc",  // superframe 3 burst A
    "e8b5c471adc12ff5ac0bc72c4231a060f0f0658ed5c27a4e128a25070387d00c66",  // superframe 3 burst B
    "fb023334cb0f4bb4f2300765fe31e0f094105bda128a02d38e1c5d8942cd46fb22",  // superframe 3 burst C
    "5d1a7b3b6aa4b4d090716712aa01e0c123000bdb777fd20ededbc46f67c97915be",  // superframe 3 burst D
    "9291bfd1bef37aa7b0aa6c62e901c56287d6fce875700f43fd8823dfcfb8ba4536",  // superframe 3 burst E
    "aac62bf7acc2112d2de9c5382b218000000002b0bd94b420728602fc8375be1b74",  // superframe 3 burst F
};
// One clear superframe (EMB PI = 0).
constexpr const char* kClrVoice[6] = {
    "401d2e63b4f14b4ae706e20fda1755fd7df75f7197124f1dbbc81236176d6987e3",  // superframe 0 burst A
    "80382a1588c2458ef4c29924a5213060f0f06919a51df20a5c845e91d9dd77a0cc",  // superframe 0 burst B
    "151fa956ac8192704b44b76a11a170f090005748121bc5a3a2cd84d0bce96cf689",  // superframe 0 burst C
    "a0dbab2987d5a55832a896639d1170c122d0074feed7ba659b0ea2a88b6cd68707",  // superframe 0 burst D
    "072b4a38598069a38e4815a8d4315173521330702f9baa457f64597000679372c8",  // superframe 0 burst E
    "2d5239993aad63e857f8d412b791100000000e22d75985c0b57dc3d038df2d494f",  // superframe 0 burst F
};

constexpr std::uint32_t kRepeater = 234100201;  // 0x0DF415E9
constexpr std::uint32_t kStreamId = 0x5EC0A11D;

Bytes hexBytes(const char* h) {
    auto b = fromHex(h);
    EXPECT_TRUE(b.ok()) << h;
    return b.ok() ? *b : Bytes(kBurstBytes, 0);
}

// DMRNetwork.cpp write(): "DMRD", sequence, source (3), destination (3), repeater ID (4,
// m_id big-endian), byte 15 (0x80 slot 2, 0x40 unit call, 0x10 voice sync, 0x20 | data
// type, or the voice burst number n), stream ID (4: memcpy of a uint32_t, little-endian on
// the hosts MMDVMHost runs on), the 33-byte burst, BER, RSSI (the dBm value made positive).
Bytes mmdvmDmrd(std::uint8_t seq, std::uint8_t b15, const char* burst_hex,
                std::uint32_t stream = kStreamId) {
    Bytes w = {'D', 'M', 'R', 'D', seq, 0x2F, 0x9B, 0xE1, 0x00, 0x00, 0x5B, 0x0D, 0xF4, 0x15, 0xE9};
    w.push_back(b15);
    for (int i = 0; i < 4; ++i) {
        w.push_back(static_cast<std::uint8_t>(stream >> (8 * i)));
    }
    const Bytes burst = hexBytes(burst_hex);
    w.insert(w.end(), burst.begin(), burst.end());
    w.push_back(0x00);  // BER: errors of regenerateDMR(), 0
    w.push_back(0x3B);  // RSSI: -59 dBm
    return w;
}

// A transmission as (byte 15, burst) pairs; sequence numbers are given when sent.
struct Tx {
    std::uint8_t b15;
    const char* burst;
};

constexpr std::uint8_t kHdr = 0xA1;  // slot 2, data sync, DT_VOICE_LC_HEADER
constexpr std::uint8_t kPi = 0xA0;   // DT_VOICE_PI_HEADER
constexpr std::uint8_t kTerm = 0xA2;

std::uint8_t voiceB15(int n) {
    return static_cast<std::uint8_t>(n == 0 ? 0x90 : 0x80 | n);
}

// Bursts A..F of encrypted superframes [from, to).
std::vector<Tx> encSuperframes(int from, int to) {
    std::vector<Tx> v;
    for (int i = from * 6; i < to * 6; ++i) {
        v.push_back({voiceB15(i % 6), kEncVoice[i]});
    }
    return v;
}

// Vocoder bits (0..107, 156..263) and middle field (108..155) of a burst, bit by bit.
struct Halves {
    Bytes ambe = Bytes(27, 0);
    Bytes middle = Bytes(6, 0);
};
Halves halves(const char* burst_hex) {
    const Bytes b = hexBytes(burst_hex);
    Halves h;
    auto bit = [&](std::size_t i) { return (b[i / 8] >> (7 - i % 8)) & 1; };
    for (std::size_t i = 0, o = 0; i < 264; ++i) {
        const bool mid = i >= 108 && i < 156;
        Bytes& dst = mid ? h.middle : h.ambe;
        const std::size_t at = mid ? i - 108 : o++;
        dst[at / 8] = static_cast<std::uint8_t>(dst[at / 8] | (bit(i) << (7 - at % 8)));
    }
    return h;
}

struct Decoded {
    std::vector<Event> events;
    std::vector<std::string> errors;  // onPacket() errors, in order
    std::vector<const Voice*> voices;
    const CallSetup* setup = nullptr;
    const CallEnd* end = nullptr;
};

// Sends `txs` with sequence numbers `seqs` (same length) through the DMRD parser and the
// decoder, 60 ms apart; keeps the events.
void run(CallDecoder& dec, const std::vector<Tx>& txs, const std::vector<std::uint8_t>& seqs,
         Decoded& d, std::int64_t& t) {
    ASSERT_EQ(txs.size(), seqs.size());
    for (std::size_t i = 0; i < txs.size(); ++i) {
        const Bytes wire = mmdvmDmrd(seqs[i], txs[i].b15, txs[i].burst);
        ASSERT_EQ(wire.size(), 55u);
        auto p = decodeDmrd(wire);
        ASSERT_TRUE(p.ok()) << p.error().toString();
        const Status st = dec.onPacket(*p, t += 60'000'000, d.events);
        if (!st.ok()) {
            d.errors.emplace_back(st.error().reason);
        }
    }
}

// Indexes the events; every packet of every vector decodes without error unless the test
// says otherwise.
void indexEvents(Decoded& d, const std::vector<std::string>& errors = {}) {
    EXPECT_EQ(d.errors, errors);
    d.voices.clear();
    for (const auto& e : d.events) {
        if (const auto* v = std::get_if<Voice>(&e)) {
            d.voices.push_back(v);
        } else if (const auto* s = std::get_if<CallSetup>(&e)) {
            d.setup = s;
        } else if (const auto* c = std::get_if<CallEnd>(&e)) {
            d.end = c;
        }
    }
}

std::vector<std::uint8_t> seqFrom(std::uint8_t first, std::size_t n) {
    std::vector<std::uint8_t> s;
    for (std::size_t i = 0; i < n; ++i) {
        s.push_back(static_cast<std::uint8_t>(first + i));
    }
    return s;
}

CryptoSync piCrypto() {
    CryptoSync c;
    c.family = LmrFamily::Dmr;
    c.encrypted = true;
    c.algid = 5;
    c.key_id = 0x2A;
    c.vendor = 0x10;
    const std::uint8_t mi[4] = {0x3C, 0x5A, 0x96, 0xE1};
    c.mi.assign(ByteView(mi, 4));
    return c;
}

// Every voice frame carries its burst's vocoder bits and middle field bit-exact.
void expectBitExact(const Voice& v, const char* burst_hex) {
    const Halves h = halves(burst_hex);
    EXPECT_EQ(toHex(v.frame.payload.view()), toHex(h.ambe));
    EXPECT_EQ(toHex(v.frame.side.view()), toHex(h.middle));
}

// [DMR] Protect=1: header, PI header, two superframes, terminator.
TEST(DmrMmdvmGolden, EncryptedCallWithPiHeaderCarriesAlgidKeyIdAndMiBitExact) {
    std::vector<Tx> txs = {{kHdr, kEncLcHeader}, {kPi, kPiHeader}};
    const auto sfs = encSuperframes(0, 2);
    txs.insert(txs.end(), sfs.begin(), sfs.end());
    txs.push_back({kTerm, kEncTerminator});
    CallDecoder dec;
    Decoded d;
    std::int64_t t = 0;
    run(dec, txs, seqFrom(0, txs.size()), d, t);
    indexEvents(d);
    ASSERT_EQ(d.events.size(), 1u + 12u + 1u);
    ASSERT_NE(d.setup, nullptr);
    EXPECT_TRUE(std::holds_alternative<CallSetup>(d.events.front()));
    EXPECT_EQ(d.setup->caller.id, Address(DmrUnit{3120097}));
    EXPECT_EQ(d.setup->callee, Address(DmrGroup{91}));
    EXPECT_EQ(d.setup->kind, CallKind::Group);
    ASSERT_TRUE(d.setup->crypto);
    EXPECT_EQ(*d.setup->crypto, piCrypto());
    EXPECT_EQ(toHex(d.setup->crypto->mi.view()), "3c5a96e1");
    ASSERT_EQ(d.voices.size(), 12u);
    for (std::size_t i = 0; i < 12; ++i) {
        const Voice& v = *d.voices[i];
        EXPECT_EQ(v.frame.pos, (FramePosition{static_cast<std::uint32_t>(i / 6),
                                              static_cast<std::uint8_t>(i % 6)}));
        EXPECT_EQ(v.frame.seq, i);
        EXPECT_EQ(v.frame.crypto, piCrypto()) << i;
        expectBitExact(v, kEncVoice[i]);
    }
    ASSERT_NE(d.end, nullptr);
    EXPECT_EQ(d.end->reason, EndReason::Normal);
    EXPECT_EQ(dec.activeStreams(), 0u);
    EXPECT_EQ(dec.stats().lost_packets, 0u);
    // The PI block itself, as the radio wrote it.
    auto pi = parsePiHeader(hexBytes(kPiBlock));
    EXPECT_TRUE(pi.group);
    EXPECT_EQ(pi.algid, 5);
    EXPECT_EQ(pi.fid, 0x10);
    EXPECT_EQ(pi.key_id, 0x2A);
    EXPECT_EQ(pi.dst, 91u);
    EXPECT_EQ(pi.reserved0, 0);
}

// [DMR] Protect=0 (the default): MMDVMHost drops the PI header. The call is known to be
// encrypted (LC privacy bit, EMB PI bit) but ALGID, key ID and IV are not: nothing is
// invented, every frame says "encrypted, parameters unknown".
TEST(DmrMmdvmGolden, EncryptedCallWithoutPiHeaderIsEncryptedWithUnknownParameters) {
    std::vector<Tx> txs = {{kHdr, kEncLcHeader}};
    const auto sfs = encSuperframes(0, 2);
    txs.insert(txs.end(), sfs.begin(), sfs.end());
    txs.push_back({kTerm, kEncTerminator});
    CallDecoder dec;
    Decoded d;
    std::int64_t t = 0;
    run(dec, txs, seqFrom(0, txs.size()), d, t);
    indexEvents(d);
    ASSERT_NE(d.setup, nullptr);
    ASSERT_TRUE(d.setup->crypto);
    EXPECT_EQ(*d.setup->crypto, CryptoSync::lateEntry(LmrFamily::Dmr));
    EXPECT_FALSE(d.setup->crypto->parametersKnown());
    ASSERT_EQ(d.voices.size(), 12u);
    for (std::size_t i = 0; i < 12; ++i) {
        EXPECT_EQ(d.voices[i]->frame.crypto, CryptoSync::lateEntry(LmrFamily::Dmr));
        EXPECT_EQ(d.voices[i]->frame.pos.index, static_cast<std::uint8_t>(i % 6));
        expectBitExact(*d.voices[i], kEncVoice[i]);
    }
    ASSERT_NE(d.end, nullptr);
    EXPECT_EQ(d.end->reason, EndReason::Normal);
}

TEST(DmrMmdvmGolden, ClearCallIsClearThroughout) {
    std::vector<Tx> txs = {{kHdr, kClrLcHeader}};
    for (int n = 0; n < 6; ++n) {
        txs.push_back({voiceB15(n), kClrVoice[n]});
    }
    txs.push_back({kTerm, kClrTerminator});
    CallDecoder dec;
    Decoded d;
    std::int64_t t = 0;
    run(dec, txs, seqFrom(0, txs.size()), d, t);
    indexEvents(d);
    ASSERT_NE(d.setup, nullptr);
    ASSERT_TRUE(d.setup->crypto);
    EXPECT_EQ(*d.setup->crypto, CryptoSync::clear(LmrFamily::Dmr));
    ASSERT_EQ(d.voices.size(), 6u);
    for (std::size_t i = 0; i < 6; ++i) {
        EXPECT_EQ(d.voices[i]->frame.crypto, CryptoSync::clear(LmrFamily::Dmr));
        expectBitExact(*d.voices[i], kClrVoice[i]);
    }
    ASSERT_NE(d.end, nullptr);
}

// RF late entry: MMDVMHost's dummy header (from the embedded LC: privacy bit set) then the
// radio's bursts from E of superframe 1 on, no PI header.
TEST(DmrMmdvmGolden, RfLateEntryStartsAtBurstEAfterADummyHeader) {
    std::vector<Tx> txs = {{kHdr, kEncLcHeader}};
    for (int i = 6 + 4; i < 24; ++i) {
        txs.push_back({voiceB15(i % 6), kEncVoice[i]});
    }
    txs.push_back({kTerm, kEncTerminator});
    CallDecoder dec;
    Decoded d;
    std::int64_t t = 0;
    run(dec, txs, seqFrom(0, txs.size()), d, t);
    indexEvents(d);
    ASSERT_NE(d.setup, nullptr);
    EXPECT_EQ(*d.setup->crypto, CryptoSync::lateEntry(LmrFamily::Dmr));
    ASSERT_EQ(d.voices.size(), 14u);
    // Superframe numbers count from the stream's first frame; the burst index is kept.
    EXPECT_EQ(d.voices[0]->frame.pos, (FramePosition{0, 4}));
    EXPECT_EQ(d.voices[1]->frame.pos, (FramePosition{0, 5}));
    EXPECT_EQ(d.voices[2]->frame.pos, (FramePosition{1, 0}));
    EXPECT_EQ(d.voices[13]->frame.pos, (FramePosition{2, 5}));
    for (std::size_t i = 0; i < d.voices.size(); ++i) {
        EXPECT_TRUE(d.voices[i]->frame.crypto.encrypted);
        EXPECT_TRUE(d.voices[i]->frame.crypto.mi.empty()) << "no IV invented";
        expectBitExact(*d.voices[i], kEncVoice[10 + i]);
    }
    ASSERT_NE(d.end, nullptr);
}

// Network late entry: iwfd joins a Protect=1 stream at burst C (the header, PI header and
// bursts A, B lost on the way, or a master that started forwarding the talkgroup
// mid-call): no header at all. Encrypted from the first frame (EMB PI bit), no IV.
TEST(DmrMmdvmGolden, NetworkLateEntryMidSuperframeWithoutAnyHeader) {
    const auto sfs = encSuperframes(0, 2);
    std::vector<Tx> txs(sfs.begin() + 2, sfs.end());
    txs.push_back({kTerm, kEncTerminator});
    CallDecoder dec;
    Decoded d;
    std::int64_t t = 0;
    run(dec, txs, seqFrom(4, txs.size()), d, t);
    indexEvents(d);
    ASSERT_NE(d.setup, nullptr);
    EXPECT_TRUE(std::holds_alternative<CallSetup>(d.events.front()));
    EXPECT_EQ(d.setup->caller.id, Address(DmrUnit{3120097}));  // from the DMRD header
    EXPECT_EQ(*d.setup->crypto, CryptoSync::lateEntry(LmrFamily::Dmr));
    ASSERT_EQ(d.voices.size(), 10u);
    EXPECT_EQ(d.voices[0]->frame.pos, (FramePosition{0, 2}));
    EXPECT_EQ(d.voices[4]->frame.pos, (FramePosition{1, 0}));
    for (std::size_t i = 0; i < d.voices.size(); ++i) {
        EXPECT_EQ(d.voices[i]->frame.crypto, CryptoSync::lateEntry(LmrFamily::Dmr));
        expectBitExact(*d.voices[i], kEncVoice[2 + i]);
    }
    ASSERT_NE(d.end, nullptr);
}

// The Protect=1 call over four superframes with the packets at `lost` (indexes into the
// voice bursts 0..23) never arriving; sequence numbers as MMDVMHost wrote them.
Decoded lossyCall(CallDecoder& dec, const std::vector<int>& lost) {
    std::vector<Tx> txs = {{kHdr, kEncLcHeader}, {kPi, kPiHeader}};
    std::vector<std::uint8_t> seqs = {0, 1};
    for (int i = 0; i < 24; ++i) {
        if (std::find(lost.begin(), lost.end(), i) == lost.end()) {
            txs.push_back({voiceB15(i % 6), kEncVoice[i]});
            seqs.push_back(static_cast<std::uint8_t>(2 + i));
        }
    }
    txs.push_back({kTerm, kEncTerminator});
    seqs.push_back(26);
    Decoded d;
    std::int64_t t = 0;
    run(dec, txs, seqs, d, t);
    indexEvents(d);
    return d;
}

// Each received frame keeps its superframe position and its Voice.seq counts the slots
// lost before it, whatever the length of the gap.
void expectPlaced(const Decoded& d, const std::vector<int>& lost) {
    std::size_t k = 0;
    for (int i = 0; i < 24; ++i) {
        if (std::find(lost.begin(), lost.end(), i) != lost.end()) {
            continue;
        }
        ASSERT_LT(k, d.voices.size());
        const Voice& v = *d.voices[k++];
        EXPECT_EQ(v.frame.pos, (FramePosition{static_cast<std::uint32_t>(i / 6),
                                              static_cast<std::uint8_t>(i % 6)}))
            << "burst " << i;
        EXPECT_EQ(v.frame.seq, static_cast<std::uint32_t>(i)) << "burst " << i;
        EXPECT_EQ(v.frame.crypto, piCrypto());
        expectBitExact(v, kEncVoice[i]);
    }
    EXPECT_EQ(k, d.voices.size());
}

TEST(DmrMmdvmGolden, LostPacketsKeepEveryLaterFrameInItsSuperframePosition) {
    struct Case {
        const char* what;
        std::vector<int> lost;
    };
    const Case cases[] = {
        {"C and D of superframe 0", {2, 3}},
        {"all of superframe 1 (before: superframe 2 was numbered 1)", {6, 7, 8, 9, 10, 11}},
        {"E of superframe 0 to E of superframe 1 (before: F landed in superframe 0)",
         {4, 5, 6, 7, 8, 9, 10}},
        {"13 in a row across two superframe boundaries",
         {3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.what);
        CallDecoder dec;
        const Decoded d = lossyCall(dec, c.lost);
        ASSERT_NE(d.setup, nullptr);
        EXPECT_EQ(d.voices.size(), 24u - c.lost.size());
        expectPlaced(d, c.lost);
        EXPECT_EQ(dec.stats().lost_packets, c.lost.size());
        EXPECT_EQ(dec.stats().lost_frames, c.lost.size());
        ASSERT_NE(d.end, nullptr);
        EXPECT_EQ(d.end->reason, EndReason::Normal);
    }
}

// A burst lost on air: MMDVMHost writes A, B, C of superframe 0, drops D (never heard),
// E and F (out of sequence), and goes on at A of superframe 1 with the next sequence
// number. Before: the three missing frames did not show in Voice.seq (no loss counted).
TEST(DmrMmdvmGolden, BurstsMmdvmHostDroppedOnAirShowAsLostFrames) {
    std::vector<Tx> txs = {{kHdr, kEncLcHeader}, {kPi, kPiHeader}};
    for (int i : {0, 1, 2, 6, 7, 8, 9, 10, 11}) {
        txs.push_back({voiceB15(i % 6), kEncVoice[i]});
    }
    txs.push_back({kTerm, kEncTerminator});
    CallDecoder dec;
    Decoded d;
    std::int64_t t = 0;
    run(dec, txs, seqFrom(0, txs.size()), d, t);  // no sequence gap
    indexEvents(d);
    expectPlaced(d, {3, 4, 5, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23});
    EXPECT_EQ(dec.stats().lost_packets, 0u);
    EXPECT_EQ(dec.stats().lost_frames, 3u);
}

// The same packet twice (a duplicated datagram): dropped and counted, as MMDVMHost's
// insertSilence() does ("Do not send duplicate"). Before: it started a new superframe and
// every later frame was one superframe off.
TEST(DmrMmdvmGolden, DuplicatedPacketIsDroppedNotANewSuperframe) {
    std::vector<Tx> txs = {{kHdr, kEncLcHeader}, {kPi, kPiHeader}};
    std::vector<std::uint8_t> seqs = {0, 1};
    for (int i = 0; i < 12; ++i) {
        txs.push_back({voiceB15(i % 6), kEncVoice[i]});
        seqs.push_back(static_cast<std::uint8_t>(2 + i));
        if (i == 3) {
            const Tx dup = txs.back();
            txs.push_back(dup);
            seqs.push_back(seqs.back());
        }
    }
    CallDecoder dec;
    Decoded d;
    std::int64_t t = 0;
    run(dec, txs, seqs, d, t);
    indexEvents(d, {"duplicate"});
    expectPlaced(d, {12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23});
    EXPECT_EQ(dec.stats().duplicates, 1u);
}

// Signal lost on air (TAG_LOST): the stream just stops after C of superframe 1. The call
// ends by the stream timeout, once, as a timeout.
TEST(DmrMmdvmGolden, AbruptEndWithoutTerminatorEndsByTimeout) {
    std::vector<Tx> txs = {{kHdr, kEncLcHeader}, {kPi, kPiHeader}};
    const auto sfs = encSuperframes(0, 2);
    txs.insert(txs.end(), sfs.begin(), sfs.begin() + 9);
    CallDecoder dec;
    Decoded d;
    std::int64_t t = 0;
    run(dec, txs, seqFrom(0, txs.size()), d, t);
    indexEvents(d);
    EXPECT_EQ(d.voices.size(), 9u);
    EXPECT_EQ(d.end, nullptr);
    EXPECT_EQ(dec.activeStreams(), 1u);
    const std::int64_t timeout = 1'000'000'000;
    std::vector<Event> ev;
    dec.expire(t + timeout / 2, timeout, ev);
    EXPECT_TRUE(ev.empty());
    dec.expire(t + timeout + 1, timeout, ev);
    ASSERT_EQ(ev.size(), 1u);
    const auto* end = std::get_if<CallEnd>(&ev[0]);
    ASSERT_NE(end, nullptr);
    EXPECT_EQ(end->call, d.setup->call);
    EXPECT_EQ(end->reason, EndReason::Timeout);
    EXPECT_EQ(end->detail, "stream_silent");
    EXPECT_EQ(dec.activeStreams(), 0u);
    ev.clear();
    dec.expire(t + 10 * timeout, timeout, ev);
    EXPECT_TRUE(ev.empty());
}

// MC -> DMR: what iwfd sends for an encrypted call is what MMDVMHost itself would put on
// the air and accept from the network (DMRSlot.cpp writeNetwork(): the voice LC header,
// then DT_VOICE_PI_HEADER queued as received after BPTC regeneration, voice bursts whose
// EMB (PI bit) and embedded LC it reads, a terminator). Every burst equals the bursts
// MMDVMHost builds for the same LC and PI header, and every DMRD is 55 bytes with the LC's
// source and destination in bytes 5..10 (writeNetwork warns when they differ).
TEST(DmrMmdvmGolden, EncoderSendsTheBurstsMmdvmHostBuilds) {
    CallEncoder enc(EncoderConfig{kRepeater, 2, 1, 1}, 11);
    CallSetup cs;
    cs.call = 5;
    cs.caller.id = DmrUnit{3120097};
    cs.callee = DmrGroup{91};
    cs.crypto = piCrypto();
    auto start = enc.onEvent(Event{cs});
    ASSERT_TRUE(start.ok()) << start.error().toString();
    std::vector<DmrdPacket> pkts = *start;
    for (int i = 0; i < 12; ++i) {
        Voice v;
        v.call = 5;
        v.frame.codec = VoiceCodec::DmrAmbe;
        v.frame.pos = {static_cast<std::uint32_t>(i / 6), static_cast<std::uint8_t>(i % 6)};
        v.frame.crypto = piCrypto();
        v.frame.payload.assign(halves(kEncVoice[i]).ambe);  // side empty: built by iwfd
        auto r = enc.onEvent(Event{v});
        ASSERT_TRUE(r.ok()) << r.error().toString();
        pkts.insert(pkts.end(), r->begin(), r->end());
    }
    auto end = enc.onEvent(Event{CallEnd{5, EndReason::Normal, ""}});
    ASSERT_TRUE(end.ok());
    pkts.insert(pkts.end(), end->begin(), end->end());

    std::vector<Tx> want = {{kHdr, kEncLcHeader}, {kPi, kPiHeader}};
    const auto sfs = encSuperframes(0, 2);
    want.insert(want.end(), sfs.begin(), sfs.end());
    want.push_back({kTerm, kEncTerminator});
    ASSERT_EQ(pkts.size(), want.size());
    const std::uint32_t stream = pkts[0].stream_id;
    for (std::size_t i = 0; i < pkts.size(); ++i) {
        const Bytes got = encodeDmrd(pkts[i]);
        Bytes expect = mmdvmDmrd(static_cast<std::uint8_t>(i), want[i].b15, want[i].burst, stream);
        ASSERT_EQ(got.size(), 55u) << i;
        // Bytes 16..19: our stream ID is written big-endian; MMDVMHost reads it as 4 opaque
        // bytes (DMRData has no stream ID; DMRGateway compares it as a whole).
        std::copy(got.begin() + 16, got.begin() + 20, expect.begin() + 16);
        // Bytes 53, 54 (BER, RSSI) are what iwfd measured (nothing): not compared.
        EXPECT_EQ(toHex(ByteView(got).first(53)), toHex(ByteView(expect).first(53))) << i;
    }
}

}  // namespace
}  // namespace iwf::lmr::dmr
