// The shared pieces of the LMR links' defences: allow-lists (addresses, prefixes, v4-mapped
// sources), their config default rule, per-peer token buckets, the bounded peer labels of the
// drop counter, the registry's series cap and the kernel drop count of a UDP socket.
#include "common/link_limits.hpp"

#include <array>
#include <sys/socket.h>

#include <gtest/gtest.h>

#include "common/address_filter.hpp"
#include "common/metrics.hpp"
#include "common/udp_socket.hpp"

namespace iwf::net {
namespace {

asio::ip::address ip(const char* s) {
    return asio::ip::make_address(s);
}

TEST(AddressFilter, AddressesPrefixesAndMappedSources) {
    AddressFilter f;
    ASSERT_TRUE(f.add("192.0.2.7").ok());
    ASSERT_TRUE(f.add("10.1.0.0/16").ok());
    ASSERT_TRUE(f.add("2001:db8::/32").ok());
    EXPECT_TRUE(f.allows(ip("192.0.2.7")));
    EXPECT_FALSE(f.allows(ip("192.0.2.8")));
    EXPECT_TRUE(f.allows(ip("10.1.255.3")));
    EXPECT_FALSE(f.allows(ip("10.2.0.1")));
    EXPECT_TRUE(f.allows(ip("::ffff:10.1.0.9"))) << "a dual-stack socket's view of 10.1.0.9";
    EXPECT_TRUE(f.allows(ip("2001:db8:1::5")));
    EXPECT_FALSE(f.allows(ip("2001:db9::5")));
    EXPECT_FALSE(f.isAny());
    EXPECT_EQ(f.entries(),
              (std::vector<std::string>{"192.0.2.7/32", "10.1.0.0/16", "2001:db8::/32"}));
    EXPECT_FALSE(AddressFilter().allows(ip("127.0.0.1"))) << "empty: nothing";
}

TEST(AddressFilter, RefusesTyposAndAcceptsAny) {
    AddressFilter f;
    EXPECT_EQ(f.add("10.1.0.1/16").error().reason, "bad_prefix") << "host bits set";
    EXPECT_EQ(f.add("10.1.0.0/33").error().reason, "bad_prefix");
    EXPECT_EQ(f.add("10.1.0.0/").error().reason, "bad_prefix");
    EXPECT_EQ(f.add("host.example").error().reason, "bad_address");
    ASSERT_TRUE(f.add("any").ok());
    EXPECT_TRUE(f.isAny());
    EXPECT_TRUE(f.allows(ip("203.0.113.9")));
    EXPECT_TRUE(f.allows(ip("2001:db8::1")));
}

TEST(AllowListConfig, LoopbackDefaultRequiredOffLoopbackExplicitOtherwise) {
    auto n = ConfigNode::loadString("name: x\n", "t.yaml");
    auto lo = allowListFromConfig(n, "127.0.0.1");
    EXPECT_TRUE(lo.allows(ip("127.0.0.9")));
    EXPECT_FALSE(lo.allows(ip("192.0.2.1")));
    try {
        (void)allowListFromConfig(n, "0.0.0.0");
        FAIL() << "a link on 0.0.0.0 without allow must be refused";
    } catch (const ConfigError& e) {
        EXPECT_EQ(e.field(), "allow");
        EXPECT_NE(e.message().find("[any]"), std::string::npos) << e.message();
    }
    auto implied = allowListFromConfig(n, "0.0.0.0", {"192.0.2.24"});
    EXPECT_TRUE(implied.allows(ip("192.0.2.24")));
    EXPECT_FALSE(implied.allows(ip("127.0.0.1")));
    auto listed = ConfigNode::loadString("allow: [10.0.0.0/8, any]\n", "t.yaml");
    EXPECT_TRUE(allowListFromConfig(listed, "0.0.0.0").isAny());
    auto bad = ConfigNode::loadString("allow:\n  - 10.0.0.0/8\n  - 10.0.0.1/8\n", "t.yaml");
    try {
        (void)allowListFromConfig(bad, "0.0.0.0");
        FAIL();
    } catch (const ConfigError& e) {
        EXPECT_EQ(e.line(), 3);
        EXPECT_EQ(e.field(), "allow[1]");
    }
    auto empty = ConfigNode::loadString("allow: []\n", "t.yaml");
    EXPECT_THROW((void)allowListFromConfig(empty, "127.0.0.1"), ConfigError);
}

TEST(RateGate, BurstThenRate) {
    RateGate g(100, 10);  // 100/s, 10 at once
    std::int64_t t = 1'000'000'000;
    int passed = 0;
    for (int i = 0; i < 50; ++i) {
        passed += g.take(t) ? 1 : 0;
    }
    EXPECT_EQ(passed, 10);
    t += 100'000'000;  // 100 ms: 10 more tokens
    passed = 0;
    for (int i = 0; i < 50; ++i) {
        passed += g.take(t) ? 1 : 0;
    }
    EXPECT_EQ(passed, 10);
    EXPECT_TRUE(RateGate().take(t)) << "rate 0: no limit";
}

TEST(DropCounter, PeerLabelsAreBoundedAndUnknownSourcesAreOther) {
    metrics::Registry reg;
    DropCounter d(reg, "net-a", nullptr, "iwf_lmr_dropped_total", "", 2);
    EXPECT_TRUE(d.admitPeer("10.0.0.1:5"));
    EXPECT_TRUE(d.admitPeer("312000"));
    EXPECT_FALSE(d.admitPeer("10.0.0.3:5")) << "the third label is over the cap";
    EXPECT_FALSE(d.admitPeer("other"));
    d.drop("10.0.0.1:5", "bad_tag");
    d.drop("10.0.0.1:5", "bad_tag");
    d.drop("10.0.0.3:5", "bad_tag");
    for (int i = 0; i < 1000; ++i) {
        d.drop(Endpoint(asio::ip::make_address_v4(0x0A000000u + static_cast<unsigned>(i)), 7),
               "not_allowed");
    }
    EXPECT_EQ(reg.counterValue("iwf_lmr_dropped_total",
                               {{"link", "net-a"}, {"peer", "10.0.0.1:5"}, {"reason", "bad_tag"}}),
              2u);
    EXPECT_EQ(reg.counterValue("iwf_lmr_dropped_total",
                               {{"link", "net-a"}, {"peer", "other"}, {"reason", "bad_tag"}}),
              1u);
    EXPECT_EQ(reg.counterValue("iwf_lmr_dropped_total",
                               {{"link", "net-a"}, {"peer", "other"}, {"reason", "not_allowed"}}),
              1000u);
    EXPECT_EQ(reg.seriesCount("iwf_lmr_dropped_total"), 3u);
    EXPECT_EQ(&d.counter("10.0.0.1:5", "bad_tag"),
              &reg.counter("iwf_lmr_dropped_total", "",
                           {{"link", "net-a"}, {"peer", "10.0.0.1:5"}, {"reason", "bad_tag"}}));
}

TEST(MetricsRegistry, FamilyBeyondItsSeriesLimitFoldsIntoOther) {
    metrics::Registry reg;
    reg.setSeriesLimit(3);
    for (int i = 0; i < 100; ++i) {
        reg.counter("x_total", "x", {{"peer", std::to_string(i)}}).inc();
    }
    EXPECT_EQ(reg.seriesCount("x_total"), 4u) << "3 label sets and the \"other\" one";
    EXPECT_EQ(reg.counterValue("x_total", {{"peer", "other"}}), 97u);
    const std::string text = reg.renderPrometheus();
    EXPECT_NE(text.find("iwf_metrics_series_overflow_total{family=\"x_total\"} 97"),
              std::string::npos)
        << text;
}

TEST(SocketStats, ExportsTheKernelsDropsOfASocket) {
    asio::io_context io;
    metrics::Registry reg;
    asio::ip::udp::socket rx(io);
    ASSERT_TRUE(bind(rx, "127.0.0.1", 0).ok());
    SocketStats stats(reg, "l", "records");
    SocketStats::setReceiveBuffer(rx, 4096);
    stats.attach(rx);
    asio::ip::udp::socket tx(io, asio::ip::udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    const std::array<std::uint8_t, 200> d{};
    for (int i = 0; i < 2000; ++i) {
        tx.send_to(asio::buffer(d), rx.local_endpoint());
    }
    // Nobody reads: what did not fit in the buffer was dropped by the kernel and is counted.
    const auto drops = stats.drops();
    EXPECT_GT(drops, 0u);
    EXPECT_EQ(reg.counterValue("iwf_udp_receive_drops_total",
                               {{"link", "l"}, {"socket", "records"}, {"worker", "0"}}),
              drops);
    stats.detach();
    rx.close();
    EXPECT_EQ(stats.drops(), drops) << "kept after the socket is gone";
}

}  // namespace
}  // namespace iwf::net
