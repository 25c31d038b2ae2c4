#include "gateway/engine/timer_service.hpp"

namespace iwf::gateway::engine {

// timer_'s destructor cancels the pending wait: its handler runs with operation_aborted and
// touches nothing of this object.
AsioTimerService::~AsioTimerService() = default;

TimerService::Id AsioTimerService::start(std::chrono::milliseconds after,
                                         std::function<void()> fn) {
    Id id = next_++;
    auto it =
        queue_.emplace(asio::steady_timer::clock_type::now() + after, Entry{id, std::move(fn)});
    by_id_.emplace(id, it);
    arm();
    return id;
}

void AsioTimerService::cancel(Id id) {
    auto it = by_id_.find(id);
    if (it == by_id_.end()) {
        return;
    }
    queue_.erase(it->second);
    by_id_.erase(it);
    // The wait stays for the old earliest deadline if that was this timer: onExpiry() then
    // finds nothing due and waits for the next one (no cancel + new wait per cancel()).
}

void AsioTimerService::arm() {
    if (queue_.empty()) {
        return;  // a pending wait, if any, finds nothing due
    }
    const TimePoint earliest = queue_.begin()->first;
    if (armed_ && *armed_ <= earliest) {
        return;  // the pending wait ends no later than the earliest deadline
    }
    armed_ = earliest;
    // expires_at() cancels a pending wait (its handler sees operation_aborted).
    timer_.expires_at(earliest);
    timer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec == asio::error::operation_aborted) {
            return;  // replaced by an earlier deadline, or the service is gone
        }
        onExpiry();
    });
}

void AsioTimerService::onExpiry() {
    armed_.reset();
    const TimePoint now = asio::steady_timer::clock_type::now();
    while (!queue_.empty() && queue_.begin()->first <= now) {
        auto it = queue_.begin();
        Entry e = std::move(it->second);
        by_id_.erase(e.id);
        queue_.erase(it);
        e.fn();  // may start or cancel timers (arm() runs inside start())
    }
    arm();
}

TimerService::Id ManualTimerService::start(std::chrono::milliseconds after,
                                           std::function<void()> fn) {
    Id id = next_++;
    std::int64_t due =
        toNs(clock_.now()) + std::chrono::duration_cast<std::chrono::nanoseconds>(after).count();
    queue_.emplace(due, Entry{id, std::move(fn)});
    by_id_[id] = due;
    return id;
}

void ManualTimerService::cancel(Id id) {
    auto it = by_id_.find(id);
    if (it == by_id_.end()) {
        return;
    }
    auto range = queue_.equal_range(it->second);
    for (auto q = range.first; q != range.second; ++q) {
        if (q->second.id == id) {
            queue_.erase(q);
            break;
        }
    }
    by_id_.erase(it);
}

std::size_t ManualTimerService::advance(Clock::Duration d) {
    std::int64_t end = toNs(clock_.now()) + d.count();
    std::size_t fired = 0;
    while (!queue_.empty() && queue_.begin()->first <= end) {
        auto it = queue_.begin();
        std::int64_t due = it->first;
        Entry e = std::move(it->second);
        queue_.erase(it);
        by_id_.erase(e.id);
        clock_.set(Clock::TimePoint(Clock::Duration(due)));
        e.fn();
        ++fired;
    }
    clock_.set(Clock::TimePoint(Clock::Duration(end)));
    return fired;
}

}  // namespace iwf::gateway::engine
