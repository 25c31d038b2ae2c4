// docs/engine.md shows the state tables as FsmTable::toDot() renders them and lists every
// timer with its default: this test fails when the tables and the document drift apart.

#include <fstream>
#include <sstream>

#include "tests/unit/engine/engine_fixture.hpp"

namespace iwf::gateway::engine::test {
namespace {

std::string readDoc() {
    std::ifstream f(std::string(IWF_SOURCE_DIR) + "/docs/engine.md");
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

TEST(EngineDocs, StateTablesAndTimersAreDocumented) {
    std::string doc = readDoc();
    ASSERT_FALSE(doc.empty());
    for (const std::string& dot : {callTable().toDot(), fcsTable().toDot(), partTable().toDot(),
                                   floorGateTable().toDot(), policyGateTable().toDot()}) {
        EXPECT_NE(doc.find(dot), std::string::npos) << "docs/engine.md lacks:\n" << dot;
    }
    // The leg_floor event table: for each event, the states that accept it, in table order.
    const auto& g = floorGateTable();
    for (auto e : {FloorGateEvent::Request, FloorGateEvent::Queue, FloorGateEvent::Grant,
                   FloorGateEvent::Take, FloorGateEvent::Refuse, FloorGateEvent::Release}) {
        std::string from;
        for (auto st : {FloorGate::None, FloorGate::Pending, FloorGate::Queued, FloorGate::Granted,
                        FloorGate::Refused}) {
            if (g.accepts(st, e)) {
                from += (from.empty() ? "" : ", ") + std::string(g.stateName(st));
            }
        }
        std::string row = "| `" + std::string(g.eventName(e)) + "` | " + from + " |";
        EXPECT_NE(doc.find(row), std::string::npos) << "docs/engine.md lacks the row: " << row;
    }
    TimerTable t;
    registerEngineTimers(t);
    for (const auto& [name, value] : t.defaults()) {
        std::string row = "| `" + name + "` | " + std::to_string(value.count()) + " ms |";
        EXPECT_NE(doc.find(row), std::string::npos) << "docs/engine.md lacks the row: " << row;
    }
}

}  // namespace
}  // namespace iwf::gateway::engine::test
