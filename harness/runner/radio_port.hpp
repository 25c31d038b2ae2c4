#pragma once
// A simulated radio's UDP socket on 127.0.0.1 (port 0): sends to iwfd's LMR links, and a
// receive thread keeps every datagram iwfd sends to it (with its steady-clock receive time)
// for the far-end checks and for waits on a reply.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "common/bytes.hpp"

namespace iwf::harness {

class RadioPort {
  public:
    RadioPort();
    ~RadioPort();
    RadioPort(const RadioPort&) = delete;
    RadioPort& operator=(const RadioPort&) = delete;

    void send(std::uint16_t port, ByteView d);
    // The port it bound on 127.0.0.1 (a link that sends to the radio is configured with it).
    std::uint16_t localPort() const;
    // Number of datagrams received so far (a mark for waitFor).
    std::size_t mark() const;
    // Waits (up to `timeout`) for a datagram after position `from` that matches `pred`.
    std::optional<Bytes> waitFor(std::size_t from, const std::function<bool(const Bytes&)>& pred,
                                 std::chrono::milliseconds timeout);
    // Every datagram received so far: (steady-clock ns, bytes).
    std::vector<std::pair<std::int64_t, Bytes>> received() const;
    // Forgets what was received (`iwf-harness demo` between rounds, so memory stays bounded);
    // marks taken before are void.
    void forget();

  private:
    std::optional<Bytes> receive(std::chrono::milliseconds timeout);

    int fd_ = -1;
    std::mutex send_mu_;
    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::vector<std::pair<std::int64_t, Bytes>> rx_;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

// Steady-clock nanoseconds (the clock of every harness timestamp).
std::int64_t steadyNs();

}  // namespace iwf::harness
