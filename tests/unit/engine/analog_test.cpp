// Analogue groups in the engine (issue #19, gateway/engine/engine_transcode.hpp): an analogue
// channel's clear AMR-WB transmission reaches the MC side; the engine never bridges an
// analogue talker into an encrypted call; an MC talker must send AMR-WB into an analogue
// group and may not send it into a digital one (no vocoder in the gateway). The digital
// families' own calls are untouched (policy_test, media_test).
#include "gateway/engine/engine_transcode.hpp"
#include "tests/unit/engine/engine_fixture.hpp"

namespace iwf::gateway::engine::test {
namespace {

// Analogue talkgroup 5: clear, LMR-homed; 6: "secure" (what keymap validation refuses,
// analog_not_clear; the engine must hold the line on its own too).
DirectoryContent analogContent() {
    DirectoryContent d = baseContent();
    auto group = [](std::uint32_t t, const std::string& uri, E2eeMode mode) {
        GroupInfo g;
        g.mc_group = McGroupId{uri};
        g.lmr_group = AnalogGroup{t};
        g.home = Side::Lmr;
        g.mode = mode;
        g.crypto = mode == E2eeMode::Clear ? CryptoSync::clear(LmrFamily::Analog)
                                           : CryptoSync::encryptedWith(LmrFamily::Analog, 0x84, 1);
        g.codec = VoiceCodec::AmrWb;
        return g;
    };
    d.groups.push_back(group(5, "sip:fm5@mc", E2eeMode::Clear));
    d.groups.push_back(group(6, "sip:fm6@mc", E2eeMode::Secure));
    return d;
}

class AnalogEngineTest : public EngineTest {
  protected:
    AnalogEngineTest() {
        directory.publish(analogContent());
        engine->addLink(fm);
    }
    void fromFm(Event e) { engine->onEvent(fm.id(), std::move(e)); }
    CallSetup fmSetup(CallRef ref, std::uint32_t talkgroup) {
        CallSetup s;
        s.call = ref;
        s.callee = AnalogGroup{talkgroup};
        s.crypto = CryptoSync::clear(LmrFamily::Analog);
        s.codec = VoiceCodec::AmrWb;
        return s;
    }
    VoiceFrame amrFrame(std::uint32_t seq) {
        VoiceFrame f;
        f.codec = VoiceCodec::AmrWb;
        f.crypto = CryptoSync::clear(LmrFamily::Analog);
        f.seq = seq;
        f.pos.superframe = seq;
        const std::uint8_t storage[3] = {0x14, static_cast<std::uint8_t>(seq), 0xA5};
        f.payload.assign(ByteView(storage, 3));
        return f;
    }
    std::uint64_t refusals(const std::string& link, const std::string& reason) {
        return counter("iwf_engine_refusals_total", {{"link", link}, {"reason", reason}});
    }
    FakeLmrLink fm{"fm", LmrFamily::Analog, false};
};

TEST_F(AnalogEngineTest, ClearAnalogueTransmissionReachesMcAsAmrWb) {
    fromFm(fmSetup(1, 5));
    for (std::uint32_t i = 0; i < 3; ++i) {
        fromFm(Voice{1, amrFrame(i)});
    }
    ASSERT_EQ(mc.count<CallSetup>(), 1u);
    const CallSetup out = mc.last<CallSetup>();
    EXPECT_EQ(out.callee, Address{McGroupId{"sip:fm5@mc"}});
    EXPECT_EQ(out.codec, VoiceCodec::AmrWb) << "the MC link offers AMR-WB for this call";
    const auto v = mc.voice(out.call);
    ASSERT_EQ(v.size(), 3u);
    EXPECT_EQ(v[2].frame.payload, amrFrame(2).payload);  // bit-exact, as every frame
    EXPECT_EQ(fm.count<CallEnd>(), 0u);
}

TEST_F(AnalogEngineTest, AnalogueTalkerIsNeverBridgedIntoAnEncryptedCall) {
    fromFm(fmSetup(1, 6));
    fromFm(Voice{1, amrFrame(0)});
    ASSERT_EQ(fm.count<CallEnd>(), 1u);
    EXPECT_EQ(fm.last<CallEnd>().detail, "analog_into_encrypted");
    EXPECT_EQ(mc.events.size(), 0u) << "nothing of it reaches MC";
    EXPECT_EQ(refusals("fm", "analog_into_encrypted"), 1u);
}

TEST_F(AnalogEngineTest, McTalkerMustSendAmrWbIntoAnalogueAndNotIntoDigital) {
    CallSetup x = mcSetup(10, "sip:alice@mc", "sip:fm5@mc");  // X-IWF-LMR call: no vocoder
    fromMc(x);
    ASSERT_EQ(mc.count<CallEnd>(), 1u);
    EXPECT_EQ(mc.last<CallEnd>().detail, "no_vocoder");
    EXPECT_EQ(fm.events.size(), 0u);

    CallSetup amr_into_p25 = mcSetup(11, "sip:alice@mc", "sip:g300@mc");
    amr_into_p25.codec = VoiceCodec::AmrWb;
    fromMc(amr_into_p25);
    ASSERT_EQ(mc.count<CallEnd>(), 2u);
    EXPECT_EQ(mc.last<CallEnd>().detail, "no_vocoder");
    EXPECT_EQ(p25.events.size(), 0u);
    EXPECT_EQ(refusals("mc", "no_vocoder"), 2u);

    CallSetup amr = mcSetup(12, "sip:alice@mc", "sip:fm5@mc");
    amr.codec = VoiceCodec::AmrWb;
    fromMc(amr);
    EXPECT_EQ(mc.count<CallEnd>(), 2u) << "AMR-WB into the analogue group is admitted";
}

TEST(AnalogueRefusal, DigitalCombinationsAreUntouched) {
    GroupInfo p25g;
    p25g.crypto = CryptoSync::clear(LmrFamily::P25);
    p25g.mode = E2eeMode::Secure;
    for (auto c : {VoiceCodec::ImbeFullRate, VoiceCodec::DmrAmbe, VoiceCodec::Pcm}) {
        EXPECT_FALSE(analogueRefusal(p25g, LmrFamily::P25, c));
        EXPECT_FALSE(analogueRefusal(p25g, std::nullopt, c));
    }
    EXPECT_EQ(analogueRefusal(p25g, LmrFamily::Analog, VoiceCodec::AmrWb),
              std::optional<std::string_view>("family_mismatch"));
}

}  // namespace
}  // namespace iwf::gateway::engine::test
