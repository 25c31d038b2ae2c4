// The SIP UDP listener's receive buffer (ListenerConfig::receive_buffer, docs/perf/call-setup.md):
// the size granted is what the kernel says for the real socket, and datagrams the kernel drops
// on a full buffer show in iwf_sip_udp_receive_buffer_drops.

#include <algorithm>
#include <arpa/inet.h>
#include <chrono>
#include <fstream>
#include <functional>
#include <netinet/in.h>
#include <string>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "common/asio.hpp"
#include "common/metrics.hpp"
#include "sip/stack.hpp"

namespace iwf::sip {
namespace {

using namespace std::chrono_literals;

long sysctlValue(const char* path) {
    std::ifstream f(path);
    long v = -1;
    f >> v;
    return v;
}

// Value of the gauge `name` of the stack "s" (one UDP listener), -1 if absent.
double gauge(const metrics::Registry& reg, std::string_view name) {
    const std::string text = reg.renderPrometheus();
    const std::string key = std::string(name) + "{stack=\"s\",";
    auto p = text.find(key);
    if (p == std::string::npos) {
        return -1;
    }
    p = text.find("} ", p);
    return std::stod(text.substr(p + 2));
}

StackConfig udpConfig(int receive_buffer) {
    StackConfig c;
    c.name = "s";
    ListenerConfig l;
    l.protocol = Protocol::Udp;
    l.address = "127.0.0.1";
    l.port = 0;
    l.receive_buffer = receive_buffer;
    c.listeners.push_back(l);
    return c;
}

TEST(SipReceiveBuffer, GrantedSizeIsTheAskedOneUpToRmemMaxAndZeroKeepsTheDefault) {
    const long rmem_max = sysctlValue("/proc/sys/net/core/rmem_max");
    const long rmem_default = sysctlValue("/proc/sys/net/core/rmem_default");
    ASSERT_GT(rmem_max, 0);
    ASSERT_GT(rmem_default, 0);
    asio::io_context io;
    {
        metrics::Registry reg;
        Stack s(io, reg, udpConfig(kDefaultUdpReceiveBuffer));
        ASSERT_TRUE(s.start().ok());
        // The kernel keeps twice the SO_RCVBUF asked for, capped at net.core.rmem_max.
        EXPECT_EQ(gauge(reg, "iwf_sip_udp_receive_buffer_bytes"),
                  2.0 * static_cast<double>(std::min<long>(kDefaultUdpReceiveBuffer, rmem_max)));
        EXPECT_EQ(gauge(reg, "iwf_sip_udp_receive_buffer_drops"), 0.0);
        s.stop();
    }
    {
        metrics::Registry reg;
        Stack s(io, reg, udpConfig(0));
        ASSERT_TRUE(s.start().ok());
        EXPECT_EQ(gauge(reg, "iwf_sip_udp_receive_buffer_bytes"),
                  static_cast<double>(rmem_default));
        s.stop();
    }
    {
        metrics::Registry reg;
        Stack s(io, reg, udpConfig(64 * 1024));
        ASSERT_TRUE(s.start().ok());
        EXPECT_EQ(gauge(reg, "iwf_sip_udp_receive_buffer_bytes"), 2.0 * 64 * 1024);
        s.stop();
    }
}

// A small buffer and a burst the stack does not read yet (its io_context is not running): the
// kernel drops what does not fit, the metric shows the kernel's count, and the stack still
// handles what was queued once it runs. The metric keeps its last value after stop().
TEST(SipReceiveBuffer, KernelDropsOfAFullBufferAreCounted) {
    asio::io_context io;
    metrics::Registry reg;
    Stack s(io, reg, udpConfig(8 * 1024));
    int requests = 0;
    s.onRequest([&](ServerTxId tx, const Message& req, const Peer&) {
        ++requests;
        (void)s.respond(tx, makeResponse(req, 200, {}, s.newTag()));
    });
    ASSERT_TRUE(s.start().ok());
    const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    ASSERT_GE(fd, 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(s.port(Protocol::Udp));
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    constexpr int kSent = 200;
    for (int i = 0; i < kSent; ++i) {
        const std::string msg =
            "OPTIONS sip:s@127.0.0.1 SIP/2.0\r\n"
            "Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK-rb" +
            std::to_string(i) +
            "\r\nFrom: <sip:t@x>;tag=1\r\nTo: <sip:s@x>\r\n"
            "Call-ID: rb" +
            std::to_string(i) +
            "\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n"
            "Content-Length: 0\r\n\r\n";
        ASSERT_EQ(
            ::sendto(fd, msg.data(), msg.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to),
            static_cast<ssize_t>(msg.size()));
    }
    ::close(fd);
    const double drops = gauge(reg, "iwf_sip_udp_receive_buffer_drops");
    EXPECT_GT(drops, 0.0);
    EXPECT_LT(drops, kSent);
    // What fitted is handled: kSent - drops requests (no retransmissions from this sender).
    const int expect = kSent - static_cast<int>(drops);
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (requests < expect && std::chrono::steady_clock::now() < deadline) {
        io.restart();
        io.run_one_for(20ms);
    }
    EXPECT_EQ(requests, expect);
    s.stop();
    EXPECT_EQ(gauge(reg, "iwf_sip_udp_receive_buffer_drops"), drops);
}

}  // namespace
}  // namespace iwf::sip
