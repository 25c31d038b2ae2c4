// Nothing acknowledged is lost (issue #21; docs/security.md): short data accepted by the real
// iwfd in both directions is still delivered, exactly once, after `kill -9` and a restart.
//
//   MC -> LMR: the MC system sends N SDS MESSAGEs to a DMR user; iwfd answers 202 while no
//              repeater is logged in (nothing can take them yet);
//   LMR -> MC: a logged-in DMR repeater sends N short data messages to an MC user while the
//              MC system does not answer;
//   kill -9; iwfd restarts on the same config and message store; the repeater logs in again
//   and the MC system answers: the repeater receives each of its N messages once and the MC
//   system each of its N once.
//
// Before (no durable store): 0 of N in each direction after the restart.
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/asio.hpp"
#include "common/loopback_port.hpp"
#include "lmr_adapters/dmr/data.hpp"
#include "lmr_adapters/dmr/dmrd.hpp"
#include "mc_adapters/mcdata/sds_sip.hpp"
#include "sip/stack.hpp"
#include "tests/integration/support/iwfd_process.hpp"
#include "tests/support/hbp_peer.hpp"

namespace iwf::mc::mcdata {
namespace {

using namespace std::chrono_literals;
using iwf::test::runCommand;

constexpr int kN = 3;
constexpr std::uint32_t kRepeater = 3100001;

bool pump(asio::io_context& io, const std::function<bool()>& done,
          std::chrono::milliseconds timeout = 20s) {
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

// The MC system's MCData server: answers MESSAGEs with 200 when `answer` is set (else not at
// all), and counts every SDS payload it received, by content.
struct McData {
    McData(asio::io_context& io, metrics::Registry& reg) {
        sip::StackConfig sc;
        sc.name = "mcdata-sim";
        sc.listeners = {{sip::Protocol::Udp, "127.0.0.1", 0, {}}};
        stack = std::make_unique<sip::Stack>(io, reg, sc);
        stack->onRequest([this](sip::ServerTxId tx, const sip::Message& req, const sip::Peer&) {
            if (!answer) {
                return;
            }
            auto m = parseSdsMessage(req);
            if (m.ok()) {
                if (const auto* n = std::get_if<SdsNotification>(&m->signalling)) {
                    notifications[n->message_id[15]].push_back(n->disposition);
                }
            }
            if (m.ok() && std::holds_alternative<SdsSignalling>(m->signalling) && m->payload) {
                for (const auto& p : m->payload->payloads) {
                    ++received[std::string(p.data.begin(), p.data.end())];
                }
            }
            (void)stack->respond(tx, sip::makeResponse(req, 200, "OK", stack->newTag()));
        });
        EXPECT_TRUE(stack->start().ok());
    }
    // Sends one SDS to the IWF; returns the final status.
    int send(asio::io_context& io, std::uint16_t iwf_port, const std::string& text, int k,
             std::optional<DispositionRequest> disposition = std::nullopt) {
        SdsSipMessage m;
        m.env.request_uri = "sip:dmr-2001@iwf.example";
        m.env.sender = "sip:dmr-2002@iwf.example";
        m.env.target = "sip:dmr-2001@iwf.example";
        SdsSignalling s;
        s.conversation_id[0] = 0xC0;
        s.message_id[0] = 0x40;
        s.message_id[15] = static_cast<std::uint8_t>(k);
        s.disposition = disposition;
        m.signalling = s;
        m.payload = DataPayload{{Payload{content_type::kBinary, Bytes(text.begin(), text.end())}}};
        auto msg = buildSdsMessage(m);
        EXPECT_TRUE(msg.ok());
        msg->setHeader("From", "<sip:mcdata@mc.example>;tag=" + stack->newTag());
        msg->setHeader("To", "<" + msg->requestUri() + ">");
        msg->setHeader("Call-ID", stack->newCallId());
        msg->setHeader("CSeq", "1 MESSAGE");
        int status = 0;
        stack->sendRequest(
            std::move(*msg),
            sip::Peer{sip::Protocol::Udp, asio::ip::make_address("127.0.0.1"), iwf_port},
            [&](const sip::Message& rsp) {
                if (rsp.status() >= 200) {
                    status = rsp.status();
                }
            });
        EXPECT_TRUE(pump(io, [&] { return status != 0; }));
        return status;
    }
    std::unique_ptr<sip::Stack> stack;
    bool answer = false;
    std::map<std::string, int> received;
    // SDS NOTIFICATIONs received, by the last byte of the message ID they report on (every
    // retransmission counts: the IWF's MESSAGE is answered, so there should be none).
    std::map<int, std::vector<DispositionNotification>> notifications;
};

// Short data the repeater received (reassembled from its DMRD packets), by content.
std::map<std::string, int> repeaterMessages(iwf::test::HbpRawPeer& rpt,
                                            std::chrono::milliseconds quiet) {
    lmr::dmr::DataConfig dc;
    lmr::dmr::DataReceiver rx(dc);
    std::map<std::string, int> got;
    std::int64_t now = 1;
    while (auto b = rpt.receive(quiet)) {
        auto p = lmr::dmr::decodeDmrd(*b);
        if (!p || !lmr::dmr::isDataPacket(*p)) {
            continue;
        }
        std::vector<Event> out;
        std::vector<std::string_view> drops;
        rx.onPacket(*p, now++, out, drops);
        for (const auto& e : out) {
            if (const auto* d = std::get_if<DataMessage>(&e)) {
                ++got[std::string(d->payload.begin(), d->payload.end())];
            }
        }
    }
    return got;
}

// The example keymap imported by the real iwfctl into dir's SQLite store; its spec, or empty
// (and a test failure) if the import failed.
std::string importExampleKeymap(const iwf::test::TempDir& dir) {
    const std::string keymap = "sqlite:" + dir.file("keymap.db");
    auto r = runCommand({IWFCTL_BIN, "keymap", "--store", keymap, "import",
                         std::string(IWF_SOURCE_DIR) + "/configs/keymap.example.yaml"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.exit_code == 0 ? keymap : std::string();
}

// iwfd's config for these tests: one DMR master, one MCData link toward `mc`, a durable store.
std::string durableConfig(const iwf::test::TempDir& dir, const std::string& keymap,
                          std::uint16_t hbp_port, std::uint16_t sip_port, const McData& mc,
                          const std::string& messages_extra = {}) {
    return "instance: durable\nlog: {level: debug}\n"
           "messages: {store: \"sqlite:" +
           dir.file("messages.db") + "\"" + messages_extra + "}\nkeymap:\n  store: \"" + keymap +
           "\"\n  poll_interval: 200ms\n"
           "lmr_links:\n"
           "  - name: dmr\n    type: dmr-hbp-master\n    address: 127.0.0.1\n    port: " +
           std::to_string(hbp_port) +
           "\n    password: durable-test\n    id: 310099\n"
           "    data: {sap: 10}\n"
           "mc_links:\n"
           "  - name: mcdata\n    type: mcdata-iwf2\n"
           "    listen: {protocol: udp, address: 127.0.0.1, port: " +
           std::to_string(sip_port) +
           "}\n"
           "    peer: {protocol: udp, address: 127.0.0.1, port: " +
           std::to_string(mc.stack->port(sip::Protocol::Udp)) +
           "}\n"
           "    peers: [{name: mc, address: 127.0.0.1, domains: [mc.example, iwf.example]}]\n"
           "    request_uri: sip:mcdata@mc.example\n    iwf_psi: sip:iwf@iwf.example\n";
}

TEST(IwfdKill9, AcceptedShortDataIsDeliveredOnceInBothDirectionsAfterARestart) {
    iwf::test::TempDir dir;
    const std::string keymap = importExampleKeymap(dir);
    ASSERT_FALSE(keymap.empty());
    asio::io_context io;
    metrics::Registry reg;
    McData mc(io, reg);
    const std::uint16_t hbp_port = pickLoopbackPort(PortProtocol::Udp);
    const std::uint16_t sip_port = pickLoopbackPort(PortProtocol::Udp);
    const std::string cfg = durableConfig(dir, keymap, hbp_port, sip_port, mc);

    std::string first_log;
    {
        iwf::test::IwfdProcess iwfd;
        ASSERT_TRUE(iwfd.start(dir, cfg)) << iwfd.log();
        ASSERT_TRUE(iwf::test::waitFor(
            [&] { return iwf::test::httpGet(iwfd.adminPort(), "/healthz").status == 200; }, 10s))
            << iwfd.log();
        // MC -> LMR, no repeater logged in: stored, accepted for later delivery (202,
        // RFC 3428 §7), not deliverable yet.
        for (int k = 0; k < kN; ++k) {
            ASSERT_EQ(mc.send(io, sip_port, "mc-to-lmr-" + std::to_string(k), k), 202)
                << iwfd.log();
        }
        // LMR -> MC: the repeater logs in and sends; the MC system does not answer.
        iwf::test::HbpRawPeer rpt;
        ASSERT_TRUE(rpt.login(hbp_port, kRepeater, "durable-test")) << iwfd.log();
        lmr::dmr::DataSender tx({kRepeater, 1, 1}, lmr::dmr::DataConfig{}, 7);
        for (int k = 0; k < kN; ++k) {
            DataMessage d;
            d.from = DmrUnit{2001};
            d.to = DmrUnit{2002};
            const std::string text = "lmr-to-mc-" + std::to_string(k);
            d.payload = Bytes(text.begin(), text.end());
            auto pkts = tx.onEvent(Event{d});
            ASSERT_TRUE(pkts.ok());
            for (const auto& p : *pkts) {
                rpt.send(hbp_port, lmr::dmr::encodeDmrd(p));
            }
        }
        ASSERT_TRUE(iwf::test::waitFor(
            [&] {
                auto m = iwf::test::httpGet(iwfd.adminPort(), "/metrics");
                return iwf::test::prometheusValue(m.body,
                                                  "iwf_engine_data_total{direction=\"lmr_to_mc\"}")
                           .value_or(0) >= kN;
            },
            10s))
            << iwfd.log();
        iwfd.signal(SIGKILL);
        ASSERT_TRUE(iwfd.waitExit(10s).has_value() || !iwfd.running());
        first_log = iwfd.log();
        EXPECT_TRUE(mc.received.empty());
    }

    // The MC system takes in what reached it before the kill (the dead process's MESSAGE
    // retransmissions, unanswered as before), then answers from now on; iwfd restarts on the
    // same store and the repeater logs in again.
    pump(
        io, [] { return false; }, 1s);
    mc.answer = true;
    iwf::test::IwfdProcess iwfd;
    iwf::test::HbpRawPeer rpt;
    ASSERT_TRUE(iwfd.start(dir, cfg)) << iwfd.log();
    ASSERT_TRUE(rpt.login(hbp_port, kRepeater, "durable-test")) << iwfd.log();
    ASSERT_TRUE(pump(
        io, [&] { return mc.received.size() >= static_cast<std::size_t>(kN); }, 30s))
        << first_log << "\n--- after restart ---\n"
        << iwfd.log();
    auto at_repeater = repeaterMessages(rpt, 3s);
    // Let any duplicate show up before counting.
    pump(
        io, [] { return false; }, 3s);
    for (int k = 0; k < kN; ++k) {
        EXPECT_EQ(at_repeater["mc-to-lmr-" + std::to_string(k)], 1) << k << "\n" << iwfd.log();
        EXPECT_EQ(mc.received["lmr-to-mc-" + std::to_string(k)], 1) << k << "\n" << iwfd.log();
    }
    EXPECT_EQ(at_repeater.size(), static_cast<std::size_t>(kN));
    EXPECT_EQ(mc.received.size(), static_cast<std::size_t>(kN));
    iwfd.signal(SIGTERM);
    EXPECT_EQ(iwfd.waitExit(15s), std::optional<int>(0)) << iwfd.log();
}

// An SDS answered 202 (stored, no repeater logged in) whose sender asked for a delivery
// notification gets it when its fate is known, once: UNDELIVERED after its last try (here
// messages.max_attempts: 2, one try every 2 s), DISPOSITION PREVENTED BY SYSTEM once a repeater
// logged in and took it. Nothing is said before (before this change: no notification at all).
TEST(IwfdStoredSds, DeliveryNotificationFollowsTheLaterOutcome) {
    iwf::test::TempDir dir;
    const std::string keymap = importExampleKeymap(dir);
    ASSERT_FALSE(keymap.empty());
    asio::io_context io;
    metrics::Registry reg;
    McData mc(io, reg);
    mc.answer = true;
    const std::uint16_t hbp_port = pickLoopbackPort(PortProtocol::Udp);
    const std::uint16_t sip_port = pickLoopbackPort(PortProtocol::Udp);
    iwf::test::IwfdProcess iwfd;
    ASSERT_TRUE(
        iwfd.start(dir, durableConfig(dir, keymap, hbp_port, sip_port, mc, ", max_attempts: 2")))
        << iwfd.log();
    ASSERT_TRUE(iwf::test::waitFor(
        [&] { return iwf::test::httpGet(iwfd.adminPort(), "/healthz").status == 200; }, 10s))
        << iwfd.log();

    // 1: nobody ever takes it.
    ASSERT_EQ(mc.send(io, sip_port, "never", 1, DispositionRequest::Delivery), 202) << iwfd.log();
    pump(
        io, [] { return false; }, 1s);
    EXPECT_TRUE(mc.notifications.empty()) << "nothing is known yet, nothing is said";
    ASSERT_TRUE(pump(
        io, [&] { return !mc.notifications[1].empty(); }, 15s))
        << iwfd.log();
    EXPECT_EQ(mc.notifications[1],
              std::vector<DispositionNotification>{DispositionNotification::Undelivered});

    // 2: a repeater logs in after the 202 and takes it.
    ASSERT_EQ(mc.send(io, sip_port, "later", 2, DispositionRequest::Delivery), 202) << iwfd.log();
    iwf::test::HbpRawPeer rpt;
    ASSERT_TRUE(rpt.login(hbp_port, kRepeater, "durable-test")) << iwfd.log();
    ASSERT_TRUE(pump(
        io, [&] { return !mc.notifications[2].empty(); }, 15s))
        << iwfd.log();
    EXPECT_EQ(mc.notifications[2], std::vector<DispositionNotification>{
                                       DispositionNotification::DispositionPreventedBySystem});
    auto at_repeater = repeaterMessages(rpt, 2s);
    EXPECT_EQ(at_repeater["later"], 1);
    EXPECT_EQ(at_repeater.count("never"), 0U) << "failed for good: never sent";
    pump(
        io, [] { return false; }, 3s);
    EXPECT_EQ(mc.notifications[1].size() + mc.notifications[2].size(), 2U) << "once each";
    auto m = iwf::test::httpGet(iwfd.adminPort(), "/metrics");
    EXPECT_EQ(iwf::test::prometheusValue(m.body,
                                         "iwf_mc_mcdata_later_notifications_total{link=\"mcdata\","
                                         "disposition=\"undelivered\"}"),
              std::optional<double>(1))
        << m.body;
    iwfd.signal(SIGTERM);
    EXPECT_EQ(iwfd.waitExit(15s), std::optional<int>(0)) << iwfd.log();
}

}  // namespace
}  // namespace iwf::mc::mcdata
