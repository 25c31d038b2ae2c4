// The process's connection budget (common/connection_gate.hpp): caps per server pool and per
// source, places given back, counts in the registry, the automatic total, accept backoff.
#include "common/connection_gate.hpp"

#include <cerrno>

#include <gtest/gtest.h>

namespace iwf::net {
namespace {

const auto kA = asio::ip::make_address("192.0.2.1");
const auto kB = asio::ip::make_address("192.0.2.2");

TEST(ConnectionGate, CapsPerSourceThenTotalAndGivesPlacesBack) {
    ConnectionGate gate;
    metrics::Registry reg;
    gate.attachMetrics(reg);
    ConnectionLimits l;
    l.max_total = 3;
    l.max_per_source = 2;
    gate.configure(l);
    auto a1 = gate.admit(kA, Server::Sip);
    auto a2 = gate.admit(kA, Server::Sip);
    auto a3 = gate.admit(kA, Server::Sip);
    ASSERT_TRUE(a1.slot && a2.slot);
    EXPECT_FALSE(a3.slot);
    EXPECT_EQ(a3.refusal, ConnectionGate::Refusal::PerSource);
    auto b1 = gate.admit(kB, Server::Sip);
    auto b2 = gate.admit(kB, Server::Sip);
    ASSERT_TRUE(b1.slot);
    EXPECT_FALSE(b2.slot);
    EXPECT_EQ(b2.refusal, ConnectionGate::Refusal::Total);
    EXPECT_EQ(gate.open(Server::Sip), 3u);
    EXPECT_EQ(reg.counterValue("iwf_connections_refused_total",
                               {{"server", "sip"}, {"reason", "per_source"}}),
              1u);
    EXPECT_EQ(
        reg.counterValue("iwf_connections_refused_total", {{"server", "sip"}, {"reason", "total"}}),
        1u);
    a1.slot.reset();  // a connection closed: its place comes back
    EXPECT_EQ(gate.openFrom(Server::Sip, kA), 1u);
    EXPECT_TRUE(gate.admit(kB, Server::Sip).slot);
}

TEST(ConnectionGate, TheAdminPoolIsSeparate) {
    ConnectionGate gate;
    ConnectionLimits l;
    l.max_total = 1;
    l.max_admin = 1;
    gate.configure(l);
    auto sip = gate.admit(kA, Server::Sip);
    ASSERT_TRUE(sip.slot);
    EXPECT_FALSE(gate.admit(kB, Server::Sip).slot);
    auto admin = gate.admit(kA, Server::Admin);  // a SIP flood does not lock the admin out
    EXPECT_TRUE(admin.slot);
    EXPECT_FALSE(gate.admit(kB, Server::Admin).slot);
}

TEST(ConnectionGate, SlotsMoveAndReleaseOnce) {
    ConnectionGate gate;
    ConnectionLimits l;
    l.max_total = 5;
    gate.configure(l);
    auto a = gate.admit(kA, Server::Sip);
    ConnectionGate::Slot s = std::move(*a.slot);
    a.slot.reset();
    EXPECT_EQ(gate.open(Server::Sip), 1u);
    ConnectionGate::Slot t;
    t = std::move(s);
    s.release();
    EXPECT_EQ(gate.open(Server::Sip), 1u);
    t.release();
    t.release();
    EXPECT_EQ(gate.open(Server::Sip), 0u);
}

TEST(ConnectionGate, AutomaticTotalIsHalfTheFdLimitMinusTheAdminPool) {
    ConnectionGate gate;
    ConnectionLimits l;
    l.max_total = 0;
    l.max_admin = 10;
    gate.configure(l);
    const FdBudget b = readFdBudget();
    ASSERT_GT(b.limit, 0u);
    EXPECT_GT(b.open, 2u);  // stdin, stdout, stderr at least
    EXPECT_EQ(gate.limits().max_total, std::max<std::uint64_t>(16, b.limit / 2 - 10));
}

TEST(AcceptExhaustion, OnlyDescriptorAndMemoryErrorsPause) {
    using boost::system::error_code;
    const auto& sys = boost::system::system_category();
    EXPECT_EQ(acceptExhaustion(error_code(EMFILE, sys)), "fd_limit");
    EXPECT_EQ(acceptExhaustion(error_code(ENFILE, sys)), "fd_limit");
    EXPECT_EQ(acceptExhaustion(error_code(ENOBUFS, sys)), "no_memory");
    EXPECT_EQ(acceptExhaustion(error_code(ENOMEM, sys)), "no_memory");
    EXPECT_EQ(acceptExhaustion(error_code(ECONNABORTED, sys)), "");
    EXPECT_EQ(acceptExhaustion(asio::error::operation_aborted), "");
}

TEST(AcceptBackoff, DoublesFrom50msTo1sAndResets) {
    AcceptBackoff b;
    std::vector<long> got;
    for (int i = 0; i < 7; ++i) {
        got.push_back(static_cast<long>(b.next().count()));
    }
    EXPECT_EQ(got, (std::vector<long>{50, 100, 200, 400, 800, 1000, 1000}));
    b.reset();
    EXPECT_EQ(b.next().count(), 50);
}

}  // namespace
}  // namespace iwf::net
