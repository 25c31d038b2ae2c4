// docs/engine.md shows the state tables as FsmTable::toDot() renders them and lists every
// timer with its default: this test fails when the tables and the document drift apart.

#include <fstream>
#include <sstream>

#include "tests/unit/engine/engine_fixture.hpp"
#include "tests/unit/engine/policy_table.hpp"

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

// The E2EE decision table: docs/engine.md has exactly the rows policy_test.cpp runs, no more
// (a row in the document that no test runs fails), no fewer.
TEST(EngineDocs, PolicyDecisionTableIsTheTestedOne) {
    const std::string doc = readDoc();
    const std::string header = "| call | stream | outcome | reason |";
    const auto at = doc.find(header);
    ASSERT_NE(at, std::string::npos) << "docs/engine.md lacks the E2EE decision table";
    std::vector<std::string> documented;
    std::istringstream in(doc.substr(at));
    std::string line;
    std::getline(in, line);  // header
    std::getline(in, line);  // |---|
    while (std::getline(in, line) && line.rfind("| ", 0) == 0) {
        documented.push_back(line);
    }
    std::vector<std::string> tested;
    for (const PolicyRow& r : kPolicyRows) {
        tested.push_back(markdownRow(r));
    }
    EXPECT_EQ(documented, tested);
}

}  // namespace
}  // namespace iwf::gateway::engine::test
