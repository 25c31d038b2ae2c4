// The real iwfd binary: admin API, config validation, signals.
#include <arpa/inet.h>
#include <cstring>
#include <fstream>
#include <iterator>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/integration/support/iwfd_process.hpp"

namespace iwf::test {
namespace {

const char* kBase = "instance: itest\nlog:\n  level: info\n";

TEST(IwfdDaemon, HealthzAndStatusAnswer) {
    TempDir dir;
    IwfdProcess iwfd;
    ASSERT_TRUE(iwfd.start(dir, kBase)) << iwfd.log();
    // Alive, but not ready: this config names no keymap store (IwfdHealth in
    // tests/integration/keymap covers readiness with a keymap).
    HttpResult l = httpGet(iwfd.adminPort(), "/livez");
    EXPECT_EQ(l.status, 200);
    EXPECT_EQ(l.body, "OK\n");
    HttpResult h = httpGet(iwfd.adminPort(), "/healthz");
    EXPECT_EQ(h.status, 503);
    EXPECT_EQ(h.body, "not ready: no keymap store configured (keymap.store)\n");
    HttpResult s = httpGet(iwfd.adminPort(), "/v1/status");
    ASSERT_EQ(s.status, 200);
    auto j = nlohmann::json::parse(s.body);
    EXPECT_EQ(j["instance"], "itest");
    EXPECT_EQ(j["config"]["revision"], 1);
    EXPECT_EQ(httpGet(iwfd.adminPort(), "/nope").status, 404);
    iwfd.signal(SIGTERM);
    EXPECT_EQ(iwfd.waitExit(std::chrono::seconds(2)), 0);
}

TEST(IwfdDaemon, MetricsIsValidPrometheusText) {
    TempDir dir;
    IwfdProcess iwfd;
    ASSERT_TRUE(iwfd.start(dir, kBase)) << iwfd.log();
    HttpResult m = httpGet(iwfd.adminPort(), "/metrics");
    ASSERT_EQ(m.status, 200);
    EXPECT_TRUE(prometheusValue(m.body, "iwf_config_revision").has_value());
    EXPECT_EQ(prometheusValue(m.body, "iwf_build_info{version=\"0.1.0\"}"), 1.0);
    EXPECT_GE(prometheusValue(m.body, "iwf_uptime_seconds").value_or(-1), 0.0);
    // promtool (Prometheus' own parser and linter, from Debian) must accept it as it is.
    std::string path = dir.write("metrics.txt", m.body);
    CommandResult r = runCommand({"/bin/sh", "-c", "promtool check metrics < " + path});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err << "\n--- metrics ---\n" << m.body;
    iwfd.signal(SIGTERM);
    EXPECT_EQ(iwfd.waitExit(std::chrono::seconds(2)), 0);
}

TEST(IwfdDaemon, SigtermDrainsAndExitsZeroWithinTwoSeconds) {
    TempDir dir;
    IwfdProcess iwfd;
    ASSERT_TRUE(iwfd.start(dir, kBase)) << iwfd.log();
    // An open, idle admin connection must not hold the drain up.
    int held = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(iwfd.adminPort());
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(connect(held, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    iwfd.signal(SIGTERM);
    auto code = iwfd.waitExit(std::chrono::seconds(2));
    ASSERT_TRUE(code.has_value()) << "iwfd still running 2 s after SIGTERM\n" << iwfd.log();
    EXPECT_EQ(*code, 0);
    EXPECT_NE(iwfd.log().find("signal=SIGTERM action=drain"), std::string::npos);
    close(held);
}

TEST(IwfdDaemon, SighupAppliesGoodConfigAndKeepsOldOnBrokenOne) {
    TempDir dir;
    IwfdProcess iwfd;
    ASSERT_TRUE(iwfd.start(dir, kBase)) << iwfd.log();
    const std::string cfg = iwfd.configPath();
    std::string original = [&] {
        std::ifstream in(cfg);
        return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    }();
    auto revision = [&] {
        auto m = httpGet(iwfd.adminPort(), "/metrics");
        return prometheusValue(m.body, "iwf_config_revision").value_or(-1);
    };
    ASSERT_EQ(revision(), 1);

    // A good change is applied.
    dir.write("iwfd.yaml", original + "timers:\n  hang: 2s\n");
    iwfd.signal(SIGHUP);
    ASSERT_TRUE(waitFor([&] { return revision() == 2; }, std::chrono::seconds(5))) << iwfd.log();

    // A broken one is refused: still running, still revision 2, failure counted and logged.
    dir.write("iwfd.yaml", original + "timers:\n  hang: [not, a, duration]\n");
    iwfd.signal(SIGHUP);
    ASSERT_TRUE(waitFor(
        [&] {
            auto m = httpGet(iwfd.adminPort(), "/metrics");
            return prometheusValue(m.body, "iwf_config_reload_failures_total").value_or(0) == 1;
        },
        std::chrono::seconds(5)))
        << iwfd.log();
    EXPECT_TRUE(iwfd.running());
    EXPECT_EQ(revision(), 2);
    EXPECT_EQ(httpGet(iwfd.adminPort(), "/livez").status, 200);
    EXPECT_NE(iwfd.log().find("reload=refused"), std::string::npos);
    EXPECT_NE(iwfd.log().find("timers.hang"), std::string::npos);
    iwfd.signal(SIGTERM);
    EXPECT_EQ(iwfd.waitExit(std::chrono::seconds(2)), 0);
}

struct BadConfig {
    const char* name;
    const char* yaml;
    int line;
    const char* field;
};

class IwfdCheckConfig : public ::testing::TestWithParam<BadConfig> {};

TEST_P(IwfdCheckConfig, ExitsTwoNamingFileLineAndField) {
    const BadConfig& bc = GetParam();
    TempDir dir;
    std::string path = dir.write("bad.yaml", bc.yaml);
    CommandResult r = runCommand({IWFD_BIN, "--check-config", "--config", path});
    EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
    std::string expect_loc = path + ":" + std::to_string(bc.line) + ":";
    EXPECT_NE(r.err.find(expect_loc), std::string::npos)
        << "want " << expect_loc << " in: " << r.err;
    EXPECT_NE(r.err.find(std::string("field '") + bc.field + "'"), std::string::npos) << r.err;
}

INSTANTIATE_TEST_SUITE_P(
    Kinds, IwfdCheckConfig,
    ::testing::Values(
        BadConfig{"WrongType", "instance: a\nadmin:\n  port: http\n", 3, "admin.port"},
        BadConfig{"OutOfRange", "admin:\n  address: 127.0.0.1\n  port: 70000\n", 3, "admin.port"},
        BadConfig{"UnknownField", "instance: a\nadmn:\n  port: 1\n", 2, "admn"},
        BadConfig{"BadEnum", "log:\n  level: loud\n", 2, "log.level"},
        BadConfig{"BadAddress", "admin:\n  address: localhost.example\n", 2, "admin.address"},
        BadConfig{"BadDuration", "keymap:\n  store: sqlite:/tmp/k.db\n  poll_interval: soon\n", 3,
                  "keymap.poll_interval"},
        BadConfig{"BadStoreUrl", "keymap:\n  store: mysql://x\n", 2, "keymap.store"},
        BadConfig{"MessageTriesOutOfRange",
                  "messages:\n  store: sqlite:/tmp/m.db\n  max_attempts: 0\n", 3,
                  "messages.max_attempts"},
        BadConfig{"ClusterNeedsInstance", "cluster:\n  store: postgresql://db/iwf\n", 2, "cluster"},
        BadConfig{"ClusterStoreNotPostgres", "instance: a\ncluster:\n  store: sqlite:/tmp/l.db\n",
                  3, "cluster.store"},
        BadConfig{"ClusterExpiryTooShort",
                  "instance: a\ncluster:\n  store: postgresql://db/iwf\n  renew_period: 1s\n"
                  "  lease_expiry: 2s\n",
                  5, "cluster.lease_expiry"},
        BadConfig{"ClusterWithSqliteMessages",
                  "instance: a\nmessages:\n  store: sqlite:/tmp/m.db\ncluster:\n"
                  "  store: postgresql://db/iwf\n",
                  3, "messages.store"},
        BadConfig{"UnknownLinkType", "lmr_links:\n  - name: x\n    type: tetra-isi\n", 3,
                  "lmr_links[0].type"},
        BadConfig{"MapExpected", "log: verbose\n", 1, "log"},
        BadConfig{"UnknownTimer", "timers:\n  hang: 2s\n  T99: 1s\n", 3, "timers.T99"},
        BadConfig{"DuplicateSection", "admin:\n  port: 1\nlog: {}\nadmin:\n  port: 2\n", 4,
                  "admin"},
        BadConfig{"Syntax", "admin:\n  port: [1, 2\n", 3, "(syntax)"}),
    [](const ::testing::TestParamInfo<BadConfig>& p) { return std::string(p.param.name); });

TEST(IwfdCheckConfig, ShippedConfigIsValid) {
    CommandResult r = runCommand({IWFD_BIN, "--check-config", "--config",
                                  std::string(IWF_SOURCE_DIR) + "/configs/iwfd.yaml"});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("configuration OK"), std::string::npos);
}

TEST(IwfdCli, VersionAndHelp) {
    CommandResult v = runCommand({IWFD_BIN, "--version"});
    EXPECT_EQ(v.exit_code, 0);
    EXPECT_EQ(v.out, "iwfd 0.1.0\n");
    CommandResult h = runCommand({IWFD_BIN, "--help"});
    EXPECT_EQ(h.exit_code, 0);
    EXPECT_NE(h.out.find("--check-config"), std::string::npos);
    CommandResult missing = runCommand({IWFD_BIN, "--config", "/nonexistent/iwfd.yaml"});
    EXPECT_EQ(missing.exit_code, 2);
    EXPECT_NE(missing.err.find("/nonexistent/iwfd.yaml"), std::string::npos);
}

}  // namespace
}  // namespace iwf::test

namespace iwf::test {
namespace {

// The shipped systemd unit parses (systemd-analyze verify), with its binary paths pointed
// at the built iwfd, and its ExecStartPre/ExecStart/ExecReload use the options iwfd has.
TEST(SystemdUnit, VerifiesAndUsesRealOptions) {
    TempDir dir;
    std::ifstream in(std::string(IWF_SOURCE_DIR) + "/configs/iwfd.service");
    std::string unit((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    ASSERT_NE(unit.find("ExecStart=/usr/local/bin/iwfd --config"), std::string::npos);
    ASSERT_NE(unit.find("ExecReload=/bin/kill -HUP $MAINPID"), std::string::npos);
    ASSERT_NE(unit.find("--check-config"), std::string::npos);
    std::string::size_type pos = 0;
    while ((pos = unit.find("/usr/local/bin/iwfd", pos)) != std::string::npos) {
        unit.replace(pos, std::strlen("/usr/local/bin/iwfd"), IWFD_BIN);
        pos += std::strlen(IWFD_BIN);
    }
    std::string path = dir.write("iwfd.service", unit);
    CommandResult r = runCommand({"/usr/bin/systemd-analyze", "verify", path});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(r.err, "");
}

}  // namespace
}  // namespace iwf::test
