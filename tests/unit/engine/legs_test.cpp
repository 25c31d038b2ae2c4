// A call's legs beyond the two the call holds inline: receivers joining a call in progress
// (legs 2, 3, ... in their own heap nodes), leaving, and a newcomer reusing the freed slot.
// Every receiver keeps its own late-entry state and gets its frames in order, without gaps,
// from its first sync point on; the frames reach each leg exactly once.

#include "tests/unit/engine/engine_fixture.hpp"

namespace iwf::gateway::engine::test {
namespace {

class LegsTest : public EngineTest {
  protected:
    // Frames [first, first + n) of the LMR stream of call 1 (superframes of 18, MI per
    // superframe).
    void lmrFrames(std::uint32_t first, std::uint32_t n) {
        for (std::uint32_t seq = first; seq < first + n; ++seq) {
            fromLmr(Voice{1, frame(seq, aes(0x1111, static_cast<std::uint8_t>(seq / 18 + 1)),
                                   seq / 18, static_cast<std::uint8_t>(seq % 18))});
        }
    }
    static std::vector<std::uint32_t> seqs(const std::vector<Voice>& v) {
        std::vector<std::uint32_t> out;
        for (const Voice& x : v) {
            out.push_back(x.frame.seq);
        }
        return out;
    }
    static std::vector<std::uint32_t> range(std::uint32_t first, std::uint32_t last) {
        std::vector<std::uint32_t> out;
        for (std::uint32_t s = first; s <= last; ++s) {
            out.push_back(s);
        }
        return out;
    }
};

TEST_F(LegsTest, ReceiversBeyondTheInlineLegsJoinLeaveAndReuseASlot) {
    fromLmr(lmrSetup(1, 1, 100, aes(0x1111, 1)));  // legs 0 (LMR talker) and 1 (MC, engine)
    const CallRef first = mcRef();
    lmrFrames(0, 20);  // superframe 0 and two frames of superframe 1
    // Five receivers join from the second MC link: legs 2..6, each late (the stream flows).
    for (CallRef r = 500; r < 505; ++r) {
        fromMc2(mcSetup(r, "sip:r" + std::to_string(r) + "@mc", "sip:g100@mc"));
    }
    EXPECT_EQ(counter("iwf_engine_late_entries_total"), 5u);
    lmrFrames(20, 16);  // the rest of superframe 1: nothing for the late receivers yet
    for (CallRef r = 500; r < 505; ++r) {
        EXPECT_TRUE(mc2.voice(r).empty()) << "receiver " << r << " before its sync point";
    }
    lmrFrames(36, 18);  // superframe 2: the sync point for all five
    // Receiver 502 (leg 4) leaves; a newcomer takes the freed slot.
    fromMc2(CallEnd{502, EndReason::Normal, ""});
    fromMc2(mcSetup(600, "sip:r600@mc", "sip:g100@mc"));
    lmrFrames(54, 18);  // superframe 3

    EXPECT_EQ(seqs(mc.voice(first)), range(0, 71)) << "the first receiver gets every frame";
    for (CallRef r : {500, 501, 503, 504}) {
        EXPECT_EQ(seqs(mc2.voice(r)), range(36, 71)) << "receiver " << r;
    }
    EXPECT_EQ(seqs(mc2.voice(502)), range(36, 53)) << "nothing after it left";
    EXPECT_EQ(seqs(mc2.voice(600)), range(54, 71)) << "the newcomer starts at superframe 3";
    EXPECT_EQ(counter("iwf_engine_late_entry_synced_total"), 6u);
    // 16 withheld frames each for the first five, 0 for the newcomer (joined at a boundary).
    EXPECT_EQ(counter("iwf_engine_late_entry_wait_frames_total", {{"link", "mc2"}}), 5u * 16u);

    const auto j = engine->callsJson();
    ASSERT_EQ(j["calls"].size(), 1u);
    std::size_t mc2_legs = 0;
    for (const auto& leg : j["calls"][0]["legs"]) {
        mc2_legs += leg["link"] == "mc2" ? 1 : 0;
    }
    EXPECT_EQ(mc2_legs, 5u) << "502's slot is 600's now: six receivers, five alive on mc2";
}

}  // namespace
}  // namespace iwf::gateway::engine::test
