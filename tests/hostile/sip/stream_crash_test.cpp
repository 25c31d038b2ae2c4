// Finding "remote crash" (issue #21): one TCP connection with a valid OPTIONS followed by
// `JUNK\r\n\r\n` aborted iwfd, 3 times out of 3, on SIP-TCP and SIP-TLS. The OPTIONS is
// answered (a write in flight), then the junk breaks the framing and the connection fails
// while that write still reads from the queue it cleared (sip/transport.cpp, Connection).
// Now: the attacker's connection is closed and counted, iwfd lives on, answers the next
// OPTIONS, and a legitimate call in progress loses no frame.
#include <unistd.h>

#include <gtest/gtest.h>

#include "hostile_sip.hpp"

namespace iwf::hostile {
namespace {

constexpr std::string_view kJunk = "JUNK\r\n\r\n";

class StreamCrash : public HostileSip {
  protected:
    // Three attempts from 127.0.0.2, each on a new connection; then a clean OPTIONS.
    void attack(sip::Protocol protocol) {
        const bool tls = protocol == sip::Protocol::Tls;
        // Over TLS the attacker is a configured peer with its certificate (mutual TLS): an MC
        // link reads TLS messages only from a peer whose certificate names its tls_name, and
        // the bug is in the stream framing that every message goes through.
        StartOptions o;
        if (tls) {
            o.tls_listener_extra = ", mutual: true";
        }
        ASSERT_NO_FATAL_FAILURE(start(o));
        ASSERT_NO_FATAL_FAILURE(call.start(6));
        const Pki::Leaf probe =
            tls ? pki.issue("probe", "probe.test", "DNS:probe.test") : Pki::Leaf{};
        for (int i = 0; i < 3; ++i) {
            const std::string tag = "junk" + std::to_string(i);
            const std::string bytes =
                optionsRequest(tls ? "TLS" : "TCP", "127.0.0.2", tag) + std::string(kJunk);
            if (tls) {
                TlsClient c;
                ASSERT_TRUE(c.connect("127.0.0.2", tlsPort(), pki.ca, &probe)) << iwfd.log();
                ASSERT_TRUE(c.write(bytes));
                EXPECT_TRUE(c.closedByServer(10s)) << "the broken stream stays open";
            } else {
                int fd = connectFrom("127.0.0.2", tcpPort());
                ASSERT_GE(fd, 0);
                ASSERT_TRUE(sendAll(fd, bytes));
                EXPECT_TRUE(closedByServer(fd, 10s)) << "the broken stream stays open";
                ::close(fd);
            }
            // Wait for the error to be counted: by then iwfd has run the failing path.
            ASSERT_TRUE(iwf::test::waitFor(
                [&] { return !iwfd.running() || framingErrors(tls) == i + 1; }, 10s));
            ASSERT_TRUE(iwfd.running()) << "iwfd died at attempt " << i << "\n" << iwfd.log();
        }
        // Still serving: a clean OPTIONS on a new connection gets its 200.
        std::string answer;
        if (tls) {
            TlsClient c;
            ASSERT_TRUE(c.connect("127.0.0.2", tlsPort(), pki.ca, &probe));
            ASSERT_TRUE(c.write(optionsRequest("TLS", "127.0.0.2", "after")));
            answer = c.readUntil("\r\n\r\n", 10s);
        } else {
            int fd = connectFrom("127.0.0.2", tcpPort());
            ASSERT_GE(fd, 0);
            ASSERT_TRUE(sendAll(fd, optionsRequest("TCP", "127.0.0.2", "after")));
            answer = readUntil(fd, "\r\n\r\n", 10s);
            ::close(fd);
        }
        EXPECT_EQ(answer.rfind("SIP/2.0 200", 0), 0u) << answer;
        ASSERT_NO_FATAL_FAILURE(call.expectExact());
    }
    double framingErrors(bool tls) {
        return metric(std::string("iwf_sip_transport_errors_total{stack=\"mc\",transport=\"") +
                      (tls ? "tls" : "tcp") + "\",reason=\"missing_content_length\"}");
    }
};

TEST_F(StreamCrash, OptionsThenJunkOverTcpNeitherCrashesNorDisturbsACall) {
    attack(sip::Protocol::Tcp);
}

TEST_F(StreamCrash, OptionsThenJunkOverTlsNeitherCrashesNorDisturbsACall) {
    attack(sip::Protocol::Tls);
}

}  // namespace
}  // namespace iwf::hostile
