#pragma once
// An injectable clock: production code asks a Clock, tests drive a ManualClock.

#include <atomic>
#include <chrono>

namespace iwf {

class Clock {
  public:
    using Duration = std::chrono::nanoseconds;
    using TimePoint = std::chrono::time_point<std::chrono::steady_clock, Duration>;
    virtual ~Clock() = default;
    virtual TimePoint now() const = 0;
    // Wall-clock time (for audit records and reports only, never for timing).
    virtual std::chrono::system_clock::time_point wallNow() const = 0;
};

class SteadyClock final : public Clock {
  public:
    TimePoint now() const override { return std::chrono::steady_clock::now(); }
    std::chrono::system_clock::time_point wallNow() const override {
        return std::chrono::system_clock::now();
    }
    static SteadyClock& instance() {
        static SteadyClock clock;
        return clock;
    }
};

class ManualClock final : public Clock {
  public:
    TimePoint now() const override { return TimePoint(Duration(ns_.load())); }
    std::chrono::system_clock::time_point wallNow() const override {
        return std::chrono::system_clock::time_point(
            std::chrono::duration_cast<std::chrono::system_clock::duration>(Duration(ns_.load())));
    }
    void advance(Duration d) { ns_ += d.count(); }
    void set(TimePoint t) { ns_ = t.time_since_epoch().count(); }

  private:
    std::atomic<std::int64_t> ns_{1'000'000'000};
};

inline std::int64_t toNs(Clock::TimePoint t) {
    return t.time_since_epoch().count();
}

}  // namespace iwf
