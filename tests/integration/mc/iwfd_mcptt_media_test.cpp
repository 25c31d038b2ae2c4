// The real iwfd carries an encrypted P25 group call to the MC side and back over IWF-1:
//
//   radio (plain UDP, p25-records) --> iwfd --> SIP INVITE to the test's MC system;
//   X-IWF-LMR RTP arrives with ALGID / key ID / MI bit-exact and every payload and side byte
//   unchanged, frame by frame; then the MC system asks for the floor (TS 24.380 Floor
//   Request), gets Floor Granted, talks (RTP), and the P25 records that reach the radio are
//   the ones it sent first, byte for byte.
//
// The keymap (configs/keymap.example.yaml: fire-ops = TG 100, secure, AES-256 0x84, key
// 0x0101, homed on the LMR side) is imported into a temp SQLite store with the real iwfctl.
#include <arpa/inet.h>
#include <chrono>
#include <functional>
#include <netinet/in.h>
#include <optional>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "common/asio.hpp"
#include "common/loopback_port.hpp"
#include "lmr_adapters/p25/mi_lfsr.hpp"
#include "lmr_adapters/p25/records.hpp"
#include "mc_adapters/mcptt/mcptt_info.hpp"
#include "mc_adapters/mcptt/mcptt_sdp.hpp"
#include "mc_adapters/rtp/floor_endpoint.hpp"
#include "mc_adapters/rtp/voice_endpoint.hpp"
#include "p25_test_support.hpp"
#include "sip/multipart.hpp"
#include "sip/stack.hpp"
#include "superframe_builder.hpp"
#include "tests/integration/support/iwfd_process.hpp"
#include "tests/support/mc_answer.hpp"

namespace iwf::mc {
namespace {

using namespace std::chrono_literals;
using iwf::test::httpGet;
using iwf::test::prometheusValue;
using iwf::test::runCommand;

bool pump(asio::io_context& io, const std::function<bool()>& done,
          std::chrono::milliseconds timeout = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
        if (std::chrono::steady_clock::now() > deadline) {
            return false;
        }
        io.restart();
        io.run_one_for(10ms);
    }
    return true;
}

Bytes pollBytes(std::string_view cs) {
    InlineBytes<lmr::p25::kMaxRecordLen> b;
    EXPECT_TRUE(lmr::p25::encodeRecord(lmr::p25::makePoll(cs, false), b).ok());
    return Bytes(b.view().begin(), b.view().end());
}

// The MC system: a SIP stack that answers the IWF's INVITE with its own RTP / floor ports.
struct McSystem {
    struct Rx {
        VoiceFrame frame;
        bool marker = false;
    };
    McSystem(asio::io_context& io, metrics::Registry& reg)
        : voice(io, reg, SteadyClock::instance(), "mc-sim", rtp::VoiceEndpointConfig{96, 99, 7, 0})
        , floor(io, reg, "mc-sim") {
        sip::StackConfig sc;
        sc.name = "mc-sim";
        sc.listeners = {{sip::Protocol::Udp, "127.0.0.1", 0, {}}};
        stack = std::make_unique<sip::Stack>(io, reg, sc);
        const auto lo = asio::ip::make_address("127.0.0.1");
        EXPECT_TRUE(voice.open({lo, 0}).ok());
        EXPECT_TRUE(floor.open({lo, 0}).ok());
        voice.onFrame([this](VoiceFrame&& f, const rtp::RtpView& r) {
            frames.push_back({std::move(f), r.marker()});
        });
        floor.onMessage(
            [this](const floor::FloorMessage& m, const rtp::Udp::endpoint&) { msgs.push_back(m); });
        stack->onRequest([this](sip::ServerTxId tx, const sip::Message& req, const sip::Peer&) {
            requests.push_back(req);
            if (req.method() != "INVITE") {
                (void)stack->respond(tx, sip::makeResponse(req, 200, {}));
                return;
            }
            if (auto offer = iwf::test::answerMcpttInvite(*stack, tx, req, voice, floor)) {
                iwf_media = *offer;
            }
        });
        EXPECT_TRUE(stack->start().ok());
    }
    std::size_t count(const std::string& method) const {
        std::size_t n = 0;
        for (const auto& r : requests) {
            n += r.method() == method ? 1 : 0;
        }
        return n;
    }
    std::unique_ptr<sip::Stack> stack;
    rtp::VoiceEndpoint voice;
    rtp::FloorEndpoint floor;
    std::vector<sip::Message> requests;
    std::optional<mcptt::McpttMedia> iwf_media;
    std::vector<Rx> frames;
    std::vector<floor::FloorMessage> msgs;
};

struct IwfdMcpttMedia : ::testing::Test {
    void SetUp() override {
        store = "sqlite:" + dir.file("keymap.db");
        auto r = runCommand({IWFCTL_BIN, "keymap", "--store", store, "import",
                             std::string(IWF_SOURCE_DIR) + "/configs/keymap.example.yaml"});
        ASSERT_EQ(r.exit_code, 0) << r.err;
        p25_port = pickLoopbackPort(PortProtocol::Udp);
        sip_port = pickLoopbackPort(PortProtocol::Udp);
    }
    std::string config(std::uint16_t mc_port) const {
        return "instance: mc-media\nlog: {level: debug}\n"
               "keymap:\n  store: \"" +
               store +
               "\"\n  poll_interval: 200ms\n"
               "timers:\n  hang: 20s\n"
               // SIGTERM drains: calls still talking are given this long (the tests stop iwfd
               // mid-call and wait 10 s for its exit).
               "drain:\n  deadline: 2s\n"
               "lmr_links:\n"
               "  - name: p25\n    type: p25-records\n    address: 127.0.0.1\n    port: " +
               std::to_string(p25_port) +
               "\n    wacn: 0xBEE00\n    system: 0x001\n    tgid: 100\n    call_timeout: 5s\n"
               "mc_links:\n"
               "  - name: mc\n    type: mcptt-iwf1\n    psi: sip:iwf@iwf.example\n"
               "    server_uri: sip:cf@mc.example\n"
               "    listen: [{transport: udp, address: 127.0.0.1, port: " +
               std::to_string(sip_port) +
               "}]\n"
               "    peer: {transport: udp, address: 127.0.0.1, port: " +
               std::to_string(mc_port) +
               "}\n"
               "    peers: [{name: mc-core, address: 127.0.0.1, domains: [mc.example]}]\n"
               "    media: {address: 127.0.0.1}\n"
               "    e2ee_groups: [sip:fire-ops@iwf.example]\n";
    }
    double metric(const std::string& series) {
        auto m = httpGet(iwfd.adminPort(), "/metrics");
        return prometheusValue(m.body, series).value_or(-1);
    }
    // Starts iwfd toward the MC system's SIP port, waits for its keymap, and links `radio`
    // (poll `name`, answered) to the p25-records link. Call with ASSERT_NO_FATAL_FAILURE.
    void startAndLinkRadio(const McSystem& mc, lmr::p25::test::UdpPeer& radio,
                           const std::string& name) {
        ASSERT_TRUE(iwfd.start(dir, config(mc.stack->port(sip::Protocol::Udp)))) << iwfd.log();
        ASSERT_TRUE(iwf::test::waitFor([&] { return metric("iwf_keymap_revision") == 1; }, 10s))
            << iwfd.log();
        radio.sendTo(p25_port, pollBytes(name));
        ASSERT_TRUE(radio.receive(5s).has_value()) << "no poll answer\n" << iwfd.log();
    }

    iwf::test::TempDir dir;
    iwf::test::IwfdProcess iwfd;
    std::string store;
    std::uint16_t p25_port = 0;
    std::uint16_t sip_port = 0;
};

TEST_F(IwfdMcpttMedia, EncryptedP25GroupCallReachesTheMcSideAndComesBackBitExact) {
    asio::io_context io;
    metrics::Registry reg;
    McSystem mc(io, reg);
    // The radio links to iwfd's p25-records link.
    lmr::p25::test::UdpPeer radio;
    ASSERT_NO_FATAL_FAILURE(startAndLinkRadio(mc, radio, "RADIO1"));

    // Three encrypted superframes from unit 1001 to TG 100 (fire-ops): AES-256, key 0x0101.
    std::vector<Bytes> sent;
    std::vector<lmr::p25::test::SuperframeSpec> specs;
    lmr::p25::Mi mi{0x12, 0x34, 0x56, 0x78, 0x90, 0xAB, 0xCD, 0xEF, 0x00};
    std::vector<lmr::p25::Mi> announced;  // MI announced in superframe n's LDU2
    for (int n = 0; n < 3; ++n) {
        lmr::p25::test::SuperframeSpec s;
        s.service_options = 0x40;  // encrypted
        s.dst = 100;
        s.src = 1001;
        s.algid = 0x84;
        s.kid = 0x0101;
        mi = lmr::p25::nextMi(mi);
        announced.push_back(mi);
        std::copy(mi.begin(), mi.end(), s.next_mi.begin());
        s.imbe_seed = static_cast<std::uint8_t>(n * 5 + 1);
        specs.push_back(s);
        for (auto& r : lmr::p25::test::buildSuperframe(s)) {
            sent.push_back(r);
        }
    }
    for (const auto& r : sent) {
        radio.sendTo(p25_port, r);
    }
    Bytes end(17, 0);
    end[0] = 0x80;
    radio.sendTo(p25_port, end);

    // iwfd INVITEs the MC system; RTP follows on the ports of its SDP offer.
    ASSERT_TRUE(pump(io, [&] { return mc.iwf_media.has_value(); })) << iwfd.log();
    EXPECT_NE(mc.iwf_media->audio_port, 0);
    EXPECT_TRUE(mc.iwf_media->floor);
    EXPECT_EQ(mc.iwf_media->encoding, "X-IWF-LMR");
    auto info = mcptt::parseMcpttInfo(
        sip::bodyOfType(mc.requests.at(0), mcptt::kMcpttInfoContentType).value_or(""));
    ASSERT_TRUE(info.ok());
    EXPECT_EQ(info->calling_group_id, "sip:fire-ops@iwf.example");
    // Every frame arrives, in order. The records format has no HDU: iwfd holds the call until
    // its first LDU2 states ALGID / key ID and the next MI, and superframe 0 carries the MI
    // before it in the LFSR sequence (derived, never a guess: here the radio's first MI);
    // superframes 1 and 2 carry the MI their predecessor's LDU2 announced.
    ASSERT_TRUE(pump(io, [&] { return mc.frames.size() >= 54; })) << iwfd.log();
    ASSERT_TRUE(pump(io, [&] {
        return std::any_of(mc.msgs.begin(), mc.msgs.end(), [](const floor::FloorMessage& m) {
            return m.type == floor::MessageType::FloorIdle;
        });
    })) << iwfd.log();
    ASSERT_EQ(mc.frames.size(), 54u);
    ASSERT_FALSE(mc.msgs.empty());
    EXPECT_EQ(mc.msgs[0].type, floor::MessageType::FloorTaken);
    for (std::size_t k = 0; k < mc.frames.size(); ++k) {
        const VoiceFrame& f = mc.frames[k].frame;
        const auto sf = static_cast<std::uint32_t>(k / 18);
        const auto idx = static_cast<std::uint8_t>(k % 18);
        EXPECT_EQ(f.pos.superframe, sf) << k;
        EXPECT_EQ(f.pos.index, idx) << k;
        EXPECT_TRUE(f.crypto.encrypted);
        EXPECT_EQ(toHex(f.payload.view()), toHex(lmr::p25::test::imbeFor(specs[sf], idx))) << k;
        EXPECT_EQ(f.crypto.algid, 0x84) << k;
        EXPECT_EQ(f.crypto.key_id, 0x0101u) << k;
        const lmr::p25::Mi first{0x12, 0x34, 0x56, 0x78, 0x90, 0xAB, 0xCD, 0xEF, 0x00};
        const auto& m = sf == 0 ? first : announced[sf - 1];
        EXPECT_EQ(toHex(f.crypto.mi.view()), toHex(ByteView(m.data(), m.size()))) << k;
        EXPECT_EQ(mc.frames[k].marker, k == 0) << k;
    }

    // The MC user asks for the floor (LMR-homed group: iwfd arbitrates) and is granted.
    floor::FloorMessage req;
    req.type = floor::MessageType::FloorRequest;
    req.ssrc = 99;
    req.add(floor::FloorPriority{1}).add(floor::UserId{"sip:p25-1002@iwf.example"});
    ASSERT_TRUE(mc.floor.send(req).ok());
    ASSERT_TRUE(pump(io, [&] {
        return std::any_of(mc.msgs.begin(), mc.msgs.end(), [](const floor::FloorMessage& m) {
            return m.type == floor::MessageType::FloorGranted;
        });
    })) << iwfd.log();

    // It talks: the frames it received go back (an MC client relaying the E2EE stream), and
    // the radio receives the P25 records exactly as it sent them.
    for (std::size_t k = 0; k < mc.frames.size(); ++k) {
        ASSERT_TRUE(mc.voice.send(mc.frames[k].frame, k == 0).ok());
    }
    std::vector<Bytes> got;
    while (got.size() < sent.size()) {
        auto d = radio.receive(5s);
        ASSERT_TRUE(d) << "radio received " << got.size() << " of 54\n" << iwfd.log();
        if (!d->empty() && (*d)[0] >= 0x62 && (*d)[0] <= 0x73) {
            got.push_back(*d);
        }
    }
    for (std::size_t k = 0; k < got.size(); ++k) {
        EXPECT_EQ(toHex(got[k]), toHex(sent[k])) << "record " << k;
    }
    EXPECT_EQ(metric("iwf_mc_rtp_rx_total{link=\"mc\"}"), 54);
    EXPECT_EQ(metric("iwf_mc_rtp_tx_total{link=\"mc\"}"), 54);
    iwfd.signal(SIGTERM);
    EXPECT_EQ(iwfd.waitExit(10s), std::optional<int>(0)) << iwfd.log();
}

// A group homed on the MC side (ems-dispatch = TG 300, mixed): the MC controlling function
// decides (29.380 §6.5.5 participant role in the IWF). The radio talks, iwfd INVITEs the MC
// system and asks it for the floor with a TS 24.380 Floor Request on the call's floor port;
// nothing flows until the MC side answers Floor Granted; then the frames arrive unchanged.
TEST_F(IwfdMcpttMedia, McHomedGroupWaitsForTheMcFloorGrantThenFlows) {
    asio::io_context io;
    metrics::Registry reg;
    McSystem mc(io, reg);
    lmr::p25::test::UdpPeer radio;
    ASSERT_NO_FATAL_FAILURE(startAndLinkRadio(mc, radio, "RADIO2"));
    std::vector<lmr::p25::test::SuperframeSpec> specs;
    lmr::p25::Mi mi{0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09};
    for (int n = 0; n < 2; ++n) {
        lmr::p25::test::SuperframeSpec s;
        s.service_options = 0x40;
        s.dst = 300;  // ems-dispatch
        s.src = 1002;
        s.algid = 0x84;
        s.kid = 0x0101;
        mi = lmr::p25::nextMi(mi);
        std::copy(mi.begin(), mi.end(), s.next_mi.begin());
        s.imbe_seed = static_cast<std::uint8_t>(0x40 + n);
        specs.push_back(s);
        for (const auto& r : lmr::p25::test::buildSuperframe(s)) {
            radio.sendTo(p25_port, r);
        }
    }
    ASSERT_TRUE(pump(io, [&] {
        return std::any_of(mc.msgs.begin(), mc.msgs.end(), [](const floor::FloorMessage& m) {
            return m.type == floor::MessageType::FloorRequest;
        });
    })) << iwfd.log();
    auto info = mcptt::parseMcpttInfo(
        sip::bodyOfType(mc.requests.at(0), mcptt::kMcpttInfoContentType).value_or(""));
    ASSERT_TRUE(info.ok());
    EXPECT_EQ(info->calling_group_id, "sip:ems-dispatch@iwf.example");
    const floor::FloorMessage& req = mc.msgs.back();
    ASSERT_NE(req.find<floor::UserId>(), nullptr);
    EXPECT_EQ(req.find<floor::UserId>()->id, "sip:p25-1002@iwf.example");
    // Until the grant, nothing reaches the MC side.
    EXPECT_TRUE(mc.frames.empty());
    floor::FloorMessage granted;
    granted.type = floor::MessageType::FloorGranted;
    granted.ack_required = true;
    granted.ssrc = 99;
    granted.add(floor::Duration{30}).add(floor::UserId{"sip:p25-1002@iwf.example"});
    ASSERT_TRUE(mc.floor.send(granted).ok());
    // iwfd acknowledges the grant (A bit) as the floor participant.
    ASSERT_TRUE(pump(io, [&] {
        return std::any_of(mc.msgs.begin(), mc.msgs.end(), [](const floor::FloorMessage& m) {
            return m.type == floor::MessageType::FloorAck;
        });
    })) << iwfd.log();
    for (const auto& m : mc.msgs) {
        if (m.type == floor::MessageType::FloorAck) {
            ASSERT_NE(m.find<floor::Source>(), nullptr);
            EXPECT_EQ(m.find<floor::Source>()->value,
                      static_cast<std::uint16_t>(floor::SourceValue::FloorParticipant));
            ASSERT_NE(m.find<floor::AckMessageType>(), nullptr);
            EXPECT_EQ(m.find<floor::AckMessageType>()->subtype, granted.subtype());
        }
    }
    ASSERT_TRUE(pump(io, [&] { return mc.frames.size() >= 36; })) << iwfd.log();
    ASSERT_EQ(mc.frames.size(), 36u);
    for (std::size_t k = 0; k < mc.frames.size(); ++k) {
        const VoiceFrame& f = mc.frames[k].frame;
        const auto sf = static_cast<std::uint32_t>(k / 18);
        const auto idx = static_cast<std::uint8_t>(k % 18);
        EXPECT_EQ(f.pos.superframe, sf) << k;
        EXPECT_EQ(f.pos.index, idx) << k;
        EXPECT_EQ(toHex(f.payload.view()), toHex(lmr::p25::test::imbeFor(specs[sf], idx))) << k;
        if (sf == 1) {
            EXPECT_EQ(f.crypto.algid, 0x84) << k;
            EXPECT_EQ(f.crypto.key_id, 0x0101u) << k;
        }
    }
    EXPECT_EQ(metric("iwf_mcptt_floor_acks_total{link=\"mc\",reason=\"sent\"}"), 1);
    iwfd.signal(SIGTERM);
    EXPECT_EQ(iwfd.waitExit(10s), std::optional<int>(0)) << iwfd.log();
}

}  // namespace
}  // namespace iwf::mc
