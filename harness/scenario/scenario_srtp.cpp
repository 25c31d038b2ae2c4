// The `media_protection` section of a scenario and its `gmk` steps (docs/harness.md "SRTP"):
// which groups iwfd must protect with TS 33.180 SRTP, and the GMKs the GMS hands out.
#include "harness/scenario/scenario.hpp"

namespace iwf::harness {

const ScenarioGmk* ScenarioMediaProtection::gmk(const std::string& n) const {
    for (const auto& g : gmks) {
        if (g.name == n) {
            return &g;
        }
    }
    return nullptr;
}

std::optional<ScenarioMediaProtection> parseScenarioMediaProtection(const ConfigNode& root,
                                                                    const Scenario& s) {
    auto n = root.optionalChild("media_protection");
    if (!n) {
        return std::nullopt;
    }
    n->expectKeys({"required", "gmks"});
    ScenarioMediaProtection mp;
    for (const auto& g : n->list("required")) {
        mp.required.push_back(g.asString());
        if (s.group(mp.required.back()) == nullptr) {
            n->fail("required", "unknown group '" + mp.required.back() + "'");
        }
    }
    for (const auto& k : n->list("gmks")) {
        k.expectKeys({"name", "key", "gmk_id"});
        ScenarioGmk g;
        g.name = k.getString("name");
        // 33.180 §5.2.2: the top four bits of a GMK-ID are its purpose tag, 0.
        g.gmk_id = static_cast<std::uint32_t>(k.getInt("gmk_id", 1, 0x0FFFFFFF));
        auto bytes = fromHex(k.getString("key"));
        if (!bytes.ok() || bytes->size() != 16) {
            k.fail("key", "must be 32 hex digits (a 128-bit GMK)");
        }
        g.key = std::move(*bytes);
        if (mp.gmk(g.name) != nullptr) {
            k.fail("name", "duplicate GMK name '" + g.name + "'");
        }
        mp.gmks.push_back(std::move(g));
    }
    return mp;
}

void parseGmkStep(const ConfigNode& st, const Scenario& s, ScenarioStep& step) {
    if (!s.media_protection) {
        st.fail("action", "gmk needs a `media_protection` section");
    }
    const auto& mp = *s.media_protection;
    bool required = false;
    for (const auto& g : mp.required) {
        required = required || g == step.group;
    }
    if (!required) {
        st.fail("group", "a gmk step needs a group listed in media_protection.required");
    }
    if (mp.gmk(step.key) == nullptr) {
        st.fail("key", "unknown GMK '" + step.key + "' (media_protection.gmks)");
    }
    for (const auto& item : st.optionalList("mc_keys")) {
        step.mc_keys.push_back(item.asString());
        if (mp.gmk(step.mc_keys.back()) == nullptr) {
            st.fail("mc_keys", "unknown GMK '" + step.mc_keys.back() + "'");
        }
    }
    if (step.mc_keys.empty()) {
        step.mc_keys.push_back(step.key);
    }
    step.activation = st.getDuration("activation", std::chrono::milliseconds(0));
}

}  // namespace iwf::harness
