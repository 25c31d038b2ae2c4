// The engine's plain status view (Engine::callsJson): what the daemon serves as GET /v1/calls
// (served over HTTP by the daemon; the iwfd integration tests read it there).

#include "tests/unit/engine/engine_fixture.hpp"

namespace iwf::gateway::engine::test {
namespace {

using namespace std::chrono_literals;

class CallsViewTest : public EngineTest {};

TEST_F(CallsViewTest, ViewShowsCallLegsFloorAndLatency) {
    fromLmr(lmrSetup(1, 1, 100, aes(0x1111)));
    VoiceFrame f = frame(0, aes(0x1111), 0, 0);
    f.rx_ns = toNs(clock.now());
    clock.advance(15us);
    fromLmr(Voice{1, f});

    nlohmann::json j = engine->callsJson();
    ASSERT_EQ(j["calls"].size(), 1u);
    EXPECT_EQ(j["calls"][0]["group"], "sip:g100@mc");
    EXPECT_EQ(j["calls"][0]["mode"], "secure");
    EXPECT_EQ(j["calls"][0]["e2ee"], "encrypted");
    EXPECT_EQ(j["calls"][0]["floor_state"], "G_floor_taken");
    EXPECT_EQ(j["calls"][0]["talker"]["id"], toString(Address{unit(1)}));
    EXPECT_EQ(j["latency"]["count"], 1u);
    EXPECT_EQ(j["latency"]["p50_le_ns"], 20000);
}

}  // namespace
}  // namespace iwf::gateway::engine::test
