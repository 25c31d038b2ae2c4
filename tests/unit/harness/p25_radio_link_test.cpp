// The simulated P25 radio against the real P25 records link, in process over UDP on
// 127.0.0.1: every frame the link reports decrypts (with only the CryptoSync and position it
// carries) to exactly what the radio sent, the CryptoSync is bit-exact, and the first
// superframe (no HDU in the record set) carries the MI the link recovered from the first LDU2.
#include <gtest/gtest.h>

#include "common/metrics.hpp"
#include "harness/sim/p25_radio.hpp"
#include "lmr_adapters/p25/records_link.hpp"
#include "tests/integration/lmr_p25/p25_test_support.hpp"

using namespace iwf;
using namespace iwf::harness;
using namespace std::chrono_literals;
using iwf::lmr::p25::test::CollectingSink;
using iwf::lmr::p25::test::UdpPeer;

namespace {

P25RadioConfig radioConfig() {
    P25RadioConfig c;
    c.name = "radio-a";
    c.tag = 7;
    c.unit = 0x1234;
    c.tgid = 0x333;
    c.key_id = 0x4242;
    for (std::size_t i = 0; i < c.key.size(); ++i) {
        c.key[i] = static_cast<std::uint8_t>(0xA0 + i);
    }
    c.first_mi = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x00};
    c.nonce = 0xBEEF;
    return c;
}

}  // namespace

TEST(HarnessP25Radio, TransmissionShapeAndCanaries) {
    P25Radio radio(radioConfig());
    auto sf = radio.superframe(0);
    ASSERT_TRUE(sf.ok());
    ASSERT_EQ(sf->size(), 18u);
    for (std::size_t i = 0; i < sf->size(); ++i) {
        auto r = lmr::p25::decodeRecord((*sf)[i]);
        ASSERT_TRUE(r.ok());
        const auto& v = std::get<lmr::p25::VoiceRecord>(*r);
        EXPECT_EQ(v.index(), i);
        // Ciphertext on the wire, never the canary.
        const auto canary = p25Canary(7, 0xBEEF, 0, static_cast<std::uint8_t>(i));
        EXPECT_NE(v.imbe, canary);
    }
    // LDU2 ES (frames 12..15) announces the NEXT superframe's MI, ALGID and KID.
    const auto next = radio.cryptoOf(1);
    auto f12 = std::get<lmr::p25::VoiceRecord>(*lmr::p25::decodeRecord((*sf)[11]));
    auto es = lmr::p25::esOf(f12);
    ASSERT_TRUE(es);
    EXPECT_EQ((*es)[0], next.mi.data()[0]);
    auto f15 = std::get<lmr::p25::VoiceRecord>(*lmr::p25::decodeRecord((*sf)[14]));
    EXPECT_EQ(lmr::p25::esOf(f15)->at(0), kP25AlgidAes256);
    NeedleSet set;
    radio.addNeedles(set);
    EXPECT_EQ(set.size(), 18u + 1u);  // 18 canaries + the key
    // The opacity scan of the wire bytes finds nothing.
    Bytes wire;
    for (const auto& d : *sf) {
        wire.insert(wire.end(), d.begin(), d.end());
    }
    EXPECT_EQ(scanBuffer(set, wire).total(), 0u);
    // ...and would find a plaintext leak.
    const auto leak = p25Canary(7, 0xBEEF, 0, 3);
    wire.insert(wire.end(), leak.begin(), leak.end());
    EXPECT_EQ(scanBuffer(set, wire).total(), 1u);
}

TEST(HarnessP25Radio, ThroughRecordsLinkDecryptsFrameByFrame) {
    lmr::p25::test::IoThread io;
    metrics::Registry metrics;
    CollectingSink sink;
    lmr::p25::RecordsLinkConfig cfg;
    cfg.name = "p25-harness";
    cfg.address = "127.0.0.1";
    cfg.port = 0;
    cfg.tgid = 0x333;
    cfg.call_timeout = 5s;
    cfg.reflect = false;
    auto link =
        std::make_unique<lmr::p25::RecordsLink>(cfg, io.io, metrics, SteadyClock::instance());
    io.runSync([&] { ASSERT_TRUE(link->start(sink).ok()); });
    const std::uint16_t port = link->localPort();
    ASSERT_NE(port, 0);

    P25Radio radio(radioConfig());
    UdpPeer peer;
    peer.sendTo(port, radio.poll());
    ASSERT_TRUE(peer.receive(5s)) << "no poll answer";
    constexpr std::uint32_t kSuperframes = 4;
    for (std::uint32_t sf = 0; sf < kSuperframes; ++sf) {
        auto recs = radio.superframe(sf);
        ASSERT_TRUE(recs.ok());
        for (const auto& d : *recs) {
            peer.sendTo(port, d);
        }
    }
    peer.sendTo(port, radio.end());
    ASSERT_TRUE(sink.waitFor(
        [](const std::vector<Event>& ev) { return lmr::p25::test::countOf<CallEnd>(ev) > 0; },
        10s));

    P25Decryptor client;
    client.addKey(radio.config().key_id, radio.config().key);
    std::size_t decrypted = 0;
    std::size_t waiting = 0;
    for (const auto& e : sink.events()) {
        const auto* v = std::get_if<Voice>(&e);
        if (v == nullptr) {
            continue;
        }
        const auto& f = v->frame;
        ASSERT_TRUE(f.crypto.encrypted);
        auto plain = client.decrypt(f);
        if (!plain.ok()) {
            ++waiting;  // no frame may lack its MI: the link held the call until it knew
            continue;
        }
        EXPECT_EQ(f.crypto, radio.cryptoOf(f.pos.superframe)) << "CryptoSync not bit-exact";
        const auto it = radio.sent().find({f.pos.superframe, f.pos.index});
        ASSERT_NE(it, radio.sent().end());
        EXPECT_EQ(*plain, it->second) << "sf " << f.pos.superframe << " frame " << int{f.pos.index};
        ++decrypted;
    }
    // Every frame decrypts, superframe 0 too (MI back-filled from the first LDU2).
    EXPECT_EQ(decrypted, kSuperframes * 18);
    EXPECT_EQ(waiting, 0u);
    io.runSync([&] { link->stop(); });
    io.stop();
}
