#include "common/bytes.hpp"

#include <gtest/gtest.h>

#include "common/crypto.hpp"
#include "common/ids.hpp"

namespace iwf {
namespace {

TEST(ByteReader, ReadsBigEndianAndFailsStickyOnShortInput) {
    const std::uint8_t data[] = {0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde};
    ByteReader r(data);
    EXPECT_EQ(r.u8(), 0x12);
    EXPECT_EQ(r.u16(), 0x3456);
    EXPECT_EQ(r.u24(), 0x789abcu);
    EXPECT_TRUE(r.ok());
    EXPECT_EQ(r.remaining(), 1u);
    EXPECT_EQ(r.u16(), 0);  // only one byte left
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.u8(), 0);  // stays failed
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.remaining(), 0u);
}

TEST(ByteReader, LittleEndianAndTake) {
    const std::uint8_t data[] = {0x01, 0x02, 0x03, 0x04, 0xaa, 0xbb};
    ByteReader r(data);
    EXPECT_EQ(r.u32le(), 0x04030201u);
    auto v = r.take(2);
    ASSERT_EQ(v.size(), 2u);
    EXPECT_EQ(v[1], 0xbb);
    EXPECT_TRUE(r.take(1).empty());
    EXPECT_FALSE(r.ok());
}

TEST(ByteWriter, RoundTripsWithReader) {
    Bytes out;
    ByteWriter w(out);
    w.u8(0xfe);
    w.u16(0x1234);
    w.u24(0xabcdef);
    w.u32(0xdeadbeef);
    w.u64(0x0102030405060708ULL);
    w.u16le(0x5566);
    ASSERT_EQ(out.size(), 1u + 2 + 3 + 4 + 8 + 2);
    ByteReader r(out);
    EXPECT_EQ(r.u8(), 0xfe);
    EXPECT_EQ(r.u16(), 0x1234);
    EXPECT_EQ(r.u24(), 0xabcdefu);
    EXPECT_EQ(r.u32(), 0xdeadbeefu);
    EXPECT_EQ(r.u64(), 0x0102030405060708ULL);
    EXPECT_EQ(r.u16le(), 0x5566);
    EXPECT_EQ(r.remaining(), 0u);
}

TEST(Hex, RoundTripAndErrors) {
    auto b = fromHex("0x12 34:AB\tcd");
    ASSERT_TRUE(b.ok());
    EXPECT_EQ(toHex(*b), "1234abcd");
    EXPECT_FALSE(fromHex("123").ok());
    EXPECT_EQ(fromHex("12g4").error().reason, "bad_hex_digit");
}

TEST(InlineBytes, RefusesOversizeAndCompares) {
    InlineBytes<4> a;
    const std::uint8_t big[] = {1, 2, 3, 4, 5};
    EXPECT_FALSE(a.assign(big));
    EXPECT_TRUE(a.empty());
    EXPECT_TRUE(a.assign(ByteView(big, 4)));
    InlineBytes<4> b(ByteView(big, 4));
    EXPECT_EQ(a, b);
    b.mutableView()[0] = 9;
    EXPECT_FALSE(a == b);
}

TEST(Ids, RangesAndPrinting) {
    P25Unit u{{0xBEE00, 0x001}, 0x000001};
    EXPECT_TRUE(valid(u));
    EXPECT_EQ(toString(Address{u}), "p25:unit:BEE00.001.000001");
    EXPECT_FALSE(valid(P25Unit{{0x100000, 1}, 1}));  // WACN is 20 bits
    EXPECT_FALSE(valid(P25Group{{1, 0x1000}, 1}));   // system is 12 bits
    EXPECT_FALSE(valid(DmrUnit{1u << 24}));
    EXPECT_TRUE(isGroup(Address{DmrGroup{91}}));
    EXPECT_FALSE(isGroup(Address{McId{"sip:a@b"}}));
    EXPECT_EQ(toString(Address{}), "unknown");
}

TEST(Crypto, WidthsAndClear) {
    EXPECT_EQ(cryptoWidths(LmrFamily::P25).algid_bits, 8u);
    EXPECT_EQ(cryptoWidths(LmrFamily::P25).key_id_bits, 16u);
    EXPECT_EQ(cryptoWidths(LmrFamily::P25).mi_bytes, 9u);
    EXPECT_EQ(cryptoWidths(LmrFamily::Dmr).algid_bits, 3u);
    EXPECT_EQ(cryptoWidths(LmrFamily::Dmr).key_id_bits, 8u);
    EXPECT_EQ(cryptoWidths(LmrFamily::Tetra).algid_bits, 10u);
    EXPECT_EQ(cryptoWidths(LmrFamily::Tetra).key_id_bits, 20u);
    CryptoSync c = CryptoSync::clear(LmrFamily::P25);
    EXPECT_FALSE(c.encrypted);
    EXPECT_EQ(c.algid, kP25AlgidClear);
    EXPECT_EQ(toString(c), "p25 clear");
}

}  // namespace
}  // namespace iwf
