// common/udp_socket: bind errors, SO_REUSEPORT sharing, batched receive (order, bytes,
// source endpoints, several datagrams per wake-up), the cached drop counter.
#include "common/udp_socket.hpp"

#include <arpa/inet.h>
#include <chrono>
#include <memory>
#include <netinet/in.h>
#include <set>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

#include <gtest/gtest.h>

namespace iwf::net {
namespace {

using namespace std::chrono_literals;
using asio::ip::udp;

int rawSocket() {
    int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    return fd;
}

std::uint16_t rawPort(int fd) {
    sockaddr_in a{};
    socklen_t l = sizeof(a);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &l);
    return ntohs(a.sin_port);
}

void rawSend(int fd, std::uint16_t port, const std::vector<std::uint8_t>& d) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    ::sendto(fd, d.data(), d.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof(a));
}

TEST(UdpBind, RefusesBadAddressAndBusyPort) {
    asio::io_context io;
    udp::socket s(io);
    std::string why;
    auto st = bind(s, "not-an-ip", 0, {}, &why);
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().reason, "bad_address");
    EXPECT_FALSE(s.is_open());

    udp::socket a(io);
    ASSERT_TRUE(bind(a, "127.0.0.1", 0).ok());
    const auto port = a.local_endpoint().port();
    udp::socket b(io);
    st = bind(b, "127.0.0.1", port, {}, &why);
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().reason, "bind_failed");
    EXPECT_EQ(st.error().detail, port);
    EXPECT_FALSE(why.empty());
    EXPECT_FALSE(b.is_open());  // closed on error
}

TEST(UdpBind, ReusePortSharesTheAddress) {
    asio::io_context io;
    udp::socket a(io), b(io), c(io);
    ASSERT_TRUE(bind(a, "127.0.0.1", 0, {true, false}).ok());
    const auto port = a.local_endpoint().port();
    ASSERT_TRUE(bind(b, "127.0.0.1", port, {false, true}).ok());
    EXPECT_EQ(b.local_endpoint().port(), port);
    // Without join, a port in use is refused even to a reuse_port socket.
    EXPECT_FALSE(bind(c, "127.0.0.1", port, {true, false}).ok());
}

TEST(UdpBind, ReusePortOnPortZeroNeverLandsOnAPortInUse) {
    // Many first instances on port 0 (as iwfd's shard 0 with `port: 0`): each must get a port
    // of its own, never one another SO_REUSEPORT socket already holds.
    asio::io_context io;
    std::vector<std::unique_ptr<udp::socket>> socks;
    std::set<std::uint16_t> ports;
    for (int i = 0; i < 400; ++i) {
        socks.push_back(std::make_unique<udp::socket>(io));
        ASSERT_TRUE(bind(*socks.back(), "127.0.0.1", 0, {true, false}).ok());
        ports.insert(socks.back()->local_endpoint().port());
    }
    EXPECT_EQ(ports.size(), socks.size());
}

TEST(BatchReceiver, DeliversEveryDatagramInOrderWithItsSource) {
    asio::io_context io;
    udp::socket s(io);
    ASSERT_TRUE(bind(s, "127.0.0.1", 0).ok());
    const auto port = s.local_endpoint().port();
    BatchReceiver rx(s, 8, 512);
    struct Got {
        std::uint16_t from;
        std::vector<std::uint8_t> data;
    };
    std::vector<Got> got;
    int batches = 0;
    rx.start(
        [&](const Endpoint& from, ByteView d) {
            got.push_back({from.port(), std::vector<std::uint8_t>(d.begin(), d.end())});
        },
        {}, [&] { ++batches; });
    // 20 datagrams from two senders queued before the loop runs: read in batches of 8.
    int a = rawSocket(), b = rawSocket();
    for (std::uint8_t i = 0; i < 20; ++i) {
        rawSend(i % 2 ? b : a, port, std::vector<std::uint8_t>(1 + i, i));
    }
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (got.size() < 20 && std::chrono::steady_clock::now() < deadline) {
        io.run_for(50ms);
    }
    ASSERT_EQ(got.size(), 20u);
    for (std::uint8_t i = 0; i < 20; ++i) {
        EXPECT_EQ(got[i].from, rawPort(i % 2 ? b : a));
        EXPECT_EQ(got[i].data, std::vector<std::uint8_t>(1 + i, i));
    }
    EXPECT_EQ(rx.datagrams(), 20u);
    EXPECT_GE(batches, 1);
    // More than one datagram per batch on average (they were all queued).
    EXPECT_LT(batches, 20);
    // Later datagrams wake the receiver again.
    rawSend(a, port, {0xAA});
    while (got.size() < 21 && std::chrono::steady_clock::now() < deadline + 5s) {
        io.run_for(50ms);
    }
    ASSERT_EQ(got.size(), 21u);
    EXPECT_EQ(got[20].data, std::vector<std::uint8_t>{0xAA});
    ::close(a);
    ::close(b);
}

TEST(BatchReceiver, StopFromTheHandlerEndsDelivery) {
    asio::io_context io;
    udp::socket s(io);
    ASSERT_TRUE(bind(s, "127.0.0.1", 0).ok());
    const auto port = s.local_endpoint().port();
    BatchReceiver rx(s, 4, 64);
    int n = 0;
    rx.start([&](const Endpoint&, ByteView) {
        ++n;
        rx.stop();
    });
    int a = rawSocket();
    for (int i = 0; i < 5; ++i) {
        rawSend(a, port, {1, 2, 3});
    }
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (n == 0 && std::chrono::steady_clock::now() < deadline) {
        io.run_for(50ms);
    }
    io.run_for(100ms);
    EXPECT_EQ(n, 1);
    EXPECT_FALSE(rx.running());
    ::close(a);
}

TEST(DropCounter, CountsByLinkPeerAndReason) {
    metrics::Registry reg;
    DropCounter d(reg, "net-a", nullptr);
    // Known peers (a link admits the ones it linked / logged in) keep their own label.
    d.admitPeer("10.0.0.1:5");
    d.admitPeer("10.0.0.2:7");
    d.drop("10.0.0.1:5", "bad_tag");
    d.drop("10.0.0.1:5", "bad_tag");
    d.drop(Endpoint(asio::ip::make_address("10.0.0.2"), 7), "not_linked", 3);
    EXPECT_EQ(reg.counterValue("iwf_lmr_dropped_total",
                               {{"link", "net-a"}, {"peer", "10.0.0.1:5"}, {"reason", "bad_tag"}}),
              2u);
    EXPECT_EQ(
        reg.counterValue("iwf_lmr_dropped_total",
                         {{"link", "net-a"}, {"peer", "10.0.0.2:7"}, {"reason", "not_linked"}}),
        1u);
    // The cached counter is the registry's own.
    EXPECT_EQ(&d.counter("10.0.0.1:5", "bad_tag"),
              &reg.counter("iwf_lmr_dropped_total", "",
                           {{"link", "net-a"}, {"peer", "10.0.0.1:5"}, {"reason", "bad_tag"}}));
    EXPECT_EQ(reg.counterSum("iwf_lmr_dropped_total"), 3u);
}

}  // namespace
}  // namespace iwf::net
