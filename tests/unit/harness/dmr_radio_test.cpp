// The simulated DMR radio against the DMR adapter's stream decoder: the PI header fields
// reach the frame's CryptoSync bit-exact, every voice burst decrypts at the far end to what
// the radio sent, and the wire carries no canary.
#include "harness/sim/dmr_radio.hpp"

#include <gtest/gtest.h>

#include "lmr_adapters/dmr/calls.hpp"

using namespace iwf;
using namespace iwf::harness;

namespace {
DmrRadioConfig cfg() {
    DmrRadioConfig c;
    c.name = "dmr-a";
    c.tag = 3;
    c.key_id = 0x2A;
    for (std::size_t i = 0; i < c.key.size(); ++i) {
        c.key[i] = static_cast<std::uint8_t>(0x5A ^ i);
    }
    c.first_iv = 0x0BADF00D;
    c.nonce = 0x1234;
    return c;
}
}  // namespace

TEST(HarnessDmrRadio, DecoderSeesPiHeaderAndClientDecryptsEveryBurst) {
    DmrRadio radio(cfg());
    lmr::dmr::CallDecoder dec;
    std::vector<Event> events;
    Bytes wire;
    auto feed = [&](const lmr::dmr::DmrdPacket& p) {
        const Bytes raw = lmr::dmr::encodeDmrd(p);
        wire.insert(wire.end(), raw.begin(), raw.end());
        auto back = lmr::dmr::decodeDmrd(raw);
        ASSERT_TRUE(back.ok());
        ASSERT_TRUE(dec.onPacket(*back, 0, events).ok());
    };
    for (const auto& p : radio.start()) {
        feed(p);
    }
    constexpr std::uint32_t kSuperframes = 3;
    for (std::uint32_t sf = 0; sf < kSuperframes; ++sf) {
        auto pk = radio.superframe(sf);
        ASSERT_TRUE(pk.ok());
        for (const auto& p : *pk) {
            feed(p);
        }
    }
    feed(radio.terminator());

    DmrDecryptor client;
    client.addKey(radio.config().key_id, radio.config().key);
    std::size_t voice = 0;
    for (const auto& e : events) {
        const auto* v = std::get_if<Voice>(&e);
        if (v == nullptr) {
            continue;
        }
        EXPECT_EQ(v->frame.crypto, radio.cryptoSync());
        auto plain = client.decrypt(v->frame);
        ASSERT_TRUE(plain.ok()) << plain.error().toString();
        const auto it = radio.sent().find({v->frame.pos.superframe, v->frame.pos.index});
        ASSERT_NE(it, radio.sent().end());
        EXPECT_EQ(*plain, it->second);
        ++voice;
    }
    EXPECT_EQ(voice, kSuperframes * 6);

    NeedleSet set;
    radio.addNeedles(set);
    EXPECT_EQ(scanBuffer(set, wire).total(), 0u);
    // A wrong key does not produce the canary.
    DmrDecryptor wrong;
    auto k = radio.config().key;
    k[0] ^= 1;
    wrong.addKey(radio.config().key_id, k);
    for (const auto& e : events) {
        if (const auto* v = std::get_if<Voice>(&e)) {
            auto p = wrong.decrypt(v->frame);
            ASSERT_TRUE(p.ok());
            EXPECT_NE(*p, radio.sent().at({v->frame.pos.superframe, v->frame.pos.index}));
        }
    }
}
