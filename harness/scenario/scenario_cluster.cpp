// The `cluster` section of a scenario (docs/harness.md "Failover"): the two iwfd instances
// and the lease timings they are given.
#include <cctype>

#include "harness/scenario/scenario.hpp"

namespace iwf::harness {

std::optional<ScenarioCluster> parseScenarioCluster(const ConfigNode& root) {
    auto n = root.optionalChild("cluster");
    if (!n) {
        return std::nullopt;
    }
    n->expectKeys({"instances", "renew_period", "lease_expiry", "safety_margin"});
    ScenarioCluster c;
    for (const auto& i : n->list("instances")) {
        c.instances.push_back(i.asString());
    }
    if (c.instances.size() != 2 || c.instances[0] == c.instances[1] || c.instances[0].empty() ||
        c.instances[1].empty()) {
        n->fail("instances", "exactly two distinct instance names (the first starts active)");
    }
    for (const auto& name : c.instances) {
        for (const char ch : name) {
            if (std::isalnum(static_cast<unsigned char>(ch)) == 0 && ch != '-' && ch != '_') {
                n->fail("instances", "'" + name + "': letters, digits, '-' and '_' only");
            }
        }
    }
    c.renew_period = n->getDuration("renew_period", c.renew_period);
    c.lease_expiry = n->getDuration("lease_expiry", c.lease_expiry);
    c.safety_margin = n->getDuration("safety_margin", c.safety_margin);
    // iwfd checks the same (gateway/config): two tries to renew before the local deadline.
    if (c.safety_margin.count() <= 0 || c.lease_expiry - c.safety_margin < 2 * c.renew_period) {
        n->fail("lease_expiry", "must be at least safety_margin + 2 x renew_period");
    }
    return c;
}

}  // namespace iwf::harness
