// The real iwfd as a TS 33.180 security endpoint on IWF-1, keyed from a KMS (issue #20):
// its mcptt-iwf1 link's media_protection.mikey points at the harness's KMS over HTTPS on
// 127.0.0.1 (a certificate the test generates, trusted through ca_file; the access token in
// a 0600 token_file). iwfd fetches its MIKEY-SAKKE identity, then answers a private call
// whose offer carries a PCK I_MESSAGE (a=key-mgmt:mikey, RFC 4567) with RTP/SAVP, and
// refuses with 488 — counted — a forged one and a replayed one. The test plays the MC
// system: the caller's keys are issued from the KMS's master secrets the way RFC 6507 §5.1.1 /
// RFC 6508 §6.1.1 describe (the KMS would issue the same). Oracles: the SIP status codes,
// the answer's m= line as RFC 3711 §12 writes it, iwfd's /metrics.
#include <chrono>
#include <ctime>
#include <functional>
#include <optional>
#include <sys/stat.h>

#include <gtest/gtest.h>

#include "common/asio.hpp"
#include "common/loopback_port.hpp"
#include "harness/sim/kms_sim.hpp"
#include "mc_adapters/mcptt/mcptt_info.hpp"
#include "mc_adapters/mcptt/mcptt_sdp.hpp"
#include "mc_adapters/security/eccsi.hpp"
#include "mc_adapters/security/key_derivation.hpp"
#include "mc_adapters/security/sakke.hpp"
#include "sip/dialog.hpp"
#include "sip/multipart.hpp"
#include "sip/stack.hpp"
#include "tests/integration/support/iwfd_process.hpp"
#include "tests/support/io_wait.hpp"

namespace iwf::mc {
namespace {

using namespace std::chrono_literals;
using iwf::test::httpGet;
using iwf::test::prometheusValue;
using iwf::test::runCommand;

// The caller: an MC identity the example keymap maps to an LMR unit (the engine refuses a
// private call from an unmapped MC user before the link answers), its keys from the KMS.
constexpr const char* kMcSecCaller = "sip:p25-1002@iwf.example";

std::uint64_t mcSecNowNtp() {
    return static_cast<std::uint64_t>(std::time(nullptr)) + security::kNtpUnixOffset;
}

Bytes mcSecHex(std::string_view s) {
    return fromHex(s).value();
}

struct IwfdMcSecurity : ::testing::Test {
    void SetUp() override {
        store = "sqlite:" + dir.file("keymap.db");
        auto r = runCommand({IWFCTL_BIN, "keymap", "--store", store, "import",
                             std::string(IWF_SOURCE_DIR) + "/configs/keymap.example.yaml"});
        ASSERT_EQ(r.exit_code, 0) << r.err;
        ASSERT_TRUE(
            harness::writeSelfSignedCert(dir.file("kms.pem"), dir.file("kms.key"), "127.0.0.1")
                .ok());
        sim_cfg.kms_uri = "kms.mc.example";
        sim_cfg.ksak = mcSecHex("7a1d4c9b33e8f1024c6e9d8b1a2f3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d");
        sim_cfg.z = mcSecHex("0123456789abcdef0123456789abcdef01234567");
        sim_cfg.cert_file = dir.file("kms.pem");
        sim_cfg.key_file = dir.file("kms.key");
        sim = std::make_unique<harness::KmsSimulator>(sim_cfg);
        ASSERT_TRUE(sim->start().ok());
        dir.write("kms-token", token + "\n");
        ASSERT_EQ(::chmod(dir.file("kms-token").c_str(), 0600), 0);
        p25_port = pickLoopbackPort(PortProtocol::Udp);
        sip_port = pickLoopbackPort(PortProtocol::Udp);
    }
    void TearDown() override {
        if (sim) {
            sim->stop();
        }
    }
    std::string config(std::uint16_t mc_port) const {
        return "instance: mc-security\nlog: {level: debug}\n"
               "keymap:\n  store: \"" +
               store +
               "\"\n  poll_interval: 200ms\n"
               "drain:\n  deadline: 1s\n"
               "lmr_links:\n"
               "  - name: p25\n    type: p25-records\n    address: 127.0.0.1\n    port: " +
               std::to_string(p25_port) +
               "\n    wacn: 0xBEE00\n    system: 0x001\n    tgid: 100\n"
               "mc_links:\n"
               "  - name: mc\n    type: mcptt-iwf1\n    psi: sip:iwf@iwf.example\n"
               "    server_uri: sip:cf@mc.example\n"
               "    listen: [{transport: udp, address: 127.0.0.1, port: " +
               std::to_string(sip_port) +
               "}]\n"
               "    peer: {transport: udp, address: 127.0.0.1, port: " +
               std::to_string(mc_port) +
               "}\n"
               "    peers: [{name: mc-core, address: 127.0.0.1, domains: [mc.example, "
               "iwf.example]}]\n"
               "    media: {address: 127.0.0.1}\n"
               "    media_protection:\n"
               "      private_calls: required\n"
               "      mikey:\n"
               "        kms_url: " +
               sim->url() +
               "\n"
               "        kms_uri: kms.mc.example\n"
               "        ca_file: " +
               dir.file("kms.pem") +
               "\n"
               "        token_file: " +
               dir.file("kms-token") +
               "\n"
               "        timeout: 20s\n";
    }
    // The MC system's SIP side: UDP on 127.0.0.1, port 0.
    static std::unique_ptr<sip::Stack> mcStack(asio::io_context& io, metrics::Registry& reg) {
        sip::StackConfig sc;
        sc.name = "mc-sim";
        sc.listeners = {{sip::Protocol::Udp, "127.0.0.1", 0, {}}};
        return std::make_unique<sip::Stack>(io, reg, sc);
    }
    double metric(const std::string& series) {
        auto m = httpGet(iwfd.adminPort(), "/metrics");
        return prometheusValue(m.body, series).value_or(0);
    }
    double protection(const std::string& reason) {
        return metric("iwf_mcptt_media_protection_total{link=\"mc\",reason=\"" + reason + "\"}");
    }
    // A user of the KMS, issued from its master secrets (RFC 6507 §5.1.1, RFC 6508 §6.1.1).
    security::MikeyIdentity user(const std::string& uri, ByteView ksak, std::uint8_t v) const {
        const std::uint64_t now = mcSecNowNtp();
        security::MikeyIdentity id;
        id.user_uri = uri;
        id.kms = sim->certificate();
        id.keys.user_uri = uri;
        id.keys.uid = security::uidFor(uri, id.kms, now);
        id.keys.key_period_no =
            security::keyPeriodNo(now, id.kms.user_key_period, id.kms.user_key_offset);
        id.keys.rsk = security::sakkeIssueRsk(sim_cfg.z, id.keys.uid).value();
        id.keys.signing = security::eccsiIssueSigningKey(ksak, id.keys.uid, Bytes(32, v)).value();
        return id;
    }
    Bytes pckMessage(const security::MikeyIdentity& from, std::uint32_t pck_id) const {
        security::KeyToSend k;
        k.purpose = security::KeyPurpose::Pck;
        k.key = mcSecHex("b4c96b703acd5c1bf7d4cc45068d9965");
        k.key_id = pck_id;  // purpose tag 1 (PCK), 33.180 §5.2.2
        k.timestamp_ntp = mcSecNowNtp() << 32;
        return security::buildIMessage(from, "sip:iwf@iwf.example", sim->certificate(), k).value();
    }

    iwf::test::TempDir dir;
    iwf::test::IwfdProcess iwfd;
    std::string store;
    std::string token = "kms-access-token-4f1c";
    harness::KmsSimConfig sim_cfg;
    std::unique_ptr<harness::KmsSimulator> sim;
    std::uint16_t p25_port = 0;
    std::uint16_t sip_port = 0;
};

TEST_F(IwfdMcSecurity, KeysFromTheKmsThenAPckOfferIsAnsweredSavpAndForgedOrReplayedRefused) {
    asio::io_context io;
    metrics::Registry reg;
    auto mc = mcStack(io, reg);
    mc->onRequest([&](sip::ServerTxId tx, const sip::Message& req, const sip::Peer&) {
        (void)mc->respond(tx, sip::makeResponse(req, 200, {}, mc->newTag()));
    });
    ASSERT_TRUE(mc->start().ok());
    ASSERT_TRUE(iwfd.start(dir, config(mc->port(sip::Protocol::Udp)))) << iwfd.log();
    // The link fetched its identity from the KMS (KmsInit + KmsKeyProv over HTTPS).
    ASSERT_TRUE(iwf::test::waitFor([&] { return protection("kms_identity") >= 1; }, 30s))
        << iwfd.log();
    EXPECT_GE(sim->requests(), 2u);

    const sip::Peer iwf_peer{sip::Protocol::Udp, asio::ip::make_address("127.0.0.1"), sip_port};
    std::string answer;
    auto privateCall = [&](const Bytes& i_message) {
        mcptt::McpttMedia m;
        m.address = "127.0.0.1";
        m.audio_port = 40000;
        m.floor = false;
        m.srtp = true;
        m.key_mgmt = i_message;
        mcptt::McpttInfo info;
        info.session_type = "private";
        info.calling_user_id = kMcSecCaller;
        info.called_party_id = "sip:p25-1001@iwf.example";
        sip::Message inv = sip::Message::request("INVITE", "sip:iwf@iwf.example");
        inv.addHeader("From", std::string("<") + kMcSecCaller + ">;tag=" + mc->newTag());
        inv.addHeader("To", "<sip:iwf@iwf.example>");
        inv.addHeader("Call-ID", mc->newCallId());
        inv.addHeader("CSeq", "1 INVITE");
        inv.addHeader("Contact", "<" + mc->contactUri("caller", sip::Protocol::Udp) + ">");
        sip::setBodies(
            inv, {{"application/sdp", {}, mcptt::buildMcpttSdp(m, 1).toString()},
                  {std::string(mcptt::kMcpttInfoContentType), {}, mcptt::buildMcpttInfo(info)}});
        int status = 0;
        mc->sendRequest(inv, iwf_peer, [&](const sip::Message& r) {
            if (r.status() >= 200 && status == 0) {
                status = r.status();
                answer = std::string(sip::bodyOfType(r, sip::kSdpContentType).value_or(""));
                if (status == 200) {
                    mc->sendAck(sip::Dialog::asUac(inv, r, iwf_peer).makeAck(1), iwf_peer);
                }
            }
        });
        EXPECT_TRUE(iwf::test::runIoUntil(
            io, [&] { return status != 0; }, 30s))
            << iwfd.log();
        return status;
    };

    const security::MikeyIdentity caller = user(kMcSecCaller, sim_cfg.ksak, 0x33);
    const Bytes good = pckMessage(caller, 0x1234abcd);
    ASSERT_EQ(privateCall(good), 200) << iwfd.log();
    // RFC 3711 §12: the answer keeps RTP/SAVP (a protected call), with no key-mgmt of its own.
    EXPECT_NE(answer.find(" RTP/SAVP "), std::string::npos) << answer;
    EXPECT_EQ(answer.find("key-mgmt"), std::string::npos) << answer;
    EXPECT_EQ(protection("keyed"), 1);

    // Signed under another KSAK for the caller's URI (a forger who claims our KMS).
    const security::MikeyIdentity forger =
        user(kMcSecCaller,
             mcSecHex("1122334455667788990011223344556677889900112233445566778899001122"), 0x66);
    EXPECT_EQ(privateCall(pckMessage(forger, 0x1234abce)), 488);
    EXPECT_EQ(protection("mikey_signature_invalid"), 1);
    // The accepted offer's I_MESSAGE again, in a new INVITE (RFC 3830 §5.4 replay cache).
    EXPECT_EQ(privateCall(good), 488);
    EXPECT_EQ(protection("mikey_replay"), 1);
    EXPECT_EQ(protection("keyed"), 1);

    // No secret in the log or the status: the IWF's RSK (deterministic from the KMS's
    // master secret and its UID), the access token.
    const security::MikeyIdentity iwf_keys = user("sip:iwf@iwf.example", sim_cfg.ksak, 0x22);
    const std::string rsk = toHex(iwf_keys.keys.rsk);
    const std::string status_doc = httpGet(iwfd.adminPort(), "/v1/status").body;
    for (const std::string& where : {iwfd.log(), status_doc}) {
        EXPECT_EQ(where.find(rsk.substr(2, 64)), std::string::npos);
        EXPECT_EQ(where.find(token), std::string::npos);
    }
    iwfd.signal(SIGTERM);
    EXPECT_EQ(iwfd.waitExit(10s), std::optional<int>(0)) << iwfd.log();
}

// The GMK from the GMS over the wire (33.180 §5.7, 24.481 GKTPs; mc-security.md §12b): the
// group document with the IWF's GKTP, written by hand from the 24.481 schema, in a SIP
// MESSAGE to iwfd's mcptt-iwf1 listener. The GMS is a user of the same KMS.
TEST_F(IwfdMcSecurity, AGmkInAGroupDocumentFromTheGmsIsInstalledAndAForgedOneRefused) {
    asio::io_context io;
    metrics::Registry reg;
    auto mc = mcStack(io, reg);
    ASSERT_TRUE(mc->start().ok());
    ASSERT_TRUE(iwfd.start(dir, config(mc->port(sip::Protocol::Udp)))) << iwfd.log();
    ASSERT_TRUE(iwf::test::waitFor([&] { return protection("kms_identity") >= 1; }, 30s))
        << iwfd.log();
    const sip::Peer iwf_peer{sip::Protocol::Udp, asio::ip::make_address("127.0.0.1"), sip_port};
    auto sendGmk = [&](const security::MikeyIdentity& gms, std::uint32_t gmk_id) {
        security::KeyToSend k;
        k.purpose = security::KeyPurpose::Gmk;
        k.key = mcSecHex("07d1a1677ac36d8e81620484689b3c2d");
        k.key_id = gmk_id;  // purpose tag 0 (GMK)
        k.rand = mcSecHex("ca2f5d51ff0866362c1d85a56f84651e");
        k.timestamp_ntp = mcSecNowNtp() << 32;
        const Bytes msg =
            security::buildIMessage(gms, "sip:iwf@iwf.example", sim->certificate(), k).value();
        sip::Message m = sip::Message::request("MESSAGE", "sip:iwf@iwf.example");
        m.addHeader("From", "<sip:gms@mc.example>;tag=" + mc->newTag());
        m.addHeader("To", "<sip:iwf@iwf.example>");
        m.addHeader("Call-ID", mc->newCallId());
        m.addHeader("CSeq", "1 MESSAGE");
        m.setBody(R"(<?xml version="1.0" encoding="UTF-8"?>
<group xmlns="urn:oma:xml:poc:list-service">
 <list-service uri="sip:fire-ops@iwf.example">
  <GKTPs xmlns="urn:3gpp:ns:mcpttGKTP:1.0"><GMK-GKTPs>
   <GKTP id="sip:other@mc.example">00</GKTP>
   <GKTP id="sip:iwf@iwf.example">)" +
                      toHex(msg) +
                      R"(</GKTP>
  </GMK-GKTPs></GKTPs>
 </list-service>
</group>)",
                  "application/vnd.oma.poc.groups+xml");
        int status = 0;
        mc->sendRequest(m, iwf_peer, [&](const sip::Message& r) {
            if (r.status() >= 200 && status == 0) {
                status = r.status();
            }
        });
        EXPECT_TRUE(iwf::test::runIoUntil(
            io, [&] { return status != 0; }, 30s))
            << iwfd.log();
        return status;
    };
    EXPECT_EQ(sendGmk(user("sip:gms@mc.example", sim_cfg.ksak, 0x55), 0x0df9bc39), 200)
        << iwfd.log();
    EXPECT_EQ(protection("gktp_received"), 1);
    EXPECT_TRUE(iwf::test::waitFor(
        [&] { return iwfd.log().find("gmk_id=0df9bc39") != std::string::npos; }, 10s))
        << iwfd.log();
    // A GMS signing under another KSAK: 403, counted, not installed.
    const security::MikeyIdentity forger =
        user("sip:gms@mc.example",
             mcSecHex("1122334455667788990011223344556677889900112233445566778899001122"), 0x66);
    EXPECT_EQ(sendGmk(forger, 0x0aa00001), 403);
    EXPECT_EQ(protection("mikey_signature_invalid"), 1);
    EXPECT_EQ(iwfd.log().find("gmk_id=0aa00001"), std::string::npos);
    iwfd.signal(SIGTERM);
    EXPECT_EQ(iwfd.waitExit(10s), std::optional<int>(0)) << iwfd.log();
}

}  // namespace
}  // namespace iwf::mc
