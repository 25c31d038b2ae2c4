// Finding "connection exhaustion" (issue #21): 1,100 idle TCP connections (SIP-TCP, admin
// HTTP, half-finished TLS handshakes) were never closed (0/300 after 60 s); at the fd limit
// iwfd spun at 100 % of a core re-accepting; after the connections went away the admin HTTP
// endpoint stayed dead for good. Now (common/connection_gate.hpp, docs/security.md): idle and
// handshake timeouts on every connection, per-source and total caps (per server), accept loops
// that pause with backoff when out of descriptors and carry on afterwards.
//
// The counts are scaled down from the probe's 1,100: each property holds per connection, so
// the tests use a few hundred connections and low configured timeouts and caps.
#include <chrono>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "hostile_sip.hpp"

namespace iwf::hostile {
namespace {

using iwf::test::httpGet;
using iwf::test::waitFor;

class ConnectionLimits : public HostileSip {
  protected:
    ~ConnectionLimits() override {
        for (int fd : fds_) {
            ::close(fd);
        }
    }
    int open(const std::string& source, std::uint16_t port) {
        int fd = connectFrom(source, port);
        if (fd >= 0) {
            fds_.push_back(fd);
        }
        return fd;
    }
    void closeAll() {
        for (int fd : fds_) {
            ::close(fd);
        }
        fds_.clear();
    }
    // How many of `fds` the server has closed, waiting up to `timeout` for all of them.
    static std::size_t closedOf(const std::vector<int>& fds, std::chrono::milliseconds timeout) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        std::size_t closed = 0;
        for (int fd : fds) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            closed += closedByServer(fd, std::max(left, std::chrono::milliseconds(1))) ? 1 : 0;
        }
        return closed;
    }
    std::string optionsAnswer(const std::string& source) {
        int fd = connectFrom(source, tcpPort());
        if (fd < 0) {
            return "connect failed";
        }
        std::string answer;
        if (sendAll(fd, optionsRequest("TCP", source, "probe" + std::to_string(probes_++)))) {
            answer = readUntil(fd, "\r\n\r\n", 10s);
        }
        ::close(fd);
        return answer;
    }
    std::vector<int> fds_;
    int probes_ = 0;
};

// 100 idle SIP-TCP connections, 100 admin connections (half of them silent, half dripping a
// request one byte at a time), 100 TLS connections stuck in the handshake: all closed by iwfd
// within the configured idle / handshake timeouts, while a call over SIP-TCP stays exact.
TEST_F(ConnectionLimits, IdleConnectionsAndStuckHandshakesAreClosed) {
    StartOptions o;
    o.peer_protocol = sip::Protocol::Tcp;
    o.extra =
        "connections: {max: 1000, max_per_source: 1000, idle_timeout: 2s, "
        "handshake_timeout: 1s}\n";
    o.admin_max_connections = 200;
    ASSERT_NO_FATAL_FAILURE(start(o));
    ASSERT_NO_FATAL_FAILURE(call.start(12, 8ms));
    std::vector<int> sip, admin, drip, tls;
    for (int i = 0; i < 100; ++i) {
        sip.push_back(open("127.0.0.2", tcpPort()));
        (i % 2 == 0 ? admin : drip).push_back(open("127.0.0.3", adminPort()));
        tls.push_back(open("127.0.0.4", tlsPort()));
        // Half a ClientHello record header: the handshake never completes.
        ASSERT_TRUE(sendAll(tls.back(), std::string("\x16\x03\x01", 3)));
    }
    for (int fd : drip) {
        ASSERT_GE(fd, 0);
        ASSERT_TRUE(sendAll(fd, "GET /metr"));
    }
    // The drippers keep sending a byte a second: a whole request never arrives.
    std::atomic<bool> dripping{true};
    std::thread dripper([&] {
        for (int k = 0; dripping && k < 30; ++k) {
            for (int fd : drip) {
                (void)::send(fd, "i", 1, MSG_NOSIGNAL);
            }
            std::this_thread::sleep_for(1s);  // a slow client's pace
        }
    });
    EXPECT_EQ(closedOf(sip, 20s), 100u);
    EXPECT_EQ(closedOf(admin, 20s), 50u);
    EXPECT_EQ(closedOf(drip, 20s), 50u);
    EXPECT_EQ(closedOf(tls, 20s), 100u);
    dripping = false;
    dripper.join();
    // 100 attackers, and maybe iwfd's own connection to the MC system, idle between the
    // INVITE and the BYE (it is opened again when needed).
    const double sip_idle =
        metric("iwf_connections_timed_out_total{server=\"sip\",reason=\"idle_timeout\"}");
    EXPECT_GE(sip_idle, 100);
    EXPECT_LE(sip_idle, 101);
    EXPECT_EQ(
        metric("iwf_connections_timed_out_total{server=\"sip\",reason=\"handshake_timeout\"}"),
        100);
    EXPECT_EQ(metric("iwf_connections_timed_out_total{server=\"admin\",reason=\"idle_timeout\"}"),
              100);
    EXPECT_EQ(metric("iwf_connections_open{server=\"sip\"}"), 0);
    ASSERT_NO_FATAL_FAILURE(call.expectExact());
}

// Caps: 10 per source, 40 SIP connections in all. 30 from one host: 10 stay, 20 are reset at
// once and the refusal is logged once; 4 more hosts fill the rest; the next host is refused
// for the total - and the admin endpoint (its own pool) still answers, a call over SIP-TCP
// stays exact, and every place comes back when the attackers leave.
TEST_F(ConnectionLimits, PerSourceAndTotalCapsHoldAndLogOncePerSource) {
    StartOptions o;
    o.peer_protocol = sip::Protocol::Tcp;
    o.extra = "connections: {max: 40, max_per_source: 10}\n";
    ASSERT_NO_FATAL_FAILURE(start(o));
    ASSERT_NO_FATAL_FAILURE(call.start(10, 8ms));
    std::vector<int> first;
    for (int i = 0; i < 30; ++i) {
        first.push_back(open("127.0.0.2", tcpPort()));
        ASSERT_GE(first.back(), 0);
    }
    // The first 10 are kept (iwfd accepts in order); the other 20 are reset.
    std::vector<int> refused(first.begin() + 10, first.end());
    EXPECT_EQ(closedOf(refused, 10s), 20u);
    ASSERT_TRUE(waitFor(
        [&] {
            return metric("iwf_connections_refused_total{server=\"sip\",reason=\"per_source\"}") ==
                   20;
        },
        10s));
    EXPECT_EQ(metric("iwf_connections_open{server=\"sip\"}"), 10);
    for (int h = 3; h <= 5; ++h) {
        for (int i = 0; i < 10; ++i) {
            ASSERT_GE(open("127.0.0." + std::to_string(h), tcpPort()), 0);
        }
    }
    ASSERT_TRUE(waitFor([&] { return metric("iwf_connections_open{server=\"sip\"}") == 40; }, 10s));
    std::vector<int> late{open("127.0.0.7", tcpPort())};
    EXPECT_EQ(closedOf(late, 10s), 1u);
    ASSERT_TRUE(waitFor(
        [&] {
            return metric("iwf_connections_refused_total{server=\"sip\",reason=\"total\"}") == 1;
        },
        10s))
        << httpGet(adminPort(), "/metrics").body;
    // Twenty refusals from 127.0.0.2, one log line.
    const std::string log = iwfd.log();
    std::size_t lines = 0;
    for (auto p = log.find("connection_refused server=sip source=127.0.0.2");
         p != std::string::npos;
         p = log.find("connection_refused server=sip source=127.0.0.2", p + 1)) {
        ++lines;
    }
    EXPECT_EQ(lines, 1u) << log;
    EXPECT_EQ(httpGet(adminPort(), "/healthz").status, 200);
    ASSERT_NO_FATAL_FAILURE(call.expectExact());
    closeAll();
    ASSERT_TRUE(waitFor([&] { return metric("iwf_connections_open{server=\"sip\"}") == 0; }, 10s));
    EXPECT_EQ(optionsAnswer("127.0.0.2").rfind("SIP/2.0 200", 0), 0u);
}

// iwfd at its fd limit (ulimit -n 192, connections.max far above it): the accept loops pause
// with backoff instead of spinning (a spinning loop fails accept() ~10^5 times a second), and
// once the attacker leaves, SIP-TCP and the admin endpoint serve again. The call, set up
// before the flood, keeps every frame (it needs no new descriptor).
TEST_F(ConnectionLimits, AtTheFdLimitAcceptingPausesAndRecovers) {
    // UBSan's vptr check asks the kernel whether memory is readable through a pipe(2)
    // (sanitizer_common IsAccessibleMemoryRange), which fails with EMFILE here and is then
    // reported as an "invalid vptr": that check is suppressed for this run only.
    const std::string supp = dir.write("ubsan.supp", "vptr:*\n");
    const std::string wrapper = dir.write(
        "iwfd-ulimit.sh",
        "#!/bin/sh\nulimit -n 192\nexport UBSAN_OPTIONS=\"$UBSAN_OPTIONS:suppressions=" + supp +
            "\"\nexec " + IWFD_BIN + " \"$@\"\n");
    ASSERT_EQ(::chmod(wrapper.c_str(), 0755), 0);
    StartOptions o;
    o.binary = wrapper;
    o.extra = "connections: {max: 5000, max_per_source: 5000}\n";
    ASSERT_NO_FATAL_FAILURE(start(o));
    EXPECT_NE(iwfd.log().find("leave no descriptor for calls"), std::string::npos);
    ASSERT_NO_FATAL_FAILURE(call.start(30, 8ms));
    ASSERT_TRUE(waitFor([&] { return mc->frameCount() >= 18; }, 20s)) << iwfd.log();
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < 300; ++i) {
        ASSERT_GE(open("127.0.0.2", tcpPort()), 0);  // the kernel completes them (backlog)
    }
    // Out of descriptors: iwfd cannot even accept the test's /metrics request. Hold the
    // flood until the log says accepting paused, then knock on the admin endpoint too.
    const std::string sip_paused = "listener=tcp:" + std::to_string(tcpPort()) + " accept_paused";
    ASSERT_TRUE(waitFor([&] { return iwfd.log().find(sip_paused) != std::string::npos; }, 20s))
        << iwfd.log();
    for (int i = 0; i < 20; ++i) {
        ASSERT_GE(open("127.0.0.3", adminPort()), 0);
    }
    ASSERT_TRUE(
        waitFor([&] { return iwfd.log().find("admin=accept_paused") != std::string::npos; }, 20s))
        << iwfd.log();
    closeAll();
    ASSERT_TRUE(waitFor([&] { return httpGet(adminPort(), "/healthz").status == 200; }, 20s))
        << "the admin endpoint stayed dead\n"
        << iwfd.log();
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    // From a configured peer's address (the MC link drops SIP from any other source).
    EXPECT_EQ(optionsAnswer("127.0.0.2").rfind("SIP/2.0 200", 0), 0u);
    // Backoff 50 ms doubling to 1 s: at most ~6 + 1 per second per listener.
    const double bound = 2 * (8 + seconds);
    const double sip_errors =
        metric("iwf_connections_accept_errors_total{server=\"sip\",reason=\"fd_limit\"}");
    const double admin_errors =
        metric("iwf_connections_accept_errors_total{server=\"admin\",reason=\"fd_limit\"}");
    EXPECT_GE(sip_errors, 1);
    EXPECT_LE(sip_errors, bound) << "the SIP accept loop spins";
    EXPECT_GE(admin_errors, 1);
    EXPECT_LE(admin_errors, bound) << "the admin accept loop spins";
    ASSERT_NO_FATAL_FAILURE(call.expectExact());
}

// iwfd reports its fd budget - what it may open, what it has open, the part connections may
// take - in /v1/status and /metrics; connections.max 0 resolves to half the limit minus the
// admin pool.
TEST_F(ConnectionLimits, TheFdBudgetIsReported) {
    const std::string wrapper = dir.write(
        "iwfd-ulimit.sh", std::string("#!/bin/sh\nulimit -n 512\nexec ") + IWFD_BIN + " \"$@\"\n");
    ASSERT_EQ(::chmod(wrapper.c_str(), 0755), 0);
    StartOptions o;
    o.binary = wrapper;
    ASSERT_NO_FATAL_FAILURE(start(o));
    auto status = httpGet(adminPort(), "/v1/status");
    ASSERT_EQ(status.status, 200);
    auto j = nlohmann::json::parse(status.body);
    ASSERT_TRUE(j.contains("fds")) << status.body;
    EXPECT_EQ(j["fds"]["limit"], 512);
    EXPECT_GT(j["fds"]["open"].get<int>(), 0);
    EXPECT_EQ(j["fds"]["connections_max"], 512 / 2 - 16);
    EXPECT_EQ(j["fds"]["admin_connections_max"], 16);
    EXPECT_EQ(j["fds"]["connections_max_per_source"], 32);
    EXPECT_EQ(metric("iwf_process_fd_limit"), 512);
    EXPECT_EQ(metric("iwf_connections_max{server=\"sip\"}"), 512 / 2 - 16);
    EXPECT_NE(iwfd.log().find("fd_budget limit=512"), std::string::npos);
}

// The shipped unit gives iwfd a real fd budget (LimitNOFILE, the default soft limit of 1,024
// ran out) and still verifies with systemd-analyze.
TEST(SystemdUnit, SetsLimitNofileAndVerifies) {
    iwf::test::TempDir dir;
    std::ifstream in(std::string(IWF_SOURCE_DIR) + "/configs/iwfd.service");
    std::string unit((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto at = unit.find("\nLimitNOFILE=");
    ASSERT_NE(at, std::string::npos);
    EXPECT_GE(std::atol(unit.c_str() + at + std::strlen("\nLimitNOFILE=")), 65536);
    for (auto pos = unit.find("/usr/local/bin/iwfd"); pos != std::string::npos;
         pos = unit.find("/usr/local/bin/iwfd", pos + std::strlen(IWFD_BIN))) {
        unit.replace(pos, std::strlen("/usr/local/bin/iwfd"), IWFD_BIN);
    }
    auto r = iwf::test::runCommand(
        {"/usr/bin/systemd-analyze", "verify", dir.write("iwfd.service", unit)});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(r.err, "");
}

}  // namespace
}  // namespace iwf::hostile
