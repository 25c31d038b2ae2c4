// A hand-assembled encrypted voice superframe with PI header through the decoder (fields
// and events) and back through the encoder (every payload byte identical).
#include "lmr_adapters/dmr/calls.hpp"

#include <gtest/gtest.h>

#include "tests/unit/lmr_dmr/superframe.hpp"

namespace iwf::lmr::dmr {
namespace {

std::vector<Event> decodeAll(CallDecoder& dec, const std::vector<DmrdPacket>& pkts) {
    std::vector<Event> ev;
    std::int64_t t = 1000;
    for (const auto& p : pkts) {
        // Through the wire format too.
        auto d = decodeDmrd(encodeDmrd(p));
        EXPECT_TRUE(d.ok());
        EXPECT_TRUE(dec.onPacket(*d, t += 60'000'000, ev).ok());
    }
    return ev;
}

TEST(DmrCalls, EncryptedSuperframeDecodesToExpectedFields) {
    CallDecoder dec;
    const auto pkts = testdata::encryptedCall(2);
    const auto ev = decodeAll(dec, pkts);
    ASSERT_EQ(ev.size(), 1u + 12u + 1u);

    const auto* cs = std::get_if<CallSetup>(&ev[0]);
    ASSERT_NE(cs, nullptr);
    EXPECT_EQ(cs->caller.id, Address(DmrUnit{testdata::kSrc}));
    EXPECT_EQ(cs->callee, Address(DmrGroup{testdata::kGroup}));
    EXPECT_EQ(cs->kind, CallKind::Group);
    EXPECT_EQ(cs->codec, VoiceCodec::DmrAmbe);
    ASSERT_TRUE(cs->crypto.has_value());
    EXPECT_EQ(cs->crypto->family, LmrFamily::Dmr);
    EXPECT_TRUE(cs->crypto->encrypted);
    EXPECT_EQ(cs->crypto->algid, 4);
    EXPECT_EQ(cs->crypto->key_id, 0x2Au);
    EXPECT_EQ(cs->crypto->vendor, 0x10);
    EXPECT_EQ(toHex(cs->crypto->mi.view()), "deadbeef");

    for (std::size_t i = 0; i < 12; ++i) {
        const auto* v = std::get_if<Voice>(&ev[1 + i]);
        ASSERT_NE(v, nullptr) << i;
        EXPECT_EQ(v->call, cs->call);
        EXPECT_EQ(v->frame.pos.superframe, i / 6);
        EXPECT_EQ(v->frame.pos.index, i % 6);
        EXPECT_EQ(v->frame.crypto, *cs->crypto);
        EXPECT_EQ(v->frame.seq, i);
        const auto want = testdata::ambe(static_cast<unsigned>(i));
        EXPECT_EQ(toHex(v->frame.payload.view()), toHex(want));
        EXPECT_EQ(v->frame.side.size(), 6u);
    }
    const auto* end = std::get_if<CallEnd>(&ev.back());
    ASSERT_NE(end, nullptr);
    EXPECT_EQ(end->call, cs->call);
    EXPECT_EQ(end->reason, EndReason::Normal);
    EXPECT_EQ(dec.activeStreams(), 0u);
    EXPECT_EQ(dec.stats().lost_packets, 0u);
}

TEST(DmrCalls, LateEntryLearnsPrivacyFromEmbeddedLcButInventsNoIv) {
    CallDecoder dec;
    auto pkts = testdata::encryptedCall(2);
    // Drop both LC headers and the PI header: the receiver joins mid-stream.
    std::vector<DmrdPacket> late(pkts.begin() + 3, pkts.end());
    const auto ev = decodeAll(dec, late);
    const auto* cs = std::get_if<CallSetup>(&ev[0]);
    ASSERT_NE(cs, nullptr);
    // Burst A was held until burst B's EMB PI bit told the encryption state; no IV is
    // invented.
    ASSERT_TRUE(std::holds_alternative<Voice>(ev[1]));
    EXPECT_EQ(std::get<Voice>(ev[1]).frame.pos.index, 0);
    EXPECT_TRUE(std::get<Voice>(ev[1]).frame.crypto.encrypted);
    ASSERT_TRUE(cs->crypto.has_value());
    EXPECT_TRUE(cs->crypto->encrypted);
    EXPECT_TRUE(cs->crypto->mi.empty());
    const auto* last_voice = std::get_if<Voice>(&ev[ev.size() - 2]);
    ASSERT_NE(last_voice, nullptr);
    EXPECT_TRUE(last_voice->frame.crypto.encrypted);
    EXPECT_TRUE(last_voice->frame.crypto.mi.empty());
}

TEST(DmrCalls, SilentStreamTimesOutAndGapsAreCounted) {
    CallDecoder dec;
    auto pkts = testdata::encryptedCall(1);
    pkts.pop_back();               // no terminator
    pkts.erase(pkts.begin() + 5);  // lose one voice burst
    std::vector<Event> ev;
    for (const auto& p : pkts) {
        ASSERT_TRUE(dec.onPacket(p, 1000, ev).ok());
    }
    EXPECT_EQ(dec.stats().lost_packets, 1u);
    // Voice.seq jumps over the lost burst: 0, 1, 3, 4, 5.
    std::vector<std::uint32_t> seqs;
    for (const auto& e : ev) {
        if (const auto* v = std::get_if<Voice>(&e)) {
            seqs.push_back(v->frame.seq);
        }
    }
    EXPECT_EQ(seqs, (std::vector<std::uint32_t>{0, 1, 3, 4, 5}));
    ev.clear();
    dec.expire(1000 + 500, 1000, ev);
    EXPECT_TRUE(ev.empty());
    dec.expire(1000 + 5000, 1000, ev);
    ASSERT_EQ(ev.size(), 1u);
    EXPECT_EQ(std::get<CallEnd>(ev[0]).reason, EndReason::Timeout);
}

TEST(DmrCalls, DamagedEmbStillForwardsTheOpaqueVoice) {
    CallDecoder dec;
    auto pkts = testdata::encryptedCall(1);
    // Burst B: three bit errors in the EMB, beyond QR(16,7,6) (corrects 2, minimum distance
    // 6: three errors are always detected).
    for (std::size_t bit : {108u, 109u, 110u}) {
        setBit(pkts[4].burst, bit, !getBit(pkts[4].burst, bit));
    }
    std::vector<Event> ev;
    for (std::size_t i = 0; i < pkts.size(); ++i) {
        auto st = dec.onPacket(pkts[i], 1000, ev);
        if (i == 4) {
            EXPECT_FALSE(st.ok());
        }
    }
    std::size_t voices = 0;
    for (const auto& e : ev) {
        voices += std::holds_alternative<Voice>(e) ? 1 : 0;
    }
    EXPECT_EQ(voices, 6u);
}

TEST(DmrCalls, DecodeThenEncodeKeepsEveryPayloadByte) {
    CallDecoder dec;
    const auto in = testdata::encryptedCall(3);
    const auto ev = decodeAll(dec, in);
    CallEncoder enc(EncoderConfig{testdata::kPeer, 1, testdata::kCc, 2}, 42);
    std::vector<DmrdPacket> out;
    for (const auto& e : ev) {
        auto r = enc.onEvent(e);
        ASSERT_TRUE(r.ok()) << r.error().toString();
        out.insert(out.end(), r->begin(), r->end());
    }
    ASSERT_EQ(out.size(), in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
        EXPECT_EQ(out[i].frame_type, in[i].frame_type) << i;
        EXPECT_EQ(out[i].dtype_vseq, in[i].dtype_vseq) << i;
        EXPECT_EQ(out[i].src, in[i].src);
        EXPECT_EQ(out[i].dst, in[i].dst);
        EXPECT_EQ(out[i].seq, in[i].seq);
        // Every burst identical: voice A..F passed untouched (vocoder bits, sync, EMB,
        // embedded LC); headers and terminator rebuilt from the decoded fields bit-exact.
        EXPECT_EQ(toHex(out[i].burst), toHex(in[i].burst)) << i;
    }
    EXPECT_EQ(enc.activeCalls(), 0u);
}

TEST(DmrCalls, EncoderOriginatesAValidCallFromSetupAlone) {
    CallEncoder enc(EncoderConfig{9, 2, 3, 1}, 1);
    CallSetup cs;
    cs.call = 77;
    cs.caller.id = DmrUnit{1234};
    cs.callee = DmrUnit{5678};
    cs.kind = CallKind::Private;
    cs.priority = CallPriority::Emergency;
    auto r = enc.onEvent(cs);
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->size(), 1u);  // one LC header, clear call: no PI header
    CallDecoder dec;
    std::vector<Event> ev;
    std::vector<DmrdPacket> all = *r;
    for (std::uint8_t i = 0; i < 6; ++i) {
        Voice v;
        v.call = 77;
        v.frame.codec = VoiceCodec::DmrAmbe;
        v.frame.pos = {0, i};
        v.frame.payload.assign(testdata::ambe(i));
        auto vr = enc.onEvent(v);
        ASSERT_TRUE(vr.ok());
        all.insert(all.end(), vr->begin(), vr->end());
    }
    auto er = enc.onEvent(CallEnd{77, EndReason::Normal, ""});
    ASSERT_TRUE(er.ok());
    all.insert(all.end(), er->begin(), er->end());
    for (const auto& p : all) {
        EXPECT_EQ(p.slot, 2);
        EXPECT_TRUE(p.unit_call);
        ASSERT_TRUE(dec.onPacket(p, 5, ev).ok());
    }
    const auto& setup = std::get<CallSetup>(ev[0]);
    EXPECT_EQ(setup.kind, CallKind::Private);
    EXPECT_EQ(setup.priority, CallPriority::Emergency);
    EXPECT_FALSE(setup.crypto->encrypted);
    EXPECT_EQ(std::get<Voice>(ev[6]).frame.pos.index, 5);
    EXPECT_TRUE(std::holds_alternative<CallEnd>(ev.back()));

    EXPECT_EQ(enc.onEvent(CallEnd{78, EndReason::Normal, ""}).error().reason, "unknown_call");
    CallSetup bad = cs;
    bad.call = 79;
    bad.callee = P25Group{};
    EXPECT_EQ(enc.onEvent(bad).error().reason, "bad_callee_address");
}

}  // namespace
}  // namespace iwf::lmr::dmr
