#pragma once
// Timers for the engine's state machines: started by name and duration, fired once, cancelled
// by id. AsioTimerService runs them on an io_context: one deadline queue and one steady_timer
// for the whole service (a timer per call would cost a steady_timer object and a pending wait
// operation each, ~400 B of every idle call's state); ManualTimerService is the manual driver
// tests use (advance() moves a ManualClock and fires what fell due, in deadline order).

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <unordered_map>

#include "common/asio.hpp"
#include "common/clock.hpp"

namespace iwf::gateway::engine {

class TimerService {
  public:
    using Id = std::uint64_t;  // 0 = no timer
    virtual ~TimerService() = default;
    virtual Id start(std::chrono::milliseconds after, std::function<void()> fn) = 0;
    // Cancelling an id that fired or was cancelled already is a no-op.
    virtual void cancel(Id id) = 0;
    virtual std::size_t pending() const = 0;
};

// Timers fire on the io_context's thread in deadline order (equal deadlines: in start order).
// A callback may start and cancel timers. Per pending timer: one queue node and one id-index
// node; the steady_timer always waits for the earliest deadline.
class AsioTimerService final : public TimerService {
  public:
    explicit AsioTimerService(asio::io_context& io) : timer_(io) {}
    ~AsioTimerService() override;
    AsioTimerService(const AsioTimerService&) = delete;
    AsioTimerService& operator=(const AsioTimerService&) = delete;
    Id start(std::chrono::milliseconds after, std::function<void()> fn) override;
    void cancel(Id id) override;
    std::size_t pending() const override { return by_id_.size(); }

  private:
    using TimePoint = asio::steady_timer::time_point;
    struct Entry {
        Id id;
        std::function<void()> fn;
    };
    using Queue = std::multimap<TimePoint, Entry>;

    // Makes the steady_timer wait for the earliest deadline (nothing if it does already).
    void arm();
    void onExpiry();

    asio::steady_timer timer_;
    Queue queue_;
    std::unordered_map<Id, Queue::iterator> by_id_;
    std::optional<TimePoint> armed_;  // the deadline the pending wait is for
    Id next_ = 1;
};

class ManualTimerService final : public TimerService {
  public:
    explicit ManualTimerService(ManualClock& clock) : clock_(clock) {}
    Id start(std::chrono::milliseconds after, std::function<void()> fn) override;
    void cancel(Id id) override;
    std::size_t pending() const override { return by_id_.size(); }

    // Advances the clock by `d`, firing every timer that falls due (in deadline order, each at
    // its own deadline). Returns the number fired.
    std::size_t advance(Clock::Duration d);

  private:
    struct Entry {
        Id id;
        std::function<void()> fn;
    };
    ManualClock& clock_;
    Id next_ = 1;
    std::multimap<std::int64_t, Entry> queue_;
    std::unordered_map<Id, std::int64_t> by_id_;
};

}  // namespace iwf::gateway::engine
