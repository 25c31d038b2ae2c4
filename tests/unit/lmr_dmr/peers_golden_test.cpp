// HBP messages exactly as the deployed peers write them, byte for byte, and what iwfd makes
// of them. The vectors are written out here from the peers' sources (file and function at
// each), never produced by the code under test:
//
//   g4klx/DMRGateway DMRNetwork.cpp: writeLogin / writeAuthorisation / writeConfig /
//     writeOptions / writePing / write (DMRD, 55 bytes) / writeTalkerAlias / clock (what it
//     accepts: DMRD of 55 or 71 bytes only, MSTPONG, RPTSBKN, ...); DMRGateway.cpp getConfig()
//     (the RPTC text).
//   g4klx/MMDVMHost DMRNetwork.cpp write() (DMRD, 55 bytes) and, before June 2023 (when it
//     last spoke HBP itself), DMRDirectNetwork.cpp writeConfig() (302 bytes) and
//     writeTalkerAlias() ("DMRA" + source ID + block + 7 bytes); DMRTA.cpp decodeTA() (talker
//     alias text).
#include <gtest/gtest.h>

#include "lmr_adapters/dmr/calls.hpp"
#include "lmr_adapters/dmr/dmrd.hpp"
#include "lmr_adapters/dmr/fec.hpp"
#include "lmr_adapters/dmr/hbp.hpp"
#include "lmr_adapters/dmr/talker_alias.hpp"
#include "superframe.hpp"

namespace iwf::lmr::dmr {
namespace {

std::string padRight(std::string s, std::size_t w) {
    s.resize(w, ' ');
    return s;
}

// The RPTC configuration text as DMRGateway's getConfig() lays it out: callsign %-8.8s,
// RX / TX frequency %09u (no maximum width), power %02u, colour code %02u, latitude %8.8s of
// "%08f", longitude %9.9s of "%09f", height %03d, location %-20.20s, description %-19.19s,
// slots %c, URL %-124.124s, version %-40.40s, "MMDVM" %-40.40s. Built field by field here.
std::string dmrGatewayConfig(const std::string& rx, const std::string& tx) {
    std::string c;
    c += padRight("G9BF", 8);
    c += rx;
    c += tx;
    c += "01";         // Power=1
    c += "01";         // ColorCode=1
    c += "0.000000";   // "%08f" of 0.0 is "0.000000" (8 characters)
    c += "00.000000";  // "%09f" of 0.0 zero padded to 9
    c += "000";        // Height=0
    c += padRight("Nowhere", 20);
    c += "Multi-Mode Repeater";  // exactly 19
    c += "3";                    // duplex, both slots
    c += padRight("www.google.co.uk", 124);
    c += padRight("20250822", 40);  // VERSION
    c += padRight("MMDVM", 40);
    return c;
}

Bytes rptc(std::uint32_t id, const std::string& config) {
    Bytes b = {'R', 'P', 'T', 'C'};
    for (auto v : idBytes(id)) {
        b.push_back(v);
    }
    b.insert(b.end(), config.begin(), config.end());
    return b;
}

TEST(DmrPeersGolden, RptcFromDmrGatewayAt70cm) {
    const Bytes wire = rptc(12345, dmrGatewayConfig("435000000", "435000000"));
    ASSERT_EQ(wire.size(), 302u);
    auto m = decodeHbp(wire);
    ASSERT_TRUE(m.ok()) << m.error().toString();
    EXPECT_EQ(m->peer_id, 12345u);
    EXPECT_EQ(m->config.callsign, "G9BF");
    EXPECT_EQ(m->config.rx_freq, "435000000");
    EXPECT_EQ(m->config.tx_freq, "435000000");
    EXPECT_EQ(m->config.latitude, "0.000000");
    EXPECT_EQ(m->config.longitude, "00.000000");
    EXPECT_EQ(m->config.description, "Multi-Mode Repeater");
    EXPECT_EQ(m->config.slots, "3");
    EXPECT_EQ(m->config.software_id, "20250822");
    EXPECT_EQ(m->config.package_id, "MMDVM");
}

// 23 cm: %09u writes 10 digits, DMRGateway sends strlen() of the text: 303 or 304 bytes.
// Before: refused as bad_length (login never completes).
TEST(DmrPeersGolden, RptcFromDmrGatewayAt23cmIsLongerAndAccepted) {
    for (auto [rx, tx] : {std::pair<std::string, std::string>{"1297000000", "1297000000"},
                          {"1297000000", "439000000"},
                          {"439000000", "1297000000"}}) {
        const Bytes wire = rptc(2341001, dmrGatewayConfig(rx, tx));
        EXPECT_EQ(wire.size(), 8u + 294u + (rx.size() - 9) + (tx.size() - 9));
        auto m = decodeHbp(wire);
        ASSERT_TRUE(m.ok()) << m.error().toString();
        EXPECT_EQ(m->config.callsign, "G9BF");
        EXPECT_EQ(m->config.rx_freq, rx);
        EXPECT_EQ(m->config.tx_freq, tx);
        EXPECT_EQ(m->config.tx_power, "01");
        EXPECT_EQ(m->config.location, "Nowhere");
        EXPECT_EQ(m->config.package_id, "MMDVM");
    }
    // DMRGateway with Location=0 overwrites latitude and longitude (buffer + 38, 17 bytes)
    // with "0.00000000.000000" (writeConfig()).
    Bytes wire = rptc(7, dmrGatewayConfig("435000000", "435000000"));
    const std::string nl = "0.00000000.000000";
    std::copy(nl.begin(), nl.end(), wire.begin() + 38);
    auto m = decodeHbp(wire);
    ASSERT_TRUE(m.ok());
    EXPECT_EQ(m->config.latitude, "0.000000");
    EXPECT_EQ(m->config.longitude, "00.000000");
    // Longer than DMRGateway's own buffer (400): refused.
    Bytes huge = rptc(7, dmrGatewayConfig("435000000", "435000000") + std::string(99, ' '));
    EXPECT_EQ(decodeHbp(huge).error().reason, "bad_length");
}

// What iwfd sends as a peer: DMRGateway's layout, 10-digit frequencies kept whole.
TEST(DmrPeersGolden, OurRptcIsDmrGatewaysLayout) {
    HbpMessage c = hbpSimple(HbpType::Rptc, 12345);
    c.config = {"G9BF",     "1297000000",       "1297000000", "01",      "01",
                "0.000000", "00.000000",        "000",        "Nowhere", "Multi-Mode Repeater",
                "3",        "www.google.co.uk", "20250822",   "MMDVM"};
    EXPECT_EQ(toHex(encodeHbp(c)),
              toHex(rptc(12345, dmrGatewayConfig("1297000000", "1297000000"))));
}

// The login and keep-alive messages DMRGateway writes (writeLogin, writeAuthorisation,
// writePing, close(RPTCL)).
TEST(DmrPeersGolden, DmrGatewayLoginMessages) {
    auto l = decodeHbp(Bytes{'R', 'P', 'T', 'L', 0x00, 0x00, 0x30, 0x39});
    ASSERT_TRUE(l.ok());
    EXPECT_EQ(l->type, HbpType::Rptl);
    EXPECT_EQ(l->peer_id, 12345u);
    auto p = decodeHbp(Bytes{'R', 'P', 'T', 'P', 'I', 'N', 'G', 0x00, 0x00, 0x30, 0x39});
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(p->type, HbpType::Rptping);
    auto c = decodeHbp(Bytes{'R', 'P', 'T', 'C', 'L', 0x00, 0x00, 0x30, 0x39});
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(c->type, HbpType::Rptcl);
    // RPTK: 4 + 4 + SHA-256 (32). RPTSBKN is master -> peer (clock() sets m_beacon).
    Bytes k = {'R', 'P', 'T', 'K', 0x00, 0x00, 0x30, 0x39};
    k.resize(40, 0xAB);
    EXPECT_EQ(decodeHbp(k)->type, HbpType::Rptk);
    EXPECT_EQ(decodeHbp(Bytes{'R', 'P', 'T', 'S', 'B', 'K', 'N', 0, 0, 0x30, 0x39})->type,
              HbpType::Rptsbkn);
    // RPTG (writeHomePosition): "RPTG" + ID + "%+08.4f%+09.4f", 25 bytes.
    Bytes g = {'R', 'P', 'T', 'G', 0x00, 0x00, 0x30, 0x39};
    const std::string pos = "+51.5000-000.1200";
    g.insert(g.end(), pos.begin(), pos.end());
    ASSERT_EQ(g.size(), 25u);
    EXPECT_EQ(decodeHbp(g)->type, HbpType::Rptg);
}

// RPTO: HBlink4's "TS1=..;TS2=.." and DMR+'s "TS1_1=..". DMRGateway sends its Options= text
// as is (writeOptions: strcpy, length = strlen + 8).
TEST(DmrPeersGolden, RptoOptionsAsTheMastersReadThem) {
    auto o = parseRptoOptions("TS1=1,2,91;TS2=");
    ASSERT_TRUE(o.ts1 && o.ts2);
    EXPECT_EQ(*o.ts1, (std::vector<std::uint32_t>{1, 2, 91}));
    EXPECT_TRUE(o.ts2->empty());
    EXPECT_TRUE(o.allows(1, 91));
    EXPECT_FALSE(o.allows(1, 92));
    EXPECT_FALSE(o.allows(2, 91));  // "TS2=": nothing on TS2
    auto d = parseRptoOptions("StartRef=4013;RelinkTime=15;UserLink=1;TS1_1=262;TS1_2=1;");
    ASSERT_TRUE(d.ts1);
    EXPECT_FALSE(d.ts2);  // not named: not restricted
    EXPECT_EQ(*d.ts1, (std::vector<std::uint32_t>{262, 1}));
    EXPECT_TRUE(d.allows(2, 999));
    EXPECT_EQ(d.other.size(), 3u);
    std::size_t bad = 0;
    auto b = parseRptoOptions("TS1=1,x,99999999999;junk;TS2=*", &bad);
    EXPECT_EQ(bad, 3u);
    EXPECT_EQ(*b.ts1, (std::vector<std::uint32_t>{1}));
    EXPECT_FALSE(b.ts2);
    EXPECT_FALSE(parseRptoOptions("").restricted());
}

// DMRA: MMDVMHost writes "DMRA" + source (3) + block + 7 alias bytes; DMRGateway forwards the
// first 15 bytes of "DMRA" + its ID (4) + what followed MMDVMHost's magic.
TEST(DmrPeersGolden, DmraShapesOfBothPeers) {
    const Bytes mmdvm = {'D',  'M',  'R',  'A',  0x2F, 0x9B, 0xE1, 0x00,
                         0x17, 0x42, 0x23, 0x0B, 0x54, 0xAC, 0xA0};
    auto f = parseDmra(mmdvm, 312000901);
    ASSERT_TRUE(f);
    EXPECT_FALSE(f->from_gateway);
    EXPECT_EQ(f->src, 3120097u);
    EXPECT_EQ(f->block, 0);
    EXPECT_EQ(toHex(f->data), "1742230b54aca0");
    const Bytes gw = {'D',  'M',  'R',  'A',  0x12, 0x98, 0xC1, 0x85,
                      0x2F, 0x9B, 0xE1, 0x00, 0x17, 0x42, 0x23};
    auto g = parseDmra(gw, 312000901);  // 312000901 = 0x1298C185
    ASSERT_TRUE(g);
    EXPECT_TRUE(g->from_gateway);
    EXPECT_EQ(g->src, 3120097u);
    EXPECT_EQ(toHex(g->data), "174223");  // 4 of the 7 bytes cut off by DMRGateway
    auto m = decodeHbp(mmdvm);
    ASSERT_TRUE(m.ok());
    EXPECT_EQ(m->type, HbpType::Dmra);
}

// Talker alias blocks (ETSI TS 102 361-2 §7.2.18), computed by hand from the bit layout and
// checked against MMDVMHost's own decodeTA() (DMRTA.cpp) outside this tree: all four decode
// there to the same text as here.
TEST(DmrPeersGolden, TalkerAliasFormats) {
    struct Case {
        const char* blocks[4];
        const char* text;
    };
    const Case cases[] = {
        {{"1742230b54aca0", "a5876660000000", "00000000000000", "00000000000000"},
         "PD0ZRY Ralf"},  // 7-bit, 11 characters: header + block 1
        {{"5c47344b4c5820", "4a6f6e61746861", "6e000000000000", "00000000000000"},
         "G4KLX Jonathan"},  // ISO 8859-1, 14 characters: header + blocks 1, 2
        {{"885a6fc3ab0000", "00000000000000", "00000000000000", "00000000000000"},
         "Zo\xc3\xab"},  // UTF-8, 4 octets: header only
        {{"c600c500730061", "00000000000000", "00000000000000", "00000000000000"},
         "\xc3\x85sa"},  // UTF-16BE "Åsa": header only
    };
    for (const auto& c : cases) {
        TalkerAliasAssembler a;
        std::optional<std::string> got;
        for (std::uint8_t b = 0; b < 4; ++b) {
            auto bytes = fromHex(c.blocks[b]);
            ASSERT_TRUE(bytes.ok());
            if (auto r = a.feed(b, *bytes)) {
                got = r;
            }
        }
        ASSERT_TRUE(got) << c.text;
        EXPECT_EQ(*got, c.text);
    }
    // Blocks arrive one superframe each, in any order: nothing until the needed ones are in.
    TalkerAliasAssembler a;
    EXPECT_FALSE(a.feed(1, *fromHex("4a6f6e61746861")));
    EXPECT_FALSE(a.feed(0, *fromHex("5c47344b4c5820")));  // block 2 still missing
    EXPECT_EQ(a.feed(2, *fromHex("6e000000000000")), std::optional<std::string>("G4KLX Jonathan"));
    EXPECT_FALSE(a.feed(2, *fromHex("6e000000000000")));  // the same again: nothing new
    // Control characters and quotes never reach a display name.
    TalkerAliasAssembler q;
    EXPECT_EQ(q.feed(0, *fromHex("4c22410a420000")), std::optional<std::string>("?A?B"));
}

// DMRD as MMDVMHost and DMRGateway write it (write(): 55 bytes, BER at 53, RSSI at 54) and
// what iwfd sends toward them: DMRGateway's clock() queues a DMRD only when its length is 55
// or 71 and drops any other length silently. Before: 53 bytes, every packet dropped.
TEST(DmrPeersGolden, EverythingWeSendIsFiftyFiveBytesLikeMmdvmHostWrites) {
    CallEncoder enc(EncoderConfig{312000901, 2, 1, 3}, 7);
    CallSetup s;
    s.call = 1;
    s.caller.id = DmrUnit{3120097};
    s.callee = DmrGroup{91};
    auto start = enc.onEvent(Event{s});
    ASSERT_TRUE(start.ok());
    std::vector<DmrdPacket> pkts = *start;
    for (std::uint8_t i = 0; i < 6; ++i) {
        Voice v;
        v.call = 1;
        v.frame.codec = VoiceCodec::DmrAmbe;
        v.frame.pos = {0, i};
        const std::array<std::uint8_t, 27> ambe{};
        v.frame.payload.assign(ambe);
        auto r = enc.onEvent(Event{v});
        ASSERT_TRUE(r.ok());
        pkts.insert(pkts.end(), r->begin(), r->end());
    }
    auto end = enc.onEvent(Event{CallEnd{1, EndReason::Normal, ""}});
    ASSERT_TRUE(end.ok());
    pkts.insert(pkts.end(), end->begin(), end->end());
    ASSERT_EQ(pkts.size(), 3u + 6u + 1u);
    // Byte 15 as DMRGateway's read() takes it apart: slot 0x80, unit 0x40, data sync 0x20 |
    // data type, voice sync 0x10, voice burst n.
    const std::uint8_t want15[] = {0xA1, 0xA1, 0xA1, 0x90, 0x81, 0x82, 0x83, 0x84, 0x85, 0xA2};
    for (std::size_t i = 0; i < pkts.size(); ++i) {
        const Bytes w = encodeDmrd(pkts[i]);
        ASSERT_EQ(w.size(), 55u) << i;
        EXPECT_EQ(std::string(w.begin(), w.begin() + 4), "DMRD");
        EXPECT_EQ(w[4], i) << "sequence";
        EXPECT_EQ(toHex(ByteView(w).subspan(5, 3)), "2f9be1");     // source 3120097
        EXPECT_EQ(toHex(ByteView(w).subspan(8, 3)), "00005b");     // TG 91
        EXPECT_EQ(toHex(ByteView(w).subspan(11, 4)), "1298c185");  // repeater 312000901
        EXPECT_EQ(w[15], want15[i]) << i;
    }
}

// A clear voice superframe whose bursts B..E carry `lc9` as embedded LC (what MMDVMHost
// forwards: the voice LC, or a talker alias block in its place, DMRSlot.cpp writeModem).
void clearSuperframe(std::vector<DmrdPacket>& out, std::uint8_t& seq,
                     const std::array<std::uint8_t, 9>& lc9, std::uint32_t stream) {
    const EmbeddedFragments emb = encodeEmbeddedLc(lc9);
    for (std::uint8_t i = 0; i < 6; ++i) {
        Burst b = joinVoiceBurst(testdata::ambe(seq), std::array<std::uint8_t, 6>{});
        DmrdPacket p;
        if (i == 0) {
            setSync(b, SyncPattern::BsVoice);
            p = testdata::packet(seq++, FrameType::VoiceSync, 0, b);
        } else {
            Emb e;
            e.color_code = testdata::kCc;
            e.pi = false;
            e.lcss = i == 1 ? 1 : i == 4 ? 2 : i == 5 ? 0 : 3;
            encodeEmb(b, e);
            if (i <= 4) {
                setEmbeddedFragment(b, emb[i - 1]);
            }
            p = testdata::packet(seq++, FrameType::Voice, i, b);
        }
        p.stream_id = stream;
        out.push_back(p);
    }
}

std::array<std::uint8_t, 9> taLc(std::uint8_t block, const char* hex7) {
    std::array<std::uint8_t, 9> lc{static_cast<std::uint8_t>(kFlcoTalkerAliasHeader + block), 0};
    auto b = fromHex(hex7);
    EXPECT_TRUE(b.ok());
    std::copy(b->begin(), b->end(), lc.begin() + 2);
    return lc;
}

// A clear call from a radio that sends its talker alias ("G4KLX Jonathan", ISO 8859-1: the
// header's byte 2 is 0x5C, whose bit 6 is the privacy bit of a voice LC). Before: the alias
// header was taken for a voice LC, the call turned "encrypted" mid-stream (and a clear group
// refused it). Now: clear throughout, and the radio's next call carries the alias.
TEST(DmrPeersGolden, TalkerAliasInTheEmbeddedLcIsNotAVoiceLc) {
    const std::array<std::uint8_t, 9> clear_lc = {0x00, 0x00, 0x00, 0x00, 0x00,
                                                  0x5B, 0x2F, 0x9B, 0xE1};
    auto run = [&](std::uint32_t stream, bool with_alias) {
        std::vector<DmrdPacket> call;
        std::uint8_t seq = 0;
        clearSuperframe(call, seq, clear_lc, stream);
        if (with_alias) {
            clearSuperframe(call, seq, taLc(0, "5c47344b4c5820"), stream);
            clearSuperframe(call, seq, taLc(1, "4a6f6e61746861"), stream);
            clearSuperframe(call, seq, taLc(2, "6e000000000000"), stream);
        }
        clearSuperframe(call, seq, clear_lc, stream);
        return call;
    };
    CallDecoder dec;
    std::vector<Event> ev;
    for (const auto& p : run(0x1111, true)) {
        ASSERT_TRUE(dec.onPacket(p, 1, ev).ok());
    }
    ASSERT_FALSE(ev.empty());
    std::size_t voices = 0;
    for (const auto& e : ev) {
        if (const auto* v = std::get_if<Voice>(&e)) {
            ++voices;
            EXPECT_FALSE(v->frame.crypto.encrypted) << "sf" << v->frame.pos.superframe;
        }
        if (const auto* cs = std::get_if<CallSetup>(&e)) {
            EXPECT_TRUE(cs->caller.alias.empty());  // not known yet at the first burst
        }
    }
    EXPECT_EQ(voices, 30u);
    EXPECT_EQ(dec.aliasOf(testdata::kSrc), std::optional<std::string>("G4KLX Jonathan"));
    std::vector<Event> ev2;
    for (const auto& p : run(0x2222, false)) {
        ASSERT_TRUE(dec.onPacket(p, 2, ev2).ok());
    }
    const CallSetup* second = nullptr;
    for (const auto& e : ev2) {
        if (const auto* cs = std::get_if<CallSetup>(&e)) {
            second = cs;
        }
    }
    ASSERT_NE(second, nullptr);
    EXPECT_EQ(second->caller.alias, "G4KLX Jonathan");
}

// MMDVMHost's DMRA carries the same blocks (7 bytes each): learned the same way.
TEST(DmrPeersGolden, DmraBlocksTeachTheAliasToo) {
    CallDecoder dec;
    dec.onTalkerAliasBlock(3120097, 0, *fromHex("1742230b54aca0"));
    EXPECT_FALSE(dec.aliasOf(3120097));
    dec.onTalkerAliasBlock(3120097, 1, *fromHex("a5876660000000"));
    EXPECT_EQ(dec.aliasOf(3120097), std::optional<std::string>("PD0ZRY Ralf"));
}

}  // namespace
}  // namespace iwf::lmr::dmr
