#pragma once
// Fence: whether this instance may forward right now (docs/ha.md "Local expiry"). The lease
// keeper moves the deadline forward after each successful renewal (the moment it *sent* the
// renewal + lease_expiry - safety_margin) and sets it to 0 when it learns of a newer epoch; the
// data plane asks mayForward() for every event it would forward: one clock read and one
// relaxed atomic load, no lock, on any thread. Because the check is made by the data plane
// itself, a process that wakes up from SIGSTOP past its deadline drops the first frame it
// sees, before the lease thread has run at all.
//
// The clock is CLOCK_BOOTTIME: monotonic (never set back by NTP or an operator) and, unlike
// CLOCK_MONOTONIC, counting the time a host spends suspended, which the database's clock
// counts too.

#include <atomic>
#include <cstdint>

#include "common/send_gate.hpp"

namespace iwf::gateway::cluster {

// Nanoseconds of CLOCK_BOOTTIME.
std::int64_t boottimeNs();

// Also the links' send gate (common/send_gate.hpp): their SIP stacks send nothing while
// the instance may not forward.
class Fence final : public SendGate {
  public:
    // Forwarding allowed until `deadline_ns` (boottimeNs()); 0 = not allowed.
    void allowUntil(std::int64_t deadline_ns) {
        deadline_ns_.store(deadline_ns, std::memory_order_release);
    }
    void revoke() { deadline_ns_.store(0, std::memory_order_release); }
    bool mayForward() const {
        const std::int64_t d = deadline_ns_.load(std::memory_order_acquire);
        return d != 0 && boottimeNs() < d;
    }
    std::int64_t deadlineNs() const { return deadline_ns_.load(std::memory_order_acquire); }
    bool open() const override { return mayForward(); }

  private:
    std::atomic<std::int64_t> deadline_ns_{0};
};

}  // namespace iwf::gateway::cluster
