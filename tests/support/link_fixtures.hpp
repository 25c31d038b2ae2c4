#pragma once
// Fixtures for tests that drive a link over real sockets: an io_context on its own thread, an
// EventSink that records events and waits on conditions with deadlines, and a polling wait
// for state that is not an event. Header-only; used by unit and integration tests alike.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <mutex>
#include <thread>
#include <variant>
#include <vector>

#include "common/asio.hpp"
#include "common/link.hpp"

namespace iwf::test {

using namespace std::chrono_literals;

// The io_context on its own thread; runSync() runs a function there and waits for it.
class IoThread {
  public:
    IoThread() : guard_(asio::make_work_guard(io)), thread_([this] { io.run(); }) {}
    ~IoThread() { stop(); }
    IoThread(const IoThread&) = delete;
    IoThread& operator=(const IoThread&) = delete;
    void runSync(const std::function<void()>& f) {
        std::promise<void> done;
        asio::post(io, [&] {
            f();
            done.set_value();
        });
        done.get_future().wait();
    }
    void stop() {
        guard_.reset();
        io.stop();
        if (thread_.joinable()) {
            thread_.join();
        }
    }
    asio::io_context io;

  private:
    asio::executor_work_guard<asio::io_context::executor_type> guard_;
    std::thread thread_;
};

template <typename T>
std::size_t countOf(const std::vector<Event>& ev) {
    std::size_t n = 0;
    for (const auto& e : ev) {
        n += std::holds_alternative<T>(e) ? 1 : 0;
    }
    return n;
}

// The events of type T, in order.
template <typename T>
std::vector<T> eventsOf(const std::vector<Event>& ev) {
    std::vector<T> out;
    for (const auto& e : ev) {
        if (const auto* t = std::get_if<T>(&e)) {
            out.push_back(*t);
        }
    }
    return out;
}

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
    bool waitForCount(std::size_t n, std::chrono::milliseconds timeout = 5s) {
        return waitFor([n](const std::vector<Event>& ev) { return ev.size() >= n; }, timeout);
    }
    std::vector<Event> events() {
        std::lock_guard lock(mu_);
        return events_;
    }
    template <typename T>
    std::size_t count() {
        std::lock_guard lock(mu_);
        return countOf<T>(events_);
    }
    std::function<void(const Event&)> hook;  // runs on the link's thread

  private:
    std::mutex mu_;
    std::condition_variable cv_;
    std::vector<Event> events_;
};

// Polls a condition until a deadline (for state owned by another thread that is not an event).
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

}  // namespace iwf::test
