// The MC system simulator against the real mcptt-iwf1 link in-process: the link calls the
// group, the simulator answers with its own RTP/floor ports, the link's encrypted X-IWF-LMR
// frames reach every attached client, and each client decrypts them with its own key: the
// right key gives the sender's canaries, a wrong key (same key ID) gives something else.
#include "harness/sim/mc_system.hpp"

#include <chrono>
#include <functional>
#include <map>
#include <memory>
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

// A GMK as the GMS distributes it (33.180 E.2: GMK-ID with purpose tag 0, GUK-ID, RAND) with
// the default group profile (AEAD_AES_128_GCM, RCCm3).
mc::security::DistributedKey gmk(std::uint32_t id, std::uint8_t seed) {
    mc::security::DistributedKey k;
    k.purpose = mc::security::KeyPurpose::Gmk;
    for (int i = 0; i < 16; ++i) {
        k.key.push_back(static_cast<std::uint8_t>(seed + 11 * i));
        k.rand.push_back(static_cast<std::uint8_t>(0xa0 + i));
    }
    k.key_id = id;
    k.csb_id = id ^ 0x00c0ffee;
    k.roc_in_packet = true;
    return k;
}

// The simulator with clients alice (the group's key) and mallory (a wrong key with the same
// key ID), and the real mcptt-iwf1 link in-process calling the group.
struct HarnessMcSystem : ::testing::Test {
    McSystemConfig cfg;
    std::unique_ptr<McSystem> mc;
    asio::io_context io;
    metrics::Registry reg;
    std::unique_ptr<mc::mcptt::McpttLink> link;
    NullSink sink;
    std::map<FrameKey, SentFrame> sent;
    std::unique_ptr<P25Radio> radio;
    std::unique_ptr<P25VoiceCipher> enc;

    void SetUp() override {
        cfg.keys = {key("right", 1), key("wrong", 2)};
        ScenarioGroup g;
        g.mc_group = kGroup;
        g.key = "right";
        cfg.groups = {g};
        cfg.clients = {{"alice", "sip:alice@mc.example", {kGroup}, {"right"}},
                       {"mallory", "sip:mallory@mc.example", {kGroup}, {"wrong"}}};
    }
    void TearDown() override {
        if (link) {
            link->stop();
        }
        if (mc) {
            mc->stop();
        }
    }
    // Starts both sides (media protection `mode` for the group on the link) and calls.
    void start(mc::mcptt::MediaProtection mode = mc::mcptt::MediaProtection::Off,
               std::vector<mc::security::DistributedKey> link_gmks = {}) {
        mc = std::make_unique<McSystem>(cfg);
        ASSERT_TRUE(mc->start().ok());
        mc::mcptt::McpttLinkConfig lc;
        lc.name = "iwf1";
        lc.psi = "sip:iwf@iwf.example";
        lc.listen = {{sip::Protocol::Udp, "127.0.0.1", 0, {}}};
        lc.peer = {sip::Protocol::Udp, asio::ip::make_address("127.0.0.1"), mc->sipPort()};
        lc.server_uri = "sip:cf@mc.example";
        lc.media.address = "127.0.0.1";
        lc.e2ee_groups = {kGroup};
        lc.peers = {mc::peers::peerAt("mc", asio::ip::make_address("127.0.0.1"), {"mc.example"})};
        lc.media_protection.groups = {{kGroup, mode}};
        link = std::make_unique<mc::mcptt::McpttLink>(io, reg, lc);
        ASSERT_TRUE(link->start(sink).ok());
        for (const auto& k : link_gmks) {
            ASSERT_TRUE(link->setGroupKey(kGroup, k).ok());
        }
        mc->setIwfSipPort(link->stack().port(sip::Protocol::Udp));
        CallSetup s;
        s.call = 1;
        s.caller.id = McId{"sip:p25-1001@iwf.example"};
        s.callee = McGroupId{kGroup};
        s.kind = CallKind::Group;
        ASSERT_TRUE(link->deliver(s).ok());
        P25RadioConfig rc;
        rc.tag = 9;
        rc.nonce = 0x4242;
        rc.key = cfg.keys[0].key;
        rc.key_id = 0x0101;
        rc.first_mi = {9, 8, 7, 6, 5, 4, 3, 2, 0};
        radio = std::make_unique<P25Radio>(rc);
        enc = std::make_unique<P25VoiceCipher>(rc.key, rc.first_mi);
    }
    // One superframe of the radio's encrypted transmission, as the engine would relay it.
    void superframe(std::uint32_t sf) {
        ASSERT_TRUE(radio->superframe(sf).ok());
        for (std::uint8_t i = 0; i < 18; ++i) {
            const auto plain = radio->sent().at({sf, i});
            sent[{sf, i}] = SentFrame{Bytes(plain.begin(), plain.end()), radio->cryptoOf(sf), 0};
            Imbe11 c = plain;
            ASSERT_TRUE(enc->applyImbe(sf, i, c).ok());
            VoiceFrame f;
            f.pos = {sf, i};
            f.crypto = radio->cryptoOf(sf);
            f.payload.assign(c);
            ASSERT_TRUE(link->deliver(Voice{1, f}).ok());
        }
    }
    // Runs the link's io until `done` or 10 s.
    bool until(const std::function<bool()>& done) {
        const auto deadline = std::chrono::steady_clock::now() + 10s;
        while (!done() && std::chrono::steady_clock::now() < deadline) {
            io.restart();
            io.run_one_for(20ms);
        }
        return done();
    }
    std::map<std::string, std::vector<RxFrame>> byClient() const {
        std::map<std::string, std::vector<RxFrame>> out;
        for (const auto& r : mc->records()) {
            out[r.client].push_back(
                RxFrame{r.frame.pos, r.frame.crypto, r.decrypted, r.error, r.plaintext, r.rx_ns});
        }
        return out;
    }
    // alice decrypts every frame sent, bit for bit; mallory none.
    void expectAliceOnly(std::size_t frames) {
        auto by_client = byClient();
        const auto alice = checkReceiver(sent, by_client["alice"], {});
        EXPECT_TRUE(alice.ok()) << (alice.problems.empty() ? "" : alice.problems.front());
        EXPECT_EQ(alice.decrypted_ok, frames);
        const auto mallory = checkReceiver(sent, by_client["mallory"], {});
        EXPECT_FALSE(mallory.ok());
        EXPECT_EQ(mallory.decrypted_ok, 0u);
    }
};

TEST_F(HarnessMcSystem, ClientsDecryptTheLinksFramesEachWithItsOwnKey) {
    start();
    superframe(0);
    superframe(1);
    ASSERT_TRUE(until([&] { return mc->records().size() >= 72; }));
    EXPECT_EQ(mc->records().size(), 72u);
    EXPECT_EQ(mc->callsReceived(), 1u);
    expectAliceOnly(36);
}

// TS 33.180 SRTP on IWF-1 (media protection required, the same GMK on both sides): the MC
// side removes the SRTP layer and its clients decrypt the LMR layer bit for bit.
TEST_F(HarnessMcSystem, UnderAGmkTheClientsRemoveSrtpThenDecryptTheLmrLayer) {
    cfg.gmks[kGroup] = {gmk(0x0df9bc39, 1)};
    start(mc::mcptt::MediaProtection::Required, {gmk(0x0df9bc39, 1)});
    superframe(0);
    superframe(1);
    ASSERT_TRUE(until([&] { return mc->records().size() >= 72; }));
    EXPECT_EQ(mc->srtpRefused(), 0u);
    expectAliceOnly(36);
}

// The MC side holds another GMK under the same GMK-ID: every packet fails authentication,
// is counted, and no frame reaches any client.
TEST_F(HarnessMcSystem, AWrongGmkIsRefusedAndNoAudioReachesTheClients) {
    cfg.gmks[kGroup] = {gmk(0x0df9bc39, 2)};
    start(mc::mcptt::MediaProtection::Required, {gmk(0x0df9bc39, 1)});
    superframe(0);
    ASSERT_TRUE(until([&] { return mc->srtpRefused() >= 18; }));
    EXPECT_TRUE(mc->records().empty());
}

// A GMK rollover mid-call: the MC side takes the new GMK (keeping the old for packets in
// flight), then the link sends under it; no frame is lost.
TEST_F(HarnessMcSystem, AGmkRolloverMidCallLosesNoFrame) {
    cfg.gmks[kGroup] = {gmk(0x0df9bc39, 1)};
    start(mc::mcptt::MediaProtection::Required, {gmk(0x0df9bc39, 1)});
    superframe(0);
    ASSERT_TRUE(until([&] { return mc->records().size() >= 36; }));
    ASSERT_TRUE(mc->setGroupKeys(kGroup, {gmk(0x0df9bc39, 1), gmk(0x0aa00001, 3)}).ok());
    ASSERT_TRUE(link->setGroupKey(kGroup, gmk(0x0aa00001, 3)).ok());
    superframe(1);
    superframe(2);
    ASSERT_TRUE(until([&] { return mc->records().size() >= 108; }));
    EXPECT_EQ(mc->srtpRefused(), 0u);
    expectAliceOnly(54);
}

}  // namespace
}  // namespace iwf::harness
