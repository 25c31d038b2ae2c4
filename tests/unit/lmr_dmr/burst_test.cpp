// Burst layout: sync, slot type, EMB, voice halves, PI header and full LC bursts.
#include "lmr_adapters/dmr/burst.hpp"

#include <random>

#include <gtest/gtest.h>

#include "tests/unit/lmr_dmr/superframe.hpp"

namespace iwf::lmr::dmr {
namespace {

TEST(DmrBurst, SyncPatternsIdentifiedAlsoWithBitErrors) {
    for (auto s : {SyncPattern::BsVoice, SyncPattern::BsData, SyncPattern::MsVoice,
                   SyncPattern::MsData, SyncPattern::MsRc, SyncPattern::Ts1Voice,
                   SyncPattern::Ts1Data, SyncPattern::Ts2Voice, SyncPattern::Ts2Data}) {
        Burst b{};
        setSync(b, s);
        EXPECT_EQ(identifySync(syncField(b)), s) << toString(s);
        EXPECT_EQ(identifySync(syncField(b) ^ 0x800000000101ull), s);
    }
    // BS voice sync as MMDVMHost stores it, shifted into bytes 13..19 of the burst.
    Burst b{};
    setSync(b, SyncPattern::BsVoice);
    const std::array<std::uint8_t, 7> want = {0x07, 0x55, 0xFD, 0x7D, 0xF7, 0x5F, 0x70};
    for (std::size_t i = 0; i < 7; ++i) {
        EXPECT_EQ(b[13 + i], want[i]) << i;
    }
    EXPECT_EQ(identifySync(0), SyncPattern::None);
}

TEST(DmrBurst, SlotTypeEveryValueAndThreeBitErrors) {
    for (unsigned cc = 0; cc < 16; ++cc) {
        for (unsigned dt = 0; dt < 16; ++dt) {
            Burst b{};
            encodeSlotType(b, static_cast<std::uint8_t>(cc), static_cast<std::uint8_t>(dt));
            // Damage three of the 20 slot type bits (both halves).
            for (std::size_t bit : {98u, 105u, 160u}) {
                setBit(b, bit, !getBit(b, bit));
            }
            auto st = decodeSlotType(b);
            ASSERT_TRUE(st.ok());
            EXPECT_EQ(st->color_code, cc);
            EXPECT_EQ(st->data_type, dt);
            EXPECT_EQ(st->corrected, 3u);
        }
    }
}

TEST(DmrBurst, EmbEveryValue) {
    for (unsigned cc = 0; cc < 16; ++cc) {
        for (unsigned pi = 0; pi < 2; ++pi) {
            for (unsigned lcss = 0; lcss < 4; ++lcss) {
                Burst b{};
                Emb e;
                e.color_code = static_cast<std::uint8_t>(cc);
                e.pi = pi != 0;
                e.lcss = static_cast<std::uint8_t>(lcss);
                encodeEmb(b, e);
                setBit(b, 110, !getBit(b, 110));
                auto d = decodeEmb(b);
                ASSERT_TRUE(d.ok());
                EXPECT_EQ(d->color_code, cc);
                EXPECT_EQ(d->pi, pi != 0);
                EXPECT_EQ(d->lcss, lcss);
                EXPECT_EQ(d->corrected, 1u);
            }
        }
    }
}

TEST(DmrBurst, VoiceHalvesSplitAndJoinBitExact) {
    std::mt19937 rng(5);
    for (int n = 0; n < 100; ++n) {
        Burst b{};
        for (auto& v : b) {
            v = static_cast<std::uint8_t>(rng());
        }
        const VoiceParts p = splitVoiceBurst(b);
        EXPECT_EQ(joinVoiceBurst(p.ambe, p.middle), b);
    }
}

TEST(DmrBurst, PiHeaderBurstDecodesHandWrittenFields) {
    Burst b = testdata::dataBurst(testdata::piBlock(), DataType::PiHeader);
    auto d = decodeDataBurst(b);
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(d->slot_type.color_code, 1);
    EXPECT_EQ(d->sync, SyncPattern::BsData);
    auto pi = decodePiHeader(*d);
    ASSERT_TRUE(pi.ok()) << pi.error().toString();
    EXPECT_TRUE(pi->group);
    EXPECT_EQ(pi->algid, 4);
    EXPECT_EQ(pi->fid, 0x10);
    EXPECT_EQ(pi->key_id, 0x2A);
    EXPECT_EQ(pi->iv, (std::array<std::uint8_t, 4>{0xDE, 0xAD, 0xBE, 0xEF}));
    EXPECT_EQ(pi->dst, 91u);
    // The encoder rebuilds the same burst from the fields.
    EXPECT_EQ(buildPiHeaderBurst(*pi, 1, SyncPattern::BsData), b);

    // A damaged CRC is refused.
    auto blk = testdata::piBlock();
    blk[11] ^= 1;
    auto bad = decodeDataBurst(testdata::dataBurst(blk, DataType::PiHeader));
    ASSERT_TRUE(bad.ok());
    EXPECT_EQ(decodePiHeader(*bad).error().reason, "bad_crc");
}

TEST(DmrBurst, FullLcHeaderAndTerminatorWithCorrection) {
    for (auto [type, mask] : {std::pair{DataType::VoiceLcHeader, std::uint8_t{0x96}},
                              std::pair{DataType::TerminatorWithLc, std::uint8_t{0x99}}}) {
        Burst b = testdata::dataBurst(testdata::lcBlock(mask), type);
        // Four bit errors spread over the burst: BPTC corrects them.
        for (std::size_t bit : {3u, 40u, 200u, 250u}) {
            setBit(b, bit, !getBit(b, bit));
        }
        auto d = decodeDataBurst(b);
        ASSERT_TRUE(d.ok());
        EXPECT_EQ(d->corrected, 4u);
        auto lc = decodeFullLc(*d);
        ASSERT_TRUE(lc.ok()) << lc.error().toString();
        EXPECT_EQ(lc->flco, kFlcoGroup);
        EXPECT_TRUE(lc->privacy());
        EXPECT_FALSE(lc->emergency());
        EXPECT_EQ(lc->dst, testdata::kGroup);
        EXPECT_EQ(lc->src, testdata::kSrc);
        EXPECT_EQ(buildFullLcBurst(*lc, type, 1, SyncPattern::BsData),
                  testdata::dataBurst(testdata::lcBlock(mask), type));
    }
}

TEST(DmrBurst, EmbeddedLcAssemblerNeedsAllFourInOrder) {
    EmbeddedLcAssembler a;
    const auto f = encodeEmbeddedLc(testdata::kLcBytes);
    Emb e;
    e.lcss = 1;
    EXPECT_FALSE(a.feed(e, f[0]));
    e.lcss = 3;
    EXPECT_FALSE(a.feed(e, f[1]));
    e.lcss = 2;  // "last" after only two fragments: dropped, nothing decoded
    EXPECT_FALSE(a.feed(e, f[3]));
    e.lcss = 1;
    EXPECT_FALSE(a.feed(e, f[0]));
    e.lcss = 3;
    EXPECT_FALSE(a.feed(e, f[1]));
    EXPECT_FALSE(a.feed(e, f[2]));
    e.lcss = 2;
    auto r = a.feed(e, f[3]);
    ASSERT_TRUE(r.has_value());
    ASSERT_TRUE(r->ok());
    EXPECT_EQ((*r)->src, testdata::kSrc);
    EXPECT_TRUE((*r)->privacy());
}

}  // namespace
}  // namespace iwf::lmr::dmr
