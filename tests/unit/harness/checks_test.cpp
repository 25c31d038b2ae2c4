// The far-end checker must be able to fail: a wrong key, an altered byte, a changed MI, a
// duplicate or a missing frame each make a receiver fail; late entry before sync does not.
#include "harness/runner/checks.hpp"

#include <gtest/gtest.h>

#include "harness/crypto/p25_crypto.hpp"
#include "harness/sim/p25_radio.hpp"

namespace iwf::harness {
namespace {

constexpr std::uint8_t kTag = 7;
constexpr std::uint16_t kNonce = 0x1234;

Aes256Key keyOf(std::uint8_t seed) {
    Aes256Key k{};
    for (std::size_t i = 0; i < k.size(); ++i) {
        k[i] = static_cast<std::uint8_t>(seed + i * 3);
    }
    return k;
}

// A 3-superframe encrypted transmission as a P25 radio sends it, and the frames a receiver
// with `rx_key` decodes from it.
struct Fixture {
    std::map<FrameKey, SentFrame> sent;
    std::vector<RxFrame> rx;

    explicit Fixture(const Aes256Key& rx_key) {
        P25RadioConfig rc;
        rc.tag = kTag;
        rc.nonce = kNonce;
        rc.key = keyOf(1);
        rc.key_id = 0x0101;
        rc.first_mi = {1, 2, 3, 4, 5, 6, 7, 8, 0};
        P25Radio radio(rc);
        P25VoiceCipher enc(rc.key, rc.first_mi);
        P25Decryptor dec;
        dec.addKey(0x0101, rx_key);
        for (std::uint32_t sf = 0; sf < 3; ++sf) {
            EXPECT_TRUE(radio.superframe(sf).ok());
            for (std::uint8_t i = 0; i < 18; ++i) {
                const auto plain = radio.sent().at({sf, i});
                sent[{sf, i}] =
                    SentFrame{Bytes(plain.begin(), plain.end()), radio.cryptoOf(sf), 1000};
                Imbe11 c = plain;
                EXPECT_TRUE(enc.applyImbe(sf, i, c).ok());
                VoiceFrame f;
                f.pos = {sf, i};
                f.crypto = radio.cryptoOf(sf);
                f.payload.assign(c);
                auto p = dec.decrypt(f);
                RxFrame r{f.pos,
                          f.crypto,
                          p.ok(),
                          p.ok() ? "" : std::string(p.error().reason),
                          p.ok() ? Bytes(p->begin(), p->end()) : Bytes{},
                          2000};
                rx.push_back(r);
            }
        }
    }
};

TEST(HarnessChecks, RightKeyPassesEveryFrame) {
    Fixture fx(keyOf(1));
    auto c = checkReceiver(fx.sent, fx.rx, {});
    EXPECT_TRUE(c.ok()) << (c.problems.empty() ? "" : c.problems.front());
    EXPECT_EQ(c.decrypted_ok, 54u);
    EXPECT_EQ(c.expected, 54u);
    ASSERT_EQ(c.latency_us.size(), 54u);
    EXPECT_DOUBLE_EQ(c.latency_us[0], 1.0);
}

TEST(HarnessChecks, WrongClientKeyFails) {
    Fixture fx(keyOf(2));
    auto c = checkReceiver(fx.sent, fx.rx, {});
    EXPECT_FALSE(c.ok());
    EXPECT_EQ(c.decrypted_ok, 0u);
    EXPECT_EQ(c.bad, 54u);
}

TEST(HarnessChecks, AlteredPayloadByteOrMiFails) {
    Fixture fx(keyOf(1));
    fx.rx[20].plaintext[5] ^= 1;
    auto c = checkReceiver(fx.sent, fx.rx, {});
    EXPECT_FALSE(c.ok());
    EXPECT_EQ(c.bad, 1u);

    Fixture fy(keyOf(1));
    fy.rx[30].crypto.mi = InlineBytes<16>(ByteView(std::array<std::uint8_t, 9>{}));
    auto d = checkReceiver(fy.sent, fy.rx, {});
    EXPECT_FALSE(d.ok());
}

TEST(HarnessChecks, DuplicateAndMissingFramesFail) {
    Fixture fx(keyOf(1));
    fx.rx.push_back(fx.rx[3]);
    EXPECT_FALSE(checkReceiver(fx.sent, fx.rx, {}).ok());
    Fixture fy(keyOf(1));
    fy.rx.erase(fy.rx.begin() + 40);
    auto c = checkReceiver(fy.sent, fy.rx, {});
    EXPECT_FALSE(c.ok());
    EXPECT_EQ(c.missing, 1u);
    // ... unless the harness itself dropped it (loss scenario).
    CheckOptions o;
    o.dropped_by_harness.insert({2, 4});
    EXPECT_TRUE(checkReceiver(fy.sent, fy.rx, o).ok());
}

TEST(HarnessChecks, NoMiBeforeSyncIsLateEntryNotGarbage) {
    Fixture fx(keyOf(1));
    for (std::size_t i = 0; i < 18; ++i) {
        fx.rx[i].decrypted = false;
        fx.rx[i].error = "no_mi";
        fx.rx[i].plaintext.clear();
    }
    CheckOptions o;
    o.sync_superframe = 1;
    auto c = checkReceiver(fx.sent, fx.rx, o);
    EXPECT_TRUE(c.ok());
    EXPECT_EQ(c.before_sync, 18u);
    // Without a sync allowance the first superframe is missing.
    EXPECT_FALSE(checkReceiver(fx.sent, fx.rx, {}).ok());
    // A late joiner's expectation starts at its first correct frame.
    std::vector<RxFrame> late(fx.rx.begin() + 18, fx.rx.end());
    CheckOptions l;
    l.late_joiner = true;
    auto d = checkReceiver(fx.sent, late, l);
    EXPECT_TRUE(d.ok());
    ASSERT_TRUE(d.first_ok.has_value());
    EXPECT_EQ(*d.first_ok, (FrameKey{1, 0}));
}

TEST(HarnessChecks, CanaryOwnerAndPosition) {
    const Imbe11 c = p25Canary(kTag, kNonce, 0x01020304, 9);
    auto o = canaryOwner(c);
    ASSERT_TRUE(o.has_value());
    EXPECT_EQ(o->first, kTag);
    EXPECT_EQ(o->second, kNonce);
    auto p = canaryPosition(c, kTag, kNonce);
    ASSERT_TRUE(p.has_value());
    EXPECT_EQ(*p, (FrameKey{0x01020304, 9}));
    EXPECT_FALSE(canaryPosition(c, kTag, kNonce + 1).has_value());
    Imbe11 g = c;
    g[0] = 'X';
    EXPECT_FALSE(canaryOwner(g).has_value());
}

}  // namespace
}  // namespace iwf::harness
