// The MC system simulator against the real mcptt-iwf1 link in-process: the link calls the
// group, the simulator answers with its own RTP/floor ports, the link's encrypted X-IWF-LMR
// frames reach every attached client, and each client decrypts them with its own key: the
// right key gives the sender's canaries, a wrong key (same key ID) gives something else.
#include "harness/sim/mc_system.hpp"

#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "common/asio.hpp"
#include "harness/crypto/p25_crypto.hpp"
#include "harness/runner/checks.hpp"
#include "harness/sim/p25_radio.hpp"
#include "mc_adapters/mcptt/mcptt_link.hpp"

namespace iwf::harness {
namespace {

using namespace std::chrono_literals;

constexpr char kGroup[] = "sip:fire-ops@iwf.example";

struct NullSink : EventSink {
    void onEvent(const LinkId&, Event&&) override {}
};

ScenarioKey key(const std::string& name, std::uint8_t seed) {
    ScenarioKey k;
    k.name = name;
    k.family = LmrFamily::P25;
    k.algid = 0x84;
    k.key_id = 0x0101;
    for (std::size_t i = 0; i < k.key.size(); ++i) {
        k.key[i] = static_cast<std::uint8_t>(seed * 7 + i * 13);
    }
    return k;
}

TEST(HarnessMcSystem, ClientsDecryptTheLinksFramesEachWithItsOwnKey) {
    McSystemConfig cfg;
    cfg.keys = {key("right", 1), key("wrong", 2)};
    ScenarioGroup g;
    g.mc_group = kGroup;
    g.key = "right";
    cfg.groups = {g};
    cfg.clients = {{"alice", "sip:alice@mc.example", {kGroup}, {"right"}},
                   {"mallory", "sip:mallory@mc.example", {kGroup}, {"wrong"}}};
    McSystem mc(cfg);
    ASSERT_TRUE(mc.start().ok());

    asio::io_context io;
    metrics::Registry reg;
    mc::mcptt::McpttLinkConfig lc;
    lc.name = "iwf1";
    lc.psi = "sip:iwf@iwf.example";
    lc.listen = {{sip::Protocol::Udp, "127.0.0.1", 0, {}}};
    lc.peer = {sip::Protocol::Udp, asio::ip::make_address("127.0.0.1"), mc.sipPort()};
    lc.server_uri = "sip:cf@mc.example";
    lc.media.address = "127.0.0.1";
    lc.e2ee_groups = {kGroup};
    lc.peers = {mc::peers::peerAt("mc", asio::ip::make_address("127.0.0.1"), {"mc.example"})};
    auto link = std::make_unique<mc::mcptt::McpttLink>(io, reg, lc);
    NullSink sink;
    ASSERT_TRUE(link->start(sink).ok());
    mc.setIwfSipPort(link->stack().port(sip::Protocol::Udp));

    CallSetup s;
    s.call = 1;
    s.caller.id = McId{"sip:p25-1001@iwf.example"};
    s.callee = McGroupId{kGroup};
    s.kind = CallKind::Group;
    ASSERT_TRUE(link->deliver(s).ok());

    // Two superframes of a radio's encrypted transmission, as the engine would relay them.
    P25RadioConfig rc;
    rc.tag = 9;
    rc.nonce = 0x4242;
    rc.key = cfg.keys[0].key;
    rc.key_id = 0x0101;
    rc.first_mi = {9, 8, 7, 6, 5, 4, 3, 2, 0};
    P25Radio radio(rc);
    P25VoiceCipher enc(rc.key, rc.first_mi);
    std::map<FrameKey, SentFrame> sent;
    for (std::uint32_t sf = 0; sf < 2; ++sf) {
        ASSERT_TRUE(radio.superframe(sf).ok());
        for (std::uint8_t i = 0; i < 18; ++i) {
            const auto plain = radio.sent().at({sf, i});
            sent[{sf, i}] = SentFrame{Bytes(plain.begin(), plain.end()), radio.cryptoOf(sf), 0};
            Imbe11 c = plain;
            ASSERT_TRUE(enc.applyImbe(sf, i, c).ok());
            VoiceFrame f;
            f.pos = {sf, i};
            f.crypto = radio.cryptoOf(sf);
            f.payload.assign(c);
            ASSERT_TRUE(link->deliver(Voice{1, f}).ok());
        }
    }
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (mc.records().size() < 72 && std::chrono::steady_clock::now() < deadline) {
        io.restart();
        io.run_one_for(20ms);
    }
    ASSERT_EQ(mc.records().size(), 72u);
    EXPECT_EQ(mc.callsReceived(), 1u);
    std::map<std::string, std::vector<RxFrame>> by_client;
    for (const auto& r : mc.records()) {
        by_client[r.client].push_back(
            RxFrame{r.frame.pos, r.frame.crypto, r.decrypted, r.error, r.plaintext, r.rx_ns});
    }
    const auto alice = checkReceiver(sent, by_client["alice"], {});
    EXPECT_TRUE(alice.ok()) << (alice.problems.empty() ? "" : alice.problems.front());
    EXPECT_EQ(alice.decrypted_ok, 36u);
    const auto mallory = checkReceiver(sent, by_client["mallory"], {});
    EXPECT_FALSE(mallory.ok());
    EXPECT_EQ(mallory.decrypted_ok, 0u);
    link->stop();
    mc.stop();
}

}  // namespace
}  // namespace iwf::harness
