#pragma once
// Counters and gauges, rendered in the Prometheus text exposition format (version 0.0.4).
//
// Registration (name + labels -> metric) is thread-safe and returns a stable reference that a
// hot path keeps; increments are relaxed atomics. Adapters count every dropped packet by
// reason: registry.counter("iwf_lmr_dropped_total", "...", {{"link", l}, {"reason", r}}).

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace iwf::metrics {

using Labels = std::vector<std::pair<std::string, std::string>>;

class Counter {
  public:
    void inc(std::uint64_t n = 1) { v_.fetch_add(n, std::memory_order_relaxed); }
    std::uint64_t value() const { return v_.load(std::memory_order_relaxed); }

  private:
    std::atomic<std::uint64_t> v_{0};
};

class Gauge {
  public:
    void set(double v) { v_.store(v, std::memory_order_relaxed); }
    void add(double d) {
        double cur = v_.load(std::memory_order_relaxed);
        while (!v_.compare_exchange_weak(cur, cur + d, std::memory_order_relaxed)) {
        }
    }
    double value() const { return v_.load(std::memory_order_relaxed); }

  private:
    std::atomic<double> v_{0};
};

class Registry {
  public:
    // Returns the counter for (name, labels), creating it on first use. The same name must
    // always be used with the same kind and help text; names must match [a-zA-Z_:][a-zA-Z0-9_:]*
    // (throws std::invalid_argument otherwise: a programming error at registration time).
    Counter& counter(std::string_view name, std::string_view help, const Labels& labels = {});
    Gauge& gauge(std::string_view name, std::string_view help, const Labels& labels = {});
    // A gauge whose value is computed at render time (uptime, sizes of tables, ...).
    void callbackGauge(std::string_view name, std::string_view help, const Labels& labels,
                       std::function<double()> fn);

    // Value of a counter, 0 if it does not exist (tests, status JSON).
    std::uint64_t counterValue(std::string_view name, const Labels& labels = {}) const;
    // Sum of a counter over all label sets.
    std::uint64_t counterSum(std::string_view name) const;

    std::string renderPrometheus() const;

  private:
    enum class Kind { Counter, Gauge };
    struct Series {
        Labels labels;
        std::unique_ptr<Counter> counter;
        std::unique_ptr<Gauge> gauge;
        std::function<double()> fn;
    };
    struct Family {
        Kind kind;
        std::string help;
        std::map<std::string, Series> series;  // key: rendered label set
    };
    Family& family(std::string_view name, std::string_view help, Kind kind);

    mutable std::mutex mu_;
    std::map<std::string, Family, std::less<>> families_;
};

// Escapes a label value for the text format (backslash, quote, newline).
std::string escapeLabelValue(std::string_view v);
std::string renderLabels(const Labels& labels);

}  // namespace iwf::metrics
