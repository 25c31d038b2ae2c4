#pragma once
// Figures of the hand-run HA measurements (docs/ha.md "Measured"): nearest-rank percentiles of
// a series of failover times, shared by the failover tests so that every figure in the docs is
// computed the same way.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <string>
#include <vector>

namespace iwf::test {

struct HaSeries {
    std::vector<double> ms;

    // Nearest rank (p in 0..1): the smallest value with at least p of the series at or below.
    double rank(double p) const {
        std::vector<double> s = ms;
        std::sort(s.begin(), s.end());
        const auto k = static_cast<std::size_t>(std::ceil(p * static_cast<double>(s.size())));
        return s[std::max<std::size_t>(k, 1) - 1];
    }
    double min() const { return *std::min_element(ms.begin(), ms.end()); }
    double max() const { return *std::max_element(ms.begin(), ms.end()); }
    // "p50 X ms, p99 Y ms, min A ms, max B ms"
    std::string summary() const {
        char buf[160];
        std::snprintf(buf, sizeof buf, "p50 %.0f ms, p99 %.0f ms, min %.0f ms, max %.0f ms",
                      rank(0.50), rank(0.99), min(), max());
        return buf;
    }
};

}  // namespace iwf::test
