#include "lmr_adapters/p25/records.hpp"

#include <gtest/gtest.h>

#include "lmr_adapters/p25/crypto_tracker.hpp"
#include "superframe_builder.hpp"

namespace iwf::lmr::p25 {
namespace {

test::SuperframeSpec encryptedSpec() {
    test::SuperframeSpec s;
    s.lcf = 0x80;  // protected LC
    s.service_options = 0x40 | 0x04;
    s.dst = 0x001234;
    s.src = 0x00C504;
    s.next_mi = {0x12, 0x34, 0x56, 0x78, 0x90, 0xAB, 0xCD, 0xEF, 0x00};
    s.algid = 0x84;
    s.kid = 0xBEEF;
    s.imbe_seed = 7;
    return s;
}

TEST(P25Records, LayoutTable) {
    EXPECT_EQ(voiceLayout(0x62)->length, 22);
    EXPECT_EQ(voiceLayout(0x63)->length, 14);
    EXPECT_EQ(voiceLayout(0x64)->length, 17);
    EXPECT_EQ(voiceLayout(0x6A)->length, 16);
    EXPECT_EQ(voiceLayout(0x6B)->length, 22);
    EXPECT_EQ(voiceLayout(0x73)->length, 16);
    EXPECT_FALSE(voiceLayout(0x61));
    EXPECT_FALSE(voiceLayout(0x74));
    EXPECT_EQ(sideBytesForIndex(0), 10U);
    EXPECT_EQ(sideBytesForIndex(1), 2U);
    EXPECT_EQ(sideBytesForIndex(2), 5U);
    EXPECT_EQ(sideBytesForIndex(8), 4U);
}

TEST(P25Records, HandAssembledSuperframeDecodesToExpectedFields) {
    auto sf = test::buildSuperframe(encryptedSpec());
    ASSERT_EQ(sf.size(), 18U);
    for (int i = 0; i < 18; ++i) {
        auto r = decodeRecord(sf[i]);
        ASSERT_TRUE(r.ok()) << i << " " << r.error().toString();
        const auto& v = std::get<VoiceRecord>(*r);
        EXPECT_EQ(v.index(), i);
        EXPECT_EQ(Bytes(v.imbe.begin(), v.imbe.end()), test::imbeFor(encryptedSpec(), i));
    }
    auto lc = lcOf(std::get<VoiceRecord>(*decodeRecord(sf[2])));
    ASSERT_TRUE(lc);
    EXPECT_EQ(lc->lcf, 0x80);
    EXPECT_EQ(lc->service_options, 0x44);
    EXPECT_EQ(*dstOf(std::get<VoiceRecord>(*decodeRecord(sf[3]))), 0x001234U);
    EXPECT_EQ(*srcOf(std::get<VoiceRecord>(*decodeRecord(sf[4]))), 0x00C504U);
    auto mi0 = esOf(std::get<VoiceRecord>(*decodeRecord(sf[11])));
    EXPECT_EQ((*mi0)[0], 0x12);
    auto alg = esOf(std::get<VoiceRecord>(*decodeRecord(sf[14])));
    EXPECT_EQ((*alg)[0], 0x84);
    EXPECT_EQ((*alg)[1], 0xBE);
    EXPECT_EQ((*alg)[2], 0xEF);
    auto lsd = lsdOf(std::get<VoiceRecord>(*decodeRecord(sf[8])));
    EXPECT_EQ((*lsd)[0], 0xA1);
    EXPECT_FALSE(lcOf(std::get<VoiceRecord>(*decodeRecord(sf[3]))));
}

TEST(P25Records, EveryRecordRoundTripsBitExact) {
    auto sf = test::buildSuperframe(encryptedSpec());
    sf.push_back(Bytes(17, 0));
    sf.back()[0] = 0x80;
    sf.push_back(Bytes{0xF0, 'N', '0', 'C', 'A', 'L', 'L', ' ', ' ', ' ', ' '});
    sf.push_back(Bytes{0xF1, 'N', '0', 'C', 'A', 'L', 'L', ' ', ' ', ' ', ' '});
    for (const auto& rec : sf) {
        auto r = decodeRecord(rec);
        ASSERT_TRUE(r.ok());
        InlineBytes<kMaxRecordLen> out;
        ASSERT_TRUE(encodeRecord(*r, out).ok());
        EXPECT_EQ(Bytes(out.view().begin(), out.view().end()), rec) << toHex(rec);
    }
}

TEST(P25Records, PollAndUnlink) {
    auto r = decodeRecord(Bytes{0xF0, 'N', '0', 'C', 'A', 'L', 'L', ' ', ' ', ' ', ' '});
    ASSERT_TRUE(r.ok());
    const auto& p = std::get<PollRecord>(*r);
    EXPECT_FALSE(p.unlink);
    EXPECT_EQ(p.callsignView(), "N0CALL");
    EXPECT_EQ(recordName(*r), "poll");
    InlineBytes<kMaxRecordLen> out;
    ASSERT_TRUE(encodeRecord(makePoll("IWF", true), out).ok());
    EXPECT_EQ(toHex(out.view()), "f149574620202020202020");
}

TEST(P25Records, MalformedInputIsRejectedWithReason) {
    EXPECT_EQ(decodeRecord(Bytes{}).error().reason, "empty");
    EXPECT_EQ(decodeRecord(Bytes{0x55, 1, 2}).error().reason, "unknown_tag");
    EXPECT_EQ(decodeRecord(Bytes(21, 0x62)).error().reason, "bad_length");
    EXPECT_EQ(decodeRecord(Bytes(18, 0x64)).error().reason, "bad_length");
    EXPECT_EQ(decodeRecord(Bytes(16, 0x80)).error().reason, "bad_length");
    EXPECT_EQ(decodeRecord(Bytes(12, 0xF0)).error().reason, "bad_length");
    VoiceRecord v;
    v.tag = 0x64;
    v.side.assign(Bytes(3, 0));
    InlineBytes<kMaxRecordLen> out;
    EXPECT_EQ(encodeRecord(v, out).error().reason, "bad_side_length");
    v.tag = 0x10;
    EXPECT_EQ(encodeRecord(v, out).error().reason, "bad_tag");
}

// The tracker over three superframes: late entry in the first (no header on this network),
// MI from the first LDU2 in the second, LFSR-regenerated MI when the second LDU2 is lost.
TEST(P25CryptoTracker, LateEntryThenLdu2ThenRegenerated) {
    auto spec = encryptedSpec();
    auto sf = test::buildSuperframe(spec);
    CryptoTracker t;
    auto feed = [&](const Bytes& rec) {
        const auto decoded = decodeRecord(rec);  // keep the Result alive: v refers into it
        const auto& v = std::get<VoiceRecord>(*decoded);
        FramePosition pos = t.onFrame(v.index());
        if (auto lc = lcOf(v)) {
            t.onLcf(lc->lcf);
            t.onServiceOptions(lc->service_options);
        }
        if (auto es = esOf(v)) {
            t.onEsFragment(v.index(), *es);
        }
        return pos;
    };
    for (int i = 0; i < 18; ++i) {
        FramePosition p = feed(sf[i]);
        EXPECT_EQ(p.superframe, 0U);
        EXPECT_EQ(p.index, i);
        if (i >= 2 && i < 14) {
            EXPECT_TRUE(t.lateEntry());
            EXPECT_TRUE(t.current().encrypted);
            EXPECT_TRUE(t.current().mi.empty()) << "an MI must never be invented";
        }
        if (i >= 14) {
            // The complete LDU2 ES announced superframe 1's MI: superframe 0's is the one
            // before it in the LFSR sequence (derived, not invented).
            EXPECT_FALSE(t.lateEntry());
            Mi now{};
            const auto cur = t.current().mi;
            ASSERT_EQ(cur.size(), kMiBytes);
            std::copy_n(cur.data(), kMiBytes, now.begin());
            EXPECT_EQ(toHex(ByteView(nextMi(now).data(), kMiBytes)), "1234567890abcdef00");
        }
    }
    EXPECT_TRUE(t.protectedLc());
    // Superframe 1: its MI is what the LDU2 of superframe 0 carried.
    FramePosition p = feed(sf[0]);
    EXPECT_EQ(p.superframe, 1U);
    EXPECT_FALSE(t.lateEntry());
    CryptoSync c = t.current();
    EXPECT_TRUE(c.encrypted);
    EXPECT_EQ(c.algid, 0x84);
    EXPECT_EQ(c.key_id, 0xBEEFU);
    EXPECT_EQ(toHex(c.mi.view()), "1234567890abcdef00");
    // The rest of superframe 1 without its LDU2 (frames 9..17 lost), then superframe 2.
    for (int i = 1; i < 9; ++i) {
        feed(sf[i]);
    }
    p = feed(sf[0]);
    EXPECT_EQ(p.superframe, 2U);
    EXPECT_EQ(toHex(t.current().mi.view()), "6fe2802aa403828b00");
    EXPECT_EQ(t.current().algid, 0x84);
    EXPECT_EQ(t.miRegenerated(), 1U);
}

TEST(P25CryptoTracker, HeaderFirstWinsAndClearStream) {
    CryptoTracker t;
    const CryptoSync e = CryptoTracker::essOf(0xAA, 0x0102, Mi{1, 2, 3, 4, 5, 6, 7, 8, 0});
    t.onHeader(e);
    t.onFrame(0);
    EXPECT_EQ(t.current().algid, 0xAA);
    EXPECT_EQ(toHex(t.current().mi.view()), "010203040506070800");
    CryptoSync other = e;
    other.algid = 0x84;
    t.onHeader(other);  // a later header does not override the first source
    EXPECT_EQ(t.current().algid, 0xAA);

    CryptoTracker clear;
    clear.onFrame(0);
    clear.onServiceOptions(0x04);
    EXPECT_FALSE(clear.encrypted());
    EXPECT_FALSE(clear.lateEntry());
    EXPECT_FALSE(clear.current().encrypted);
    EXPECT_EQ(clear.current().algid, 0x80);
}

}  // namespace
}  // namespace iwf::lmr::p25
