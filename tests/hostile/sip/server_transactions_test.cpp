// Finding "server transaction state" (issue #21): 10^5 OPTIONS left +124 MB of server
// transactions in iwfd, each kept for Timer J (64*T1 = 32 s over UDP) after its 200. Now a
// stack holds at most StackConfig::max_server_transactions (10,000); beyond it a new request
// is dropped over UDP and answered 503 + Retry-After over TCP/TLS (sip/stack.hpp says why),
// counted in iwf_sip_overload_total{stack,action}.
#include <arpa/inet.h>
#include <chrono>
#include <netinet/in.h>
#include <string>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "hostile_sip.hpp"

namespace iwf::hostile {
namespace {

using iwf::test::waitFor;

class ServerTransactions : public HostileSip {};

// 12,000 distinct OPTIONS over UDP (the source is the MC peer's address: an allow-list by
// address does not stop a flood from a host that is allowed, or spoofs one): 10,000 get a
// transaction and a 200, 2,000 are dropped and counted; an OPTIONS over TCP then gets 503 with
// Retry-After, and the call set up before keeps every frame. T1 is 2 s here, so a transaction
// lives for Timer J = 128 s: with the default 32 s, a flood slowed down by a loaded machine
// outlived its first transactions (9,994 left, 1,000 dropped), and the count was no longer 10,000.
TEST_F(ServerTransactions, TheTableIsCappedAndTheRestIsRefusedAndCounted) {
    StartOptions o;
    o.mc_link_extra = "    timers: {t1: 2s}\n";
    ASSERT_NO_FATAL_FAILURE(start(o));
    ASSERT_NO_FATAL_FAILURE(call.start(20, 8ms));
    int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(fd, 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(udpPort());
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const std::string received = "iwf_sip_messages_received_total{stack=\"mc\"}";
    const double before = metric(received);
    constexpr int kTotal = 12'000;
    constexpr int kBatch = 500;  // well inside the 4 MB receive buffer: nothing lost there
    for (int sent = 0; sent < kTotal;) {
        for (int i = 0; i < kBatch; ++i, ++sent) {
            const std::string m =
                optionsRequest("UDP", "127.0.0.1", "flood" + std::to_string(sent));
            ASSERT_EQ(
                ::sendto(fd, m.data(), m.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to),
                static_cast<ssize_t>(m.size()));
        }
        ASSERT_TRUE(waitFor([&] { return metric(received) >= before + sent; }, 30s))
            << "iwfd did not take in " << sent << " requests";
    }
    ::close(fd);
    EXPECT_EQ(metric("iwf_sip_server_transactions{stack=\"mc\"}"), 10'000);
    EXPECT_EQ(metric("iwf_sip_overload_total{stack=\"mc\",action=\"dropped\"}"), 2'000);

    int tcp = connectFrom("127.0.0.1", tcpPort());
    ASSERT_GE(tcp, 0);
    ASSERT_TRUE(sendAll(tcp, optionsRequest("TCP", "127.0.0.1", "late")));
    const std::string answer = readUntil(tcp, "\r\n\r\n", 10s);
    ::close(tcp);
    EXPECT_EQ(answer.rfind("SIP/2.0 503", 0), 0u) << answer;
    EXPECT_NE(answer.find("\r\nRetry-After: 128\r\n"), std::string::npos) << answer;  // 64*T1
    EXPECT_EQ(metric("iwf_sip_overload_total{stack=\"mc\",action=\"answered_503\"}"), 1);
    ASSERT_NO_FATAL_FAILURE(call.expectExact());
}

}  // namespace
}  // namespace iwf::hostile
