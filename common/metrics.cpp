#include "common/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

#include "common/metrics_histogram.hpp"

namespace iwf::metrics {

namespace {
bool validName(std::string_view n) {
    if (n.empty()) {
        return false;
    }
    for (std::size_t i = 0; i < n.size(); ++i) {
        char c = n[i];
        bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
        bool digit = c >= '0' && c <= '9';
        if (!(alpha || (i > 0 && digit))) {
            return false;
        }
    }
    return true;
}

std::string formatValue(double v) {
    if (std::isnan(v)) {
        return "NaN";
    }
    if (std::isinf(v)) {
        return v > 0 ? "+Inf" : "-Inf";
    }
    return fmt::format("{}", v);
}
}  // namespace

namespace {
// Text format 0.0.4, "Histograms and summaries": the cumulative buckets in increasing order
// of `le`, the last one le="+Inf" (equal to _count), then _sum and _count, with the series'
// labels on each line and `le` after them.
void renderHistogram(std::string& out, const std::string& name, const Labels& labels,
                     const Histogram& h) {
    const Histogram::Snapshot s = h.snapshot();
    const auto& bounds = h.upperBounds();
    Labels with_le = labels;
    with_le.emplace_back("le", "");
    for (std::size_t i = 0; i <= bounds.size(); ++i) {
        with_le.back().second = i < bounds.size() ? formatValue(bounds[i]) : "+Inf";
        out += fmt::format("{}_bucket{} {}\n", name, renderLabels(with_le), s.cumulative[i]);
    }
    const std::string l = renderLabels(labels);
    out +=
        fmt::format("{}_sum{} {}\n{}_count{} {}\n", name, l, formatValue(s.sum), name, l, s.count);
}
}  // namespace

std::string escapeLabelValue(std::string_view v) {
    std::string out;
    out.reserve(v.size());
    for (char c : v) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '"') {
            out += "\\\"";
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
    return out;
}

std::string renderLabels(const Labels& labels) {
    if (labels.empty()) {
        return "";
    }
    std::string s = "{";
    bool first = true;
    for (const auto& [k, v] : labels) {
        if (!validName(k)) {
            throw std::invalid_argument("bad metric label name: " + k);
        }
        if (!first) {
            s += ",";
        }
        first = false;
        s += k;
        s += "=\"";
        s += escapeLabelValue(v);
        s += "\"";
    }
    s += "}";
    return s;
}

Histogram::Histogram(std::vector<double> upper_bounds) : bounds_(std::move(upper_bounds)) {
    if (bounds_.empty()) {
        throw std::invalid_argument("histogram without buckets");
    }
    for (std::size_t i = 0; i < bounds_.size(); ++i) {
        if (!std::isfinite(bounds_[i]) || (i > 0 && !(bounds_[i - 1] < bounds_[i]))) {
            throw std::invalid_argument("histogram bounds must be finite and increasing");
        }
    }
    buckets_ = std::make_unique<std::atomic<std::uint64_t>[]>(bounds_.size() + 1);
    for (std::size_t i = 0; i <= bounds_.size(); ++i) {
        buckets_[i].store(0, std::memory_order_relaxed);
    }
}

void Histogram::observe(double v) {
    // A NaN is no less than or equal to any bound: it goes to +Inf (client_golang's
    // findBucket does the same), not to the first bucket lower_bound would give it.
    const std::size_t idx =
        std::isnan(v) ? bounds_.size()
                      : static_cast<std::size_t>(
                            std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin());
    buckets_[idx].fetch_add(1, std::memory_order_relaxed);
    double cur = sum_.load(std::memory_order_relaxed);
    while (!sum_.compare_exchange_weak(cur, cur + v, std::memory_order_relaxed)) {
    }
}

Histogram::Snapshot Histogram::snapshot() const {
    Snapshot s;
    s.cumulative.resize(bounds_.size() + 1);
    std::uint64_t acc = 0;
    for (std::size_t i = 0; i <= bounds_.size(); ++i) {
        acc += buckets_[i].load(std::memory_order_relaxed);
        s.cumulative[i] = acc;
    }
    s.count = acc;
    s.sum = sum_.load(std::memory_order_relaxed);
    return s;
}

Registry::Family& Registry::family(std::string_view name, std::string_view help, Kind kind) {
    if (!validName(name)) {
        throw std::invalid_argument("bad metric name: " + std::string(name));
    }
    auto it = families_.find(name);
    if (it == families_.end()) {
        it = families_.emplace(std::string(name), Family{kind, std::string(help), {}, {}}).first;
    } else if (it->second.kind != kind) {
        throw std::invalid_argument("metric registered with two kinds: " + std::string(name));
    }
    return it->second;
}

Registry::Series& Registry::seriesFor(const std::string& name, Family& f, const Labels& labels) {
    std::string key = renderLabels(labels);
    if (auto it = f.series.find(key); it != f.series.end()) {
        return it->second;
    }
    if (f.series.size() < series_limit_) {
        Series& s = f.series[key];
        s.labels = labels;
        return s;
    }
    // Full: the label set goes to the family's "other" series (same label names).
    ++overflow_[name];
    Labels other = labels;
    for (auto& [k, v] : other) {
        v = "other";
    }
    Series& s = f.series[renderLabels(other)];
    s.labels = std::move(other);
    return s;
}

Counter& Registry::counter(std::string_view name, std::string_view help, const Labels& labels) {
    std::lock_guard lock(mu_);
    Family& f = family(name, help, Kind::Counter);
    Series& s = seriesFor(std::string(name), f, labels);
    if (!s.counter) {
        s.counter = std::make_unique<Counter>();
    }
    return *s.counter;
}

Gauge& Registry::gauge(std::string_view name, std::string_view help, const Labels& labels) {
    std::lock_guard lock(mu_);
    Family& f = family(name, help, Kind::Gauge);
    Series& s = seriesFor(std::string(name), f, labels);
    if (!s.gauge) {
        s.gauge = std::make_unique<Gauge>();
    }
    return *s.gauge;
}

void Registry::callbackGauge(std::string_view name, std::string_view help, const Labels& labels,
                             std::function<double()> fn) {
    std::lock_guard lock(mu_);
    Family& f = family(name, help, Kind::Gauge);
    Series& s = seriesFor(std::string(name), f, labels);
    s.fn = std::move(fn);
}

void Registry::callbackCounter(std::string_view name, std::string_view help, const Labels& labels,
                               std::function<std::uint64_t()> fn) {
    std::lock_guard lock(mu_);
    Family& f = family(name, help, Kind::Counter);
    Series& s = seriesFor(std::string(name), f, labels);
    s.counter_fn = std::move(fn);
}

Histogram& Registry::histogram(std::string_view name, std::string_view help,
                               const std::vector<double>& upper_bounds, const Labels& labels) {
    for (const auto& [k, v] : labels) {
        if (k == "le") {
            throw std::invalid_argument("histogram label \"le\" is reserved: " + std::string(name));
        }
    }
    std::lock_guard lock(mu_);
    Family& f = family(name, help, Kind::Histogram);
    if (f.series.empty() && f.bounds.empty()) {
        f.bounds = upper_bounds;
    } else if (f.bounds != upper_bounds) {
        throw std::invalid_argument("histogram registered with two sets of buckets: " +
                                    std::string(name));
    }
    Series& s = seriesFor(std::string(name), f, labels);
    if (!s.histogram) {
        s.histogram = std::make_shared<Histogram>(upper_bounds);
    }
    return *s.histogram;
}

void Registry::setSeriesLimit(std::size_t n) {
    std::lock_guard lock(mu_);
    series_limit_ = n == 0 ? 1 : n;
}

std::size_t Registry::seriesLimit() const {
    std::lock_guard lock(mu_);
    return series_limit_;
}

std::size_t Registry::seriesCount(std::string_view name) const {
    std::lock_guard lock(mu_);
    auto it = families_.find(name);
    return it == families_.end() ? 0 : it->second.series.size();
}

std::uint64_t Registry::counterValue(std::string_view name, const Labels& labels) const {
    std::lock_guard lock(mu_);
    auto it = families_.find(name);
    if (it == families_.end()) {
        return 0;
    }
    auto s = it->second.series.find(renderLabels(labels));
    if (s == it->second.series.end()) {
        return 0;
    }
    if (s->second.counter_fn) {
        return s->second.counter_fn();
    }
    return s->second.counter ? s->second.counter->value() : 0;
}

std::uint64_t Registry::counterSum(std::string_view name, const Labels& match) const {
    std::lock_guard lock(mu_);
    auto it = families_.find(name);
    if (it == families_.end()) {
        return 0;
    }
    std::uint64_t sum = 0;
    for (const auto& [k, s] : it->second.series) {
        // A named reference for the lambda: clang 14 (the fuzz build) cannot capture a
        // structured binding, which C++20 allows and GCC 12 accepts.
        const Labels& have = s.labels;
        bool all = std::all_of(match.begin(), match.end(), [&](const auto& m) {
            return std::find(have.begin(), have.end(), m) != have.end();
        });
        if (!all) {
            continue;
        }
        if (s.counter_fn) {
            sum += s.counter_fn();
        } else if (s.counter) {
            sum += s.counter->value();
        }
    }
    return sum;
}

std::uint64_t Registry::counterSum(std::string_view name) const {
    std::lock_guard lock(mu_);
    auto it = families_.find(name);
    if (it == families_.end()) {
        return 0;
    }
    std::uint64_t sum = 0;
    for (const auto& [k, s] : it->second.series) {
        if (s.counter_fn) {
            sum += s.counter_fn();
        } else if (s.counter) {
            sum += s.counter->value();
        }
    }
    return sum;
}

std::string Registry::renderPrometheus() const {
    std::lock_guard lock(mu_);
    std::string out;
    for (const auto& [name, f] : families_) {
        std::string help;
        for (char c : f.help) {
            if (c == '\\') {
                help += "\\\\";
            } else if (c == '\n') {
                help += "\\n";
            } else {
                help += c;
            }
        }
        out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name,
                           f.kind == Kind::Counter ? "counter"
                           : f.kind == Kind::Gauge ? "gauge"
                                                   : "histogram");
        for (const auto& [labels, s] : f.series) {
            if (s.histogram) {
                renderHistogram(out, name, s.labels, *s.histogram);
            } else if (s.counter_fn) {
                out += fmt::format("{}{} {}\n", name, labels, s.counter_fn());
            } else if (s.counter) {
                out += fmt::format("{}{} {}\n", name, labels, s.counter->value());
            } else if (s.gauge) {
                out += fmt::format("{}{} {}\n", name, labels, formatValue(s.gauge->value()));
            } else if (s.fn) {
                out += fmt::format("{}{} {}\n", name, labels, formatValue(s.fn()));
            }
        }
    }
    if (!overflow_.empty()) {
        constexpr std::string_view kOverflow = "iwf_metrics_series_overflow_total";
        out += fmt::format(
            "# HELP {} Label sets refused because their family was full (folded into "
            "\"other\")\n# TYPE {} counter\n",
            kOverflow, kOverflow);
        for (const auto& [family, n] : overflow_) {
            out += fmt::format("{}{{family=\"{}\"}} {}\n", kOverflow, family, n);
        }
    }
    return out;
}

}  // namespace iwf::metrics
