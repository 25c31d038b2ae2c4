#include "harness/runner/radio_port.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace iwf::harness {

std::int64_t steadyNs() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

RadioPort::RadioPort() {
    fd_ = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    (void)::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    thread_ = std::thread([this] {
        while (!stop_.load()) {
            auto d = receive(std::chrono::milliseconds(100));
            if (d) {
                std::lock_guard lock(mu_);
                rx_.push_back({steadyNs(), std::move(*d)});
                cv_.notify_all();
            }
        }
    });
}

RadioPort::~RadioPort() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
}

void RadioPort::send(std::uint16_t port, ByteView d) {
    std::lock_guard lock(send_mu_);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    (void)::sendto(fd_, d.data(), d.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof a);
}

std::uint16_t RadioPort::localPort() const {
    sockaddr_in a{};
    socklen_t n = sizeof a;
    if (::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &n) != 0) {
        return 0;
    }
    return ntohs(a.sin_port);
}

std::optional<Bytes> RadioPort::receive(std::chrono::milliseconds timeout) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) {
        return std::nullopt;
    }
    Bytes b(2048);
    const auto n = ::recv(fd_, b.data(), b.size(), 0);
    if (n < 0) {
        return std::nullopt;
    }
    b.resize(static_cast<std::size_t>(n));
    return b;
}

std::size_t RadioPort::mark() const {
    std::lock_guard lock(mu_);
    return rx_.size();
}

std::optional<Bytes> RadioPort::waitFor(std::size_t from,
                                        const std::function<bool(const Bytes&)>& pred,
                                        std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    std::optional<Bytes> found;
    cv_.wait_for(lock, timeout, [&] {
        for (std::size_t i = from; i < rx_.size(); ++i) {
            if (pred(rx_[i].second)) {
                found = rx_[i].second;
                return true;
            }
        }
        return false;
    });
    return found;
}

std::vector<std::pair<std::int64_t, Bytes>> RadioPort::received() const {
    std::lock_guard lock(mu_);
    return rx_;
}

void RadioPort::forget() {
    std::lock_guard lock(mu_);
    rx_.clear();
}

}  // namespace iwf::harness
