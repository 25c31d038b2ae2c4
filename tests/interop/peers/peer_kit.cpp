#include "peer_kit.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace iwf::test::peers {

namespace {
sockaddr_in loopback(std::uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    return a;
}
}  // namespace

Udp::Udp(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a = loopback(port);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) | O_NONBLOCK);
    socklen_t l = sizeof(a);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &l);
    port_ = ntohs(a.sin_port);
}

Udp::~Udp() {
    ::close(fd_);
}

bool Udp::sendTo(std::uint16_t port, ByteView data) {
    sockaddr_in a = loopback(port);
    return ::sendto(fd_, data.data(), data.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof(a)) ==
           static_cast<ssize_t>(data.size());
}

std::optional<Bytes> Udp::read(std::uint16_t* from) {
    Bytes buf(2048);
    sockaddr_in a{};
    socklen_t l = sizeof(a);
    const auto n = ::recvfrom(fd_, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&a), &l);
    if (n <= 0) {
        return std::nullopt;
    }
    buf.resize(static_cast<std::size_t>(n));
    if (from != nullptr) {
        *from = ntohs(a.sin_port);
    }
    return buf;
}

std::optional<Bytes> Udp::receive(std::chrono::milliseconds timeout, std::uint16_t* from) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) {
        return std::nullopt;
    }
    return read(from);
}

}  // namespace iwf::test::peers
