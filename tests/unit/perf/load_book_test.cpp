#include "tests/bench/load/load_book.hpp"

#include <gtest/gtest.h>

#include "tests/bench/load/stream_source.hpp"

namespace iwf::bench {
namespace {

TEST(LoadBook, MatchesInOrderFramesAndMeasuresLatency) {
    LoadBook book({18});
    book.setWindow(0, 1'000'000'000);
    for (std::uint64_t seq = 0; seq < 40; ++seq) {
        const std::int64_t t = 1000 + static_cast<std::int64_t>(seq) * 20'000'000;
        book.noteSent(0, seq, t, 7);
        EXPECT_EQ(book.noteReceived(0, static_cast<std::uint8_t>(seq % 18), t + 123, 7), 123);
    }
    const auto c = book.counters();
    EXPECT_EQ(c.sent, 40u);
    EXPECT_EQ(c.matched, 40u);
    EXPECT_EQ(c.unmatched, 0u);
    EXPECT_EQ(c.corrupted, 0u);
    EXPECT_EQ(book.latencies().size(), 40u);
}

TEST(LoadBook, PositionPicksTheLatestSendNotAfterReceipt) {
    LoadBook book({6});
    book.setWindow(0, 1'000'000'000);
    // Two superframes sent; frame 1 (pos 1) of the first one is lost.
    for (std::uint64_t seq = 0; seq < 12; ++seq) {
        book.noteSent(0, seq, static_cast<std::int64_t>(seq) * 60, 1);
    }
    // Frame 7 (pos 1, sent at 420) arrives at 430: it must match seq 7, not the lost seq 1.
    EXPECT_EQ(book.noteReceived(0, 1, 430, 1), 10);
    // A second copy of pos 1 at 440 can only match the older, unmatched seq 1 (duplicate/late).
    EXPECT_EQ(book.noteReceived(0, 1, 440, 1), 440 - 60);
    // Nothing left for pos 1: a third copy is unmatched.
    EXPECT_EQ(book.noteReceived(0, 1, 450, 1), -1);
    // A position beyond the period never matches.
    EXPECT_EQ(book.noteReceived(0, 6, 450, 1), -1);
    const auto c = book.counters();
    EXPECT_EQ(c.sent, 12u);
    EXPECT_EQ(c.matched, 2u);
    EXPECT_EQ(c.unmatched, 2u);
}

TEST(LoadBook, CountsLossCorruptionAndWindow) {
    LoadBook book({18, 18});
    book.setWindow(100, 200);
    book.noteSent(0, 0, 50, 1);                      // before the window
    book.noteSent(0, 1, 150, 2);                     // in
    book.noteSent(1, 0, 160, 3);                     // in, never received: lost
    book.noteSent(1, 1, 250, 4);                     // after
    EXPECT_GE(book.noteReceived(0, 0, 120, 1), 0);   // warm-up frame received in window: late
    EXPECT_GE(book.noteReceived(0, 1, 151, 99), 0);  // wrong bytes: corrupted
    EXPECT_GE(book.noteReceived(1, 1, 260, 4), 0);   // after the window: not counted
    const auto c = book.counters();
    EXPECT_EQ(c.sent, 2u);
    EXPECT_EQ(c.matched, 1u);
    EXPECT_EQ(c.corrupted, 1u);
    EXPECT_EQ(c.late, 1u);
    ASSERT_EQ(book.latencies().size(), 1u);
    EXPECT_EQ(book.latencies()[0], 1);
}

TEST(LoadBook, SlotsAreReusedAfterTheRing) {
    LoadBook book({18});
    book.setWindow(0, 1'000'000);
    // Only the latest kRing frames are remembered: an old position matches the newest send.
    for (std::uint64_t seq = 0; seq < LoadBook::kRing * 3; ++seq) {
        book.noteSent(0, seq, static_cast<std::int64_t>(seq) * 10, 5);
    }
    const std::uint64_t last = LoadBook::kRing * 3 - 1;
    EXPECT_EQ(book.noteReceived(0, static_cast<std::uint8_t>(last % 18),
                                static_cast<std::int64_t>(last) * 10 + 3, 5),
              3);
}

TEST(Percentile, NearestRank) {
    std::vector<std::int64_t> v;
    EXPECT_EQ(percentile(v, 99), 0);
    for (int i = 100; i >= 1; --i) {
        v.push_back(i);
    }
    EXPECT_EQ(percentile(v, 50), 50);
    EXPECT_EQ(percentile(v, 99), 99);
    EXPECT_EQ(percentile(v, 99.9), 100);
    EXPECT_EQ(percentile(v, 100), 100);
    EXPECT_EQ(percentile(v, 0), 1);
}

TEST(Percentile, LatencyInMicrosecondsFromNanoseconds) {
    std::vector<std::int64_t> v;
    const LatencyUs none = latencyUs(v);
    EXPECT_EQ(none.p50, 0.0);
    EXPECT_EQ(none.max, 0.0);
    for (std::int64_t i = 100; i >= 1; --i) {
        v.push_back(i * 1000 + 500);  // 1.5 .. 100.5 µs
    }
    const LatencyUs l = latencyUs(v);
    EXPECT_DOUBLE_EQ(l.p50, 50.5);
    EXPECT_DOUBLE_EQ(l.p99, 99.5);
    EXPECT_DOUBLE_EQ(l.p999, 100.5);
    EXPECT_DOUBLE_EQ(l.max, 100.5);
}

class StreamSourceTest : public ::testing::TestWithParam<StreamKind> {};

TEST_P(StreamSourceTest, EveryFrameDecodesToItsPositionAndDigest) {
    const StreamKind kind = GetParam();
    StreamSource src(kind, 42);
    Bytes buf;
    std::uint32_t prev = 0;
    for (std::uint64_t seq = 0; seq < 3u * periodOf(kind); ++seq) {
        const std::uint32_t digest = src.build(seq, buf);
        ASSERT_FALSE(buf.empty());
        const auto f = extractFrame(kind, buf);
        ASSERT_TRUE(f.has_value()) << "seq " << seq;
        EXPECT_EQ(f->pos, seq % periodOf(kind));
        EXPECT_EQ(f->digest, digest);
        EXPECT_NE(digest, prev);  // fresh "ciphertext" every frame
        prev = digest;
    }
    // A flipped opaque byte changes the digest; a truncated datagram does not decode.
    src.build(0, buf);
    const auto before = extractFrame(kind, buf);
    // P25 frame 0 (tag 0x62): IMBE codeword at bytes 10..20; DMR: the 33-byte burst at
    // bytes 20..52 (a 55-byte DMRD ends with BER and RSSI, DMRGateway's length).
    buf[kind == StreamKind::P25 ? 10 : 52] ^= 0x01;
    const auto after = extractFrame(kind, buf);
    ASSERT_TRUE(before && after);
    EXPECT_NE(before->digest, after->digest);
    buf.resize(5);
    EXPECT_FALSE(extractFrame(kind, buf).has_value());
}

INSTANTIATE_TEST_SUITE_P(Kinds, StreamSourceTest,
                         ::testing::Values(StreamKind::P25, StreamKind::Dmr));

TEST(StreamSource, P25StreamSignalsEncryption) {
    StreamSource src(StreamKind::P25, 1);
    Bytes buf;
    for (std::uint64_t seq = 0; seq < 18; ++seq) {
        src.build(seq, buf);
        if (buf[0] == 0x64) {
            // MMDVMHost's shape (P25Network.cpp writeLDU1): the service options byte (record
            // byte 3) is 0; only the LDU2 encryption sync says the stream is encrypted.
            EXPECT_EQ(buf[3], 0x00);
        }
        if (buf[0] == 0x70) {
            EXPECT_EQ(buf[1], 0x84);  // ALGID AES-256
        }
    }
}

}  // namespace
}  // namespace iwf::bench
