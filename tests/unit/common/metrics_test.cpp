#include "common/metrics.hpp"

#include <gtest/gtest.h>

#include "common/log.hpp"

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
