// tests/bench/load/load_net: the loopback UDP socket of the load generator and its receivers
// (bound to 127.0.0.1, non-blocking, buffer sizes asked for) and the receive with the kernel
// timestamp (length, bytes, SCM_TIMESTAMPNS present only when asked for, nothing waiting).
#include "tests/bench/load/load_net.hpp"

#include <arpa/inet.h>
#include <cstdint>
#include <cstring>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <gtest/gtest.h>

namespace iwf::bench {
namespace {

std::int64_t realtimeNs() {
    timespec ts{};
    ::clock_gettime(CLOCK_REALTIME, &ts);
    return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

bool sendTo(int fd, std::uint16_t port, const char* text) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    return ::sendto(fd, text, std::strlen(text), 0, reinterpret_cast<sockaddr*>(&a), sizeof a) ==
           static_cast<ssize_t>(std::strlen(text));
}

bool waitReadable(int fd) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, 5000) == 1;  // deadline, not a timing assertion
}

TEST(LoadNet, BindsLoopbackNonBlockingWithBuffers) {
    const int fd = openLoopbackUdp(false, 1 << 18, 1 << 18);
    ASSERT_GE(fd, 0);
    sockaddr_in a{};
    socklen_t len = sizeof a;
    ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len), 0);
    EXPECT_EQ(ntohl(a.sin_addr.s_addr), INADDR_LOOPBACK);
    EXPECT_NE(a.sin_port, 0);
    EXPECT_EQ(localPort(fd), ntohs(a.sin_port));
    int rcvbuf = 0;
    socklen_t olen = sizeof rcvbuf;
    ASSERT_EQ(::getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, &olen), 0);
    EXPECT_GE(rcvbuf, 1 << 18);  // the kernel doubles what is asked for (up to rmem_max)
    std::uint8_t buf[16];
    std::int64_t t = -1;
    EXPECT_LT(recvTimestamped(fd, buf, sizeof buf, t), 0);  // nothing waiting: no blocking
    EXPECT_EQ(t, 0);
    ::close(fd);
}

TEST(LoadNet, ReceiveCarriesTheKernelTimestampOnlyWhenAskedFor) {
    const int tx = openLoopbackUdp(false, 0);
    const int stamped = openLoopbackUdp(true, 0);
    const int plain = openLoopbackUdp(false, 0);
    ASSERT_GE(tx, 0);
    ASSERT_GE(stamped, 0);
    ASSERT_GE(plain, 0);
    const std::int64_t before = realtimeNs();
    ASSERT_TRUE(sendTo(tx, localPort(stamped), "frame-one"));
    ASSERT_TRUE(sendTo(tx, localPort(plain), "frame-two"));
    ASSERT_TRUE(waitReadable(stamped));
    ASSERT_TRUE(waitReadable(plain));

    std::uint8_t buf[64];
    std::int64_t t = 0;
    ASSERT_EQ(recvTimestamped(stamped, buf, sizeof buf, t), 9);
    EXPECT_EQ(std::memcmp(buf, "frame-one", 9), 0);
    EXPECT_GE(t, before);  // CLOCK_REALTIME ns, taken by the kernel after the send
    std::int64_t t2 = -1;
    ASSERT_EQ(recvTimestamped(plain, buf, sizeof buf, t2), 9);
    EXPECT_EQ(std::memcmp(buf, "frame-two", 9), 0);
    EXPECT_EQ(t2, 0);
    ::close(tx);
    ::close(stamped);
    ::close(plain);
}

}  // namespace
}  // namespace iwf::bench
