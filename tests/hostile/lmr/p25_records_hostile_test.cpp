// The p25-records link of the real iwfd under attack, next to a legitimate encrypted call:
// radio A (127.0.0.1) talks 3 AES-256 superframes to the reflector, radio B (127.0.0.1)
// listens; B must receive exactly A's 54 voice records and its end record, byte for byte,
// whatever the other "hosts" (127.x.y.z) do meanwhile (docs/security.md "LMR links").
#include <csignal>
#include <regex>

#include <gtest/gtest.h>

#include "lmr_hostile_support.hpp"

namespace iwf::hostile {
namespace {

struct P25RecordsHostile : ::testing::Test {
    void SetUp() override { port = pickLoopbackPort(PortProtocol::Udp); }
    // The p25 link (reflector: A -> B), `extra` YAML keys appended to it.
    std::string links(const std::string& extra = "    allow: [127.0.0.1]\n") const {
        return "  - name: p25\n    type: p25-records\n    address: 127.0.0.1\n    port: " +
               std::to_string(port) +
               "\n    wacn: 0xBEE00\n    system: 0x001\n    tgid: 100\n    call_timeout: 5s\n" +
               extra;
    }
    // A and B poll (B first: it hears everything A sends afterwards).
    void linkRadios() {
        b.sendTo(port, pollBytes("RADIOB"));
        ASSERT_TRUE(b.receive(10s)) << "B: no poll answer\n" << iwfd.iwfd.log();
        a.sendTo(port, pollBytes("RADIOA"));
        ASSERT_TRUE(a.receive(10s)) << "A: no poll answer\n" << iwfd.iwfd.log();
    }
    // B received exactly `want`, in order, byte for byte.
    void expectExactly(const std::vector<Bytes>& want) { expectRecords(b, want, iwfd.iwfd.log()); }

    std::uint16_t port = 0;
    HostileIwfd iwfd;
    Sock a;
    Sock b;
};

// Before: any address that polled was linked; 270 records injected from 127.0.0.9 reached the
// other radio bit-exact. Now only the allow-list is heard.
TEST_F(P25RecordsHostile, RecordsFromAnAddressNotAllowedAreNeitherLinkedNorRelayed) {
    ASSERT_TRUE(iwfd.start(links())) << iwfd.iwfd.log();
    ASSERT_NO_FATAL_FAILURE(linkRadios());
    Sock intruder("127.0.0.9");
    ASSERT_TRUE(intruder.bound());
    intruder.sendTo(port, pollBytes("INTRUDER"));
    const auto call = encryptedP25Call(3);
    const auto junk = encryptedP25Call(15, 0x77, 666);  // 270 records of another "talker"
    for (std::size_t k = 0; k < call.size(); ++k) {
        a.sendTo(port, call[k]);
        for (std::size_t j = 0; j < 5; ++j) {
            intruder.sendTo(port, junk[(k * 5 + j) % junk.size()]);
        }
    }
    a.sendTo(port, endRecord());
    std::vector<Bytes> want = call;
    want.push_back(endRecord());
    expectExactly(want);
    EXPECT_FALSE(intruder.receive(200ms)) << "the intruder's poll was answered";
    ASSERT_TRUE(iwfd.waitMetric(
        R"(iwf_lmr_dropped_total{link="p25",peer="other",reason="not_allowed"})", 271))
        << iwfd.metrics();
    iwfd.stop();
}

// Before: a linked peer sending at 10x the rate of a stream was relayed into the stream a
// radio was decoding (0/252 MC -> P25 frames decodable). Now one talker at a time is relayed
// (as P25Reflector does) and each peer has a packet budget.
TEST_F(P25RecordsHostile, LinkedPeerAtTenTimesTheRateCannotEnterAnotherTalkersStream) {
    ASSERT_TRUE(iwfd.start(links("    allow: [127.0.0.1, 127.0.0.3]\n"))) << iwfd.iwfd.log();
    ASSERT_NO_FATAL_FAILURE(linkRadios());
    Sock noisy("127.0.0.3");
    noisy.sendTo(port, pollBytes("NOISY"));
    ASSERT_TRUE(noisy.receive(10s)) << "the noisy peer is allowed and links";
    const auto call = encryptedP25Call(3);
    const auto flood = encryptedP25Call(30, 0x55, 777);  // 540 records: 10x A's rate
    std::size_t f = 0;
    for (std::size_t k = 0; k < call.size(); ++k) {
        a.sendTo(port, call[k]);
        if (k >= 5) {  // A holds the channel first, then the flood starts
            for (int j = 0; j < 10 && f < flood.size(); ++j) {
                noisy.sendTo(port, flood[f++]);
            }
        }
    }
    a.sendTo(port, endRecord());
    std::vector<Bytes> want = call;
    want.push_back(endRecord());
    expectExactly(want);
    const std::string label = "127.0.0.3:" + std::to_string(noisy.port());
    EXPECT_TRUE(iwfd.waitMetric(R"(iwf_p25_relay_held_total{link="p25"})", 1)) << iwfd.metrics();
    EXPECT_TRUE(iwfd.waitMetric(
        R"(iwf_lmr_dropped_total{link="p25",peer=")" + label + R"(",reason="rate_limited"})", 1))
        << iwfd.metrics();
    iwfd.stop();
}

// Before: an unlink (0xF1) forged with A's source address and port cut A's call; the rest of
// its records were refused as "not linked". Now an unlink never cuts a call in progress.
TEST_F(P25RecordsHostile, ForgedUnlinkDoesNotCutTheCall) {
    ASSERT_TRUE(iwfd.start(links())) << iwfd.iwfd.log();
    Sock a2("127.0.0.1", 0, true);  // A, bound so that a second socket can share its port
    b.sendTo(port, pollBytes("RADIOB"));
    ASSERT_TRUE(b.receive(10s));
    a2.sendTo(port, pollBytes("RADIOA"));
    ASSERT_TRUE(a2.receive(10s));
    Sock forger("127.0.0.1", a2.port(), true);  // the same source address and port as A
    ASSERT_TRUE(forger.bound());
    const auto call = encryptedP25Call(3);
    for (std::size_t k = 0; k < call.size(); ++k) {
        a2.sendTo(port, call[k]);
        if (k == 20) {
            for (int j = 0; j < 3; ++j) {  // P25Gateway sends its unlink three times
                forger.sendTo(port, pollBytes("RADIOA", true));
            }
        }
    }
    a2.sendTo(port, endRecord());
    std::vector<Bytes> want = call;
    want.push_back(endRecord());
    expectExactly(want);
    const std::string log = iwfd.iwfd.log();
    EXPECT_EQ(log.find("reason=link_down"), std::string::npos) << log;
    EXPECT_NE(log.find("unlink deferred"), std::string::npos) << log;
    iwfd.stop();
}

// Before: 64 polls from 64 addresses filled max_peers and new radios were refused for 60 s.
TEST_F(P25RecordsHostile, PollsFromManyAddressesDoNotLockOutRadios) {
    ASSERT_TRUE(iwfd.start(links())) << iwfd.iwfd.log();
    for (int i = 1; i <= 64; ++i) {
        Sock s("127.0.1." + std::to_string(i));
        s.sendTo(port, pollBytes("FILLER"));
    }
    ASSERT_NO_FATAL_FAILURE(linkRadios());
    const auto call = encryptedP25Call(3);
    for (const auto& r : call) {
        a.sendTo(port, r);
    }
    a.sendTo(port, endRecord());
    std::vector<Bytes> want = call;
    want.push_back(endRecord());
    expectExactly(want);
    iwfd.stop();
}

// Before: after kill -9 and a restart, a radio that kept sending (P25Gateway polls again only
// every 5 s) was refused as "not linked" until its next poll. Now the allowed source's voice
// links it and the resumed stream is carried at once.
TEST_F(P25RecordsHostile, StreamResumedAfterKill9IsCarriedAgain) {
    ASSERT_TRUE(iwfd.start(links())) << iwfd.iwfd.log();
    ASSERT_NO_FATAL_FAILURE(linkRadios());
    const auto call = encryptedP25Call(3);
    for (std::size_t k = 0; k < 18; ++k) {
        a.sendTo(port, call[k]);
    }
    auto first = collectRecords(b, 18, 20s);
    ASSERT_EQ(first.size(), 18u) << iwfd.iwfd.log();
    iwfd.iwfd.signal(SIGKILL);
    ASSERT_TRUE(iwfd.iwfd.waitExit(10s).has_value());
    ASSERT_TRUE(iwfd.start(links())) << iwfd.iwfd.log();
    // B polls (its 5 s timer came round); A just goes on talking, as a P25Gateway does.
    b.sendTo(port, pollBytes("RADIOB"));
    ASSERT_TRUE(b.receive(10s));
    for (std::size_t k = 18; k < call.size(); ++k) {
        a.sendTo(port, call[k]);
    }
    a.sendTo(port, endRecord());
    std::vector<Bytes> want(call.begin() + 18, call.end());
    want.push_back(endRecord());
    expectExactly(want);
    EXPECT_NE(iwfd.iwfd.log().find("linked by=voice"), std::string::npos);
    iwfd.stop();
}

// Before: the socket kept the kernel's 212,992-byte buffer and what the kernel dropped was
// counted nowhere (567k of 10^6 datagrams vanished). Now the buffer is sized per link and the
// kernel's drops are exported: every datagram sent is accounted for, by iwfd or the kernel.
TEST_F(P25RecordsHostile, EveryDatagramIsCountedByIwfdOrAsAKernelDrop) {
    const std::uint16_t flood_port = pickLoopbackPort(PortProtocol::Udp);
    ASSERT_TRUE(iwfd.start(links() + "  - name: p25-small\n    type: p25-records\n" +
                           "    address: 127.0.0.1\n    port: " + std::to_string(flood_port) +
                           "\n    allow: [127.0.0.1]\n    receive_buffer: 4096\n"))
        << iwfd.iwfd.log();
    ASSERT_NO_FATAL_FAILURE(linkRadios());
    constexpr std::uint64_t kFlood = 20000;
    Sock flooder("127.0.0.7");
    const Bytes junk{0x99, 0x01, 0x02};
    const auto call = encryptedP25Call(3);
    for (std::uint64_t i = 0; i < kFlood; ++i) {
        flooder.sendTo(flood_port, junk);
        if (i % 360 == 0 && i / 360 < call.size()) {
            a.sendTo(port, call[i / 360]);
        }
    }
    a.sendTo(port, endRecord());
    std::vector<Bytes> want = call;
    want.push_back(endRecord());
    expectExactly(want);
    const std::string drops =
        R"(iwf_udp_receive_drops_total{link="p25-small",socket="records",worker="0"})";
    const std::string refused =
        R"(iwf_lmr_dropped_total{link="p25-small",peer="other",reason="not_allowed"})";
    ASSERT_TRUE(waitFor(
        [&] {
            const auto m = iwfd.metrics();
            return prometheusValue(m, drops).value_or(0) +
                       prometheusValue(m, refused).value_or(0) ==
                   static_cast<double>(kFlood);
        },
        20s, 100ms))
        << iwfd.metrics();
    EXPECT_GT(iwfd.metric(drops), 0) << "a 4 KiB buffer overflows under the flood";
    EXPECT_GT(
        iwfd.metric(R"(iwf_udp_receive_buffer_bytes{link="p25",socket="records",worker="0"})"),
        212992);
    iwfd.stop();
}

}  // namespace
}  // namespace iwf::hostile
