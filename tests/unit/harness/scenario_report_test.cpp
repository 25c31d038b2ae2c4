// Scenario files parse and cross-check; errors name file, line and field. Reports render to
// standalone HTML with the opacity table, a timeline and a latency histogram.
#include <filesystem>

#include <gtest/gtest.h>

#include "harness/report/report.hpp"
#include "harness/runner/analog_run.hpp"
#include "harness/scenario/scenario.hpp"

using namespace iwf;
using namespace iwf::harness;

TEST(HarnessScenario, AllCommittedScenariosParse) {
    std::size_t n = 0;
    std::size_t analog = 0;
    for (const auto& e : std::filesystem::directory_iterator(IWF_SCENARIO_DIR)) {
        if (e.path().extension() != ".yaml") {
            continue;
        }
        if (isAnalogScenario(e.path().string())) {
            ++analog;  // its own format and plan (harness/runner/analog_run.hpp)
            continue;
        }
        Scenario s;
        ASSERT_NO_THROW(s = loadScenario(e.path().string())) << e.path();
        EXPECT_FALSE(s.steps.empty()) << e.path();
        EXPECT_FALSE(s.groups.empty()) << e.path();
        ++n;
    }
    // 01-10, 11_mc_conformance, 12_mmdvm_encrypted_into_secure_group, 13_failover,
    // 14_srtp_encrypted_calls, 15_srtp_wrong_gmk, 15_srtp_gmk_rollover
    EXPECT_EQ(n, 16u);
    // 16_analog_quality_{usrp_1265, rtp_1265_loss3, rtp_2385, usrp_2385_loss3}
    EXPECT_EQ(analog, 4u);
}

TEST(HarnessScenario, KeysAndExpectationsAreRead) {
    auto s = loadScenario(std::string(IWF_SCENARIO_DIR) + "/03_clear_into_secure_refused.yaml");
    ASSERT_EQ(s.keys.size(), 1u);
    EXPECT_EQ(s.keys[0].key_id, 0x0101u);
    EXPECT_EQ(s.keys[0].algid, 0x84);
    ASSERT_EQ(s.steps.size(), 1u);
    EXPECT_FALSE(s.steps[0].encrypted);
    EXPECT_EQ(s.steps[0].expect.outcome, "denied");
    EXPECT_EQ(s.steps[0].expect.reason, "clear");
    auto l = loadScenario(std::string(IWF_SCENARIO_DIR) + "/06_lmr_loss.yaml");
    EXPECT_DOUBLE_EQ(l.steps[0].loss, 0.01);
}

TEST(HarnessScenario, BadReferenceNamesFileLineAndField) {
    const std::string text = R"(scenario: bad
keys:
  - { name: k, family: p25, algid: 0x84, key_id: 1, key: 00 }
groups: []
radios: []
clients: []
steps: []
)";
    try {
        parseScenario(ConfigNode::loadString(text, "bad.yaml"));
        FAIL() << "short key accepted";
    } catch (const ConfigError& e) {
        EXPECT_EQ(e.file(), "bad.yaml");
        EXPECT_EQ(e.line(), 3);
        EXPECT_NE(e.field().find("key"), std::string::npos);
    }
    const std::string text2 = R"(scenario: bad
groups:
  - { mc_group: "sip:g@x", family: p25, lmr_group: 1, mode: secure, key: nokey }
radios: []
clients: []
steps: []
)";
    EXPECT_THROW(parseScenario(ConfigNode::loadString(text2, "bad2.yaml")), ConfigError);
}

// docs/harness.md "SRTP": the GMK steps of scenario 15 are read as written; a gmk step for a
// group that is not `required`, or a GMK-ID with a purpose tag, is refused naming its field.
TEST(HarnessScenario, GmkStepsAreReadAndChecked) {
    auto s = loadScenario(std::string(IWF_SCENARIO_DIR) + "/15_srtp_gmk_rollover.yaml");
    ASSERT_TRUE(s.media_protection);
    ASSERT_EQ(s.media_protection->gmks.size(), 2u);
    EXPECT_EQ(s.media_protection->gmks[1].gmk_id, 0x0aa00001u);
    EXPECT_EQ(s.media_protection->gmks[1].key.size(), 16u);
    ASSERT_EQ(s.steps.size(), 4u);
    EXPECT_EQ(s.steps[0].action, StepAction::Gmk);
    EXPECT_EQ(s.steps[0].mc_keys, std::vector<std::string>{"gmk-1"});
    EXPECT_EQ(s.steps[2].mc_keys, (std::vector<std::string>{"gmk-1", "gmk-2"}));
    EXPECT_EQ(s.steps[2].activation, std::chrono::seconds(2));
    const std::string head = R"(scenario: bad
keys: [{ name: k, family: p25, algid: 0x84, key_id: 1, key: ecead7409a18473e182f8f16f46e23d0ba3d0385e2c670a0a1799166ad49624d }]
groups:
  - { mc_group: "sip:g@x", family: p25, lmr_group: 1, mode: secure, key: k }
  - { mc_group: "sip:h@x", family: p25, lmr_group: 2, mode: secure, key: k }
radios: []
clients: []
media_protection:
  required: ["sip:g@x"]
  gmks: [{ name: m, key: 788e8a89425ad484201865488b575143, gmk_id: )";
    auto fieldOf = [&](const std::string& gmk_id, const std::string& step) -> std::string {
        try {
            parseScenario(ConfigNode::loadString(head + gmk_id + " }]\nsteps:\n" + step, "s.yaml"));
        } catch (const ConfigError& e) {
            return e.field();
        }
        return "accepted";
    };
    EXPECT_EQ(fieldOf("0x0df9bc39", "  - { at: 0ms, action: gmk, group: \"sip:g@x\", key: m }\n"),
              "accepted");
    EXPECT_NE(fieldOf("0x0df9bc39", "  - { at: 0ms, action: gmk, group: \"sip:h@x\", key: m }\n")
                  .find("group"),
              std::string::npos);
    EXPECT_NE(fieldOf("0x1df9bc39", "  - { at: 0ms, action: gmk, group: \"sip:g@x\", key: m }\n")
                  .find("gmk_id"),
              std::string::npos);
    EXPECT_NE(fieldOf("0x0df9bc39",
                      "  - { at: 0ms, action: gmk, group: \"sip:g@x\", key: m, mc_keys: [x] }\n")
                  .find("mc_keys"),
              std::string::npos);
}

TEST(HarnessScenario, WaitForAndAfterAreReadAndChecked) {
    auto s = loadScenario(std::string(IWF_SCENARIO_DIR) + "/10_keymap_change_mid_call.yaml");
    ASSERT_EQ(s.steps.size(), 5u);
    EXPECT_EQ(s.steps[2].action, StepAction::WaitFor);
    EXPECT_EQ(s.steps[2].metric, "iwf_engine_calls");
    EXPECT_EQ(s.steps[2].at_most, 0.0);
    EXPECT_FALSE(s.steps[2].at_least.has_value());
    EXPECT_EQ(s.steps[2].timeout, std::chrono::seconds(10));
    EXPECT_EQ(s.steps[2].after, std::optional<std::size_t>(0));
    EXPECT_EQ(s.steps[4].after, std::optional<std::size_t>(3));
    EXPECT_EQ(s.steps[4].at, std::chrono::milliseconds(2200));
    EXPECT_FALSE(s.steps[0].after.has_value());

    const std::string head = R"(scenario: bad
groups: []
radios: []
clients: []
steps:
  - { at: 0ms, action: wait_for, metric: iwf_engine_calls, at_least: 1 }
)";
    // `after` must name an earlier step; wait_for needs a bound.
    const std::pair<std::string, std::string> bad[] = {
        {"  - { after: 1, action: wait_for, metric: m, at_least: 1 }\n", "after"},
        {"  - { after: 0, action: wait_for, metric: m }\n", "at_least"},
        {"  - { after: 0, action: wait_for, at_most: 0 }\n", "metric"},
    };
    for (const auto& [line, field] : bad) {
        try {
            parseScenario(ConfigNode::loadString(head + line, "bad.yaml"));
            ADD_FAILURE() << "accepted: " << line;
        } catch (const ConfigError& e) {
            EXPECT_EQ(e.line(), 7) << line;
            EXPECT_NE(e.field().find(field), std::string::npos) << e.what();
        }
    }
    EXPECT_NO_THROW(parseScenario(ConfigNode::loadString(
        head + "  - { after: 0, at: 1s, action: wait_for, metric: m, at_most: 0 }\n", "ok.yaml")));
}

TEST(HarnessReport, PercentilesAreNearestRank) {
    std::vector<double> v;
    for (int i = 1; i <= 100; ++i) {
        v.push_back(i);
    }
    auto s = summarize(v);
    EXPECT_EQ(s.count, 100u);
    EXPECT_DOUBLE_EQ(s.p50_us, 50);
    EXPECT_DOUBLE_EQ(s.p99_us, 99);
    EXPECT_DOUBLE_EQ(s.max_us, 100);
    EXPECT_EQ(summarize({}).count, 0u);
}

TEST(HarnessReport, HtmlIsStandaloneAndShowsOpacityAndLatency) {
    nlohmann::json r;
    r["scenario"] = "demo <x>";
    r["result"] = "fail";
    r["failures"] = {"alice received 0 of 180 frames"};
    r["scanner_self_test"] = "ok";
    r["needles"] = 181;
    r["opacity"] = {{{"source", "iwfd memory"},
                     {"bytes", 1000},
                     {"canary_hits", 0},
                     {"key_hits", 0},
                     {"found", nlohmann::json::array()}}};
    r["calls"] = {{{"who", "radio-1"},
                   {"action", "talk"},
                   {"start_ms", 0},
                   {"end_ms", 400},
                   {"pass", false},
                   {"receivers",
                    {{"alice", {{"expected", 180}, {"received", 3}, {"decrypted_ok", 2}}},
                     {"bob", {{"expected", 180}, {"received", 0}, {"decrypted_ok", 0}}}}},
                   {"events", {{{"t_ms", 10}, {"what", "first frame"}}}}}};
    r["latency_us"] = {100.0, 120.0, 130.0, 900.0};
    const std::string html = renderHtml(r);
    EXPECT_NE(html.find("demo &lt;x&gt;"), std::string::npos);
    EXPECT_NE(html.find("alice received 0 of 180 frames"), std::string::npos);
    EXPECT_NE(html.find("iwfd memory"), std::string::npos);
    EXPECT_NE(html.find("aria-label='call timeline'"), std::string::npos);
    EXPECT_NE(html.find("aria-label='latency histogram'"), std::string::npos);
    EXPECT_NE(html.find("p99 900"), std::string::npos);
    EXPECT_NE(html.find("alice: 2.000/3.000/180.0"), std::string::npos);
    EXPECT_NE(html.find("bob: 0.000/0.000/180.0"), std::string::npos);
    EXPECT_EQ(html.find("Run steps"), std::string::npos);  // no steps in this report

    // The run's steps, the time line's scenario steps under it, failures named.
    r["steps"] = {{{"name", "setup: iwfd"}, {"result", "pass"}, {"notes", {"up after 20 ms"}}},
                  {{"name", "timeline"},
                   {"result", "pass"},
                   {"steps",
                    {{{"name", "step 1 (wait_for)"},
                      {"result", "fail"},
                      {"failures", {"m >= 1 not reached <soon>"}}}}}}};
    const std::string with_steps = renderHtml(r);
    EXPECT_NE(with_steps.find("Run steps"), std::string::npos);
    EXPECT_NE(with_steps.find("setup: iwfd"), std::string::npos);
    EXPECT_NE(with_steps.find("up after 20 ms"), std::string::npos);
    EXPECT_NE(with_steps.find("&#8627; step 1 (wait_for)"), std::string::npos);
    EXPECT_NE(with_steps.find("m &gt;= 1 not reached &lt;soon&gt;"), std::string::npos);
    // No external assets.
    EXPECT_EQ(html.find("src="), std::string::npos);
    EXPECT_EQ(html.find("<link"), std::string::npos);
    EXPECT_EQ(html.find("<script"), std::string::npos);
}
