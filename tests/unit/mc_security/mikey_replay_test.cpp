// Replay protection of received I_MESSAGEs (security/mikey_replay.hpp, RFC 3830 §5.4): the
// timestamp window either way, the replay cache of accepted messages and its expiry and bound.
// The messages are octets written from the RFC 3830 §6.1 / §6.6 / §6.5 tables (HDR with an
// empty CS ID map, T, SIGN), not built by the project's encoder.
#include "mc_adapters/security/mikey_replay.hpp"

#include <gtest/gtest.h>

namespace iwf::mc::security {
namespace {

constexpr std::uint64_t kReplayNow = 3'900'000'000ULL;  // NTP seconds (in 2023)

// HDR [RFC 3830 §6.1]: version 1, data type 26 (SAKKE, RFC 6509 §4.1), next payload 5 (T),
// V 0 · PRF 1, CSB ID, #CS 0, map type 1 (empty, RFC 6043 §6.1.1); T [§6.6]: next payload 4
// (SIGN), TS type, 8-octet NTP value; SIGN [§6.5]: S type 2 (ECCSI) · length 129, signature.
Bytes replayMessage(std::uint64_t ntp_seconds, std::uint32_t csb_id, std::uint8_t ts_type = 0,
                    std::uint8_t sig_fill = 0x5a) {
    Bytes m = {0x01,
               0x1a,
               0x05,
               0x01,
               static_cast<std::uint8_t>(csb_id >> 24),
               static_cast<std::uint8_t>(csb_id >> 16),
               static_cast<std::uint8_t>(csb_id >> 8),
               static_cast<std::uint8_t>(csb_id),
               0x00,
               0x01,
               0x04,
               ts_type};
    const std::uint64_t v = ntp_seconds << 32 | 0x12345678U;
    if (ts_type == 2) {  // COUNTER: 4 octets
        for (int i = 3; i >= 0; --i) {
            m.push_back(static_cast<std::uint8_t>(ntp_seconds >> (8 * i)));
        }
    } else {
        for (int i = 7; i >= 0; --i) {
            m.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
        }
    }
    m.push_back(0x20);  // S type 2, length bits 11..8 = 0
    m.push_back(0x81);  // length 129
    m.insert(m.end(), 129, sig_fill);
    return m;
}

TEST(MikeyReplay, AnAcceptedMessageIsRefusedWithinTheWindowEvenWithAnotherSignature) {
    MikeyReplayGuard g;
    const Bytes msg = replayMessage(kReplayNow, 0x11223344);
    auto t = g.check(msg, kReplayNow);
    ASSERT_TRUE(t) << t.error().toString();
    EXPECT_EQ(t->timestamp_seconds, kReplayNow);
    // Checked but never accepted (verification failed): not remembered, passes again.
    ASSERT_TRUE(g.check(msg, kReplayNow));
    g.accept(*t);
    EXPECT_EQ(g.size(), 1u);
    auto again = g.check(msg, kReplayNow + 10);
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().reason, "mikey_replay");
    // The signed octets identify it: another signature (e.g. ECCSI's (r, q - s)) is the same.
    auto resigned = g.check(replayMessage(kReplayNow, 0x11223344, 0, 0xa5), kReplayNow + 10);
    ASSERT_FALSE(resigned);
    EXPECT_EQ(resigned.error().reason, "mikey_replay");
    // Another message (another CSB ID) in the same second is not a replay.
    EXPECT_TRUE(g.check(replayMessage(kReplayNow, 0x11223345), kReplayNow + 10));
}

TEST(MikeyReplay, TimestampsOutsideTheClockSkewWindowAreRefusedEitherWay) {
    MikeyReplayGuard g(ReplayGuardConfig{60, 16});
    EXPECT_TRUE(g.check(replayMessage(kReplayNow - 60, 1), kReplayNow));
    EXPECT_TRUE(g.check(replayMessage(kReplayNow + 60, 1), kReplayNow));
    for (std::uint64_t ts : {kReplayNow - 61, kReplayNow + 61, std::uint64_t{0}}) {
        auto r = g.check(replayMessage(ts, 1), kReplayNow);
        ASSERT_FALSE(r) << ts;
        EXPECT_EQ(r.error().reason, "mikey_timestamp_outside_window") << ts;
    }
    auto counter = g.check(replayMessage(kReplayNow, 1, 2), kReplayNow);
    ASSERT_FALSE(counter);
    EXPECT_EQ(counter.error().reason, "mikey_timestamp_not_ntp");
    auto cut = replayMessage(kReplayNow, 1);
    cut.resize(cut.size() - 1);
    EXPECT_EQ(g.check(cut, kReplayNow).error().reason, "mikey_truncated");
}

TEST(MikeyReplay, EntriesAgeOutAndTheCacheIsBounded) {
    MikeyReplayGuard g(ReplayGuardConfig{60, 2});
    for (std::uint32_t id : {1U, 2U}) {
        auto t = g.check(replayMessage(kReplayNow, id), kReplayNow);
        ASSERT_TRUE(t);
        g.accept(*t);
    }
    auto full = g.check(replayMessage(kReplayNow, 3), kReplayNow);
    ASSERT_FALSE(full);
    EXPECT_EQ(full.error().reason, "mikey_replay_cache_full");
    // A message stamped later, once the first two are past their window (timestamp + 60 s):
    // they are dropped and it fits.
    auto later = g.check(replayMessage(kReplayNow + 100, 3), kReplayNow + 100);
    ASSERT_TRUE(later) << later.error().toString();
    EXPECT_EQ(g.size(), 0u);
    g.accept(*later);
    EXPECT_EQ(g.size(), 1u);
    // The old message is now refused by its timestamp, not by the (forgotten) cache entry.
    EXPECT_EQ(g.check(replayMessage(kReplayNow, 1), kReplayNow + 100).error().reason,
              "mikey_timestamp_outside_window");
}

}  // namespace
}  // namespace iwf::mc::security
