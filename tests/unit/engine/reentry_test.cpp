// Link::deliver() never calls the EventSink from inside (docs/architecture.md "What crosses
// between adapters and the engine"): a link that did would re-enter the engine halfway through
// a change to a call. The engine holds the rule with IWF_ASSERT (on in release builds).

#include "tests/unit/engine/engine_fixture.hpp"

namespace iwf::gateway::engine::test {
namespace {

// An MC link that answers the engine's call setup from inside deliver(), as a link must not.
class ReentrantMcLink : public FakeMcLink {
  public:
    ReentrantMcLink() : FakeMcLink("mc") {}
    Status deliver(const Event& e) override {
        if (const auto* s = std::get_if<CallSetup>(&e); s != nullptr && engine != nullptr) {
            engine->onEvent(id(), CallEnd{s->call, EndReason::Normal, ""});
        }
        return FakeMcLink::deliver(e);
    }
    Engine* engine = nullptr;
};

TEST(EngineReentryDeathTest, ALinkReportingFromInsideDeliverAborts) {
    metrics::Registry reg;
    ManualClock clock;
    ManualTimerService timers(clock);
    MemoryDirectory directory(baseContent());
    TimerTable values;
    Engine engine(EngineDeps{reg, clock, timers, directory, values});
    FakeLmrLink p25("p25", LmrFamily::P25);
    ReentrantMcLink mc;
    mc.engine = &engine;
    engine.addLink(p25);
    engine.addLink(mc);
    CallSetup s;
    s.call = 1;
    s.caller.id = unit(1);
    s.callee = tg(100);
    s.crypto = aes(0x1111);
    EXPECT_DEATH(engine.onEvent(p25.id(), s),
                 "IWF_ASSERT failed: !delivering_ \\(a link does not report events from inside "
                 "Link::deliver\\(\\)\\)");
}

}  // namespace
}  // namespace iwf::gateway::engine::test
