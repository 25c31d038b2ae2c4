// AsioTimerService (one deadline queue on one steady_timer): timers fire once, in deadline
// order whatever the start order; a later-started earlier deadline re-arms the wait; cancelled
// timers never fire; callbacks may start and cancel timers; destroying the service with timers
// pending is safe. Waits are bounded by deadlines; no assertion depends on how late a timer
// fires.

#include "gateway/engine/timer_service.hpp"

#include <chrono>
#include <map>
#include <random>
#include <set>
#include <vector>

#include <gtest/gtest.h>

namespace iwf::gateway::engine::test {
namespace {

using namespace std::chrono_literals;

// Runs `io` until `done()` or 5 s have passed.
template <typename Pred>
bool runUntil(asio::io_context& io, Pred done) {
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (!done() && std::chrono::steady_clock::now() < deadline) {
        io.run_for(10ms);
        io.restart();
    }
    return done();
}

TEST(AsioTimerServiceTest, FiresInDeadlineOrderWhateverTheStartOrder) {
    asio::io_context io;
    AsioTimerService t(io);
    std::vector<int> order;
    // Deadlines far enough apart that a preempted test thread cannot reorder them.
    t.start(300ms, [&] { order.push_back(300); });
    t.start(10ms, [&] { order.push_back(10); });
    t.start(150ms, [&] { order.push_back(150); });
    t.start(10ms, [&] { order.push_back(11); });  // same delay, started later: after the first
    EXPECT_EQ(t.pending(), 4u);
    ASSERT_TRUE(runUntil(io, [&] { return order.size() == 4; }));
    EXPECT_EQ(order, (std::vector<int>{10, 11, 150, 300}));
    EXPECT_EQ(t.pending(), 0u);
}

TEST(AsioTimerServiceTest, AnEarlierDeadlineStartedLaterFiresFirst) {
    asio::io_context io;
    auto t = std::make_unique<AsioTimerService>(io);
    bool long_fired = false;
    bool short_fired = false;
    t->start(1h, [&] { long_fired = true; });
    t->start(5ms, [&] { short_fired = true; });
    ASSERT_TRUE(runUntil(io, [&] { return short_fired; }));
    EXPECT_FALSE(long_fired);
    EXPECT_EQ(t->pending(), 1u);
    // Gone with a timer pending: the wait is cancelled, its handler touches nothing.
    t.reset();
    io.restart();
    io.run_for(20ms);
    EXPECT_FALSE(long_fired);
}

TEST(AsioTimerServiceTest, CancelledTimersNeverFireAndTheNextStillDoes) {
    asio::io_context io;
    AsioTimerService t(io);
    std::vector<int> fired;
    auto a = t.start(5ms, [&] { fired.push_back(1); });   // the earliest: the armed deadline
    auto b = t.start(10ms, [&] { fired.push_back(2); });  // cancelled while waiting
    t.start(15ms, [&] { fired.push_back(3); });
    t.cancel(a);
    t.cancel(b);
    t.cancel(b);      // twice: a no-op
    t.cancel(12345);  // never started: a no-op
    EXPECT_EQ(t.pending(), 1u);
    ASSERT_TRUE(runUntil(io, [&] { return !fired.empty(); }));
    io.run_for(20ms);
    EXPECT_EQ(fired, (std::vector<int>{3}));
    EXPECT_EQ(t.pending(), 0u);
    t.cancel(a);  // fired or cancelled ids stay no-ops
}

TEST(AsioTimerServiceTest, CallbacksStartAndCancelTimers) {
    asio::io_context io;
    AsioTimerService t(io);
    std::vector<int> order;
    TimerService::Id victim = t.start(1h, [&] { order.push_back(99); });
    t.start(5ms, [&] {
        order.push_back(1);
        t.cancel(victim);
        t.start(0ms, [&] { order.push_back(2); });  // due at once: fires in the same run
        t.start(10ms, [&] { order.push_back(3); });
    });
    ASSERT_TRUE(runUntil(io, [&] { return order.size() == 3; }));
    io.run_for(20ms);
    EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
    EXPECT_EQ(t.pending(), 0u);
}

TEST(AsioTimerServiceTest, ManyTimersWithCancelsFireOnceInDeadlineOrder) {
    asio::io_context io;
    AsioTimerService t(io);
    std::mt19937 rng(7);
    std::uniform_int_distribution<int> ms(0, 40);
    // The service takes its deadline inside start(): between `earliest` and `latest`.
    struct Started {
        std::chrono::steady_clock::time_point earliest;
        std::chrono::steady_clock::time_point latest;
        int fired = 0;
    };
    std::map<TimerService::Id, Started> started;
    std::vector<TimerService::Id> order;
    std::set<TimerService::Id> cancelled;
    for (int i = 0; i < 300; ++i) {
        const auto after = std::chrono::milliseconds(ms(rng));
        const auto before = std::chrono::steady_clock::now();
        auto id = std::make_shared<TimerService::Id>(0);
        *id = t.start(after, [&, id] {
            ++started[*id].fired;
            order.push_back(*id);
        });
        started[*id].earliest = before + after;
        started[*id].latest = std::chrono::steady_clock::now() + after;
        if (i % 3 == 0) {
            // Cancel an earlier one that may be the armed deadline.
            auto victim = started.begin();
            std::advance(victim, static_cast<long>(rng() % started.size()));
            t.cancel(victim->first);
            cancelled.insert(victim->first);
        }
    }
    const std::size_t expected = started.size() - cancelled.size();
    EXPECT_EQ(t.pending(), expected);
    ASSERT_TRUE(runUntil(io, [&] { return order.size() >= expected; }));
    io.run_for(50ms);
    EXPECT_EQ(order.size(), expected);
    for (const auto& [id, s] : started) {
        EXPECT_EQ(s.fired, cancelled.count(id) ? 0 : 1) << "timer " << id;
    }
    // Fired in deadline order: no timer fired before one whose deadline was surely earlier.
    for (std::size_t i = 1; i < order.size(); ++i) {
        EXPECT_LE(started[order[i - 1]].earliest, started[order[i]].latest) << "position " << i;
    }
    EXPECT_EQ(t.pending(), 0u);
}

}  // namespace
}  // namespace iwf::gateway::engine::test
