#pragma once
// Per-frame added latency (VoiceFrame::rx_ns -> deliver) as a fixed-bucket histogram with
// relaxed atomic counters: recording is lock-free and allocation-free.

#include <array>
#include <atomic>
#include <cstdint>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/link.hpp"

namespace iwf::gateway::engine {

// The Prometheus export of the added latency (iwf_engine_frame_latency_seconds, a histogram):
// one series per path, named from the sides of the source and destination legs (our own enum,
// never from the wire), with buckets around the gateway's target of under 1 ms at p99: 50 us
// to 100 ms in 1-2.5-5 steps, so 1 ms is a bucket bound (the alert's threshold) and a frame
// late by a whole 20 ms IMBE frame period still has a bucket of its own.
inline const std::vector<double> kLatencyBucketsSeconds{
    0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1};
constexpr std::size_t latencyPath(Side from, Side to) {
    return static_cast<std::size_t>(from) * 2 + static_cast<std::size_t>(to);
}
// Indexed by latencyPath().
constexpr std::array<std::string_view, 4> kLatencyPathNames{"lmr_to_lmr", "lmr_to_mc", "mc_to_lmr",
                                                            "mc_to_mc"};

class LatencyHistogram {
  public:
    // Upper bounds in nanoseconds: 1 us .. 1 s in 1-2-5 steps; the last bucket is +Inf.
    static constexpr std::array<std::int64_t, 19> kBoundsNs{
        1'000,      2'000,       5'000,       10'000,      20'000,       50'000,     100'000,
        200'000,    500'000,     1'000'000,   2'000'000,   5'000'000,    10'000'000, 20'000'000,
        50'000'000, 100'000'000, 200'000'000, 500'000'000, 1'000'000'000};
    static constexpr std::size_t kBuckets = kBoundsNs.size() + 1;

    void record(std::int64_t ns);
    std::uint64_t count() const { return count_.load(std::memory_order_relaxed); }
    std::uint64_t bucket(std::size_t i) const {
        return buckets_[i].load(std::memory_order_relaxed);
    }
    std::int64_t sumNs() const { return sum_.load(std::memory_order_relaxed); }
    // Upper bound of the bucket that holds quantile q (0..1); 0 when empty, -1 for +Inf.
    std::int64_t quantileUpperNs(double q) const;
    nlohmann::json toJson() const;

  private:
    std::array<std::atomic<std::uint64_t>, kBuckets> buckets_{};
    std::atomic<std::uint64_t> count_{0};
    std::atomic<std::int64_t> sum_{0};
};

}  // namespace iwf::gateway::engine
