// SIPp against the real iwfd (keymap-backed config, engine, p25-records and mcptt-iwf1 links).
//  - McCallsIwfd: SIPp (the MCPTT controlling function) calls iwfd: group call, emergency
//    (with UPDATE cancel), private call, BYE; over UDP and over mutual TLS (SIPp TCP -> socat
//    -> iwfd TLS). Debian's SIPp has no TLS of its own.
//  - IwfdCallsSipp: a radio talks on iwfd's P25 link, iwfd calls SIPp acting as the MC side,
//    over UDP and TLS (iwfd TLS -> socat -> SIPp TCP).
//  - ThroughKamailio: the same in both directions with Debian's Kamailio 5.6 in the path as a
//    record-routing proxy (tests/interop/sipp/kamailio.cfg, the stock routing logic): the
//    route set must be honoured both ways (RFC 3261 §12.1.1, §12.2.1.1); and the
//    affiliation PUBLISH and MCData SDS MESSAGEs (both ways) through the same proxy.
// Every test checks SIPp's exit code and iwfd's /metrics (and /v1/calls) for the calls.
#include <chrono>
#include <cstdlib>
#include <fcntl.h>
#include <fstream>
#include <memory>
#include <signal.h>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include <gtest/gtest.h>

#include "common/asio.hpp"
#include "common/loopback_port.hpp"
#include "lmr_adapters/p25/mi_lfsr.hpp"
#include "lmr_adapters/p25/records.hpp"
#include "p25_test_support.hpp"
#include "sip/transport.hpp"
#include "superframe_builder.hpp"
#include "tests/integration/support/iwfd_process.hpp"

namespace iwf::mc::mcptt {
namespace {

using namespace std::chrono_literals;
using iwf::test::TempDir;

std::uint16_t freePort(bool tcp) {
    return pickLoopbackPort(tcp ? PortProtocol::Tcp : PortProtocol::Udp);
}

// A child process in the background (SIPp, socat); killed when it goes out of scope.
class Child {
  public:
    Child(const std::vector<std::string>& argv, const std::string& log, const std::string& cwd) {
        // Built before the fork: the child of a threaded process may only call
        // async-signal-safe functions until exec (no allocation).
        std::vector<char*> args;
        for (const auto& a : argv) {
            args.push_back(const_cast<char*>(a.c_str()));
        }
        args.push_back(nullptr);
        pid_ = ::fork();
        if (pid_ == 0) {
            // Its own process group: Kamailio forks its workers, and they must go with it.
            ::setpgid(0, 0);
            int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            ::dup2(fd, 1);
            ::dup2(fd, 2);
            int devnull = ::open("/dev/null", O_RDONLY);
            ::dup2(devnull, 0);
            if (::chdir(cwd.c_str()) != 0) {
                ::_exit(126);
            }
            ::execv(args[0], args.data());
            ::_exit(127);
        }
    }
    ~Child() {
        if (pid_ > 0) {
            ::kill(-pid_, SIGKILL);  // the whole group (a process's workers outlive it otherwise)
            if (!exited_) {
                ::waitpid(pid_, nullptr, 0);
            }
        }
    }
    // Exit code, or nullopt while running.
    std::optional<int> poll() {
        if (exited_) {
            return code_;
        }
        int st = 0;
        if (::waitpid(pid_, &st, WNOHANG) == pid_) {
            exited_ = true;
            code_ = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
            return code_;
        }
        return std::nullopt;
    }
    std::optional<int> wait(std::chrono::milliseconds limit) {
        const auto deadline = std::chrono::steady_clock::now() + limit;
        while (std::chrono::steady_clock::now() < deadline) {
            if (auto c = poll()) {
                return c;
            }
            ::usleep(20000);
        }
        return std::nullopt;
    }

  private:
    pid_t pid_ = -1;
    bool exited_ = false;
    int code_ = -1;
};

std::string slurp(const std::string& path) {
    std::ifstream f(path);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

struct Certs {
    std::string server_crt, server_key, client_crt, client_key, client_pem;
};
// Each names 127.0.0.1 too: iwfd's TLS client verifies the address it connects to when the
// listener has no peer_name (sip/transport.hpp TlsConfig::peer_name).
Certs makeCerts(const TempDir& dir) {
    Certs c{dir.file("server.crt"), dir.file("server.key"), dir.file("client.crt"),
            dir.file("client.key"), dir.file("client.pem")};
    for (auto [crt, key, cn] : {std::tuple{c.server_crt, c.server_key, "iwf"},
                                std::tuple{c.client_crt, c.client_key, "mc"}}) {
        const std::string cmd =
            "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
            "-subj /CN=" +
            std::string(cn) + " -addext subjectAltName=DNS:" + cn + ",IP:127.0.0.1 -keyout " + key +
            " -out " + crt + " >/dev/null 2>&1";
        EXPECT_EQ(std::system(cmd.c_str()), 0);
    }
    std::ofstream(c.client_pem) << slurp(c.client_crt) << slurp(c.client_key);
    return c;
}

int runSipp(const std::string& scenario, std::uint16_t port, const std::string& transport,
            const TempDir& dir, const std::vector<std::string>& extra = {}) {
    const std::string log = dir.file(scenario + ".log");
    std::vector<std::string> argv = {IWF_SIPP,
                                     "-sf",
                                     std::string(IWF_SIPP_SCENARIOS) + "/" + scenario,
                                     "-m",
                                     "1",
                                     "-t",
                                     transport,
                                     "-i",
                                     "127.0.0.1",
                                     "-timeout",
                                     "20s",
                                     "-timeout_error",
                                     "-nostdin",
                                     "-trace_err",
                                     "-error_file",
                                     dir.file(scenario + ".err")};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back("127.0.0.1:" + std::to_string(port));
    Child sipp(argv, log, dir.path());
    auto code = sipp.wait(30s);
    if (!code || *code != 0) {
        ADD_FAILURE() << scenario << " exit=" << (code ? *code : -1) << "\n"
                      << slurp(log) << slurp(dir.file(scenario + ".err"));
    }
    return code.value_or(-1);
}

Bytes pollBytes(std::string_view cs) {
    InlineBytes<lmr::p25::kMaxRecordLen> b;
    EXPECT_TRUE(lmr::p25::encodeRecord(lmr::p25::makePoll(cs, false), b).ok());
    return Bytes(b.view().begin(), b.view().end());
}

// The real iwfd with the example keymap (fire-ops = TG 100 secure AES-256, users p25-1001..)
// imported by the real iwfctl, one p25-records link and one mcptt-iwf1 link whose SIP side is
// UDP or TLS (listener and peer).
struct Iwfd {
    TempDir& dir;
    Certs certs;
    iwf::test::IwfdProcess proc;
    std::uint16_t sip_port = 0;
    std::uint16_t p25_port = 0;

    explicit Iwfd(TempDir& d) : dir(d), certs(makeCerts(d)) {}

    // mcptt_extra: more keys of the mcptt-iwf1 link; more_links: more mc_links entries.
    bool start(sip::Protocol proto, std::uint16_t peer_port, bool mutual,
               const std::string& server_uri = "sip:cf@mc.example",
               const std::string& mcptt_extra = {}, const std::string& more_links = {}) {
        const std::string store = "sqlite:" + dir.file("keymap.db");
        auto r =
            iwf::test::runCommand({IWFCTL_BIN, "keymap", "--store", store, "import",
                                   std::string(IWF_SOURCE_DIR) + "/configs/keymap.example.yaml"});
        EXPECT_EQ(r.exit_code, 0) << r.err;
        const bool tls = proto == sip::Protocol::Tls;
        sip_port = freePort(tls);
        p25_port = freePort(false);
        std::string listen = "{transport: " + std::string(tls ? "tls" : "udp") +
                             ", address: 127.0.0.1, port: " + std::to_string(sip_port);
        if (tls) {
            // The CA is the MC side's self-signed certificate: clients (mutual TLS) and the
            // socat server in front of SIPp present it.
            listen += ", cert: " + certs.server_crt + ", key: " + certs.server_key +
                      ", ca: " + certs.client_crt + (mutual ? ", mutual: true" : "");
        }
        listen += "}";
        const std::string cfg =
            "instance: sipp\nlog: {level: info}\n"
            "keymap:\n  store: \"" +
            store +
            "\"\n  poll_interval: 200ms\n"
            "timers:\n  hang: 300ms\n"
            "lmr_links:\n"
            "  - name: p25\n    type: p25-records\n    address: 127.0.0.1\n    port: " +
            std::to_string(p25_port) +
            "\n    wacn: 0xBEE00\n    system: 0x001\n    tgid: 100\n    call_timeout: 5s\n"
            "mc_links:\n"
            "  - name: mc\n    type: mcptt-iwf1\n    psi: sip:iwf@iwf.example\n"
            "    server_uri: " +
            server_uri +
            "\n"
            "    listen: [" +
            listen +
            "]\n"
            "    peer: {transport: " +
            std::string(tls ? "tls" : "udp") +
            ", address: 127.0.0.1, port: " + std::to_string(peer_port) +
            "}\n"
            // SIPp's source; over TLS the certificate it (through socat) presents names
            // "mc". mc_private_call.xml calls as sip:p25-1002@iwf.example, so the peer may
            // assert iwf.example identities too.
            "    peers: [{name: sipp, address: 127.0.0.1, domains: [mc.example, iwf.example]" +
            std::string(tls ? ", tls_name: mc" : "") +
            "}]\n"
            "    media: {address: 127.0.0.1}\n"
            "    e2ee_groups: [sip:fire-ops@iwf.example]\n"
            "    timers: {t1: 100ms}\n" +
            mcptt_extra + more_links;
        if (!proc.start(dir, cfg)) {
            ADD_FAILURE() << "iwfd did not start\n" << proc.log();
            return false;
        }
        if (!iwf::test::waitFor([&] { return metric("iwf_keymap_revision") == 1; }, 10s)) {
            ADD_FAILURE() << "keymap not loaded\n" << proc.log();
            return false;
        }
        return true;
    }
    double metric(const std::string& series) {
        auto m = iwf::test::httpGet(proc.adminPort(), "/metrics");
        return iwf::test::prometheusValue(m.body, series).value_or(-1);
    }
    // An encrypted transmission from unit 1001 on TG 100 (fire-ops): 3 superframes, end.
    void radioTalks() {
        lmr::p25::test::UdpPeer radio;
        radio.sendTo(p25_port, pollBytes("RADIO1"));
        ASSERT_TRUE(radio.receive(5s).has_value()) << "no poll answer\n" << proc.log();
        lmr::p25::Mi mi{0x12, 0x34, 0x56, 0x78, 0x90, 0xAB, 0xCD, 0xEF, 0x00};
        for (int n = 0; n < 3; ++n) {
            lmr::p25::test::SuperframeSpec s;
            s.service_options = 0x40;
            s.dst = 100;
            s.src = 1001;
            s.algid = 0x84;
            s.kid = 0x0101;
            mi = lmr::p25::nextMi(mi);
            std::copy(mi.begin(), mi.end(), s.next_mi.begin());
            for (const auto& r : lmr::p25::test::buildSuperframe(s)) {
                radio.sendTo(p25_port, r);
            }
        }
        Bytes end(17, 0);
        end[0] = 0x80;
        radio.sendTo(p25_port, end);
    }
    void stop() {
        proc.signal(SIGTERM);
        EXPECT_EQ(proc.waitExit(10s), std::optional<int>(0)) << proc.log();
    }
};

bool waitForBridge(std::uint16_t port) {
    return iwf::test::waitFor(
        [&] {
            asio::io_context io;
            asio::ip::tcp::socket s(io);
            boost::system::error_code ec;
            s.connect({asio::ip::make_address("127.0.0.1"), port}, ec);
            return !ec;
        },
        5s);
}

// True once something has bound UDP `port` on 127.0.0.1 (SIPp, Kamailio started).
bool waitForUdpBound(std::uint16_t port) {
    return iwf::test::waitFor(
        [&] {
            asio::io_context io;
            asio::ip::udp::socket s(io);
            boost::system::error_code ec;
            s.open(asio::ip::udp::v4(), ec);
            s.bind({asio::ip::make_address("127.0.0.1"), port}, ec);
            return ec == asio::error::address_in_use;
        },
        10s);
}

// SIPp as a UAS on UDP 127.0.0.1:port playing `scenario`, logging to dir/<name>.log and .err;
// returns once it has bound its port (nullptr if it never did).
std::unique_ptr<Child> sippUas(const std::string& scenario, std::uint16_t port, TempDir& dir,
                               const std::string& name) {
    auto sipp = std::make_unique<Child>(
        std::vector<std::string>{IWF_SIPP, "-sf", std::string(IWF_SIPP_SCENARIOS) + "/" + scenario,
                                 "-m", "1", "-t", "u1", "-i", "127.0.0.1", "-p",
                                 std::to_string(port), "-timeout", "30s", "-timeout_error",
                                 "-nostdin", "-trace_err", "-error_file", dir.file(name + ".err")},
        dir.file(name + ".log"), dir.path());
    if (!waitForUdpBound(port)) {
        ADD_FAILURE() << scenario << ": SIPp did not start\n" << slurp(dir.file(name + ".log"));
        return nullptr;
    }
    return sipp;
}

// Debian's Kamailio 5.6 on 127.0.0.1:port with tests/interop/sipp/kamailio.cfg, in the
// foreground (-DD), logging to stderr (-E) into dir/kamailio.log; killed with the test.
struct Kamailio {
    std::uint16_t port = 0;
    std::unique_ptr<Child> proc;
    std::string log;
    bool start(TempDir& dir) {
        port = freePort(false);
        log = dir.file("kamailio.log");
        proc = std::make_unique<Child>(
            std::vector<std::string>{IWF_KAMAILIO, "-f", IWF_KAMAILIO_CFG, "-l",
                                     "udp:127.0.0.1:" + std::to_string(port), "-DD", "-E", "-Y",
                                     dir.path(), "-m", "32", "-M", "8", "-n", "1"},
            log, dir.path());
        if (!waitForUdpBound(port)) {
            ADD_FAILURE() << "kamailio did not start\n" << slurp(log);
            return false;
        }
        return true;
    }
};

// SIPp (the controlling function) calls iwfd: group call, emergency with UPDATE cancel,
// private call; each ends by BYE. iwfd must have received all three, reported them to its
// engine (calls started by kind / priority) and ended them.
void mcCallsIwfd(Iwfd& iwfd, std::uint16_t sipp_target, const std::string& transport,
                 TempDir& dir) {
    EXPECT_EQ(runSipp("mc_group_call.xml", sipp_target, transport, dir), 0);
    EXPECT_EQ(runSipp("mc_emergency.xml", sipp_target, transport, dir), 0);
    EXPECT_EQ(runSipp("mc_private_call.xml", sipp_target, transport, dir), 0);
    EXPECT_EQ(iwfd.metric("iwf_mcptt_calls_total{link=\"mc\",reason=\"received\"}"), 3)
        << iwfd.proc.log();
    EXPECT_EQ(iwfd.metric("iwf_engine_calls_started_total{kind=\"group\",origin=\"mc\","
                          "priority=\"normal\"}"),
              1);
    EXPECT_EQ(iwfd.metric("iwf_engine_calls_started_total{kind=\"group\",origin=\"mc\","
                          "priority=\"emergency\"}"),
              1);
    EXPECT_EQ(iwfd.metric("iwf_engine_calls_started_total{kind=\"private\",origin=\"mc\","
                          "priority=\"normal\"}"),
              1)
        << iwfd.proc.log();
    EXPECT_EQ(iwfd.metric("iwf_mcptt_priority_changes_total{link=\"mc\",reason=\"normal\"}"), 1);
    // Every call has ended: /v1/calls lists none.
    EXPECT_TRUE(iwf::test::waitFor(
        [&] {
            auto c = iwf::test::httpGet(iwfd.proc.adminPort(), "/v1/calls");
            return c.status == 200 && c.body.find("\"legs\"") == std::string::npos;
        },
        5s))
        << iwf::test::httpGet(iwfd.proc.adminPort(), "/v1/calls").body;
}

TEST(McCallsIwfd, GroupEmergencyPrivateOverUdp) {
    TempDir dir;
    Iwfd iwfd(dir);
    ASSERT_TRUE(iwfd.start(sip::Protocol::Udp, 9, false));
    mcCallsIwfd(iwfd, iwfd.sip_port, "u1", dir);
    iwfd.stop();
}

TEST(McCallsIwfd, GroupEmergencyPrivateOverMutualTls) {
    TempDir dir;
    Iwfd iwfd(dir);
    ASSERT_TRUE(iwfd.start(sip::Protocol::Tls, 9, true));
    // SIPp speaks TCP to socat, which opens a mutual-TLS connection to iwfd.
    const std::uint16_t bridge = freePort(true);
    Child socat(
        {IWF_SOCAT, "TCP-LISTEN:" + std::to_string(bridge) + ",bind=127.0.0.1,reuseaddr,fork",
         "OPENSSL:127.0.0.1:" + std::to_string(iwfd.sip_port) + ",verify=1,cafile=" +
             iwfd.certs.server_crt + ",cert=" + iwfd.certs.client_pem + ",commonname=iwf"},
        dir.file("socat.log"), dir.path());
    ASSERT_TRUE(waitForBridge(bridge));
    mcCallsIwfd(iwfd, bridge, "t1", dir);
    iwfd.stop();
}

// iwfd calls SIPp (acting as the MC side) because a radio talks on its P25 link: SIPp checks
// the INVITE (service identification, multipart SDP + mcptt-info, X-IWF-LMR), answers 200 with
// mc_granted, gets the ACK and, after the hang time, iwfd's BYE. iwfd must have sent the
// radio's frames as RTP toward the ports of SIPp's answer.
void iwfdCallsSipp(bool tls) {
    TempDir dir;
    Iwfd iwfd(dir);
    const std::uint16_t sipp_port = tls ? freePort(true) : freePort(false);
    Child sipp(
        {IWF_SIPP, "-sf", std::string(IWF_SIPP_SCENARIOS) + "/mc_answers_iwf.xml", "-m", "1", "-t",
         tls ? "t1" : "u1", "-i", "127.0.0.1", "-p", std::to_string(sipp_port), "-timeout", "30s",
         "-timeout_error", "-nostdin", "-trace_err", "-error_file", dir.file("uas.err")},
        dir.file("uas.log"), dir.path());
    std::unique_ptr<Child> socat;
    std::uint16_t peer_port = sipp_port;
    if (tls) {
        // iwfd's TLS client -> socat (TLS server with the MC side's certificate) -> SIPp TCP.
        peer_port = freePort(true);
        socat = std::make_unique<Child>(
            std::vector<std::string>{
                IWF_SOCAT,
                "OPENSSL-LISTEN:" + std::to_string(peer_port) +
                    ",bind=127.0.0.1,reuseaddr,fork,cert=" + iwfd.certs.client_pem + ",verify=0",
                "TCP:127.0.0.1:" + std::to_string(sipp_port)},
            dir.file("socat.log"), dir.path());
        ASSERT_TRUE(waitForBridge(peer_port));
    } else {
        // SIPp binds its UDP port when it has started: wait for that.
        ASSERT_TRUE(iwf::test::waitFor(
            [&] {
                asio::io_context io;
                asio::ip::udp::socket s(io);
                boost::system::error_code ec;
                s.open(asio::ip::udp::v4(), ec);
                s.bind({asio::ip::make_address("127.0.0.1"), sipp_port}, ec);
                return ec == asio::error::address_in_use;
            },
            5s));
    }
    ASSERT_TRUE(iwfd.start(tls ? sip::Protocol::Tls : sip::Protocol::Udp, peer_port, false));
    iwfd.radioTalks();
    auto code = sipp.wait(30s);
    ASSERT_TRUE(code.has_value()) << slurp(dir.file("uas.log")) << iwfd.proc.log();
    EXPECT_EQ(*code, 0) << slurp(dir.file("uas.log")) << slurp(dir.file("uas.err"))
                        << iwfd.proc.log();
    EXPECT_EQ(iwfd.metric("iwf_mcptt_calls_total{link=\"mc\",reason=\"originated\"}"), 1)
        << iwfd.proc.log();
    EXPECT_EQ(iwfd.metric("iwf_mc_rtp_tx_total{link=\"mc\"}"), 54) << iwfd.proc.log();
    iwfd.stop();
}

TEST(IwfdCallsSipp, GroupCallOverUdp) {
    iwfdCallsSipp(false);
}

TEST(IwfdCallsSipp, GroupCallOverTls) {
    iwfdCallsSipp(true);
}

// MC -> IWF through Kamailio: SIPp sends the INVITE to the proxy (-rsa) with iwfd in the
// Request-URI; the ACK and BYE must pass the proxy too, which needs iwfd's 200 to echo the
// Record-Route (before the fix the proxy dropped the ACK and answered the BYE 404).
TEST(ThroughKamailio, McCallsIwfd) {
    TempDir dir;
    Kamailio proxy;
    ASSERT_TRUE(proxy.start(dir));
    Iwfd iwfd(dir);
    ASSERT_TRUE(iwfd.start(sip::Protocol::Udp, proxy.port, false));
    EXPECT_EQ(runSipp("mc_group_call_via_proxy.xml", iwfd.sip_port, "u1", dir,
                      {"-rsa", "127.0.0.1:" + std::to_string(proxy.port)}),
              0)
        << slurp(proxy.log) << iwfd.proc.log();
    EXPECT_EQ(iwfd.metric("iwf_mcptt_calls_total{link=\"mc\",reason=\"received\"}"), 1);
    EXPECT_TRUE(iwf::test::waitFor(
        [&] {
            auto c = iwf::test::httpGet(iwfd.proc.adminPort(), "/v1/calls");
            return c.status == 200 && c.body.find("\"legs\"") == std::string::npos;
        },
        5s))
        << iwf::test::httpGet(iwfd.proc.adminPort(), "/v1/calls").body;
    EXPECT_EQ(slurp(proxy.log).find("ACK without matching transaction"), std::string::npos)
        << slurp(proxy.log);
    iwfd.stop();
}

// IWF -> MC through Kamailio: iwfd's peer is the proxy, its server_uri SIPp. SIPp's 200
// echoes the proxy's Record-Route; iwfd's ACK and BYE must carry the route set.
TEST(ThroughKamailio, IwfdCallsMc) {
    TempDir dir;
    Kamailio proxy;
    ASSERT_TRUE(proxy.start(dir));
    const std::uint16_t sipp_port = freePort(false);
    auto sipp = sippUas("mc_answers_iwf_via_proxy.xml", sipp_port, dir, "uas");
    ASSERT_TRUE(sipp);
    Iwfd iwfd(dir);
    ASSERT_TRUE(iwfd.start(sip::Protocol::Udp, proxy.port, false,
                           "sip:cf@127.0.0.1:" + std::to_string(sipp_port)));
    iwfd.radioTalks();
    auto code = sipp->wait(30s);
    ASSERT_TRUE(code.has_value()) << slurp(dir.file("uas.log")) << iwfd.proc.log();
    EXPECT_EQ(*code, 0) << slurp(dir.file("uas.log")) << slurp(dir.file("uas.err"))
                        << slurp(proxy.log) << iwfd.proc.log();
    EXPECT_EQ(iwfd.metric("iwf_mcptt_calls_total{link=\"mc\",reason=\"originated\"}"), 1);
    EXPECT_EQ(slurp(proxy.log).find("ACK without matching transaction"), std::string::npos)
        << slurp(proxy.log);
    iwfd.stop();
}

// Affiliation through Kamailio: iwfd's peer is the proxy, its server_uri SIPp; the PUBLISH it
// sends at start must reach SIPp through the proxy and SIPp's 200 come back the same way.
TEST(ThroughKamailio, IwfdAffiliatesWithPublish) {
    TempDir dir;
    Kamailio proxy;
    ASSERT_TRUE(proxy.start(dir));
    const std::uint16_t sipp_port = freePort(false);
    auto sipp = sippUas("mc_publish_via_proxy.xml", sipp_port, dir, "publish");
    ASSERT_TRUE(sipp);
    Iwfd iwfd(dir);
    ASSERT_TRUE(iwfd.start(
        sip::Protocol::Udp, proxy.port, false, "sip:cf@127.0.0.1:" + std::to_string(sipp_port),
        "    affiliation: {model: group, groups: [sip:fire-ops@iwf.example]}\n"));
    auto code = sipp->wait(30s);
    ASSERT_TRUE(code.has_value()) << slurp(dir.file("publish.log")) << iwfd.proc.log();
    EXPECT_EQ(*code, 0) << slurp(dir.file("publish.log")) << slurp(dir.file("publish.err"))
                        << slurp(proxy.log) << iwfd.proc.log();
    EXPECT_TRUE(iwf::test::waitFor(
        [&] {
            return iwfd.metric("iwf_mcptt_affiliation_results_total{link=\"mc\",result=\"ok\"}") ==
                   1;
        },
        5s))
        << iwfd.proc.log();
    iwfd.stop();
}

// MCData SDS through Kamailio, both directions: SIPp sends an SDS MESSAGE to the proxy with
// iwfd's MCData link in the Request-URI (the link's allowed peer is the proxy); iwfd's 404 goes
// back through the proxy, and the "undelivered" notification iwfd then sends to its MC side
// (request_uri SIPp, peer the proxy) reaches SIPp through the proxy and is answered 200.
TEST(ThroughKamailio, SdsMessageBothWays) {
    TempDir dir;
    Kamailio proxy;
    ASSERT_TRUE(proxy.start(dir));
    const std::uint16_t sipp_port = freePort(false);
    const std::uint16_t mcdata_port = freePort(false);
    const std::string proxy_port = std::to_string(proxy.port);
    // The MCData server's side: receives the notification (a new dialog: its own SIPp).
    auto uas = sippUas("mc_sds_notification_via_proxy.xml", sipp_port, dir, "notification");
    ASSERT_TRUE(uas);
    Iwfd iwfd(dir);
    ASSERT_TRUE(iwfd.start(sip::Protocol::Udp, proxy.port, false, "sip:cf@mc.example", {},
                           "  - name: mcdata\n    type: mcdata-iwf2\n"
                           "    listen: {protocol: udp, address: 127.0.0.1, port: " +
                               std::to_string(mcdata_port) +
                               "}\n"
                               "    peer: {protocol: udp, address: 127.0.0.1, port: " +
                               proxy_port +
                               "}\n"
                               "    peers: [{name: proxy, address: 127.0.0.1, port: " +
                               proxy_port +
                               ", domains: [iwf.example, mc.example]}]\n"
                               "    request_uri: sip:mcdata@127.0.0.1:" +
                               std::to_string(sipp_port) + "\n    iwf_psi: sip:iwf@iwf.example\n"));
    EXPECT_EQ(runSipp("mc_sds_via_proxy.xml", mcdata_port, "u1", dir,
                      {"-rsa", "127.0.0.1:" + proxy_port}),
              0)
        << slurp(proxy.log) << iwfd.proc.log();
    auto code = uas->wait(30s);
    ASSERT_TRUE(code.has_value()) << slurp(dir.file("notification.log")) << iwfd.proc.log();
    EXPECT_EQ(*code, 0) << slurp(dir.file("notification.log"))
                        << slurp(dir.file("notification.err")) << iwfd.proc.log();
    EXPECT_TRUE(iwf::test::waitFor(
        [&] {
            return iwfd.metric(
                       "iwf_mc_mcdata_tx_total{link=\"mcdata\",kind=\"notification\","
                       "status=\"200\"}") == 1;
        },
        5s))
        << iwfd.proc.log();
    iwfd.stop();
}

}  // namespace
}  // namespace iwf::mc::mcptt
