// Orphaned dialogs (issue #21): after `kill -9` mid-call and a restart, two MC dialogs were
// left with no BYE and no session timer. SIPp (an independent RFC 4028 implementation of the
// scenario files in sipp/) judges both directions against the real iwfd:
//  - IwfdRefreshesSoTheMcSideCleansUpAfterKill9: iwfd calls the MC side (a radio talks),
//    negotiates a timer with itself as refresher and refreshes; iwfd is SIGKILLed and
//    restarted; the MC side, missing the refresh, sends BYE and the new iwfd answers 481.
//  - IwfdEndsADialogTheMcSideForgot: the MC side calls iwfd as the refresher, refreshes once
//    and goes silent; iwfd sends BYE before the interval runs out.
// Both failed before: iwfd's INVITE and 200 OK carried no Session-Expires.
#include <fcntl.h>
#include <fstream>
#include <signal.h>
#include <sstream>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "tests/hostile/mc/mc_hostile.hpp"

namespace iwf::mc::hostile {
namespace {

// SIPp in the background; killed if still running when it goes out of scope.
class Sipp {
  public:
    Sipp(const std::vector<std::string>& args, const std::string& log) {
        // Built before the fork: the child of a threaded process may only call
        // async-signal-safe functions until exec (no allocation).
        std::vector<std::string> argv = {IWF_SIPP};
        argv.insert(argv.end(), args.begin(), args.end());
        std::vector<char*> a;
        for (auto& s : argv) {
            a.push_back(s.data());
        }
        a.push_back(nullptr);
        pid_ = ::fork();
        if (pid_ == 0) {
            int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            ::dup2(fd, 1);
            ::dup2(fd, 2);
            int devnull = ::open("/dev/null", O_RDONLY);
            ::dup2(devnull, 0);
            ::execv(a[0], a.data());
            ::_exit(127);
        }
    }
    ~Sipp() {
        if (pid_ > 0 && !code_) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
    }
    std::optional<int> wait(std::chrono::milliseconds limit) {
        iwf::test::waitFor(
            [&] {
                int st = 0;
                if (::waitpid(pid_, &st, WNOHANG) == pid_) {
                    code_ = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
                }
                return code_.has_value();
            },
            limit);
        return code_;
    }

  private:
    pid_t pid_ = -1;
    std::optional<int> code_;
};

std::string slurp(const std::string& path) {
    std::ifstream f(path);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

std::string scenario(const std::string& name) {
    return std::string(IWF_HOSTILE_SIPP_SCENARIOS) + "/" + name;
}

// The SIPp UDP port is bound once SIPp has started.
bool bound(std::uint16_t port) {
    return iwf::test::waitFor(
        [&] {
            asio::io_context io;
            asio::ip::udp::socket s(io);
            boost::system::error_code ec;
            s.open(asio::ip::udp::v4(), ec);
            s.bind({ip("127.0.0.1"), port}, ec);
            return ec == asio::error::address_in_use;
        },
        10s);
}

const std::string kTimer = "    session_timer: {expires: 8s, min_se: 2s}\n";

TEST_F(IwfdMc, IwfdRefreshesSoTheMcSideCleansUpAfterKill9) {
    const std::uint16_t sipp_port = pickLoopbackPort(PortProtocol::Udp);
    Sipp sipp({"-sf", scenario("mc_forgotten_by_iwfd.xml"), "-m", "1", "-t", "u1", "-i",
               "127.0.0.1", "-p", std::to_string(sipp_port), "-timeout", "40s", "-timeout_error",
               "-nostdin", "-trace_err", "-error_file", dir.file("uas.err")},
              dir.file("uas.log"));
    ASSERT_TRUE(bound(sipp_port));
    const std::string cfg = config(sipp_port, kTimer);
    ASSERT_TRUE(iwfd.start(dir, cfg)) << iwfd.log();
    ASSERT_TRUE(iwf::test::waitFor([&] { return metric("iwf_keymap_revision") == 1; }, 20s));
    ASSERT_NO_FATAL_FAILURE(linkRadio());
    Talker t;
    talk(t);
    talk(t);  // late entry: the stream states ALGID / key ID in superframe 0's LDU2
    // iwfd's refresh answered 200: the MC side holds a timer that iwfd keeps alive.
    ASSERT_TRUE(iwf::test::waitFor(
        [&] { return metric("iwf_mcptt_session_refreshes_total{link=\"mc\"}") >= 1; }, 20s))
        << iwfd.log() << slurp(dir.file("uas.log"));
    iwfd.signal(SIGKILL);
    (void)iwfd.waitExit(10s);
    iwf::test::IwfdProcess restarted;
    ASSERT_TRUE(restarted.start(dir, cfg)) << restarted.log();
    auto code = sipp.wait(40s);
    ASSERT_TRUE(code.has_value()) << slurp(dir.file("uas.log"));
    EXPECT_EQ(*code, 0) << slurp(dir.file("uas.log")) << slurp(dir.file("uas.err"))
                        << restarted.log();
    restarted.signal(SIGTERM);
    EXPECT_EQ(restarted.waitExit(10s), std::optional<int>(0)) << restarted.log();
}

TEST_F(IwfdMc, IwfdEndsADialogTheMcSideForgot) {
    asio::io_context io;
    metrics::Registry reg;
    McSystem mc(io, reg);  // the link's destination; SIPp calls from the same peer address
    ASSERT_NO_FATAL_FAILURE(startIwfd(mc, kTimer));
    Sipp sipp({"-sf", scenario("iwfd_ends_forgotten_dialog.xml"), "-m", "1", "-t", "u1", "-i",
               "127.0.0.1", "-timeout", "30s", "-timeout_error", "-nostdin", "-trace_err",
               "-error_file", dir.file("uac.err"), "127.0.0.1:" + std::to_string(sip_port)},
              dir.file("uac.log"));
    auto code = sipp.wait(40s);
    ASSERT_TRUE(code.has_value()) << slurp(dir.file("uac.log"));
    EXPECT_EQ(*code, 0) << slurp(dir.file("uac.log")) << slurp(dir.file("uac.err")) << iwfd.log();
    EXPECT_EQ(metric("iwf_mcptt_sessions_expired_total{link=\"mc\"}"), 1) << iwfd.log();
    iwfd.signal(SIGTERM);
    EXPECT_EQ(iwfd.waitExit(10s), std::optional<int>(0)) << iwfd.log();
}

}  // namespace
}  // namespace iwf::mc::hostile
