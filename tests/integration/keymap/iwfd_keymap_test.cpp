// The real iwfd picks up a new keymap revision without a restart (SQLite polling and
// PostgreSQL LISTEN/NOTIFY), shows it on /metrics and /v1/status, and keeps the old snapshot
// when a load fails.
#include <sys/stat.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/loopback_port.hpp"
#include "keymap_env.hpp"
#include "tests/integration/support/iwfd_process.hpp"

namespace iwf::keymap {
namespace {

using iwf::test::httpGet;
using iwf::test::prometheusValue;
using iwf::test::runCommand;
using iwf::test::waitFor;

class IwfdKeymap : public ::testing::TestWithParam<std::string> {
  protected:
    void SetUp() override {
        store_ = GetParam() == "sqlite" ? "sqlite:" + dir_.file("keymap.db")
                                        : test::freshPostgresDatabase();
        ASSERT_FALSE(store_.empty());
    }
    int import(const std::string& file) {
        auto r = runCommand({IWFCTL_BIN, "keymap", "--store", store_, "import", file});
        EXPECT_EQ(r.exit_code, 0) << r.err;
        return r.exit_code;
    }
    double metric(const std::string& series) {
        auto r = httpGet(iwfd_.adminPort(), "/metrics");
        if (r.status != 200) {
            return -1;
        }
        return prometheusValue(r.body, series).value_or(-1);
    }

    iwf::test::TempDir dir_;
    std::string store_;
    iwf::test::IwfdProcess iwfd_;
};

TEST_P(IwfdKeymap, PicksUpANewRevisionWithoutRestart) {
    ASSERT_EQ(import(test::examplePath()), 0);
    // PostgreSQL: a long poll interval, so only NOTIFY can explain a prompt pickup.
    std::string poll = GetParam() == "sqlite" ? "100ms" : "60s";
    ASSERT_TRUE(iwfd_.start(dir_, "instance: km\nkeymap:\n  store: \"" + store_ +
                                      "\"\n  poll_interval: " + poll + "\n"))
        << iwfd_.log();
    // The first revision is loaded at start.
    ASSERT_TRUE(
        waitFor([&] { return metric("iwf_keymap_revision") == 1; }, std::chrono::seconds(10)))
        << iwfd_.log();
    EXPECT_EQ(metric("iwf_keymap_users"), 20);
    EXPECT_EQ(metric("iwf_keymap_groups"), 5);
    const pid_t pid = iwfd_.pid();

    std::string v2 =
        dir_.write("v2.yaml", test::edit(test::exampleText(), "mode: mixed", "mode: secure"));
    ASSERT_EQ(import(v2), 0);
    ASSERT_TRUE(
        waitFor([&] { return metric("iwf_keymap_revision") == 2; }, std::chrono::seconds(15)))
        << iwfd_.log();
    EXPECT_EQ(iwfd_.pid(), pid);
    EXPECT_TRUE(iwfd_.running());
    EXPECT_EQ(metric("iwf_keymap_loads_total"), 2);

    auto st = httpGet(iwfd_.adminPort(), "/v1/status");
    ASSERT_EQ(st.status, 200);
    nlohmann::json j = nlohmann::json::parse(st.body);
    EXPECT_EQ(j["keymap"]["revision"], 2);
    EXPECT_EQ(j["keymap"]["groups"], 5);
    EXPECT_EQ(j["keymap"]["load_failures"], 0);

    // A rollback is a new revision too.
    auto rb = runCommand({IWFCTL_BIN, "keymap", "--store", store_, "rollback", "1"});
    ASSERT_EQ(rb.exit_code, 0) << rb.err;
    ASSERT_TRUE(
        waitFor([&] { return metric("iwf_keymap_revision") == 3; }, std::chrono::seconds(15)))
        << iwfd_.log();

    iwfd_.signal(SIGTERM);
    EXPECT_EQ(iwfd_.waitExit(std::chrono::seconds(5)), std::optional<int>(0)) << iwfd_.log();
}

INSTANTIATE_TEST_SUITE_P(Backends, IwfdKeymap, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& param_info) { return param_info.param; });

// A store that cannot be read: iwfd keeps running with no snapshot and counts the failures;
// once the store works, the revision is loaded.
TEST(IwfdKeymapFailure, FailedLoadsAreCountedAndRecovered) {
    iwf::test::TempDir dir;
    std::string db = dir.file("sub/keymap.db");  // directory does not exist yet
    iwf::test::IwfdProcess iwfd;
    ASSERT_TRUE(iwfd.start(
        dir, "instance: km\nkeymap:\n  store: \"sqlite:" + db + "\"\n  poll_interval: 100ms\n"))
        << iwfd.log();
    auto failures = [&] {
        auto r = httpGet(iwfd.adminPort(), "/metrics");
        return prometheusValue(r.body, "iwf_keymap_load_failures_total").value_or(0);
    };
    ASSERT_TRUE(waitFor([&] { return failures() >= 2; }, std::chrono::seconds(10)));
    auto st = httpGet(iwfd.adminPort(), "/v1/status");
    nlohmann::json j = nlohmann::json::parse(st.body);
    EXPECT_EQ(j["keymap"]["revision"], 0);
    EXPECT_TRUE(j["keymap"].contains("last_error"));

    ASSERT_EQ(::mkdir(dir.file("sub").c_str(), 0700), 0);
    auto r = runCommand(
        {IWFCTL_BIN, "keymap", "--store", "sqlite:" + db, "import", test::examplePath()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ASSERT_TRUE(waitFor(
        [&] {
            auto m = httpGet(iwfd.adminPort(), "/metrics");
            return prometheusValue(m.body, "iwf_keymap_revision").value_or(0) == 1;
        },
        std::chrono::seconds(10)))
        << iwfd.log();
    iwfd.signal(SIGTERM);
    EXPECT_EQ(iwfd.waitExit(std::chrono::seconds(5)), std::optional<int>(0));
}

// Readiness follows the keymap: /healthz is 503 "not ready" while no revision is loaded (the
// store unreachable: a PostgreSQL server that is not there, an SQLite file in a missing
// folder) and 200 once one is; /livez is 200 all along (issue #21: /healthz said OK with
// PostgreSQL unreachable at start).
TEST(IwfdHealth, NotReadyUntilAKeymapRevisionIsLoaded) {
    iwf::test::TempDir dir;
    {
        // Nothing listens on this port: a free port below the ephemeral range.
        iwf::test::IwfdProcess pg;
        const std::string url =
            "postgresql://iwf@127.0.0.1:" + std::to_string(pickLoopbackPort(PortProtocol::Tcp)) +
            "/keymap";
        ASSERT_TRUE(pg.start(
            dir, "instance: km\nkeymap:\n  store: \"" + url + "\"\n  poll_interval: 100ms\n"))
            << pg.log();
        ASSERT_TRUE(waitFor(
            [&] {
                auto m = httpGet(pg.adminPort(), "/metrics");
                return prometheusValue(m.body, "iwf_keymap_load_failures_total").value_or(0) >= 2;
            },
            std::chrono::seconds(10)))
            << pg.log();
        auto h = httpGet(pg.adminPort(), "/healthz");
        EXPECT_EQ(h.status, 503) << h.body;
        EXPECT_NE(h.body.find("not ready: no keymap revision loaded"), std::string::npos) << h.body;
        EXPECT_EQ(httpGet(pg.adminPort(), "/livez").status, 200);
        auto st = nlohmann::json::parse(httpGet(pg.adminPort(), "/v1/status").body);
        EXPECT_EQ(st["ready"], false);
        pg.signal(SIGTERM);
        EXPECT_EQ(pg.waitExit(std::chrono::seconds(5)), std::optional<int>(0));
    }
    std::string db = dir.file("sub/keymap.db");  // folder missing: every load fails
    iwf::test::IwfdProcess iwfd;
    ASSERT_TRUE(iwfd.start(
        dir, "instance: km\nkeymap:\n  store: \"sqlite:" + db + "\"\n  poll_interval: 100ms\n"))
        << iwfd.log();
    EXPECT_EQ(httpGet(iwfd.adminPort(), "/healthz").status, 503);
    EXPECT_EQ(httpGet(iwfd.adminPort(), "/livez").status, 200);
    ASSERT_EQ(::mkdir(dir.file("sub").c_str(), 0700), 0);
    auto r = runCommand(
        {IWFCTL_BIN, "keymap", "--store", "sqlite:" + db, "import", test::examplePath()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ASSERT_TRUE(waitFor([&] { return httpGet(iwfd.adminPort(), "/healthz").status == 200; },
                        std::chrono::seconds(10)))
        << iwfd.log();
    EXPECT_EQ(httpGet(iwfd.adminPort(), "/healthz").body, "OK\n");
    auto st = nlohmann::json::parse(httpGet(iwfd.adminPort(), "/v1/status").body);
    EXPECT_EQ(st["ready"], true);
    EXPECT_EQ(st["keymap"]["revision"], 1);
    iwfd.signal(SIGTERM);
    EXPECT_EQ(iwfd.waitExit(std::chrono::seconds(5)), std::optional<int>(0));
}

}  // namespace
}  // namespace iwf::keymap
