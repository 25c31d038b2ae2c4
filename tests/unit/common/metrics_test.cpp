#include "common/metrics.hpp"

#include <cmath>

#include <gtest/gtest.h>

#include "common/log.hpp"
#include "common/metrics_histogram.hpp"

namespace iwf::metrics {
namespace {

TEST(Metrics, CountersByLabelsAndRender) {
    Registry reg;
    Counter& a =
        reg.counter("iwf_dropped_total", "Dropped packets", {{"link", "p25"}, {"reason", "short"}});
    Counter& b =
        reg.counter("iwf_dropped_total", "Dropped packets", {{"link", "p25"}, {"reason", "crc"}});
    Counter& a2 =
        reg.counter("iwf_dropped_total", "Dropped packets", {{"link", "p25"}, {"reason", "short"}});
    EXPECT_EQ(&a, &a2);
    a.inc();
    a.inc(2);
    b.inc();
    reg.gauge("iwf_calls", "Calls").set(4);
    reg.callbackGauge("iwf_up", "Up", {{"x", "a\"b\\c\nd"}}, [] { return 1.5; });
    std::string text = reg.renderPrometheus();
    EXPECT_NE(text.find("# TYPE iwf_dropped_total counter\n"), std::string::npos);
    EXPECT_NE(text.find("iwf_dropped_total{link=\"p25\",reason=\"short\"} 3\n"), std::string::npos);
    EXPECT_NE(text.find("iwf_dropped_total{link=\"p25\",reason=\"crc\"} 1\n"), std::string::npos);
    EXPECT_NE(text.find("iwf_calls 4\n"), std::string::npos);
    EXPECT_NE(text.find("iwf_up{x=\"a\\\"b\\\\c\\nd\"} 1.5\n"), std::string::npos);
    EXPECT_EQ(reg.counterSum("iwf_dropped_total"), 4u);
    EXPECT_EQ(reg.counterValue("iwf_dropped_total", {{"link", "p25"}, {"reason", "crc"}}), 1u);
    EXPECT_EQ(reg.counterValue("iwf_nothing"), 0u);
}

TEST(Metrics, RejectsBadNamesAndKindClash) {
    Registry reg;
    EXPECT_THROW(reg.counter("9bad", "x"), std::invalid_argument);
    EXPECT_THROW(reg.counter("bad-name", "x"), std::invalid_argument);
    reg.counter("iwf_x", "x");
    EXPECT_THROW(reg.gauge("iwf_x", "x"), std::invalid_argument);
    EXPECT_THROW(reg.counter("iwf_y", "y", {{"bad label", "v"}}), std::invalid_argument);
}

// The text exposition format 0.0.4 ("Histograms and summaries",
// https://prometheus.io/docs/instrumenting/exposition_formats/): TYPE histogram, cumulative
// <name>_bucket lines with le in increasing order ending with le="+Inf" (= _count), then
// <name>_sum and <name>_count, each with the series' labels. The expected text is written out
// from that page's example, not produced by our renderer.
TEST(Metrics, HistogramRendersCumulativeBucketsSumAndCount) {
    Registry reg;
    Histogram& h =
        reg.histogram("iwf_lat_seconds", "Latency", {0.001, 0.01, 0.1}, {{"path", "lmr_to_mc"}});
    EXPECT_EQ(&h, &reg.histogram("iwf_lat_seconds", "Latency", {0.001, 0.01, 0.1},
                                 {{"path", "lmr_to_mc"}}));
    h.observe(0.0005);
    h.observe(0.001);  // le: a value equal to a bound is in that bucket
    h.observe(0.002);
    h.observe(0.5);           // above every bound: +Inf only
    h.observe(std::nan(""));  // +Inf too, not the first bucket
    reg.histogram("iwf_lat_seconds", "Latency", {0.001, 0.01, 0.1}, {{"path", "mc_to_lmr"}});
    const std::string text = reg.renderPrometheus();
    const std::string want_type =
        "# HELP iwf_lat_seconds Latency\n# TYPE iwf_lat_seconds histogram\n";
    EXPECT_NE(text.find(want_type), std::string::npos) << text;
    const std::string want =
        "iwf_lat_seconds_bucket{path=\"lmr_to_mc\",le=\"0.001\"} 2\n"
        "iwf_lat_seconds_bucket{path=\"lmr_to_mc\",le=\"0.01\"} 3\n"
        "iwf_lat_seconds_bucket{path=\"lmr_to_mc\",le=\"0.1\"} 3\n"
        "iwf_lat_seconds_bucket{path=\"lmr_to_mc\",le=\"+Inf\"} 5\n"
        "iwf_lat_seconds_sum{path=\"lmr_to_mc\"} NaN\n"
        "iwf_lat_seconds_count{path=\"lmr_to_mc\"} 5\n"
        "iwf_lat_seconds_bucket{path=\"mc_to_lmr\",le=\"0.001\"} 0\n"
        "iwf_lat_seconds_bucket{path=\"mc_to_lmr\",le=\"0.01\"} 0\n"
        "iwf_lat_seconds_bucket{path=\"mc_to_lmr\",le=\"0.1\"} 0\n"
        "iwf_lat_seconds_bucket{path=\"mc_to_lmr\",le=\"+Inf\"} 0\n"
        "iwf_lat_seconds_sum{path=\"mc_to_lmr\"} 0\n"
        "iwf_lat_seconds_count{path=\"mc_to_lmr\"} 0\n";
    EXPECT_NE(text.find(want_type + want), std::string::npos) << text;

    // Without labels: le is the only label; the sum is the sum of what was observed.
    Histogram& u = reg.histogram("iwf_plain_seconds", "Plain", {0.00005, 0.0001});
    u.observe(0.00002);
    u.observe(0.00008);
    const std::string t2 = reg.renderPrometheus();
    EXPECT_NE(t2.find("iwf_plain_seconds_bucket{le=\"5e-05\"} 1\n"
                      "iwf_plain_seconds_bucket{le=\"0.0001\"} 2\n"
                      "iwf_plain_seconds_bucket{le=\"+Inf\"} 2\n"
                      "iwf_plain_seconds_sum 0.0001\n"
                      "iwf_plain_seconds_count 2\n"),
              std::string::npos)
        << t2;
}

TEST(Metrics, HistogramRejectsBadBucketsAndLe) {
    Registry reg;
    EXPECT_THROW(reg.histogram("iwf_h", "h", {}), std::invalid_argument);
    EXPECT_THROW(reg.histogram("iwf_h", "h", {0.1, 0.1}), std::invalid_argument);
    EXPECT_THROW(reg.histogram("iwf_h", "h", {0.1, INFINITY}), std::invalid_argument);
    EXPECT_THROW(reg.histogram("iwf_h2", "h", {0.1}, {{"le", "1"}}), std::invalid_argument);
    reg.histogram("iwf_h3", "h", {0.1, 1});
    EXPECT_THROW(reg.histogram("iwf_h3", "h", {0.1, 2}, {{"a", "b"}}), std::invalid_argument);
    EXPECT_THROW(reg.counter("iwf_h3", "h"), std::invalid_argument);
}

// A full family folds new label sets into "other", as counters do.
TEST(Metrics, HistogramSeriesLimit) {
    Registry reg;
    reg.setSeriesLimit(1);
    Histogram& a = reg.histogram("iwf_h", "h", {1}, {{"path", "a"}});
    Histogram& b = reg.histogram("iwf_h", "h", {1}, {{"path", "b"}});
    EXPECT_NE(&a, &b);
    b.observe(0.5);
    const std::string text = reg.renderPrometheus();
    EXPECT_NE(text.find("iwf_h_bucket{path=\"other\",le=\"1\"} 1\n"), std::string::npos) << text;
    EXPECT_NE(text.find("iwf_metrics_series_overflow_total{family=\"iwf_h\"} 1\n"),
              std::string::npos);
}

TEST(RateLimiter, AllowsBurstThenSuppressesAndReports) {
    log::RateLimiter rl(std::chrono::seconds(10), 2);
    auto t0 = std::chrono::steady_clock::time_point(std::chrono::seconds(100));
    std::uint64_t suppressed = 0;
    EXPECT_TRUE(rl.allow(t0, suppressed));
    EXPECT_TRUE(rl.allow(t0, suppressed));
    EXPECT_FALSE(rl.allow(t0, suppressed));
    EXPECT_FALSE(rl.allow(t0 + std::chrono::seconds(5), suppressed));
    EXPECT_TRUE(rl.allow(t0 + std::chrono::seconds(11), suppressed));
    EXPECT_EQ(suppressed, 2u);
}

TEST(Log, ParsesLevels) {
    spdlog::level::level_enum lv{};
    EXPECT_TRUE(log::parseLevel("debug", lv));
    EXPECT_EQ(lv, spdlog::level::debug);
    EXPECT_FALSE(log::parseLevel("loud", lv));
}

}  // namespace
}  // namespace iwf::metrics
