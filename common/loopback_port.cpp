#include "common/loopback_port.hpp"

#include <arpa/inet.h>
#include <atomic>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace iwf {
namespace {

constexpr unsigned kFirst = 20000;
constexpr unsigned kCount = 12000;  // up to 31999: below the default ephemeral range (32768)

bool bindsOnLoopback(std::uint16_t port, PortProtocol protocol) {
    const int fd = ::socket(
        AF_INET, (protocol == PortProtocol::Tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return false;
    }
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(fd);
    return ok;
}

}  // namespace

std::uint16_t pickLoopbackPort(PortProtocol protocol) {
    // 7919 (a prime) spreads the start points of processes with nearby pids across the range.
    static std::atomic<unsigned> next{static_cast<unsigned>(::getpid()) * 7919u};
    for (unsigned attempt = 0; attempt < kCount; ++attempt) {
        const auto port = static_cast<std::uint16_t>(kFirst + next.fetch_add(1) % kCount);
        if (bindsOnLoopback(port, protocol)) {
            return port;
        }
    }
    return 0;
}

}  // namespace iwf
