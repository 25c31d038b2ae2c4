// SIGTERM drains the real iwfd as an operator expects (issue #21; common/link.hpp "Drain";
// docs/security.md "Restart, reload and drain"):
//
//   - /healthz turns 503 at once; a new INVITE from the MC side is answered 503;
//   - the P25 group call in progress (radio -> iwfd -> MC system) goes on: a superframe sent
//     after SIGTERM still reaches the MC system;
//   - when the call ends (or drain.deadline passes) every peer is told: the MC system gets a
//     BYE, the DMR repeater an HBP MSTCL, the P25 radio an 0xF1 unlink; iwfd exits 0.
//
// Before: iwfd exited 0.04 s after SIGTERM, cut the call and sent P25 peers nothing.
#include <algorithm>
#include <chrono>
#include <functional>
#include <optional>

#include <gtest/gtest.h>

#include "common/asio.hpp"
#include "common/loopback_port.hpp"
#include "lmr_adapters/p25/records.hpp"
#include "mc_adapters/mcptt/mcptt_sdp.hpp"
#include "mc_adapters/rtp/floor_endpoint.hpp"
#include "mc_adapters/rtp/voice_endpoint.hpp"
#include "p25_test_support.hpp"
#include "sip/multipart.hpp"
#include "sip/stack.hpp"
#include "superframe_builder.hpp"
#include "tests/integration/support/iwfd_process.hpp"
#include "tests/support/hbp_peer.hpp"
#include "tests/support/mc_fake.hpp"

namespace iwf::mc {
namespace {

using namespace std::chrono_literals;
using iwf::test::httpGet;
using iwf::test::runCommand;

using iwf::test::CountingMcSystem;
using iwf::test::pumpIo;

struct IwfdDrain : ::testing::Test {
    void SetUp() override {
        store = "sqlite:" + dir.file("keymap.db");
        auto r = runCommand({IWFCTL_BIN, "keymap", "--store", store, "import",
                             std::string(IWF_SOURCE_DIR) + "/configs/keymap.example.yaml"});
        ASSERT_EQ(r.exit_code, 0) << r.err;
        p25_port = pickLoopbackPort(PortProtocol::Udp);
        sip_port = pickLoopbackPort(PortProtocol::Udp);
        hbp_port = pickLoopbackPort(PortProtocol::Udp);
    }
    std::string config(std::uint16_t mc_port, const std::string& deadline) const {
        return "instance: drain\nlog: {level: debug}\n"
               "drain: {deadline: " +
               deadline + "}\nkeymap:\n  store: \"" + store +
               "\"\n  poll_interval: 200ms\n"
               "lmr_links:\n"
               "  - name: p25\n    type: p25-records\n    address: 127.0.0.1\n    port: " +
               std::to_string(p25_port) +
               "\n    wacn: 0xBEE00\n    system: 0x001\n    tgid: 100\n    call_timeout: 60s\n"
               "  - name: dmr\n    type: dmr-hbp-master\n    address: 127.0.0.1\n    port: " +
               std::to_string(hbp_port) +
               "\n    password: drain-test\n    id: 310099\n"
               "mc_links:\n"
               "  - name: mc\n    type: mcptt-iwf1\n    psi: sip:iwf@iwf.example\n"
               "    server_uri: sip:cf@mc.example\n"
               "    listen: [{transport: udp, address: 127.0.0.1, port: " +
               std::to_string(sip_port) +
               "}]\n"
               "    peer: {transport: udp, address: 127.0.0.1, port: " +
               std::to_string(mc_port) +
               "}\n"
               "    peers: [{name: mc, address: 127.0.0.1, domains: [mc.example, iwf.example]}]\n"
               "    media: {address: 127.0.0.1}\n"
               "    e2ee_groups: [sip:fire-ops@iwf.example]\n";
    }
    std::vector<Bytes> superframe(int n) {
        lmr::p25::test::SuperframeSpec s;
        s.service_options = 0x40;
        s.dst = 100;
        s.src = 1001;
        s.algid = 0x84;
        s.kid = 0x0101;
        s.imbe_seed = static_cast<std::uint8_t>(n * 5 + 1);
        return lmr::p25::test::buildSuperframe(s);
    }
    // iwfd up with the keymap, the radio linked, the repeater logged in, a call from the
    // radio in progress at the MC system (36 frames received).
    void startCall(asio::io_context& io, CountingMcSystem& mc, const std::string& deadline) {
        ASSERT_TRUE(iwfd.start(dir, config(mc.stack->port(sip::Protocol::Udp), deadline)))
            << iwfd.log();
        ASSERT_TRUE(iwf::test::waitFor(
            [&] { return httpGet(iwfd.adminPort(), "/healthz").status == 200; }, 10s))
            << iwfd.log();
        radio.sendTo(p25_port, iwf::test::p25RecordBytes(lmr::p25::makePoll("RADIO1", false)));
        ASSERT_TRUE(radio.receive(5s).has_value()) << "no poll answer\n" << iwfd.log();
        ASSERT_TRUE(repeater.login(hbp_port, 3100001, "drain-test")) << iwfd.log();
        // Two superframes: the first one's LDU2 announces the MI, so the E2EE state is known
        // and the engine sets the call up toward the MC side.
        for (int n = 0; n < 2; ++n) {
            for (const auto& r : superframe(n)) {
                radio.sendTo(p25_port, r);
            }
        }
        ASSERT_TRUE(pumpIo(io, [&] { return mc.frames.size() >= 36; })) << iwfd.log();
    }
    // The records the radio received after `from`, until none for 2 s.
    std::vector<Bytes> drainRadio() {
        std::vector<Bytes> got;
        while (auto d = radio.receive(2s)) {
            got.push_back(*d);
        }
        return got;
    }
    static std::size_t unlinks(const std::vector<Bytes>& got) {
        return static_cast<std::size_t>(std::count_if(got.begin(), got.end(), [](const Bytes& b) {
            return !b.empty() && b[0] == lmr::p25::kTagUnlink;
        }));
    }
    bool repeaterGotMstcl() {
        while (auto m = repeater.receiveHbp(2s)) {
            if (m->type == lmr::dmr::HbpType::Mstcl) {
                return true;
            }
        }
        return false;
    }

    iwf::test::TempDir dir;
    iwf::test::IwfdProcess iwfd;
    lmr::p25::test::UdpPeer radio;
    iwf::test::HbpRawPeer repeater;
    std::string store;
    std::uint16_t p25_port = 0;
    std::uint16_t sip_port = 0;
    std::uint16_t hbp_port = 0;
};

TEST_F(IwfdDrain, CallInProgressEndsThenEveryPeerIsToldAndExitZero) {
    asio::io_context io;
    metrics::Registry reg;
    CountingMcSystem mc(io, reg);
    ASSERT_NO_FATAL_FAILURE(startCall(io, mc, "60s"));

    iwfd.signal(SIGTERM);
    ASSERT_TRUE(iwf::test::waitFor(
        [&] { return iwfd.log().find("drain=begin") != std::string::npos; }, 10s))
        << iwfd.log();
    // Not ready any more, still alive.
    auto h = httpGet(iwfd.adminPort(), "/healthz");
    EXPECT_EQ(h.status, 503);
    EXPECT_EQ(h.body, "not ready: draining\n");
    EXPECT_EQ(httpGet(iwfd.adminPort(), "/livez").status, 200);

    // A new call from the MC side is refused with 503.
    int status = 0;
    sip::Message inv = sip::Message::request("INVITE", "sip:iwf@iwf.example");
    inv.setHeader("From", "<sip:cf@mc.example>;tag=" + mc.stack->newTag());
    inv.setHeader("To", "<sip:iwf@iwf.example>");
    inv.setHeader("Call-ID", mc.stack->newCallId());
    inv.setHeader("CSeq", "1 INVITE");
    mc.stack->sendRequest(
        std::move(inv),
        sip::Peer{sip::Protocol::Udp, asio::ip::make_address("127.0.0.1"), sip_port},
        [&](const sip::Message& rsp) {
            if (rsp.status() >= 200) {
                status = rsp.status();
            }
        });
    ASSERT_TRUE(pumpIo(io, [&] { return status != 0; })) << iwfd.log();
    EXPECT_EQ(status, 503);

    // The call in progress goes on: a superframe sent now reaches the MC system.
    for (const auto& r : superframe(2)) {
        radio.sendTo(p25_port, r);
    }
    ASSERT_TRUE(pumpIo(io, [&] { return mc.frames.size() >= 54; })) << iwfd.log();
    EXPECT_TRUE(iwfd.running());
    EXPECT_EQ(mc.count("BYE"), 0u);

    // The radio ends its transmission: the call ends, the drain completes.
    Bytes end(17, 0);
    end[0] = 0x80;
    radio.sendTo(p25_port, end);
    ASSERT_TRUE(pumpIo(
        io, [&] { return mc.count("BYE") >= 1; }, 15s))
        << iwfd.log();
    EXPECT_EQ(iwfd.waitExit(15s), std::optional<int>(0)) << iwfd.log();
    EXPECT_EQ(mc.frames.size(), 54u);
    EXPECT_EQ(unlinks(drainRadio()), 3u) << iwfd.log();
    EXPECT_TRUE(repeaterGotMstcl()) << iwfd.log();
    EXPECT_NE(iwfd.log().find("drain=end reason=calls_ended"), std::string::npos) << iwfd.log();
}

TEST_F(IwfdDrain, DeadlineEndsACallThatGoesOnAndEveryPeerIsTold) {
    asio::io_context io;
    metrics::Registry reg;
    CountingMcSystem mc(io, reg);
    ASSERT_NO_FATAL_FAILURE(startCall(io, mc, "1s"));
    iwfd.signal(SIGTERM);
    ASSERT_TRUE(pumpIo(
        io, [&] { return mc.count("BYE") >= 1; }, 15s))
        << iwfd.log();
    EXPECT_EQ(iwfd.waitExit(15s), std::optional<int>(0)) << iwfd.log();
    EXPECT_EQ(unlinks(drainRadio()), 3u) << iwfd.log();
    EXPECT_TRUE(repeaterGotMstcl()) << iwfd.log();
    EXPECT_NE(iwfd.log().find("drain=end reason=deadline"), std::string::npos) << iwfd.log();
}

}  // namespace
}  // namespace iwf::mc
