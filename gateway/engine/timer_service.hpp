#pragma once
// Timers for the engine's state machines: started by name and duration, fired once, cancelled
// by id. AsioTimerService runs them on steady_timers of an io_context; ManualTimerService is
// the manual driver tests use (advance() moves a ManualClock and fires what fell due, in
// deadline order).

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <unordered_map>

#include "gateway/common/asio.hpp"
#include "gateway/common/clock.hpp"

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

class AsioTimerService final : public TimerService {
  public:
    explicit AsioTimerService(asio::io_context& io) : io_(io) {}
    ~AsioTimerService() override;
    Id start(std::chrono::milliseconds after, std::function<void()> fn) override;
    void cancel(Id id) override;
    std::size_t pending() const override { return timers_.size(); }

  private:
    asio::io_context& io_;
    Id next_ = 1;
    std::unordered_map<Id, std::unique_ptr<asio::steady_timer>> timers_;
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
