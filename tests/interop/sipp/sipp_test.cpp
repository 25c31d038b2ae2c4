// SIPp against the IWF-1 link.
//  - McCallsIwfLink: SIPp (the MCPTT controlling function) calls the link (in-process, see
//    below): group call, emergency (with UPDATE cancel), private call, BYE; over UDP and over
//    TLS (SIPp TCP -> socat -> link TLS, mutual TLS).
//  - IwfCallsSipp: the link in-process (iwfd has no engine yet that would make it originate)
//    calls SIPp acting as the MC side, over UDP and TLS (link TLS -> socat -> SIPp TCP).
#include <chrono>
#include <cstdlib>
#include <fcntl.h>
#include <fstream>
#include <signal.h>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include <gtest/gtest.h>

#include "gateway/common/asio.hpp"
#include "mc_adapters/mcptt/mcptt_link.hpp"
#include "tests/integration/support/iwfd_process.hpp"

namespace iwf::mc::mcptt {
namespace {

using namespace std::chrono_literals;
using iwf::test::TempDir;

std::uint16_t freePort(bool tcp) {
    asio::io_context io;
    if (tcp) {
        asio::ip::tcp::acceptor a(io, {asio::ip::make_address("127.0.0.1"), 0});
        return a.local_endpoint().port();
    }
    asio::ip::udp::socket s(io, {asio::ip::make_address("127.0.0.1"), 0});
    return s.local_endpoint().port();
}

// A child process in the background (SIPp, socat); killed when it goes out of scope.
class Child {
  public:
    Child(const std::vector<std::string>& argv, const std::string& log, const std::string& cwd) {
        pid_ = ::fork();
        if (pid_ == 0) {
            int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            ::dup2(fd, 1);
            ::dup2(fd, 2);
            int devnull = ::open("/dev/null", O_RDONLY);
            ::dup2(devnull, 0);
            if (::chdir(cwd.c_str()) != 0) {
                ::_exit(126);
            }
            std::vector<char*> args;
            for (const auto& a : argv) {
                args.push_back(const_cast<char*>(a.c_str()));
            }
            args.push_back(nullptr);
            ::execv(args[0], args.data());
            ::_exit(127);
        }
    }
    ~Child() {
        if (pid_ > 0 && !exited_) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
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
Certs makeCerts(const TempDir& dir) {
    Certs c{dir.file("server.crt"), dir.file("server.key"), dir.file("client.crt"),
            dir.file("client.key"), dir.file("client.pem")};
    for (auto [crt, key, cn] : {std::tuple{c.server_crt, c.server_key, "iwf"},
                                std::tuple{c.client_crt, c.client_key, "mc"}}) {
        const std::string cmd =
            "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
            "-subj /CN=" +
            std::string(cn) + " -keyout " + key + " -out " + crt + " >/dev/null 2>&1";
        EXPECT_EQ(std::system(cmd.c_str()), 0);
    }
    std::ofstream(c.client_pem) << slurp(c.client_crt) << slurp(c.client_key);
    return c;
}

int runSipp(const std::string& scenario, std::uint16_t port, const std::string& transport,
            const TempDir& dir) {
    const std::string log = dir.file(scenario + ".log");
    Child sipp({IWF_SIPP, "-sf", std::string(IWF_SIPP_SCENARIOS) + "/" + scenario, "-m", "1", "-t",
                transport, "-i", "127.0.0.1", "-timeout", "20s", "-timeout_error", "-nostdin",
                "-trace_err", "-error_file", dir.file(scenario + ".err"),
                "127.0.0.1:" + std::to_string(port)},
               log, dir.path());
    auto code = sipp.wait(30s);
    if (!code || *code != 0) {
        ADD_FAILURE() << scenario << " exit=" << (code ? *code : -1) << "\n"
                      << slurp(log) << slurp(dir.file(scenario + ".err"));
    }
    return code.value_or(-1);
}

struct Sink : EventSink {
    std::vector<Event> events;
    void onEvent(const LinkId&, Event&& e) override { events.push_back(std::move(e)); }
    template <typename T>
    bool has() const {
        for (const auto& e : events) {
            if (std::holds_alternative<T>(e)) {
                return true;
            }
        }
        return false;
    }
};

// The link in-process on its own thread; SIPp (the controlling function) calls it. The real
// iwfd now routes incoming calls through the engine, which refuses groups its directory does
// not know; a keymap-backed iwfd config for this test is not written yet.
struct InProcessLink {
    asio::io_context io;
    metrics::Registry reg;
    Sink sink;
    std::unique_ptr<McpttLink> link;
    std::thread thread;
    explicit InProcessLink(const McpttLinkConfig& c) {
        link = std::make_unique<McpttLink>(io, reg, c);
        EXPECT_TRUE(link->start(sink).ok());
    }
    void run() {
        thread = std::thread([this] {
            auto guard = asio::make_work_guard(io);
            io.run();
        });
    }
    ~InProcessLink() {
        io.stop();
        if (thread.joinable()) {
            thread.join();
        }
    }
    std::uint64_t received() const {
        return reg.counterValue("iwf_mcptt_calls_total",
                                {{"link", "iwf1"}, {"reason", "received"}});
    }
};

McpttLinkConfig uasConfig(const sip::ListenerConfig& l) {
    McpttLinkConfig c;
    c.psi = "sip:iwf@iwf.example";
    c.listen = {l};
    c.peer = {l.protocol, asio::ip::make_address("127.0.0.1"), 9};
    c.server_uri = "sip:cf@mc.example";
    c.media.address = "127.0.0.1";
    c.media.audio_port = 40000;
    c.media.floor_port = 40001;
    c.e2ee_groups = {"sip:secure@mc.example"};
    return c;
}

TEST(McCallsIwfLink, GroupEmergencyPrivateOverUdp) {
    TempDir dir;
    const std::uint16_t port = freePort(false);
    InProcessLink l(uasConfig({sip::Protocol::Udp, "127.0.0.1", port, {}}));
    l.run();
    EXPECT_EQ(runSipp("mc_group_call.xml", port, "u1", dir), 0);
    EXPECT_EQ(runSipp("mc_emergency.xml", port, "u1", dir), 0);
    EXPECT_EQ(runSipp("mc_private_call.xml", port, "u1", dir), 0);
    l.io.stop();
    l.thread.join();
    EXPECT_EQ(l.received(), 3u);
    EXPECT_EQ(l.reg.counterValue("iwf_mcptt_priority_changes_total",
                                 {{"link", "iwf1"}, {"reason", "normal"}}),
              1u);
}

TEST(McCallsIwfLink, GroupEmergencyPrivateOverMutualTls) {
    TempDir dir;
    Certs certs = makeCerts(dir);
    const std::uint16_t tls_port = freePort(true);
    const std::uint16_t bridge = freePort(true);
    sip::ListenerConfig tl{sip::Protocol::Tls, "127.0.0.1", tls_port, {}};
    tl.tls.cert_file = certs.server_crt;
    tl.tls.key_file = certs.server_key;
    tl.tls.ca_file = certs.client_crt;
    tl.tls.require_client_cert = true;
    InProcessLink l(uasConfig(tl));
    l.run();
    // SIPp speaks TCP to socat, which opens a mutual-TLS connection to the link.
    Child socat(
        {IWF_SOCAT, "TCP-LISTEN:" + std::to_string(bridge) + ",bind=127.0.0.1,reuseaddr,fork",
         "OPENSSL:127.0.0.1:" + std::to_string(tls_port) + ",verify=1,cafile=" + certs.server_crt +
             ",cert=" + certs.client_pem + ",commonname=iwf"},
        dir.file("socat.log"), dir.path());
    ASSERT_TRUE(iwf::test::waitFor(
        [&] {
            asio::io_context io;
            asio::ip::tcp::socket s(io);
            boost::system::error_code ec;
            s.connect({asio::ip::make_address("127.0.0.1"), bridge}, ec);
            return !ec;
        },
        5s));
    EXPECT_EQ(runSipp("mc_group_call.xml", bridge, "t1", dir), 0);
    EXPECT_EQ(runSipp("mc_emergency.xml", bridge, "t1", dir), 0);
    EXPECT_EQ(runSipp("mc_private_call.xml", bridge, "t1", dir), 0);
    l.io.stop();
    l.thread.join();
    EXPECT_EQ(l.received(), 3u) << slurp(dir.file("socat.log"));
}

void linkCallsSipp(sip::Protocol link_proto, const std::string& sipp_transport, bool via_socat) {
    TempDir dir;
    Certs certs = makeCerts(dir);
    const std::uint16_t sipp_port = sipp_transport == "u1" ? freePort(false) : freePort(true);
    Child sipp(
        {IWF_SIPP, "-sf", std::string(IWF_SIPP_SCENARIOS) + "/mc_answers_iwf.xml", "-m", "1", "-t",
         sipp_transport, "-i", "127.0.0.1", "-p", std::to_string(sipp_port), "-timeout", "20s",
         "-timeout_error", "-nostdin", "-trace_err", "-error_file", dir.file("uas.err")},
        dir.file("uas.log"), dir.path());
    std::unique_ptr<Child> socat;
    std::uint16_t peer_port = sipp_port;
    if (via_socat) {
        peer_port = freePort(true);
        socat = std::make_unique<Child>(
            std::vector<std::string>{IWF_SOCAT,
                                     "OPENSSL-LISTEN:" + std::to_string(peer_port) +
                                         ",bind=127.0.0.1,reuseaddr,fork,cert=" + certs.client_pem +
                                         ",verify=0",
                                     "TCP:127.0.0.1:" + std::to_string(sipp_port)},
            dir.file("socat.log"), dir.path());
        ASSERT_TRUE(iwf::test::waitFor(
            [&] {
                asio::io_context probe_io;
                asio::ip::tcp::socket probe(probe_io);
                boost::system::error_code ec;
                probe.connect({asio::ip::make_address("127.0.0.1"), peer_port}, ec);
                return !ec;
            },
            5s));
    }
    asio::io_context io;
    metrics::Registry reg;
    McpttLinkConfig c;
    c.psi = "sip:iwf@iwf.example";
    sip::ListenerConfig l{link_proto, "127.0.0.1", 0, {}};
    l.tls.cert_file = certs.server_crt;
    l.tls.key_file = certs.server_key;
    l.tls.ca_file = certs.client_crt;  // socat presents the client certificate as server
    c.listen = {l};
    c.peer = {link_proto, asio::ip::make_address("127.0.0.1"), peer_port};
    c.server_uri = "sip:cf@mc.example";
    c.media.address = "127.0.0.1";
    c.media.audio_port = 40000;
    c.media.floor_port = 40001;
    c.timers.t1 = 100ms;
    McpttLink link(io, reg, c);
    Sink sink;
    ASSERT_TRUE(link.start(sink).ok());
    auto run = [&](const std::function<bool()>& done, std::chrono::seconds limit) {
        const auto deadline = std::chrono::steady_clock::now() + limit;
        while (!done() && std::chrono::steady_clock::now() < deadline) {
            io.restart();
            io.run_one_for(20ms);
        }
        return done();
    };
    CallSetup s;
    s.call = 1;
    s.caller = Talker{McId{"sip:lmr-1001@iwf.example"}, "", {}};
    s.callee = McGroupId{"sip:secure@mc.example"};
    // SIPp / socat may still be starting: a refused connection ends the attempt (CallEnd),
    // then try again with a new call ref.
    bool granted = false;
    for (int attempt = 0; attempt < 50 && !granted; ++attempt) {
        sink.events.clear();
        s.call = static_cast<CallRef>(attempt + 1);
        ASSERT_TRUE(link.deliver(s).ok());
        run([&] { return sink.has<FloorGranted>() || sink.has<CallEnd>(); }, 15s);
        granted = sink.has<FloorGranted>();  // SIPp's answer says mc_granted
    }
    ASSERT_TRUE(granted) << slurp(dir.file("uas.log")) << slurp(dir.file("uas.err"));
    ASSERT_TRUE(link.deliver(CallEnd{s.call, EndReason::Normal, ""}).ok());
    std::optional<int> code;
    run([&] { return (code = sipp.poll()).has_value(); }, 20s);
    ASSERT_TRUE(code.has_value()) << slurp(dir.file("uas.log"));
    EXPECT_EQ(*code, 0) << slurp(dir.file("uas.log")) << slurp(dir.file("uas.err"));
    link.stop();
}

TEST(IwfCallsSipp, GroupCallOverUdp) {
    linkCallsSipp(sip::Protocol::Udp, "u1", false);
}

TEST(IwfCallsSipp, GroupCallOverTls) {
    linkCallsSipp(sip::Protocol::Tls, "t1", true);
}

}  // namespace
}  // namespace iwf::mc::mcptt
