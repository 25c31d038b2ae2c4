#pragma once
// Counters, gauges and histograms (common/metrics_histogram.hpp), rendered in the Prometheus
// text exposition format (version 0.0.4).
//
// Registration (name + labels -> metric) is thread-safe and returns a stable reference that a
// hot path keeps; increments are relaxed atomics. Adapters count every dropped packet by
// reason: registry.counter("iwf_lmr_dropped_total", "...", {{"link", l}, {"reason", r}}).
//
// Label values must come from bounded sets (link names, reasons, configured or logged-in
// peers), never from what a remote party sends: every label set is a series kept for the life
// of the process and rendered at each scrape. As a backstop, a family holds at most
// seriesLimit() label sets (default kDefaultSeriesLimit); a new label set beyond it is folded
// into one series whose label values are all "other", and the refusal is counted in
// iwf_metrics_series_overflow_total{family} (docs/security.md "Metrics").

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

class Histogram;  // common/metrics_histogram.hpp

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
    static constexpr std::size_t kDefaultSeriesLimit = 10000;

    // Returns the counter for (name, labels), creating it on first use. The same name must
    // always be used with the same kind and help text; names must match [a-zA-Z_:][a-zA-Z0-9_:]*
    // (throws std::invalid_argument otherwise: a programming error at registration time).
    Counter& counter(std::string_view name, std::string_view help, const Labels& labels = {});
    Gauge& gauge(std::string_view name, std::string_view help, const Labels& labels = {});
    // A gauge whose value is computed at render time (uptime, sizes of tables, ...).
    void callbackGauge(std::string_view name, std::string_view help, const Labels& labels,
                       std::function<double()> fn);
    // A counter whose value is read at render time from something that counts by itself (a
    // kernel counter, ...). Registering the same label set again replaces the function.
    void callbackCounter(std::string_view name, std::string_view help, const Labels& labels,
                         std::function<std::uint64_t()> fn);

    // The histogram for (name, labels) with these bucket upper bounds (finite, increasing; +Inf
    // is implicit), rendered as <name>_bucket{...,le="..."}, <name>_sum, <name>_count. Every
    // series of a family has the same bounds, and "le" is not a label of its own (throws
    // std::invalid_argument otherwise).
    Histogram& histogram(std::string_view name, std::string_view help,
                         const std::vector<double>& upper_bounds, const Labels& labels = {});

    // Label sets one family may hold (see above); applies to series created from now on.
    void setSeriesLimit(std::size_t n);
    std::size_t seriesLimit() const;
    // Label sets of a family (0 if it does not exist).
    std::size_t seriesCount(std::string_view name) const;

    // Value of a counter, 0 if it does not exist (tests, status JSON).
    std::uint64_t counterValue(std::string_view name, const Labels& labels = {}) const;
    // Sum of a counter over all label sets.
    std::uint64_t counterSum(std::string_view name) const;
    // Sum of a counter over the label sets that have every label of `match` (GET /v1/links:
    // the refusals of one link over all reasons).
    std::uint64_t counterSum(std::string_view name, const Labels& match) const;

    std::string renderPrometheus() const;

  private:
    enum class Kind { Counter, Gauge, Histogram };
    struct Series {
        Labels labels;
        std::unique_ptr<Counter> counter;
        std::unique_ptr<Gauge> gauge;
        std::function<double()> fn;
        std::function<std::uint64_t()> counter_fn;
        std::shared_ptr<Histogram> histogram;  // shared_ptr: Histogram is incomplete here
    };
    struct Family {
        Kind kind;
        std::string help;
        std::vector<double> bounds;            // histograms: the bucket upper bounds
        std::map<std::string, Series> series;  // key: rendered label set
    };
    Family& family(std::string_view name, std::string_view help, Kind kind);
    // The series of `labels` in `f`, or the family's "other" series when `f` is full.
    Series& seriesFor(const std::string& name, Family& f, const Labels& labels);

    mutable std::mutex mu_;
    std::map<std::string, Family, std::less<>> families_;
    std::size_t series_limit_ = kDefaultSeriesLimit;
    std::map<std::string, std::uint64_t, std::less<>> overflow_;  // family -> refused label sets
};

// Escapes a label value for the text format (backslash, quote, newline).
std::string escapeLabelValue(std::string_view v);
std::string renderLabels(const Labels& labels);

}  // namespace iwf::metrics
