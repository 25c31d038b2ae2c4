#pragma once
// Test helpers for the P25 links: a plain UDP peer on 127.0.0.1, and the shared fixtures of
// tests/support/link_fixtures.hpp (recording sink, io thread, eventually) under this namespace.

#include <arpa/inet.h>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <mutex>
#include <netinet/in.h>
#include <optional>
#include <poll.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include "common/asio.hpp"
#include "common/bytes.hpp"
#include "common/link.hpp"
#include "tests/support/link_fixtures.hpp"

namespace iwf::lmr::p25::test {

using namespace std::chrono_literals;

using iwf::test::CollectingSink;
using iwf::test::countOf;
using iwf::test::eventually;

class UdpPeer {
  public:
    UdpPeer() {
        fd_ = ::socket(AF_INET, SOCK_DGRAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = 0;
        ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    }
    ~UdpPeer() { ::close(fd_); }
    UdpPeer(const UdpPeer&) = delete;
    UdpPeer& operator=(const UdpPeer&) = delete;

    void sendTo(std::uint16_t port, ByteView data) {
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons(port);
        ::sendto(fd_, data.data(), data.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    }
    std::optional<Bytes> receive(std::chrono::milliseconds timeout = 5s) {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) {
            return std::nullopt;
        }
        Bytes buf(4096);
        auto n = ::recv(fd_, buf.data(), buf.size(), 0);
        if (n < 0) {
            return std::nullopt;
        }
        buf.resize(static_cast<std::size_t>(n));
        return buf;
    }
    std::uint16_t port() const {
        sockaddr_in a{};
        socklen_t l = sizeof(a);
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &l);
        return ntohs(a.sin_port);
    }

  private:
    int fd_ = -1;
};

using iwf::test::IoThread;

}  // namespace iwf::lmr::p25::test
