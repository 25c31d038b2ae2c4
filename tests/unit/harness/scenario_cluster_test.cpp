// The `cluster` section and the `failover` step of a scenario (docs/harness.md "Failover"):
// read from the committed scenario, refused with file, line and field when inconsistent.
#include <gtest/gtest.h>

#include "harness/scenario/scenario.hpp"

using namespace iwf;
using namespace iwf::harness;

namespace {

// `field` of the ConfigError that parsing `text` throws, with its line; "" when it parses.
std::pair<std::string, int> clusterError(const std::string& text) {
    try {
        parseScenario(ConfigNode::loadString(text, "cluster.yaml"));
    } catch (const ConfigError& e) {
        EXPECT_EQ(e.file(), "cluster.yaml");
        return {e.field(), e.line()};
    }
    return {"", 0};
}

const char kHead[] = R"(scenario: c
groups: []
radios: []
clients: []
)";

}  // namespace

TEST(HarnessScenarioCluster, FailoverScenarioIsRead) {
    auto s = loadScenario(std::string(IWF_SCENARIO_DIR) + "/13_failover.yaml");
    ASSERT_TRUE(s.cluster.has_value());
    EXPECT_EQ(s.cluster->instances, (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(s.cluster->renew_period, std::chrono::milliseconds(200));
    EXPECT_EQ(s.cluster->lease_expiry, std::chrono::milliseconds(1500));
    EXPECT_EQ(s.cluster->safety_margin, std::chrono::milliseconds(300));
    std::size_t failovers = 0;
    for (const auto& st : s.steps) {
        if (st.action == StepAction::Failover) {
            ++failovers;
            EXPECT_TRUE(st.who.empty());
            EXPECT_EQ(st.timeout, std::chrono::seconds(10));
            EXPECT_EQ(toString(st.action), "failover");
        }
    }
    EXPECT_EQ(failovers, 1u);
    // Without a cluster section a scenario has none (the single-iwfd plan).
    EXPECT_FALSE(loadScenario(std::string(IWF_SCENARIO_DIR) + "/01_p25_encrypted_group_call.yaml")
                     .cluster.has_value());
}

TEST(HarnessScenarioCluster, InconsistentSectionsNameLineAndField) {
    const std::string cluster = "cluster: { instances: [a, b] }\n";
    const std::string failover = "  - { at: 0ms, action: failover }\n";
    // A failover needs a cluster.
    auto e = clusterError(std::string(kHead) + "steps:\n" + failover);
    EXPECT_EQ(e.first.find("action") != std::string::npos, true) << e.first;
    EXPECT_EQ(e.second, 6);
    // One failover per run.
    e = clusterError(std::string(kHead) + cluster + "steps:\n" + failover + failover);
    EXPECT_NE(e.first.find("action"), std::string::npos) << e.first;
    EXPECT_EQ(e.second, 8);
    // Exactly two distinct instances, names fit for iwfd's `instance`.
    for (const char* bad : {"[a]", "[a, a]", "[a, b, c]", "[a, \"b c\"]"}) {
        e = clusterError(std::string(kHead) + "cluster: { instances: " + bad + " }\nsteps:\n" +
                         failover);
        EXPECT_NE(e.first.find("instances"), std::string::npos) << bad << ": " << e.first;
        EXPECT_EQ(e.second, 5) << bad;
    }
    // The lease must leave two renewals before the local deadline (iwfd's own rule).
    e = clusterError(std::string(kHead) +
                     "cluster: { instances: [a, b], renew_period: 500ms, lease_expiry: 1s }\n"
                     "steps:\n" +
                     failover);
    EXPECT_NE(e.first.find("lease_expiry"), std::string::npos) << e.first;
    // Unknown keys are refused.
    e = clusterError(std::string(kHead) + "cluster: { instances: [a, b], nodes: 2 }\nsteps:\n" +
                     failover);
    EXPECT_NE(e.first.find("nodes"), std::string::npos) << e.first;
    // The well-formed one parses.
    e = clusterError(std::string(kHead) + cluster + "steps:\n" + failover);
    EXPECT_EQ(e.first, "");
}
