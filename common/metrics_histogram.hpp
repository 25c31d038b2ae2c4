#pragma once
// A Prometheus histogram (text exposition format 0.0.4, "Histograms and summaries": each
// series renders as cumulative `<name>_bucket{le="<upper bound>"}` lines ending with
// le="+Inf", then `<name>_sum` and `<name>_count`; https://prometheus.io/docs/instrumenting/
// exposition_formats/#text-format-details). Registry::histogram() registers one; a hot path
// keeps the reference and calls observe(), which is lock-free and allocation-free.

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

namespace iwf::metrics {

class Histogram {
  public:
    // `upper_bounds`: finite, strictly increasing, not empty (std::invalid_argument
    // otherwise); the +Inf bucket is implicit.
    explicit Histogram(std::vector<double> upper_bounds);

    // Counts `v` in the first bucket whose upper bound is >= v (le: "less than or equal").
    void observe(double v);

    const std::vector<double>& upperBounds() const { return bounds_; }
    // A consistent-enough view for rendering: the per-bucket counts are read once, so the
    // cumulative counts never decrease and the +Inf one equals `count`.
    struct Snapshot {
        std::vector<std::uint64_t> cumulative;  // upperBounds().size() + 1 entries, last: +Inf
        std::uint64_t count = 0;
        double sum = 0;
    };
    Snapshot snapshot() const;

  private:
    std::vector<double> bounds_;
    std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;  // not cumulative; last: +Inf
    std::atomic<double> sum_{0};
};

}  // namespace iwf::metrics
