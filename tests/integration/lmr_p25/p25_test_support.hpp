#pragma once
// Test helpers: an EventSink that records events and waits on conditions with deadlines, a
// plain UDP peer on 127.0.0.1, and an io_context running on its own thread.

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

#include "gateway/common/asio.hpp"
#include "gateway/common/bytes.hpp"
#include "gateway/common/link.hpp"

namespace iwf::lmr::p25::test {

using namespace std::chrono_literals;

class CollectingSink : public EventSink {
  public:
    void onEvent(const LinkId&, Event&& e) override {
        if (hook) {
            hook(e);
        }
        std::lock_guard lock(mu_);
        events_.push_back(std::move(e));
        cv_.notify_all();
    }
    // Waits until pred(events) holds; false on deadline.
    bool waitFor(const std::function<bool(const std::vector<Event>&)>& pred,
                 std::chrono::milliseconds timeout = 5s) {
        std::unique_lock lock(mu_);
        return cv_.wait_for(lock, timeout, [&] { return pred(events_); });
    }
    std::vector<Event> events() {
        std::lock_guard lock(mu_);
        return events_;
    }
    template <typename T>
    std::size_t count() {
        std::lock_guard lock(mu_);
        std::size_t n = 0;
        for (const auto& e : events_) {
            n += std::holds_alternative<T>(e) ? 1 : 0;
        }
        return n;
    }
    std::function<void(const Event&)> hook;  // runs on the link's thread

  private:
    std::mutex mu_;
    std::condition_variable cv_;
    std::vector<Event> events_;
};

template <typename T>
std::size_t countOf(const std::vector<Event>& ev) {
    std::size_t n = 0;
    for (const auto& e : ev) {
        n += std::holds_alternative<T>(e) ? 1 : 0;
    }
    return n;
}

// Polls a condition until a deadline (for state that is not an event).
inline bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout = 5s) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
        if (pred()) {
            return true;
        }
        std::this_thread::sleep_for(5ms);
    }
    return pred();
}

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

class IoThread {
  public:
    IoThread() : guard_(asio::make_work_guard(io)), thread_([this] { io.run(); }) {}
    ~IoThread() { stop(); }
    void stop() {
        if (thread_.joinable()) {
            guard_.reset();
            io.stop();
            thread_.join();
        }
    }
    // Runs fn on the io thread and waits for it (start/stop links there).
    void runSync(const std::function<void()>& fn) {
        std::promise<void> done;
        asio::post(io, [&] {
            fn();
            done.set_value();
        });
        done.get_future().wait();
    }
    asio::io_context io;

  private:
    asio::executor_work_guard<asio::io_context::executor_type> guard_;
    std::thread thread_;
};

}  // namespace iwf::lmr::p25::test
