#pragma once
// A running iwfd for the ops tests: a keymap (SQLite, seeded by iwfctl from the example), a
// p25-records link, a dmr-hbp-master link and an mcptt-iwf1 link whose MC peer is configured
// but silent; P25 radios and an HBP repeater played by the test over loopback UDP.

#include <chrono>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/loopback_port.hpp"
#include "lmr_adapters/p25/records.hpp"
#include "p25_test_support.hpp"
#include "superframe_builder.hpp"
#include "tests/integration/support/iwfd_process.hpp"
#include "tests/support/hbp_peer.hpp"

namespace iwf::test::ops {

using namespace std::chrono_literals;

inline Bytes pollBytes(const std::string& callsign) {
    InlineBytes<lmr::p25::kMaxRecordLen> b;
    EXPECT_TRUE(lmr::p25::encodeRecord(lmr::p25::makePoll(callsign, false), b).ok());
    return Bytes(b.view().begin(), b.view().end());
}

// One clear superframe from unit `src` to talkgroup `dst`, then the end record.
inline std::vector<Bytes> clearTransmission(std::uint32_t src, std::uint32_t dst) {
    lmr::p25::test::SuperframeSpec s;
    s.service_options = 0x00;
    s.dst = dst;
    s.src = src;
    s.imbe_seed = 7;
    std::vector<Bytes> out = lmr::p25::test::buildSuperframe(s);
    Bytes end(17, 0);
    end[0] = 0x80;
    out.push_back(end);
    return out;
}

inline nlohmann::json getJson(std::uint16_t port, const std::string& path) {
    HttpResult r = httpGet(port, path);
    EXPECT_EQ(r.status, 200) << path << ": " << r.body;
    try {
        return nlohmann::json::parse(r.body);
    } catch (const std::exception& e) {
        ADD_FAILURE() << path << " is not JSON: " << e.what() << "\n" << r.body;
        return {};
    }
}

struct OpsEnv : ::testing::Test {
    void SetUp() override {
        store = "sqlite:" + dir.file("keymap.db");
        auto r = runCommand({IWFCTL_BIN, "keymap", "--store", store, "import",
                             std::string(IWF_SOURCE_DIR) + "/configs/keymap.example.yaml"});
        ASSERT_EQ(r.exit_code, 0) << r.err;
        p25_port = pickLoopbackPort(PortProtocol::Udp);
        sip_port = pickLoopbackPort(PortProtocol::Udp);
        mc_port = pickLoopbackPort(PortProtocol::Udp);
        hbp_port = pickLoopbackPort(PortProtocol::Udp);
    }
    // `workers`: iwfd's worker threads; `with_single_links`: also the HBP and MC links (they
    // run on worker 0 only, so with workers > 1 every call is owned by shard 0).
    std::string config(unsigned workers = 1, bool with_single_links = true,
                       const std::string& extra = "") const {
        std::string c = "instance: ops\nlog: {level: info}\nworkers: " + std::to_string(workers) +
                        "\nkeymap:\n  store: \"" + store +
                        "\"\n  poll_interval: 200ms\n"
                        "lmr_links:\n"
                        "  - name: p25\n    type: p25-records\n    address: 127.0.0.1\n    port: " +
                        std::to_string(p25_port) +
                        "\n    wacn: 0xBEE00\n    system: 0x001\n    call_timeout: 2s\n";
        if (with_single_links) {
            c += "  - name: dmr\n    type: dmr-hbp-master\n    address: 127.0.0.1\n    port: " +
                 std::to_string(hbp_port) +
                 "\n    password: ops-test\n    id: 310099\n"
                 "mc_links:\n"
                 "  - name: mc\n    type: mcptt-iwf1\n    psi: sip:iwf@iwf.example\n"
                 "    server_uri: sip:cf@mc.example\n"
                 "    listen: [{transport: udp, address: 127.0.0.1, port: " +
                 std::to_string(sip_port) +
                 "}]\n"
                 "    peer: {transport: udp, address: 127.0.0.1, port: " +
                 std::to_string(mc_port) +
                 "}\n"
                 "    peers: [{name: mc-core, address: 127.0.0.1, port: " +
                 std::to_string(mc_port) +
                 ", domains: [mc.example, iwf.example]}]\n"
                 "    media: {address: 127.0.0.1}\n";
        }
        return c + extra;
    }
    void start(const std::string& cfg) {
        ASSERT_TRUE(iwfd.start(dir, cfg)) << iwfd.log();
        ASSERT_TRUE(
            waitFor([&] { return httpGet(iwfd.adminPort(), "/healthz").status == 200; }, 20s))
            << iwfd.log();
    }
    std::string admin() const { return "http://127.0.0.1:" + std::to_string(iwfd.adminPort()); }
    // The radio links (poll answered with the reflector's poll).
    void link(lmr::p25::test::UdpPeer& radio, const std::string& callsign) {
        radio.sendTo(p25_port, pollBytes(callsign));
        ASSERT_TRUE(radio.receive(10s).has_value()) << "no poll answer\n" << iwfd.log();
    }
    void transmit(lmr::p25::test::UdpPeer& radio, std::uint32_t src, std::uint32_t dst) {
        for (const auto& r : clearTransmission(src, dst)) {
            radio.sendTo(p25_port, r);
        }
    }
    std::size_t refusalCount() {
        auto j = getJson(iwfd.adminPort(), "/v1/refusals");
        return j.contains("refusals") ? j["refusals"].size() : 0;
    }

    TempDir dir;
    IwfdProcess iwfd;
    std::string store;
    std::uint16_t p25_port = 0;
    std::uint16_t sip_port = 0;
    std::uint16_t mc_port = 0;
    std::uint16_t hbp_port = 0;
};

}  // namespace iwf::test::ops
