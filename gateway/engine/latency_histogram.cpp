#include "gateway/engine/latency_histogram.hpp"

#include <algorithm>

namespace iwf::gateway::engine {

void LatencyHistogram::record(std::int64_t ns) {
    if (ns < 0) {
        ns = 0;  // a frame stamped by another clock domain: count it in the first bucket
    }
    auto it = std::lower_bound(kBoundsNs.begin(), kBoundsNs.end(), ns);
    auto idx = static_cast<std::size_t>(it - kBoundsNs.begin());
    buckets_[idx].fetch_add(1, std::memory_order_relaxed);
    count_.fetch_add(1, std::memory_order_relaxed);
    sum_.fetch_add(ns, std::memory_order_relaxed);
}

std::int64_t LatencyHistogram::quantileUpperNs(double q) const {
    std::uint64_t n = count();
    if (n == 0) {
        return 0;
    }
    auto target = static_cast<std::uint64_t>(q * static_cast<double>(n));
    if (target >= n) {
        target = n - 1;
    }
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < kBuckets; ++i) {
        seen += bucket(i);
        if (seen > target) {
            return i < kBoundsNs.size() ? kBoundsNs[i] : -1;
        }
    }
    return -1;
}

nlohmann::json LatencyHistogram::toJson() const {
    nlohmann::json buckets = nlohmann::json::array();
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < kBuckets; ++i) {
        cumulative += bucket(i);
        nlohmann::json b;
        if (i < kBoundsNs.size()) {
            b["le_ns"] = kBoundsNs[i];
        } else {
            b["le_ns"] = "+Inf";
        }
        b["count"] = cumulative;
        buckets.push_back(b);
    }
    return {{"count", count()},
            {"sum_ns", sumNs()},
            {"p50_le_ns", quantileUpperNs(0.50)},
            {"p99_le_ns", quantileUpperNs(0.99)},
            {"buckets", buckets}};
}

}  // namespace iwf::gateway::engine
