#include "tests/bench/load/load_book.hpp"

#include <algorithm>
#include <cmath>

namespace iwf::bench {

LoadBook::LoadBook(std::vector<std::uint8_t> periods)
    : periods_(std::move(periods)), slots_(new Slot[periods_.size() * kRing]) {}

void LoadBook::setWindow(std::int64_t begin_ns, std::int64_t end_ns) {
    win_begin_ = begin_ns;
    win_end_ = end_ns;
}

void LoadBook::noteSent(std::size_t stream, std::uint64_t seq, std::int64_t t_ns,
                        std::uint32_t digest) {
    Slot& s = slot(stream, seq);
    s.seq_plus1.store(0, std::memory_order_release);  // retire the old occupant first
    s.t_sent.store(t_ns, std::memory_order_relaxed);
    s.digest.store(digest, std::memory_order_relaxed);
    s.matched.store(false, std::memory_order_relaxed);
    s.seq_plus1.store(seq + 1, std::memory_order_release);
    if (t_ns >= win_begin_ && t_ns < win_end_) {
        sent_.fetch_add(1, std::memory_order_relaxed);
    }
}

std::int64_t LoadBook::noteReceived(std::size_t stream, std::uint8_t pos, std::int64_t t_ns,
                                    std::uint32_t digest) {
    if (stream >= periods_.size() || pos >= periods_[stream]) {
        ++unmatched_;
        return -1;
    }
    const std::uint8_t period = periods_[stream];
    Slot* best = nullptr;
    std::int64_t best_t = 0;
    for (std::size_t i = pos; i < kRing; i += period) {
        Slot& s = slots_[stream * kRing + i];
        const std::uint64_t sp1 = s.seq_plus1.load(std::memory_order_acquire);
        if (sp1 == 0 || (sp1 - 1) % period != pos || s.matched.load(std::memory_order_relaxed)) {
            continue;
        }
        const std::int64_t t = s.t_sent.load(std::memory_order_relaxed);
        if (t <= t_ns && (best == nullptr || t > best_t)) {
            best = &s;
            best_t = t;
        }
    }
    if (best == nullptr) {
        ++unmatched_;
        return -1;
    }
    best->matched.store(true, std::memory_order_relaxed);
    const std::int64_t latency = t_ns - best_t;
    if (best_t >= win_begin_ && best_t < win_end_) {
        ++matched_;
        if (best->digest.load(std::memory_order_relaxed) != digest) {
            ++corrupted_;
        }
        latencies_.push_back(latency);
    } else if (t_ns >= win_begin_ && t_ns < win_end_) {
        ++late_;
    }
    return latency;
}

BookCounters LoadBook::counters() const {
    BookCounters c;
    c.sent = sent_.load();
    c.matched = matched_;
    c.unmatched = unmatched_;
    c.corrupted = corrupted_;
    c.late = late_;
    return c;
}

std::int64_t percentile(std::vector<std::int64_t>& v, double pct) {
    if (v.empty()) {
        return 0;
    }
    auto rank = static_cast<std::size_t>(std::ceil(pct / 100.0 * static_cast<double>(v.size())));
    rank = std::clamp<std::size_t>(rank, 1, v.size());
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(rank - 1), v.end());
    return v[rank - 1];
}

LatencyUs latencyUs(std::vector<std::int64_t>& v) {
    LatencyUs l;
    l.p50 = static_cast<double>(percentile(v, 50.0)) / 1e3;
    l.p99 = static_cast<double>(percentile(v, 99.0)) / 1e3;
    l.p999 = static_cast<double>(percentile(v, 99.9)) / 1e3;
    l.max = v.empty() ? 0.0 : static_cast<double>(percentile(v, 100.0)) / 1e3;
    return l;
}

std::uint32_t fnv1a(const std::uint8_t* p, std::size_t n) {
    std::uint32_t h = 2166136261u;
    for (std::size_t i = 0; i < n; ++i) {
        h = (h ^ p[i]) * 16777619u;
    }
    return h;
}

}  // namespace iwf::bench
