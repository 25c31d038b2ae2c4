// iwfd as an HBP peer (dmr-hbp-peer) logging in to a master the way DMRGateway does
// (g4klx/DMRGateway DMRNetwork.cpp clock()): each login step is sent again on the retry timer
// until the master answers it (never restarting from RPTL while the master is merely slow),
// RPTC in getConfig()'s layout, RPTO after the config when options are set, RPTPING on the
// retry timer while running, RPTSBKN taken as the master's beacon request, and after an
// MSTNAK while running a new RPTL only when the retry timer has run. The master here is the
// test: it answers, or not, as each step needs. Timers are DMRGateway's divided by 25.
#include <gtest/gtest.h>
#include <openssl/sha.h>

#include "common/loopback_port.hpp"
#include "peer_kit.hpp"
#include "tests/integration/support/iwfd_process.hpp"

namespace iwf::test::peers {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

struct Rx {
    Bytes data;
    Clock::time_point at;
};

bool starts(const Bytes& b, const std::string& m) {
    return b.size() >= m.size() && std::equal(m.begin(), m.end(), b.begin());
}

Bytes msg(const std::string& magic, std::uint32_t id) {
    Bytes b(magic.begin(), magic.end());
    for (int s = 24; s >= 0; s -= 8) {
        b.push_back(static_cast<std::uint8_t>(id >> s));
    }
    return b;
}

TEST(HbpPeerRole, IwfdLogsInTheWayDmrGatewayDoes) {
    Udp master;
    const std::uint16_t own = pickLoopbackPort(PortProtocol::Udp);
    TempDir dir;
    IwfdProcess iwfd;
    const std::string cfg =
        "instance: peer-role\nlog: {level: debug}\nmc_links: []\nlmr_links:\n"
        "  - name: bm\n    type: dmr-hbp-peer\n    address: 127.0.0.1\n    port: " +
        std::to_string(own) +
        "\n    master_address: 127.0.0.1\n    master_port: " + std::to_string(master.port()) +
        "\n    id: 234100199\n    password: s3cret\n    options: \"TS1=91;TS2=\"\n"
        "    login_retry: 400ms\n    login_timeout: 2400ms\n    ping_interval: 400ms\n"
        "    pong_timeout: 2400ms\n"
        "    rptc: {callsign: G9BF, rx_freq: \"1297000000\", tx_freq: \"1297000000\",\n"
        "           tx_power: \"01\", color_code: \"01\", description: OpenIWF, slots: \"3\"}\n";
    ASSERT_TRUE(iwfd.start(dir, cfg)) << iwfd.log();
    std::uint16_t from = 0;
    auto next = [&](const std::string& magic, std::chrono::milliseconds t) -> std::optional<Rx> {
        const auto end = Clock::now() + t;
        while (Clock::now() < end) {
            auto d = master.receive(20ms, &from);
            if (d && starts(*d, magic)) {
                return Rx{*d, Clock::now()};
            }
        }
        return std::nullopt;
    };
    // 1. RPTL, unanswered: sent again when the retry timer runs out (not after the 2.4 s
    // login timeout, not from scratch).
    auto l1 = next("RPTL", 5s);
    ASSERT_TRUE(l1) << iwfd.log();
    EXPECT_EQ(toHex(l1->data), toHex(msg("RPTL", 234100199)));
    auto l2 = next("RPTL", 1500ms);
    ASSERT_TRUE(l2) << "RPTL not sent again within 1.5 s";
    EXPECT_GE(l2->at - l1->at, 300ms);
    // 2. Salt. RPTK, unanswered: the same RPTK again (same key: same salt).
    const std::array<std::uint8_t, 4> salt{0x01, 0x02, 0x03, 0x04};
    Bytes ack = {'R', 'P', 'T', 'A', 'C', 'K'};
    ack.insert(ack.end(), salt.begin(), salt.end());
    master.sendTo(from, ack);
    auto k1 = next("RPTK", 2s);
    ASSERT_TRUE(k1);
    Bytes in(salt.begin(), salt.end());
    const std::string pw = "s3cret";
    in.insert(in.end(), pw.begin(), pw.end());
    std::uint8_t h[SHA256_DIGEST_LENGTH];
    SHA256(in.data(), in.size(), h);
    Bytes want = msg("RPTK", 234100199);
    want.insert(want.end(), h, h + SHA256_DIGEST_LENGTH);
    EXPECT_EQ(toHex(k1->data), toHex(want));
    auto k2 = next("RPTK", 1500ms);
    ASSERT_TRUE(k2) << "RPTK not sent again";
    EXPECT_EQ(k2->data, k1->data);
    // 3. RPTC in DMRGateway's layout (10-digit frequencies: 304 bytes), then RPTO.
    master.sendTo(from, msg("RPTACK", 234100199));
    auto c = next("RPTC", 2s);
    ASSERT_TRUE(c);
    ASSERT_EQ(c->data.size(), 304u);
    EXPECT_EQ(std::string(c->data.begin() + 8, c->data.begin() + 16), "G9BF    ");
    EXPECT_EQ(std::string(c->data.begin() + 16, c->data.begin() + 36), "12970000001297000000");
    master.sendTo(from, msg("RPTACK", 234100199));
    auto o = next("RPTO", 2s);
    ASSERT_TRUE(o);
    EXPECT_EQ(std::string(o->data.begin() + 8, o->data.end()), "TS1=91;TS2=");
    master.sendTo(from, msg("RPTACK", 234100199));
    // 4. Running: pings on the retry timer, answered.
    auto p1 = next("RPTPING", 2s);
    ASSERT_TRUE(p1);
    master.sendTo(from, msg("MSTPONG", 234100199));
    auto p2 = next("RPTPING", 2s);
    ASSERT_TRUE(p2);
    EXPECT_GE(p2->at - p1->at, 300ms);
    master.sendTo(from, msg("MSTPONG", 234100199));
    // 5. RPTSBKN from the master is a beacon request (DMRGateway: m_beacon = true), not an
    // unexpected message.
    master.sendTo(from, msg("RPTSBKN", 234100199));
    EXPECT_TRUE(waitFor(
        [&] {
            auto m = httpGet(iwfd.adminPort(), "/metrics").body;
            return prometheusValue(m, "iwf_dmr_beacon_requests_total{link=\"bm\"}") == 1.0;
        },
        5s));
    auto m = httpGet(iwfd.adminPort(), "/metrics").body;
    EXPECT_EQ(m.find("reason=\"unexpected_message\""), std::string::npos);
    // 6. MSTNAK while running: back to login, RPTL when the retry timer has run.
    const auto nak_at = Clock::now();
    master.sendTo(from, msg("MSTNAK", 234100199));
    auto l3 = next("RPTL", 3s);
    ASSERT_TRUE(l3);
    EXPECT_GE(l3->at - nak_at, 300ms);
    iwfd.signal(SIGTERM);
    EXPECT_EQ(iwfd.waitExit(10s), std::optional<int>(0)) << iwfd.log();
}

}  // namespace
}  // namespace iwf::test::peers
