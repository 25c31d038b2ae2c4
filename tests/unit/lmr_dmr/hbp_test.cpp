// DMRD and HBP control message codecs.
#include "lmr_adapters/dmr/hbp.hpp"

#include <gtest/gtest.h>

#include "lmr_adapters/dmr/dmrd.hpp"

namespace iwf::lmr::dmr {
namespace {

TEST(DmrDmrd, EveryBitOfByte15) {
    for (unsigned b15 = 0; b15 < 256; ++b15) {
        Bytes d = {'D', 'M', 'R', 'D', 7, 0x2F, 0x9B, 0xE1, 0, 0, 0x5B, 0, 4, 0xC2, 0xC0};
        d.push_back(static_cast<std::uint8_t>(b15));
        for (std::uint8_t v : {0xA1, 0xB2, 0xC3, 0xD4}) {
            d.push_back(v);
        }
        for (std::size_t i = 0; i < 33; ++i) {
            d.push_back(static_cast<std::uint8_t>(i * 7));
        }
        auto p = decodeDmrd(d);
        const unsigned ft = (b15 >> 4) & 3;
        if (ft == 3) {
            ASSERT_FALSE(p.ok());
            EXPECT_EQ(p.error().reason, "bad_slot_bits");
            continue;
        }
        if (ft != 2 && (b15 & 0x0F) > 5) {
            ASSERT_FALSE(p.ok());
            EXPECT_EQ(p.error().reason, "bad_voice_seq");
            continue;
        }
        ASSERT_TRUE(p.ok()) << b15;
        EXPECT_EQ(p->slot, (b15 & 0x80) ? 2 : 1);
        EXPECT_EQ(p->unit_call, (b15 & 0x40) != 0);
        EXPECT_EQ(static_cast<unsigned>(p->frame_type), ft);
        EXPECT_EQ(p->dtype_vseq, b15 & 0x0F);
        EXPECT_EQ(p->seq, 7);
        EXPECT_EQ(p->src, 3120097u);
        EXPECT_EQ(p->dst, 91u);
        EXPECT_EQ(p->peer_id, 312000u);
        EXPECT_EQ(p->stream_id, 0xA1B2C3D4u);
        EXPECT_EQ(p->burst[32], 32 * 7 & 0xFF);
        EXPECT_FALSE(p->has_trailer);
        EXPECT_EQ(encodeDmrd(*p), d);  // re-encodes bit-exact
        // MMDVM trailer (BER, RSSI).
        Bytes d55 = d;
        d55.push_back(3);
        d55.push_back(0x45);
        auto p55 = decodeDmrd(d55);
        ASSERT_TRUE(p55.ok());
        EXPECT_TRUE(p55->has_trailer);
        EXPECT_EQ(p55->ber, 3);
        EXPECT_EQ(p55->rssi, 0x45);
        EXPECT_EQ(encodeDmrd(*p55), d55);
    }
}

TEST(DmrDmrd, BadLengthsAndMagic) {
    Bytes d(53, 0);
    std::copy_n("DMRD", 4, d.begin());
    EXPECT_TRUE(decodeDmrd(d).ok());
    EXPECT_EQ(decodeDmrd(ByteView(d).first(52)).error().reason, "truncated");
    d.push_back(0);
    EXPECT_EQ(decodeDmrd(d).error().reason, "bad_length");
    d[0] = 'X';
    EXPECT_EQ(decodeDmrd(d).error().reason, "bad_magic");
    EXPECT_EQ(decodeDmrd({}).error().reason, "bad_magic");
}

TEST(DmrHbp, LoginKeyIsSha256OfSaltAndPassword) {
    // SHA-256("abc") (FIPS 180-2 appendix B.1): salt "ab" + password "c".
    const std::string salt = "ab";
    auto k = hbpLoginKey(asBytes(salt), "c");
    EXPECT_EQ(toHex(k), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(DmrHbp, ControlMessagesRoundTrip) {
    for (auto t : {HbpType::Rptl, HbpType::Rptping, HbpType::Mstpong, HbpType::Mstnak,
                   HbpType::Rptcl, HbpType::Mstcl, HbpType::Rptsbkn, HbpType::Rptack}) {
        const Bytes wire = encodeHbp(hbpSimple(t, 312000));
        auto m = decodeHbp(wire);
        ASSERT_TRUE(m.ok()) << toString(t);
        EXPECT_EQ(m->type, t);
        EXPECT_EQ(m->peer_id, 312000u);
        EXPECT_EQ(encodeHbp(*m), wire);
    }
    EXPECT_EQ(encodeHbp(hbpSimple(HbpType::Rptping, 0x01020304)),
              (Bytes{'R', 'P', 'T', 'P', 'I', 'N', 'G', 1, 2, 3, 4}));
    EXPECT_EQ(encodeHbp(hbpSimple(HbpType::Rptcl, 1)).size(), 9u);  // not taken for RPTC

    HbpMessage k = hbpSimple(HbpType::Rptk, 7);
    k.key = hbpLoginKey(Bytes{1, 2, 3, 4}, "passw0rd");
    auto kw = encodeHbp(k);
    EXPECT_EQ(kw.size(), 40u);
    auto kd = decodeHbp(kw);
    ASSERT_TRUE(kd.ok());
    EXPECT_EQ(kd->key, k.key);

    HbpMessage c = hbpSimple(HbpType::Rptc, 312000);
    c.config = {"N0CALL",  "449000000",  "444000000", "01",      "01", "50.0000",
                "8.0000",  "100",        "Lab",       "OpenIWF", "3",  "https://example.org",
                "openiwf", "openiwf-0.1"};
    auto cw = encodeHbp(c);
    EXPECT_EQ(cw.size(), kRptcLength);
    EXPECT_EQ(std::string(cw.begin() + 8, cw.begin() + 16), "N0CALL  ");
    auto cd = decodeHbp(cw);
    ASSERT_TRUE(cd.ok());
    EXPECT_EQ(cd->type, HbpType::Rptc);
    EXPECT_EQ(cd->config, c.config);

    HbpMessage o = hbpSimple(HbpType::Rpto, 5);
    o.text = "TS1=91;TS2=";
    auto od = decodeHbp(encodeHbp(o));
    ASSERT_TRUE(od.ok());
    EXPECT_EQ(od->text, o.text);
}

TEST(DmrHbp, StrictLengths) {
    Bytes cw = {'R', 'P', 'T', 'C', 0, 0, 0, 1};
    EXPECT_EQ(decodeHbp(cw).error().reason, "bad_length");  // RPTC without config
    Bytes p = encodeHbp(hbpSimple(HbpType::Rptping, 1));
    p.push_back(0);
    EXPECT_EQ(decodeHbp(p).error().reason, "bad_length");
    EXPECT_EQ(decodeHbp(asBytes("HELLO")).error().reason, "bad_magic");
    EXPECT_EQ(decodeHbp(asBytes("RPT")).error().reason, "bad_magic");
}

}  // namespace
}  // namespace iwf::lmr::dmr
