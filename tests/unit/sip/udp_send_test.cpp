// The SIP UDP transport's send(): a direct non-blocking sendto. A datagram reaches the peer
// byte for byte; a send the kernel refuses is counted as send_failed and reported through
// on_error from the executor, never from inside send().

#include <chrono>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "common/asio.hpp"
#include "common/metrics.hpp"
#include "sip/transport.hpp"

namespace iwf::sip {
namespace {

using namespace std::chrono_literals;

ListenerConfig loopbackUdp() {
    ListenerConfig l;
    l.protocol = Protocol::Udp;
    l.address = "127.0.0.1";
    l.port = 0;
    return l;
}

TEST(SipUdpSend, ReachesThePeerAndRefusalsAreCountedAndReportedLater) {
    asio::io_context io;
    metrics::Registry reg;
    auto t = makeTransport(io, reg, "s", loopbackUdp());
    ASSERT_TRUE(t->start([](std::string_view, const Peer&) {}).ok());

    asio::ip::udp::socket peer(io, {asio::ip::make_address("127.0.0.1"), 0});
    const std::string msg = "OPTIONS sip:x@y SIP/2.0\r\nContent-Length: 0\r\n\r\n";
    bool failed = false;
    t->send(Peer{Protocol::Udp, asio::ip::make_address("127.0.0.1"), peer.local_endpoint().port()},
            msg, [&](const Error&) { failed = true; });
    char buf[512];
    asio::ip::udp::endpoint from;
    const std::size_t n = peer.receive_from(asio::buffer(buf), from);  // sent already
    EXPECT_EQ(std::string(buf, n), msg);
    EXPECT_EQ(from.port(), t->localPort());

    // An IPv6 destination on an IPv4 socket: the kernel refuses the sendto at once.
    std::string_view reason;
    int calls = 0;
    t->send(Peer{Protocol::Udp, asio::ip::make_address("::1"), 5060}, msg, [&](const Error& e) {
        reason = e.reason;
        ++calls;
    });
    EXPECT_EQ(calls, 0);  // not from inside send()
    EXPECT_EQ(reg.counterValue("iwf_sip_transport_errors_total",
                               {{"stack", "s"}, {"transport", "udp"}, {"reason", "send_failed"}}),
              1u);
    io.run_for(200ms);
    EXPECT_EQ(calls, 1);
    EXPECT_EQ(reason, "send_failed");
    EXPECT_FALSE(failed);
    t->stop();
}

}  // namespace
}  // namespace iwf::sip
