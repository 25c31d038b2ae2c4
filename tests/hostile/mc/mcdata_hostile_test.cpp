// Hostile network, MCData (IWF-2) side, against the real iwfd (issue #21; docs/security.md
// "MC links"): a DMR repeater logged in to iwfd's HBP master, the MCData server on 127.0.0.1
// (the link's one configured peer), an attacker on 127.0.0.2. The legitimate short message
// (opaque, possibly LMR-encrypted bytes) must reach the repeater exactly once, bit-exact.
// Before: a forged SDS from an unknown address was delivered to the radio; an SDS to an
// unmapped user, or with no repeater logged in, got 200 and a "delivered" notification.
#include <gtest/gtest.h>

#include "lmr_adapters/dmr/data.hpp"
#include "mc_adapters/mcdata/sds_sip.hpp"
#include "tests/hostile/mc/mc_hostile.hpp"
#include "tests/support/hbp_peer.hpp"

namespace iwf::mc::hostile {
namespace {

using mcdata::DispositionNotification;
using mcdata::DispositionRequest;

constexpr char kKeymap[] = R"(format: 1
unknown_talker: sip:unknown-lmr-talker@iwf.example
systems:
  - { id: dmr-city, type: dmr, network_id: 3100 }
users:
  - { mc_id: "sip:dmr-2001@iwf.example", system: dmr-city, unit: 2001, name: "DMR 2001", e2ee: false }
  - { mc_id: "sip:alice@mc.example", system: dmr-city, unit: 9001, name: "alice", e2ee: false }
groups: []
)";

struct IwfdMcData : ::testing::Test {
    void SetUp() override {
        store = "sqlite:" + dir.file("keymap.db");
        dir.write("keymap.yaml", kKeymap);
        auto r = iwf::test::runCommand(
            {IWFCTL_BIN, "keymap", "--store", store, "import", dir.file("keymap.yaml")});
        ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
        hbp_port = pickLoopbackPort(PortProtocol::Udp);
        sip_port = pickLoopbackPort(PortProtocol::Udp);
        server = stackOn(io, reg, "127.0.0.1");
        server->onRequest([this](sip::ServerTxId tx, const sip::Message& req, const sip::Peer&) {
            at_server.push_back(req);
            (void)server->respond(tx, sip::makeResponse(req, 200, {}, server->newTag()));
        });
        const std::string cfg =
            "instance: hostile-mcdata\nlog: {level: info}\n"
            "keymap:\n  store: \"" +
            store +
            "\"\n  poll_interval: 200ms\n"
            "lmr_links:\n"
            "  - name: dmr\n    type: dmr-hbp-master\n    address: 127.0.0.1\n    port: " +
            std::to_string(hbp_port) +
            "\n    password: pw\n    id: 9990\n    data: {sap: 10}\n"
            "mc_links:\n"
            "  - name: mcdata\n    type: mcdata-iwf2\n"
            "    listen: {transport: udp, address: 127.0.0.1, port: " +
            std::to_string(sip_port) +
            "}\n"
            "    peer: {transport: udp, address: 127.0.0.1, port: " +
            std::to_string(server->port(sip::Protocol::Udp)) +
            "}\n"
            "    peers: [{name: mcdata-server, address: 127.0.0.1, domains: [mc.example]}]\n"
            "    request_uri: sip:mcdata@mc.example\n    iwf_psi: sip:iwf@iwf.example\n";
        ASSERT_TRUE(iwfd.start(dir, cfg)) << iwfd.log();
        ASSERT_TRUE(iwf::test::waitFor(
            [&] {
                auto m = iwf::test::httpGet(iwfd.adminPort(), "/metrics");
                return iwf::test::prometheusValue(m.body, "iwf_keymap_revision") == 1.0;
            },
            20s))
            << iwfd.log();
    }
    // An SDS from `sender` to `target` with a delivery disposition request.
    sip::Message sds(sip::Stack& from, const std::string& sender, const std::string& target,
                     const Bytes& payload, std::uint8_t id) {
        mcdata::SdsSipMessage m;
        m.env.request_uri = target;
        m.env.sender = sender;
        m.env.target = target;
        mcdata::SdsSignalling s;
        s.conversation_id[0] = 0xC0;
        s.message_id[0] = id;
        s.disposition = DispositionRequest::Delivery;
        m.signalling = s;
        m.payload = mcdata::DataPayload{{mcdata::Payload{mcdata::content_type::kBinary, payload}}};
        sip::Message msg = *mcdata::buildSdsMessage(m);
        msg.setHeader("From", "<" + sender + ">;tag=" + from.newTag());
        msg.setHeader("To", "<" + target + ">");
        msg.setHeader("Call-ID", from.newCallId());
        msg.setHeader("CSeq", "1 MESSAGE");
        return msg;
    }
    int send(sip::Stack& from, const sip::Message& m) {
        int status = 0;
        from.sendRequest(m, {sip::Protocol::Udp, ip("127.0.0.1"), sip_port},
                         [&](const sip::Message& r) {
                             if (r.status() >= 200 && status == 0) {
                                 status = r.status();
                             }
                         });
        EXPECT_TRUE(pump(io, [&] { return status != 0; }));
        return status;
    }
    // The disposition notification type of the n-th MESSAGE at the server: octet 1 of the
    // mcdata-signalling body after message type 0x04 (24.282 SDS NOTIFICATION,
    // docs/protocols/iwf-2-mcdata.md), read from the bytes, not through the link's codec.
    int notification(std::size_t n) {
        EXPECT_TRUE(pump(io, [&] { return at_server.size() >= n; }));
        if (at_server.size() < n) {
            return -1;
        }
        auto body = sip::bodyOfType(at_server[n - 1], mcdata::kSignallingContentType);
        if (!body || body->size() < 2 || static_cast<std::uint8_t>((*body)[0]) != 0x05) {
            return -2;
        }
        return static_cast<std::uint8_t>((*body)[1]);
    }
    // Short data PDUs the repeater received (decoded by the DMR data receiver).
    std::vector<Bytes> pdusAt(iwf::test::HbpRawPeer& rep, std::size_t want,
                              std::chrono::milliseconds quiet) {
        lmr::dmr::DataReceiver rx(
            lmr::dmr::DataConfig{std::uint8_t{lmr::dmr::kSapShortData}, lmr::dmr::KmmService{9}});
        std::vector<Bytes> out;
        std::vector<Event> ev;
        std::vector<std::string_view> drops;
        std::int64_t t = 1;
        while (out.size() < want) {
            auto b = rep.receive(quiet);
            if (!b) {
                break;
            }
            auto d = lmr::dmr::decodeDmrd(*b);
            if (!d) {
                continue;
            }
            ev.clear();
            rx.onPacket(*d, t++, ev, drops);
            for (auto& e : ev) {
                if (auto* m = std::get_if<DataMessage>(&e)) {
                    out.push_back(m->payload);
                }
            }
        }
        return out;
    }

    asio::io_context io;
    metrics::Registry reg;
    iwf::test::TempDir dir;
    iwf::test::IwfdProcess iwfd;
    std::string store;
    std::uint16_t hbp_port = 0;
    std::uint16_t sip_port = 0;
    std::unique_ptr<sip::Stack> server;
    std::vector<sip::Message> at_server;
};

const Bytes kOpaque = {0x00, 0xE2, 0xEE, 0x0D, 0x0A, 0xFF, 0x5A, 0xA5, 0x01, 0x02,
                       0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C};

TEST_F(IwfdMcData, ForgedSdsFromAnotherHostNeverReachesTheRadio) {
    iwf::test::HbpRawPeer repeater;
    ASSERT_TRUE(repeater.login(hbp_port, 3101001, "pw")) << iwfd.log();
    auto attacker = stackOn(io, reg, "127.0.0.2");
    // The forgery first: dropped unanswered (the attacker's own 408), nothing on the radio.
    Bytes forged = kOpaque;
    forged[0] = 0x66;
    EXPECT_EQ(send(*attacker,
                   sds(*attacker, "sip:alice@mc.example", "sip:dmr-2001@iwf.example", forged, 1)),
              408);
    // The legitimate message: 200, on the radio exactly once, bit-exact; the notification
    // does not claim a delivery no DMR repeater confirms.
    EXPECT_EQ(
        send(*server, sds(*server, "sip:alice@mc.example", "sip:dmr-2001@iwf.example", kOpaque, 2)),
        200);
    auto got = pdusAt(repeater, 2, 1500ms);
    ASSERT_EQ(got.size(), 1u) << iwfd.log();
    EXPECT_EQ(got[0], kOpaque);
    EXPECT_EQ(notification(1),
              static_cast<int>(DispositionNotification::DispositionPreventedBySystem));
    auto m = iwf::test::httpGet(iwfd.adminPort(), "/metrics").body;
    EXPECT_GE(iwf::test::prometheusValue(
                  m, "iwf_mc_peer_refused_total{link=\"mcdata\",reason=\"not_a_peer\"}")
                  .value_or(0),
              1);
    EXPECT_EQ(m.find("127.0.0.2"), std::string::npos);  // no series names the attacker
}

TEST_F(IwfdMcData, UndeliverableSdsGetsANegativeAnswerNeverDelivered) {
    // No repeater logged in yet: nobody would receive it.
    EXPECT_EQ(
        send(*server, sds(*server, "sip:alice@mc.example", "sip:dmr-2001@iwf.example", kOpaque, 1)),
        480);
    EXPECT_EQ(notification(1), static_cast<int>(DispositionNotification::Undelivered));
    // An unmapped recipient.
    EXPECT_EQ(
        send(*server, sds(*server, "sip:alice@mc.example", "sip:nobody@iwf.example", kOpaque, 2)),
        404);
    EXPECT_EQ(notification(2), static_cast<int>(DispositionNotification::Undelivered));
    // A sender outside the peer's domains never reaches the engine.
    EXPECT_EQ(send(*server, sds(*server, "sip:mallory@evil.example", "sip:dmr-2001@iwf.example",
                                kOpaque, 3)),
              403);
    // With the repeater logged in, the same message is carried (and still not "delivered").
    iwf::test::HbpRawPeer repeater;
    ASSERT_TRUE(repeater.login(hbp_port, 3101001, "pw")) << iwfd.log();
    EXPECT_EQ(
        send(*server, sds(*server, "sip:alice@mc.example", "sip:dmr-2001@iwf.example", kOpaque, 4)),
        200);
    auto got = pdusAt(repeater, 1, 3s);
    ASSERT_EQ(got.size(), 1u) << iwfd.log();
    EXPECT_EQ(got[0], kOpaque);
    EXPECT_EQ(notification(3),
              static_cast<int>(DispositionNotification::DispositionPreventedBySystem));
    for (const auto& msg : at_server) {
        auto body = sip::bodyOfType(msg, mcdata::kSignallingContentType).value_or("");
        EXPECT_FALSE(body.size() >= 2 && body[1] == 2) << "a \"delivered\" notification";
    }
}

}  // namespace
}  // namespace iwf::mc::hostile
