// GET /v1/links, /v1/peers and /v1/refusals of the real iwfd (gateway/daemon/ops_routes.cpp,
// docs/operations.md): what an operator asks first - is the link up, who is linked, why was
// that call refused. The radios and the repeater are the test's own UDP sockets; the counters
// the answers must agree with come from /metrics.
#include <regex>
#include <set>

#include "ops_env.hpp"

namespace iwf::test::ops {
namespace {

const nlohmann::json* linkNamed(const nlohmann::json& links, const std::string& id) {
    for (const auto& l : links["links"]) {
        if (l["id"] == id) {
            return &l;
        }
    }
    return nullptr;
}

TEST_F(OpsEnv, LinksAndPeersShowTheLinkedRadioTheRepeaterAndTheMcPeer) {
    ASSERT_NO_FATAL_FAILURE(start(config()));
    auto links = getJson(iwfd.adminPort(), "/v1/links");
    ASSERT_EQ(links["links"].size(), 3u) << links.dump(2);
    const auto* p25 = linkNamed(links, "p25");
    ASSERT_NE(p25, nullptr);
    EXPECT_EQ((*p25)["type"], "p25-records");
    EXPECT_EQ((*p25)["side"], "lmr");
    EXPECT_EQ((*p25)["state"], "running");
    EXPECT_EQ((*p25)["local"], "127.0.0.1:" + std::to_string(p25_port));
    EXPECT_TRUE((*p25)["peers"].empty()) << "nobody linked yet";
    const auto* mc = linkNamed(links, "mc");
    ASSERT_NE(mc, nullptr);
    EXPECT_EQ((*mc)["side"], "mc");
    EXPECT_EQ((*mc)["local"], "127.0.0.1:" + std::to_string(sip_port));
    ASSERT_EQ((*mc)["peers"].size(), 1u);
    EXPECT_EQ((*mc)["peers"][0]["id"], "mc-core");
    EXPECT_EQ((*mc)["peers"][0]["address"], "127.0.0.1:" + std::to_string(mc_port));
    EXPECT_EQ((*mc)["peers"][0]["state"], "configured") << "it has sent nothing";
    EXPECT_TRUE((*mc)["peers"][0]["last_seen_s"].is_null());

    lmr::p25::test::UdpPeer radio;
    ASSERT_NO_FATAL_FAILURE(link(radio, "RADIO1"));
    HbpRawPeer repeater;
    ASSERT_TRUE(repeater.login(hbp_port, 3100001, "ops-test")) << iwfd.log();

    auto peers = getJson(iwfd.adminPort(), "/v1/peers");
    std::map<std::string, nlohmann::json> by_link;
    for (const auto& p : peers["peers"]) {
        by_link[p["link"].get<std::string>() + "/" + p["id"].get<std::string>()] = p;
    }
    ASSERT_TRUE(by_link.count("p25/RADIO1")) << peers.dump(2);
    const auto& r = by_link["p25/RADIO1"];
    EXPECT_EQ(r["address"], "127.0.0.1:" + std::to_string(radio.port()));
    EXPECT_EQ(r["state"], "linked");
    EXPECT_TRUE(r["last_seen_s"].is_number());
    EXPECT_GE(r["last_seen_s"].get<double>(), 0.0);
    ASSERT_TRUE(by_link.count("dmr/3100001")) << peers.dump(2);
    EXPECT_EQ(by_link["dmr/3100001"]["state"], "logged_in");
    EXPECT_EQ(by_link["dmr/3100001"]["address"],
              "127.0.0.1:" + std::to_string(repeater.localPort()));
    ASSERT_TRUE(by_link.count("mc/mc-core"));
    EXPECT_EQ(peers["peers"].size(), 3u) << peers.dump(2);

    // /v1/links shows the same peers under their link.
    links = getJson(iwfd.adminPort(), "/v1/links");
    ASSERT_EQ((*linkNamed(links, "p25"))["peers"].size(), 1u);
    ASSERT_EQ((*linkNamed(links, "dmr"))["peers"].size(), 1u);
}

TEST_F(OpsEnv, RefusalsSayWhyNewestFirstAndAgreeWithTheCounters) {
    ASSERT_NO_FATAL_FAILURE(start(config()));
    EXPECT_EQ(getJson(iwfd.adminPort(), "/v1/refusals")["refusals"].size(), 0u);
    lmr::p25::test::UdpPeer radio;
    ASSERT_NO_FATAL_FAILURE(link(radio, "RADIO1"));
    // A clear transmission in TG 100, a secure group (configs/keymap.example.yaml: "a clear
    // transmission is refused"), then one to TG 4242, which no group maps.
    transmit(radio, 1001, 100);
    ASSERT_TRUE(waitFor([&] { return refusalCount() >= 1; }, 10s)) << iwfd.log();
    transmit(radio, 1002, 4242);
    ASSERT_TRUE(waitFor([&] { return refusalCount() >= 2; }, 10s)) << iwfd.log();

    auto j = getJson(iwfd.adminPort(), "/v1/refusals");
    ASSERT_EQ(j["refusals"].size(), 2u) << j.dump(2);
    EXPECT_EQ(j["total"], 2);
    const auto& newest = j["refusals"][0];
    const auto& older = j["refusals"][1];
    EXPECT_EQ(newest["reason"], "unknown_group");
    EXPECT_EQ(newest["link"], "p25");
    EXPECT_TRUE(newest["call"].is_null()) << "no call was opened for it";
    EXPECT_EQ(newest["group"], "p25:group:BEE00.001.1092");    // 4242 = 0x1092
    EXPECT_EQ(newest["source"], "p25:unit:BEE00.001.0003EA");  // 1002 = 0x3EA
    EXPECT_EQ(newest["cause"], 255);  // TS 24.380 Floor Deny cause: other reason

    EXPECT_EQ(older["reason"], "clear_in_secure_group");
    EXPECT_TRUE(older["call"].is_string()) << "refused within the group's call";
    EXPECT_EQ(older["group"], "p25:group:BEE00.001.0064");  // 100
    EXPECT_EQ(older["source"], "p25:unit:BEE00.001.0003E9");
    EXPECT_EQ(older["cause"], 255);
    const std::regex iso(R"(^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$)");
    for (const auto& r : j["refusals"]) {
        EXPECT_TRUE(std::regex_match(r["time"].get<std::string>(), iso)) << r.dump();
    }
    EXPECT_GE(newest["time"].get<std::string>(), older["time"].get<std::string>());

    // The log and the counter the alert rules read say the same.
    const std::string metrics = httpGet(iwfd.adminPort(), "/metrics").body;
    EXPECT_EQ(
        prometheusValue(metrics, R"(iwf_engine_refusals_total{link="p25",reason="unknown_group"})"),
        std::optional<double>(1.0));
    EXPECT_EQ(
        prometheusValue(metrics,
                        R"(iwf_engine_refusals_total{link="p25",reason="clear_in_secure_group"})"),
        std::optional<double>(1.0));
    // /v1/links counts them on the link.
    auto links = getJson(iwfd.adminPort(), "/v1/links");
    EXPECT_EQ((*linkNamed(links, "p25"))["counters"]["refusals"], 2);
}

TEST_F(OpsEnv, WorkersEachKeepTheirRefusalsAndTheAnswerMergesThem) {
    // p25-records alone: each of the 2 workers runs an instance, owns the calls of the radios
    // the kernel gave it (SO_REUSEPORT) and keeps its own refusal log; /v1/refusals and
    // /v1/peers merge the shards (the radios land on one shard or both).
    ASSERT_NO_FATAL_FAILURE(start(config(2, false)));
    std::vector<std::unique_ptr<lmr::p25::test::UdpPeer>> radios;
    for (int i = 0; i < 4; ++i) {
        radios.push_back(std::make_unique<lmr::p25::test::UdpPeer>());
        ASSERT_NO_FATAL_FAILURE(link(*radios.back(), "R" + std::to_string(i)));
    }
    auto peers = getJson(iwfd.adminPort(), "/v1/peers");
    std::set<std::string> ids;
    for (const auto& p : peers["peers"]) {
        ids.insert(p["id"].get<std::string>());
    }
    EXPECT_EQ(ids, (std::set<std::string>{"R0", "R1", "R2", "R3"})) << peers.dump(2);

    for (int i = 0; i < 4; ++i) {
        transmit(*radios[static_cast<std::size_t>(i)], 2000 + i, 5000 + i);
    }
    ASSERT_TRUE(waitFor([&] { return refusalCount() >= 4; }, 15s)) << iwfd.log();
    auto j = getJson(iwfd.adminPort(), "/v1/refusals");
    EXPECT_EQ(j["total"], 4);
    std::set<std::string> groups;
    for (const auto& r : j["refusals"]) {
        EXPECT_EQ(r["reason"], "unknown_group");
        groups.insert(r["group"].get<std::string>());
    }
    EXPECT_EQ(groups.size(), 4u) << j.dump(2);
    EXPECT_FALSE(j.contains("shards_unavailable"));
}

}  // namespace
}  // namespace iwf::test::ops
