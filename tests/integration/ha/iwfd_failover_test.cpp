// Two real iwfd processes in one cluster sharing a real PostgreSQL (docs/ha.md): the keymap,
// the lease and the message queue in one database. The test plays a P25 radio (plain UDP
// records toward the active instance's p25-records link) and the MC system (SIP stack + RTP
// + floor, counting every voice frame and request it receives from either instance).
//
//   StalledStoreFencesLocallyThenKillNineStandbyTakesOver: A active with a call; the lease
//     row is locked by the test (A's renewal hangs): A stops forwarding at its local deadline
//     (frames dropped, none at the MC system) and forwards again when the store returns; then
//     B starts as standby (links not started, /healthz 503); kill -9 A; B becomes active (the time
//     from the kill is printed) and a new call from the radio reaches the MC system through B.
//   FrozenOldOwnerForwardsNothing: A active with a call in progress; SIGSTOP A past its
//     lease; B takes over; superframes reach A while it is frozen and after SIGCONT: A drops
//     every one of them (counted) and the MC system receives not one frame, INVITE or BYE
//     more; A reports role fenced and /healthz 503.
//   StoreStoppedAndRestartedUnderBothInstances: A active with a call, B standby; the test
//     stops the PostgreSQL server (fast shutdown: both lose their connections). A stops
//     forwarding at its local deadline; for two lease expiries neither instance reports active
//     and the MC system receives no frame. The server starts again: both reconnect (libpq
//     PQreset on the next statement) and exactly one instance is active again (A renewing its
//     epoch, or B with a new one), the other knows it as the holder, and a call reaches the
//     MC system through it.
#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <optional>

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <nlohmann/json.hpp>

#include "common/asio.hpp"
#include "common/loopback_port.hpp"
#include "ha_measure.hpp"
#include "keymap_env.hpp"
#include "lmr_adapters/p25/records.hpp"
#include "mc_adapters/rtp/floor_endpoint.hpp"
#include "mc_adapters/rtp/voice_endpoint.hpp"
#include "p25_test_support.hpp"
#include "sip/stack.hpp"
#include "superframe_builder.hpp"
#include "tests/integration/support/iwfd_process.hpp"
#include "tests/support/mc_fake.hpp"

namespace iwf::mc {
namespace {

using namespace std::chrono_literals;
using iwf::test::httpGet;
using iwf::test::runCommand;
using iwf::test::waitFor;

// The failover tests wait longer than most: a takeover takes a lease expiry.
bool pump(asio::io_context& io, const std::function<bool()>& done,
          std::chrono::milliseconds timeout = 15s) {
    return iwf::test::runIoUntil(io, done, timeout);
}

using McSystem = iwf::test::CountingMcSystem;
using iwf::test::p25RecordBytes;

struct Instance {
    std::string name;
    std::uint16_t p25_port = 0;
    std::uint16_t sip_port = 0;
    std::uint16_t hbp_port = 0;
    iwf::test::TempDir dir;
    iwf::test::IwfdProcess iwfd;
};

struct IwfdFailover : ::testing::Test {
    void SetUp() override {
        db = keymap::test::freshPostgresDatabase();
        ASSERT_FALSE(db.empty());
        auto r = runCommand({IWFCTL_BIN, "keymap", "--store", db, "import",
                             std::string(IWF_SOURCE_DIR) + "/configs/keymap.example.yaml"});
        ASSERT_EQ(r.exit_code, 0) << r.err;
        for (Instance* i : {&a, &b}) {
            i->p25_port = pickLoopbackPort(PortProtocol::Udp);
            i->sip_port = pickLoopbackPort(PortProtocol::Udp);
            i->hbp_port = pickLoopbackPort(PortProtocol::Udp);
        }
        a.name = "a";
        b.name = "b";
    }
    // Short lease periods keep the test to seconds: renew every 200 ms, expiry 1.5 s, stop
    // forwarding 300 ms before it (6 tries to renew on a loaded machine before that).
    std::string config(const Instance& i, std::uint16_t mc_port) const {
        return "instance: " + i.name + "\nlog: {level: debug}\n" + "keymap:\n  store: \"" + db +
               "\"\n" + (default_lease ? "" : "  poll_interval: 200ms\n") + "messages: {store: \"" +
               db +
               "\"}\n"
               "cluster:\n  name: pair1\n  store: \"" +
               db + "\"\n" +
               (default_lease ? std::string()
                              : "  renew_period: 200ms\n  lease_expiry: 1500ms\n  safety_margin: "
                                "300ms\n") +
               "lmr_links:\n"
               "  - name: p25\n    type: p25-records\n    address: 127.0.0.1\n    port: " +
               std::to_string(i.p25_port) +
               "\n    wacn: 0xBEE00\n    system: 0x001\n    tgid: 100\n    call_timeout: 60s\n"
               "  - name: dmr\n    type: dmr-hbp-master\n    address: 127.0.0.1\n    port: " +
               std::to_string(i.hbp_port) +
               "\n    password: ha-test\n    id: 310099\n"
               "mc_links:\n"
               "  - name: mc\n    type: mcptt-iwf1\n    psi: sip:iwf@iwf.example\n"
               "    server_uri: sip:cf@mc.example\n"
               "    listen: [{transport: udp, address: 127.0.0.1, port: " +
               std::to_string(i.sip_port) +
               "}]\n"
               "    peer: {transport: udp, address: 127.0.0.1, port: " +
               std::to_string(mc_port) +
               "}\n"
               "    peers: [{name: mc, address: 127.0.0.1, domains: [mc.example, iwf.example]}]\n"
               "    media: {address: 127.0.0.1}\n"
               "    e2ee_groups: [sip:fire-ops@iwf.example]\n";
    }
    static nlohmann::json cluster(Instance& i) {
        auto r = httpGet(i.iwfd.adminPort(), "/v1/status");
        if (r.status != 200) {
            return nullptr;
        }
        return nlohmann::json::parse(r.body, nullptr, false).value("cluster", nlohmann::json());
    }
    static std::string role(Instance& i) {
        auto c = cluster(i);
        return c.is_object() ? c.value("role", "") : "";
    }
    static double metric(Instance& i, const std::string& series) {
        auto m = httpGet(i.iwfd.adminPort(), "/metrics");
        return iwf::test::prometheusValue(m.body, series).value_or(-1);
    }
    std::vector<Bytes> superframe(int n) {
        lmr::p25::test::SuperframeSpec s;
        s.service_options = 0x40;
        s.dst = 100;
        s.src = 1001;
        s.algid = 0x84;
        s.kid = 0x0101;
        s.imbe_seed = static_cast<std::uint8_t>(n * 5 + 1);
        return lmr::p25::test::buildSuperframe(s);
    }
    void sendSuperframes(Instance& to, int from_n, int count) {
        for (int n = from_n; n < from_n + count; ++n) {
            for (const auto& r : superframe(n)) {
                radio.sendTo(to.p25_port, r);
            }
        }
    }
    // A started and active.
    void startActive(McSystem& mc) {
        const std::uint16_t mc_port = mc.stack->port(sip::Protocol::Udp);
        ASSERT_TRUE(a.iwfd.start(a.dir, config(a, mc_port))) << a.iwfd.log();
        ASSERT_TRUE(waitFor([&] { return role(a) == "active"; }, 20s)) << a.iwfd.log();
        ASSERT_TRUE(
            waitFor([&] { return httpGet(a.iwfd.adminPort(), "/healthz").status == 200; }, 20s))
            << a.iwfd.log();
    }
    // B started and standby.
    void startStandby(McSystem& mc) {
        const std::uint16_t mc_port = mc.stack->port(sip::Protocol::Udp);
        ASSERT_TRUE(b.iwfd.start(b.dir, config(b, mc_port))) << b.iwfd.log();
        ASSERT_TRUE(waitFor([&] { return cluster(b).value("holder", "") == "a"; }, 20s))
            << b.iwfd.log();
        EXPECT_EQ(role(b), "standby");
        auto h = httpGet(b.iwfd.adminPort(), "/healthz");
        EXPECT_EQ(h.status, 503);
        EXPECT_EQ(h.body, "not ready: standby (cluster pair1)\n");
        // B's links are not started: its P25 port is not bound.
        EXPECT_EQ(b.iwfd.log().find("link=p25 type=p25-records start=ok"), std::string::npos);
    }
    void startPair(McSystem& mc) {
        ASSERT_NO_FATAL_FAILURE(startActive(mc));
        ASSERT_NO_FATAL_FAILURE(startStandby(mc));
    }
    // The radio links to `i` and starts a call that reaches the MC system (36 more frames).
    void callThrough(asio::io_context& io, McSystem& mc, Instance& i, int first_superframe) {
        radio.sendTo(i.p25_port, p25RecordBytes(lmr::p25::makePoll("RADIO1", false)));
        ASSERT_TRUE(radio.receive(10s).has_value()) << "no poll answer\n" << i.iwfd.log();
        const std::size_t before = mc.frames.size();
        sendSuperframes(i, first_superframe, 2);
        ASSERT_TRUE(pump(io, [&] { return mc.frames.size() >= before + 36; })) << i.iwfd.log();
    }

    std::string db;
    bool default_lease = false;  // the cluster section without timings: iwfd's defaults
    Instance a;
    Instance b;
    lmr::p25::test::UdpPeer radio;
};

TEST_F(IwfdFailover, StalledStoreFencesLocallyThenKillNineStandbyTakesOver) {
    asio::io_context io;
    metrics::Registry reg;
    McSystem mc(io, reg);
    ASSERT_NO_FATAL_FAILURE(startActive(mc));
    ASSERT_NO_FATAL_FAILURE(callThrough(io, mc, a, 0));

    // The lease store stalls under A (the test holds the lease row locked: A's renewal waits,
    // its data plane runs on): A stops forwarding at its local deadline, before the lease
    // expires in the database, and frames of the call in progress stop at A.
    PGconn* lock = PQconnectdb(db.c_str());
    ASSERT_EQ(PQstatus(lock), CONNECTION_OK);
    PQclear(PQexec(lock, "BEGIN"));
    PGresult* lr = PQexec(lock, "SELECT 1 FROM iwf_cluster_lease FOR UPDATE");
    ASSERT_EQ(PQresultStatus(lr), PGRES_TUPLES_OK);
    PQclear(lr);
    ASSERT_TRUE(waitFor([&] { return role(a) == "fenced"; }, 20s, 10ms)) << a.iwfd.log();
    pump(
        io, [] { return false; }, 300ms);
    const std::size_t frames = mc.frames.size();
    sendSuperframes(a, 2, 2);
    radio.sendTo(a.p25_port, p25RecordBytes(lmr::p25::makePoll("RADIO1", false)));
    ASSERT_TRUE(radio.receive(10s).has_value()) << a.iwfd.log();
    pump(
        io, [] { return false; }, 500ms);
    EXPECT_EQ(mc.frames.size(), frames) << "A forwarded frames past its local deadline";
    EXPECT_GT(metric(a, "iwf_cluster_fenced_events_dropped_total"), 0) << a.iwfd.log();
    // The store comes back: nobody took over, A renews its epoch and forwards again.
    PQclear(PQexec(lock, "ROLLBACK"));
    PQfinish(lock);
    ASSERT_TRUE(waitFor([&] { return role(a) == "active"; }, 20s, 10ms)) << a.iwfd.log();
    EXPECT_EQ(cluster(a).value("epoch", 0), 1);
    sendSuperframes(a, 4, 2);
    ASSERT_TRUE(pump(io, [&] { return mc.frames.size() >= frames + 36; })) << a.iwfd.log();

    ASSERT_NO_FATAL_FAILURE(startStandby(mc));

    const auto killed = std::chrono::steady_clock::now();
    a.iwfd.signal(SIGKILL);
    ASSERT_TRUE(waitFor([&] { return role(b) == "active"; }, 20s, 10ms)) << b.iwfd.log();
    const auto active_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::steady_clock::now() - killed)
                               .count();
    auto c = cluster(b);
    EXPECT_EQ(c.value("holder", ""), "b");
    EXPECT_EQ(c.value("epoch", 0), 2);
    EXPECT_EQ(c.value("takeovers", 0), 1);
    // A new call from the radio reaches the MC system through B.
    ASSERT_TRUE(waitFor([&] { return httpGet(b.iwfd.adminPort(), "/healthz").status == 200; }, 20s))
        << b.iwfd.log();
    ASSERT_NO_FATAL_FAILURE(callThrough(io, mc, b, 10));
    const auto frame_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::steady_clock::now() - killed)
                              .count();
    std::printf(
        "failover (renew 200ms, expiry 1500ms, margin 300ms): kill -9 -> B active %lld ms; "
        "kill -> 36 frames of a new call at the MC system via B %lld ms\n",
        static_cast<long long>(active_ms), static_cast<long long>(frame_ms));
    EXPECT_EQ(mc.count("INVITE"), 2u);
}

TEST_F(IwfdFailover, StoreStoppedAndRestartedUnderBothInstances) {
    asio::io_context io;
    metrics::Registry reg;
    McSystem mc(io, reg);
    ASSERT_NO_FATAL_FAILURE(startPair(mc));
    ASSERT_NO_FATAL_FAILURE(callThrough(io, mc, a, 0));
    // The server's directory (postgres.sh's DIR is also its socket directory).
    std::string pgdir;
    {
        PGconn* c = PQconnectdb(db.c_str());
        ASSERT_EQ(PQstatus(c), CONNECTION_OK);
        PGresult* r = PQexec(c, "SHOW unix_socket_directories");
        ASSERT_EQ(PQresultStatus(r), PGRES_TUPLES_OK);
        pgdir = PQgetvalue(r, 0, 0);
        PQclear(r);
        PQfinish(c);
    }
    auto halt = runCommand({"/bin/bash", POSTGRES_SH, "halt", pgdir}, 60s);
    ASSERT_EQ(halt.exit_code, 0) << halt.err;
    // A cannot renew: it stops forwarding at its local deadline. B cannot read the lease: it
    // stays standby.
    ASSERT_TRUE(waitFor([&] { return role(a) == "fenced"; }, 20s, 10ms)) << a.iwfd.log();
    pump(
        io, [] { return false; }, 300ms);
    const std::size_t frames = mc.frames.size();
    const std::size_t requests = mc.methods.size();
    // Two lease expiries without the store: nobody claims the lease it cannot renew, and the
    // radio's call in progress reaches nobody.
    int samples = 0;
    int superframe = 2;
    const auto window_end = std::chrono::steady_clock::now() + 3s;
    while (std::chrono::steady_clock::now() < window_end) {
        EXPECT_NE(role(a), "active") << a.iwfd.log();
        EXPECT_EQ(role(b), "standby") << b.iwfd.log();
        sendSuperframes(a, superframe++, 1);
        pump(
            io, [] { return false; }, 100ms);
        ++samples;
    }
    EXPECT_GT(samples, 5);
    EXPECT_EQ(httpGet(a.iwfd.adminPort(), "/healthz").status, 503);
    EXPECT_EQ(httpGet(b.iwfd.adminPort(), "/healthz").status, 503);
    EXPECT_EQ(mc.frames.size(), frames) << "a frame was forwarded while the lease store was down";
    EXPECT_EQ(mc.methods.size(), requests);
    EXPECT_GT(metric(a, "iwf_cluster_renew_failures_total"), 0);

    // The store returns: exactly one instance becomes active, and the other one sees it as
    // the holder.
    auto resume = runCommand({"/bin/bash", POSTGRES_SH, "resume", pgdir}, 60s);
    ASSERT_EQ(resume.exit_code, 0) << resume.err;
    Instance* active = nullptr;
    ASSERT_TRUE(waitFor(
        [&] {
            const bool aa = role(a) == "active";
            const bool ba = role(b) == "active";
            EXPECT_FALSE(aa && ba) << "two active instances";
            active = aa ? &a : ba ? &b : nullptr;
            return active != nullptr;
        },
        30s, 10ms))
        << a.iwfd.log() << b.iwfd.log();
    Instance& other = active == &a ? b : a;
    ASSERT_TRUE(waitFor([&] { return cluster(other).value("holder", "") == active->name; }, 20s))
        << other.iwfd.log();
    EXPECT_NE(role(other), "active");
    std::printf("after the store returned: %s active (epoch %d), %s %s\n", active->name.c_str(),
                cluster(*active).value("epoch", 0), other.name.c_str(), role(other).c_str());
    ASSERT_TRUE(
        waitFor([&] { return httpGet(active->iwfd.adminPort(), "/healthz").status == 200; }, 20s))
        << active->iwfd.log();
    ASSERT_NO_FATAL_FAILURE(callThrough(io, mc, *active, 20));
}

// A store that hangs instead of refusing (docs/ha.md "A store that hangs"): the PostgreSQL
// server and its backends are frozen (SIGSTOP: its kernel still accepts and acknowledges, so
// no connection breaks). A stops forwarding at its local deadline, and its lease thread gives
// the hanging renewal up within the statement bound (lease_expiry - safety_margin: 1.2 s here)
// instead of waiting for the server without end: it reports renewal failures, and its admin
// endpoint answers (the message queue's statements are bounded too: they run on the thread
// that serves it), and so is its keymap watcher's poll (2 s: a load failure counted, the
// keymap in force kept). B stays standby. After SIGCONT exactly one instance is active again,
// a call flows and a new keymap revision reaches both. Before the bound: not one renewal
// failure counted during the freeze (the renewal waited inside libpq), A's /v1/status stopped
// answering once its 2 s message queue poll hung, and its keymap watcher counted no failure
// (it waited inside libpq until the thaw).
TEST_F(IwfdFailover, FrozenStoreServerIsGivenUpWithinTheBoundAndServiceReturns) {
    asio::io_context io;
    metrics::Registry reg;
    McSystem mc(io, reg);
    ASSERT_NO_FATAL_FAILURE(startPair(mc));
    ASSERT_NO_FATAL_FAILURE(callThrough(io, mc, a, 0));
    std::string pgdir;
    {
        PGconn* c = PQconnectdb(db.c_str());
        ASSERT_EQ(PQstatus(c), CONNECTION_OK);
        PGresult* r = PQexec(c, "SHOW unix_socket_directories");
        ASSERT_EQ(PQresultStatus(r), PGRES_TUPLES_OK);
        pgdir = PQgetvalue(r, 0, 0);
        PQclear(r);
        PQfinish(c);
    }
    const double failures_before = metric(a, "iwf_cluster_renew_failures_total");
    const double keymap_failures_before = metric(a, "iwf_keymap_load_failures_total");
    const double keymap_revision = metric(a, "iwf_keymap_revision");
    ASSERT_GT(keymap_revision, 0);
    auto freeze = runCommand({"/bin/bash", POSTGRES_SH, "freeze", pgdir}, 60s);
    ASSERT_EQ(freeze.exit_code, 0) << freeze.err;
    struct Thaw {
        std::string dir;
        ~Thaw() { runCommand({"/bin/bash", POSTGRES_SH, "thaw", dir}, 60s); }
    } thaw{pgdir};
    const auto frozen = std::chrono::steady_clock::now();
    ASSERT_TRUE(waitFor([&] { return role(a) == "fenced"; }, 20s, 10ms)) << a.iwfd.log();
    // The hanging renewal is given up, counted, and the next one tried (and given up).
    ASSERT_TRUE(waitFor(
        [&] { return metric(a, "iwf_cluster_renew_failures_total") >= failures_before + 2; }, 20s))
        << a.iwfd.log();
    const auto gave_up_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::steady_clock::now() - frozen)
                                .count();
    // The keymap watcher's poll (its own thread) gives up too, within its bound (2 s), and
    // keeps the keymap it had.
    ASSERT_TRUE(waitFor(
        [&] { return metric(a, "iwf_keymap_load_failures_total") >= keymap_failures_before + 1; },
        20s))
        << "the keymap watcher hangs in the frozen store\n"
        << a.iwfd.log();
    const auto keymap_gave_up_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                       std::chrono::steady_clock::now() - frozen)
                                       .count();
    EXPECT_EQ(metric(a, "iwf_keymap_revision"), keymap_revision);
    pump(
        io, [] { return false; }, 300ms);
    const std::size_t frames = mc.frames.size();
    // Past the lease's expiry the frozen store still holds everybody: nobody is active, and
    // the radio's call in progress reaches nobody.
    int superframe = 2;
    const auto window_end = std::chrono::steady_clock::now() + 3s;
    while (std::chrono::steady_clock::now() < window_end) {
        EXPECT_EQ(role(a), "fenced") << a.iwfd.log();
        EXPECT_EQ(role(b), "standby") << b.iwfd.log();
        sendSuperframes(a, superframe++, 1);
        pump(
            io, [] { return false; }, 200ms);
    }
    EXPECT_EQ(mc.frames.size(), frames) << "a frame was forwarded while the lease store hung";
    EXPECT_NE(cluster(a).value("last_error", "").find("renewal failed"), std::string::npos);
    std::printf(
        "store frozen: A fenced, two renewals given up after %lld ms, a keymap poll after %lld "
        "ms\n",
        static_cast<long long>(gave_up_ms), static_cast<long long>(keymap_gave_up_ms));
    EXPECT_EQ(metric(a, "iwf_keymap_revision"), keymap_revision);

    auto t = runCommand({"/bin/bash", POSTGRES_SH, "thaw", pgdir}, 60s);
    ASSERT_EQ(t.exit_code, 0) << t.err;
    Instance* active = nullptr;
    ASSERT_TRUE(waitFor(
        [&] {
            const bool aa = role(a) == "active";
            const bool ba = role(b) == "active";
            EXPECT_FALSE(aa && ba) << "two active instances";
            active = aa ? &a : ba ? &b : nullptr;
            return active != nullptr;
        },
        30s, 10ms))
        << a.iwfd.log() << b.iwfd.log();
    ASSERT_TRUE(
        waitFor([&] { return httpGet(active->iwfd.adminPort(), "/healthz").status == 200; }, 20s))
        << active->iwfd.log();
    ASSERT_NO_FATAL_FAILURE(callThrough(io, mc, *active, 20));
    // The keymap watchers resume: a new revision reaches both instances.
    const std::string edited = a.dir.write(
        "keymap2.yaml", keymap::test::edit(keymap::test::exampleText(), "name: \"P25 unit 1001\"",
                                           "name: \"P25 unit 1001 (after the freeze)\""));
    auto r = runCommand({IWFCTL_BIN, "keymap", "--store", db, "import", edited});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    for (Instance* i : {&a, &b}) {
        EXPECT_TRUE(
            waitFor([&] { return metric(*i, "iwf_keymap_revision") > keymap_revision; }, 20s))
            << i->iwfd.log();
    }
}

// Repeated failovers, measured (docs/ha.md "Measured"): kill -9 of the active instance, then
// the radio polls the other instance and starts a new call until its first voice frame reaches
// the MC system; the killed instance is started again and waits as standby; the roles swap.
// Prints each figure and p50/p99 (nearest rank). IWF_HA_FAILOVERS sets the count (default 1:
// the CI variant, a takeover and the killed instance back as standby; with more, A -> B -> A,
// each takeover a new epoch);
// IWF_HA_LEASE=defaults runs with iwfd's default lease timings and keymap poll interval instead
// of the test's short ones.
TEST_F(IwfdFailover, RepeatedFailoversMeasured) {
    const char* n_env = std::getenv("IWF_HA_FAILOVERS");
    const int failovers = n_env != nullptr ? std::atoi(n_env) : 1;
    ASSERT_GE(failovers, 1);
    const char* lease_env = std::getenv("IWF_HA_LEASE");
    default_lease = lease_env != nullptr && std::string(lease_env) == "defaults";
    asio::io_context io;
    metrics::Registry reg;
    McSystem mc(io, reg);
    const std::uint16_t mc_port = mc.stack->port(sip::Protocol::Udp);
    ASSERT_NO_FATAL_FAILURE(startPair(mc));
    Instance* active = &a;
    Instance* standby = &b;
    std::vector<double> kill_to_frame_ms;
    int superframe = 0;
    for (int i = 0; i < failovers; ++i) {
        while (radio.receive(0ms).has_value()) {
        }
        const std::size_t before = mc.frames.size();
        const auto killed = std::chrono::steady_clock::now();
        active->iwfd.signal(SIGKILL);
        // The radio tries the other instance: a poll (the link answers only once started),
        // then a superframe of a new call, until a frame arrives at the MC system.
        const auto deadline = killed + 60s;
        bool delivered = false;
        while (!delivered && std::chrono::steady_clock::now() < deadline) {
            radio.sendTo(standby->p25_port, p25RecordBytes(lmr::p25::makePoll("RADIO1", false)));
            if (!radio.receive(50ms).has_value()) {
                continue;
            }
            sendSuperframes(*standby, superframe++, 1);
            delivered = pump(
                io, [&] { return mc.frames.size() > before; }, 500ms);
        }
        ASSERT_TRUE(delivered) << "failover " << i << ": no frame through " << standby->name << "\n"
                               << standby->iwfd.log();
        const double ms =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - killed)
                .count();
        kill_to_frame_ms.push_back(ms);
        EXPECT_EQ(role(*standby), "active");
        EXPECT_EQ(cluster(*standby).value("epoch", 0), i + 2);
        std::printf("failover %d: kill -9 %s -> first frame of a new call via %s: %.0f ms\n", i + 1,
                    active->name.c_str(), standby->name.c_str(), ms);
        // The killed instance comes back as standby.
        active->iwfd.waitExit(10s);
        ASSERT_TRUE(active->iwfd.start(active->dir, config(*active, mc_port)))
            << active->iwfd.log();
        Instance* now_active = standby;
        ASSERT_TRUE(
            waitFor([&] { return cluster(*active).value("holder", "") == now_active->name; }, 20s))
            << active->iwfd.log();
        EXPECT_EQ(role(*active), "standby");
        std::swap(active, standby);
    }
    const iwf::test::HaSeries series{kill_to_frame_ms};
    std::printf(
        "failovers: %zu (lease %s), kill -9 -> first frame of a new call through the other "
        "instance: %s\n",
        series.ms.size(),
        default_lease ? "defaults: renew 500ms, expiry 2s, margin 500ms"
                      : "renew 200ms, expiry 1500ms, margin 300ms",
        series.summary().c_str());

    // The load the pair puts on PostgreSQL, counted by the server (pg_stat_database,
    // pg_stat_user_tables: an oracle apart from iwfd's own counters), over IWF_HA_LOAD_WINDOW
    // seconds (default 1; statistics reach the views within about a second, so use 30 for a
    // figure). Everything of both instances: lease, keymap polls, message queue polls.
    const char* w_env = std::getenv("IWF_HA_LOAD_WINDOW");
    const int window_s = w_env != nullptr ? std::max(1, std::atoi(w_env)) : 1;
    PGconn* c = PQconnectdb(db.c_str());
    ASSERT_EQ(PQstatus(c), CONNECTION_OK);
    auto sample = [&] {
        PQclear(PQexec(c, "SELECT pg_stat_clear_snapshot()"));
        PGresult* r = PQexec(c,
                             "SELECT (SELECT xact_commit + xact_rollback FROM pg_stat_database "
                             "WHERE datname = current_database()), "
                             "(SELECT n_tup_upd + n_tup_ins FROM pg_stat_user_tables "
                             "WHERE relname = 'iwf_cluster_lease'), "
                             "pg_snapshot_xmax(pg_current_snapshot())::text::bigint");
        std::array<double, 3> v{-1, -1, -1};
        if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
            v = {std::atof(PQgetvalue(r, 0, 0)), std::atof(PQgetvalue(r, 0, 1)),
                 std::atof(PQgetvalue(r, 0, 2))};
        }
        PQclear(r);
        return v;
    };
    auto lease_statements = [&] {
        return metric(a, "iwf_cluster_lease_statements_total") +
               metric(b, "iwf_cluster_lease_statements_total");
    };
    const auto s0 = sample();
    const double l0 = lease_statements();
    pump(
        io, [] { return false; }, std::chrono::seconds(window_s));
    const auto s1 = sample();
    const double l1 = lease_statements();
    PGresult* conns = PQexec(c,
                             "SELECT count(*) - 1 FROM pg_stat_activity "
                             "WHERE datname = current_database()");
    const int connections =
        PQresultStatus(conns) == PGRES_TUPLES_OK ? std::atoi(PQgetvalue(conns, 0, 0)) : -1;
    PQclear(conns);
    PQfinish(c);
    std::printf(
        "database load of the pair over %d s (server's counters): %.1f transactions/s in all, "
        "%.1f of them writing (transaction IDs assigned), %.1f lease row writes/s; iwfd's lease "
        "statements (both instances): %.1f/s; connections of the pair: %d\n",
        window_s, (s1[0] - s0[0]) / window_s, (s1[2] - s0[2]) / window_s,
        (s1[1] - s0[1]) / window_s, (l1 - l0) / window_s, connections);
}

TEST_F(IwfdFailover, FrozenOldOwnerForwardsNothingAfterTheTakeover) {
    asio::io_context io;
    metrics::Registry reg;
    McSystem mc(io, reg);
    ASSERT_NO_FATAL_FAILURE(startPair(mc));
    ASSERT_NO_FATAL_FAILURE(callThrough(io, mc, a, 0));
    pump(
        io, [] { return false; }, 300ms);  // the MC system takes what is on its way
    // Lease write load: statements per second of each instance (active: renewals; standby:
    // reads of the row), from their own counters.
    for (Instance* i : {&a, &b}) {
        std::printf(
            "lease load: instance %s (%s) %.2f statements/s\n", i->name.c_str(), role(*i).c_str(),
            metric(*i, "iwf_cluster_lease_statements_total") / metric(*i, "iwf_uptime_seconds"));
    }

    a.iwfd.signal(SIGSTOP);
    ASSERT_TRUE(waitFor([&] { return role(b) == "active"; }, 20s, 10ms)) << b.iwfd.log();
    const std::size_t frames = mc.frames.size();
    const std::size_t requests = mc.methods.size();
    // The call goes on at the radio: two superframes reach A while it is frozen (they wait in
    // its socket), two after it wakes up.
    sendSuperframes(a, 2, 2);
    a.iwfd.signal(SIGCONT);
    sendSuperframes(a, 4, 2);
    // A answers the radio's poll after it has handled every record sent before it (one
    // socket, one thread): by then it has dropped or forwarded each of them.
    radio.sendTo(a.p25_port, p25RecordBytes(lmr::p25::makePoll("RADIO1", false)));
    ASSERT_TRUE(radio.receive(10s).has_value()) << a.iwfd.log();
    ASSERT_TRUE(waitFor([&] { return role(a) == "fenced"; }, 20s)) << a.iwfd.log();
    pump(
        io, [] { return false; }, 500ms);  // anything A sent would have arrived by now
    EXPECT_EQ(mc.frames.size(), frames) << "the old owner forwarded frames after the takeover";
    EXPECT_EQ(mc.methods.size(), requests) << "the old owner sent SIP requests after the takeover";
    EXPECT_GT(metric(a, "iwf_cluster_fenced_events_dropped_total"), 0) << a.iwfd.log();
    EXPECT_EQ(metric(a, "iwf_cluster_role{role=\"fenced\"}"), 1);
    EXPECT_EQ(metric(a, "iwf_cluster_epoch"), 0);
    auto h = httpGet(a.iwfd.adminPort(), "/healthz");
    EXPECT_EQ(h.status, 503);
    EXPECT_EQ(h.body, "not ready: fenced (cluster pair1)\n");
    EXPECT_EQ(role(b), "active");
    // A fenced instance's /metrics, for the check that every query of configs/monitoring names
    // a metric iwfd exports (tests/interop/monitoring: the HA alerts use iwf_cluster_role).
    const auto live = httpGet(a.iwfd.adminPort(), "/metrics");
    ASSERT_EQ(live.status, 200);
    std::ofstream(IWF_CLUSTER_METRICS_OUT) << live.body;
    // iwfctl cluster status shows the same as /v1/status.
    auto r = runCommand({IWFCTL_BIN, "cluster", "status", "--admin",
                         "http://127.0.0.1:" + std::to_string(a.iwfd.adminPort())});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("role             fenced"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("holder           b (epoch 2)"), std::string::npos) << r.out;
    auto j = runCommand({IWFCTL_BIN, "cluster", "status", "--json", "--admin",
                         "http://127.0.0.1:" + std::to_string(b.iwfd.adminPort())});
    ASSERT_EQ(j.exit_code, 0) << j.err;
    auto jb = nlohmann::json::parse(j.out);
    EXPECT_EQ(jb.value("role", ""), "active");
    EXPECT_EQ(jb.value("epoch", 0), 2);
}

}  // namespace
}  // namespace iwf::mc
