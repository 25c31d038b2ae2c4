// The bare relay forwards bytes unchanged along its routes, drops what has no route, and
// batches correctly (recvmmsg/sendmmsg) with one and two workers.
#include <arpa/inet.h>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <netinet/in.h>
#include <poll.h>
#include <set>
#include <string>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

#include <gtest/gtest.h>

#include "tests/bench/load/forwarder.hpp"

namespace iwf::bench {
namespace {

struct Udp {
    int fd = -1;
    Udp() {
        fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    }
    ~Udp() { ::close(fd); }
    std::uint16_t port() const {
        sockaddr_in a{};
        socklen_t len = sizeof a;
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
        return ntohs(a.sin_port);
    }
    void sendTo(std::uint16_t port, const std::string& s) const {
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons(port);
        ::sendto(fd, s.data(), s.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof a);
    }
    // Waits up to `timeout` for one datagram.
    std::optional<std::string> recv(std::chrono::milliseconds timeout) const {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) {
            return std::nullopt;
        }
        char buf[2048];
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        return n < 0 ? std::nullopt : std::optional<std::string>(std::string(buf, n));
    }
};

class RelayTest : public ::testing::TestWithParam<std::pair<int, int>> {};

TEST_P(RelayTest, ForwardsBytesUnchangedAlongRoutes) {
    const auto [threads, batch] = GetParam();
    Udp a_in, a_out, b_in, b_out, stranger, stranger_sink;
    const auto dir = std::filesystem::temp_directory_path() /
                     ("relay_test." + std::to_string(::getpid()) + "." + std::to_string(threads) +
                      "." + std::to_string(batch));
    std::filesystem::create_directories(dir);
    {
        std::ofstream f(dir / "routes");
        f << "# src dst\n" << a_in.port() << ' ' << a_out.port() << '\n';
        f << b_in.port() << ' ' << b_out.port() << '\n';
    }
    Forwarder relay;
    relay.start({IWF_RELAY_BIN, "--routes", (dir / "routes").string(), "--threads",
                 std::to_string(threads), "--batch", std::to_string(batch)},
                {}, (dir / "stderr").string());
    const auto port_line = relay.waitLine("port=", std::chrono::seconds(10));
    ASSERT_TRUE(port_line.has_value());
    const auto port = static_cast<std::uint16_t>(std::stoi(*port_line));

    // No route: dropped (the sink bound next to it receives nothing through the relay).
    stranger.sendTo(port, "nobody");
    std::set<std::string> got_a;
    std::string binary("\x00\xff\x62\x80\x00", 5);
    for (int i = 0; i < 20; ++i) {
        a_in.sendTo(port, binary + std::to_string(i));
    }
    for (int i = 0; i < 20; ++i) {
        const auto d = a_out.recv(std::chrono::seconds(5));
        ASSERT_TRUE(d.has_value()) << "datagram " << i;
        EXPECT_EQ(*d, binary + std::to_string(i));  // same bytes, same order (one flow)
    }
    b_in.sendTo(port, "to-b");
    const auto d = b_out.recv(std::chrono::seconds(5));
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(*d, "to-b");
    EXPECT_FALSE(a_out.recv(std::chrono::milliseconds(0)).has_value());
    EXPECT_FALSE(b_out.recv(std::chrono::milliseconds(0)).has_value());

    EXPECT_EQ(relay.stop(), 0);
    std::ifstream f(dir / "stderr");
    std::string report((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    EXPECT_NE(report.find("\"relayed\":21"), std::string::npos) << report;
    EXPECT_NE(report.find("\"no_route\":1"), std::string::npos) << report;
    std::filesystem::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Modes, RelayTest,
                         ::testing::Values(std::pair{1, 1}, std::pair{1, 32}, std::pair{2, 1},
                                           std::pair{2, 32}));

// --inputs N (the MC -> LMR socket shape): one input socket per talk path, routed by input
// number; bytes unchanged and in order, an input without a route counted and dropped.
TEST(RelayTest, RoutesEachInputSocketToItsDestination) {
    for (const auto& [threads, batch] : {std::pair{1, 1}, std::pair{2, 8}}) {
        Udp a_out, b_out, sender;
        const auto dir =
            std::filesystem::temp_directory_path() /
            ("relay_inputs_test." + std::to_string(::getpid()) + "." + std::to_string(threads));
        std::filesystem::create_directories(dir);
        {
            std::ofstream f(dir / "routes");
            f << "1 " << a_out.port() << "\n2 " << b_out.port() << "\n";  // input 3: no route
        }
        Forwarder relay;
        relay.start({IWF_RELAY_BIN, "--routes", (dir / "routes").string(), "--route-by", "input",
                     "--inputs", "3", "--ports-file", (dir / "ports").string(), "--threads",
                     std::to_string(threads), "--batch", std::to_string(batch)},
                    {}, (dir / "stderr").string());
        ASSERT_TRUE(relay.waitLine("port=", std::chrono::seconds(10)).has_value());
        std::vector<std::uint16_t> inputs;
        {
            std::ifstream f(dir / "ports");
            unsigned p = 0;
            while (f >> p) {
                inputs.push_back(static_cast<std::uint16_t>(p));
            }
        }
        ASSERT_EQ(inputs.size(), 3u);
        EXPECT_EQ(std::set<std::uint16_t>(inputs.begin(), inputs.end()).size(), 3u);
        sender.sendTo(inputs[2], "nobody");
        const std::string binary("\x00\xff\x90\x00", 4);
        for (int i = 0; i < 10; ++i) {
            sender.sendTo(inputs[0], binary + "a" + std::to_string(i));
        }
        sender.sendTo(inputs[1], "to-b");
        for (int i = 0; i < 10; ++i) {
            const auto d = a_out.recv(std::chrono::seconds(5));
            ASSERT_TRUE(d.has_value()) << "datagram " << i;
            EXPECT_EQ(*d, binary + "a" + std::to_string(i));
        }
        const auto b = b_out.recv(std::chrono::seconds(5));
        ASSERT_TRUE(b.has_value());
        EXPECT_EQ(*b, "to-b");
        EXPECT_EQ(relay.stop(), 0);
        std::ifstream f(dir / "stderr");
        std::string report((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
        EXPECT_NE(report.find("\"relayed\":11"), std::string::npos) << report;
        EXPECT_NE(report.find("\"no_route\":1"), std::string::npos) << report;
        std::filesystem::remove_all(dir);
    }
}

TEST(RelayTest, RefusesABadRoutesFile) {
    const auto path =
        std::filesystem::temp_directory_path() / ("relay_test_bad." + std::to_string(::getpid()));
    {
        std::ofstream f(path);
        f << "1234 notaport\n";
    }
    Forwarder relay;
    relay.start({IWF_RELAY_BIN, "--routes", path.string()}, {}, path.string() + ".err");
    EXPECT_FALSE(relay.waitLine("port=", std::chrono::seconds(10)).has_value());
    EXPECT_EQ(relay.stop(), 2);
    std::ifstream f(path.string() + ".err");
    std::string err((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    EXPECT_NE(err.find(":1: expected"), std::string::npos) << err;
    std::filesystem::remove(path);
    std::filesystem::remove(path.string() + ".err");
}

}  // namespace
}  // namespace iwf::bench
