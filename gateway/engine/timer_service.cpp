#include "gateway/engine/timer_service.hpp"

namespace iwf::gateway::engine {

AsioTimerService::~AsioTimerService() {
    for (auto& [id, t] : timers_) {
        t->cancel();
    }
}

TimerService::Id AsioTimerService::start(std::chrono::milliseconds after,
                                         std::function<void()> fn) {
    Id id = next_++;
    auto timer = std::make_unique<asio::steady_timer>(io_, after);
    timer->async_wait([this, id, fn = std::move(fn)](const boost::system::error_code& ec) {
        if (ec) {
            return;  // cancelled (the entry is gone already)
        }
        auto it = timers_.find(id);
        if (it == timers_.end()) {
            return;
        }
        auto keep = std::move(it->second);  // the handler runs inside this timer's wait
        timers_.erase(it);
        fn();
    });
    timers_.emplace(id, std::move(timer));
    return id;
}

void AsioTimerService::cancel(Id id) {
    auto it = timers_.find(id);
    if (it == timers_.end()) {
        return;
    }
    it->second->cancel();
    // The handler still runs (with operation_aborted) and must not touch a freed timer:
    // hand the timer object to the io_context until then.
    auto* raw = it->second.release();
    timers_.erase(it);
    asio::post(io_, [raw] { delete raw; });
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
