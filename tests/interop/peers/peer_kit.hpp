#pragma once
// What the fake peers of tests/interop/peers are built from: a non-blocking UDP socket on
// 127.0.0.1 (the peers' CUDPSocket: read returns at once, nothing queued means 0) and the
// peers' CTimer (g4klx Timer.cpp: a timeout counted down by clock(ms) calls from the main
// loop; hasExpired() once the elapsed time reaches it). The fakes are driven like the peers'
// own main loops: clock(ms) every few milliseconds with the time since the last call.

#include <chrono>
#include <cstdint>
#include <optional>

#include "common/bytes.hpp"

namespace iwf::test::peers {

class Udp {
  public:
    explicit Udp(std::uint16_t port = 0);  // binds 127.0.0.1:port (0 = any)
    ~Udp();
    Udp(const Udp&) = delete;
    Udp& operator=(const Udp&) = delete;

    std::uint16_t port() const { return port_; }
    bool sendTo(std::uint16_t port, ByteView data);
    // One datagram if one is queued (never blocks); its source port in `from`.
    std::optional<Bytes> read(std::uint16_t* from = nullptr);
    // Waits up to `timeout` for one datagram.
    std::optional<Bytes> receive(std::chrono::milliseconds timeout, std::uint16_t* from = nullptr);

  private:
    int fd_ = -1;
    std::uint16_t port_ = 0;
};

// g4klx CTimer: start(), stop(), clock(ms), isRunning(), hasExpired().
class PeerTimer {
  public:
    explicit PeerTimer(std::chrono::milliseconds timeout) : timeout_(timeout.count()) {}
    void start() {
        running_ = true;
        elapsed_ = 0;
    }
    void stop() { running_ = false; }
    void setTimeout(std::chrono::milliseconds t) { timeout_ = t.count(); }
    void clock(std::int64_t ms) {
        if (running_) {
            elapsed_ += ms;
        }
    }
    bool isRunning() const { return running_; }
    bool hasExpired() const { return running_ && elapsed_ >= timeout_; }

  private:
    bool running_ = false;
    std::int64_t elapsed_ = 0;
    std::int64_t timeout_ = 0;
};

// Milliseconds since the previous call (the peers' CStopWatch elapsed() + start()).
class StopWatch {
  public:
    StopWatch() : last_(std::chrono::steady_clock::now()) {}
    std::int64_t lap() {
        const auto now = std::chrono::steady_clock::now();
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now - last_).count();
        if (ms > 0) {
            last_ += std::chrono::milliseconds(ms);
        }
        return ms;
    }

  private:
    std::chrono::steady_clock::time_point last_;
};

}  // namespace iwf::test::peers
