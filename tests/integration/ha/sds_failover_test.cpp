// No SDS accepted by either instance is lost or delivered twice across a failover (issue #17,
// docs/ha.md "What survives a failover"): two real iwfd processes in one cluster sharing a real
// PostgreSQL (keymap, lease and message queue in one database), a DMR repeater (HBP, the test's
// raw peer) and the MC system's MCData server (the test's SIP stack), which counts every SDS it
// accepts (answers 200) by message ID and by which instance sent it.
//
//   KilledOwnersQueueIsDeliveredOnceByTheNewOwner: A active. LMR -> MC: the repeater sends
//     short data to an MC user; the first kSdsHaDelivered are taken by the MC system (200),
//     then it stops answering and kSdsHaQueued more are accepted by A and stay queued. MC -> LMR:
//     the MC system sends kSdsHaQueued SDS while no repeater is logged in: A answers 202 (stored,
//     delivered later). kill -9 A; B takes over; the MC system answers again and the repeater
//     logs in to B: every queued message arrives once at each far end, none of the delivered
//     ones again.
//   FrozenOwnerSendsNoneOfItsQueueAfterTheTakeover: the same queues at A, then SIGSTOP A past
//     its lease; B takes over and delivers them; SIGCONT A: A sends none of them (not a single
//     SIP datagram from A reaches the MC system, not even a retransmission of a MESSAGE in
//     flight at the freeze: its send gate is closed; nothing reaches a repeater logged in to
//     A), and its store writes carry an old epoch, which PostgreSQL refuses.
#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/asio.hpp"
#include "common/loopback_port.hpp"
#include "keymap_env.hpp"
#include "lmr_adapters/dmr/data.hpp"
#include "lmr_adapters/dmr/dmrd.hpp"
#include "mc_adapters/mcdata/sds_sip.hpp"
#include "sip/stack.hpp"
#include "tests/integration/support/iwfd_process.hpp"
#include "tests/support/hbp_peer.hpp"
#include "tests/support/io_wait.hpp"

namespace iwf::mc::mcdata {
namespace {

using namespace std::chrono_literals;
using iwf::test::httpGet;
using iwf::test::runCommand;
using iwf::test::waitFor;

constexpr int kSdsHaDelivered = 2;  // LMR -> MC, taken by the MC system before the failover
constexpr int kSdsHaQueued = 3;     // per direction, still queued at the failover
constexpr std::uint32_t kSdsHaRepeater = 3100001;
constexpr std::uint32_t kSdsHaRepeater2 = 3100002;

bool sdsHaPump(asio::io_context& io, const std::function<bool()>& done,
               std::chrono::milliseconds timeout = 20s) {
    return iwf::test::runIoUntil(io, done, timeout);
}

std::string sdsHaHex(const Uuid& u) {
    static const char* digits = "0123456789abcdef";
    std::string s;
    for (auto b : u) {
        s += digits[b >> 4];
        s += digits[b & 15];
    }
    return s;
}

// The MC system's MCData server. Answers MESSAGEs with 200 while `answer` is set (else not at
// all: the IWF's transaction retransmits and times out). What it accepted: by message ID (the
// far end's de-duplication key, 3GPP TS 24.282 SDS signalling payload), by text, and by the
// IWF's SIP port it came from (which instance sent it).
struct SdsHaMcSystem {
    SdsHaMcSystem(asio::io_context& io, metrics::Registry& reg) {
        sip::StackConfig sc;
        sc.name = "mcdata-sim";
        sc.listeners = {{sip::Protocol::Udp, "127.0.0.1", 0, {}}};
        stack = std::make_unique<sip::Stack>(io, reg, sc);
        stack->onRequest([this](sip::ServerTxId tx, const sip::Message& req, const sip::Peer& p) {
            auto m = parseSdsMessage(req);
            const bool sds = m.ok() && std::holds_alternative<SdsSignalling>(m->signalling) &&
                             m->payload.has_value();
            if (sds) {
                ++seen_from[p.port];
                if (answer_from.count(p.port) == 0 && !answer) {
                    return;
                }
                ++accepted_from[p.port];
                ++by_id[sdsHaHex(std::get<SdsSignalling>(m->signalling).message_id)];
                for (const auto& pl : m->payload->payloads) {
                    ++by_text[std::string(pl.data.begin(), pl.data.end())];
                }
            }
            (void)stack->respond(tx, sip::makeResponse(req, 200, "OK", stack->newTag()));
        });
        // Every datagram, by the IWF port it came from, before any parsing: retransmissions
        // and responses too, which the transaction layer absorbs before onRequest.
        stack->admitOnly([this](const sip::Peer& p) {
            ++datagrams_from[p.port];
            return true;
        });
        EXPECT_TRUE(stack->start().ok());
    }
    // One SDS to the IWF at `iwf_port` for DMR unit 2001; the final status.
    int send(asio::io_context& io, std::uint16_t iwf_port, const std::string& text, int k) {
        SdsSipMessage m;
        m.env.request_uri = "sip:dmr-2001@iwf.example";
        m.env.sender = "sip:dmr-2002@iwf.example";
        m.env.target = "sip:dmr-2001@iwf.example";
        SdsSignalling s;
        s.conversation_id[0] = 0xC1;
        s.message_id[0] = 0x41;
        s.message_id[15] = static_cast<std::uint8_t>(k);
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
        EXPECT_TRUE(sdsHaPump(io, [&] { return status != 0; }));
        return status;
    }
    std::unique_ptr<sip::Stack> stack;
    bool answer = true;
    std::set<std::uint16_t> answer_from;  // answered even while `answer` is off
    std::map<std::uint16_t, int> seen_from;
    std::map<std::uint16_t, int> datagrams_from;
    std::map<std::uint16_t, int> accepted_from;
    std::map<std::string, int> by_id;
    std::map<std::string, int> by_text;
};

// What a repeater received (reassembled from DMRD data packets), by text; reads until `quiet`
// passes without a packet.
std::map<std::string, int> sdsHaRepeaterMessages(iwf::test::HbpRawPeer& rpt,
                                                 std::chrono::milliseconds quiet) {
    lmr::dmr::DataReceiver rx(lmr::dmr::DataConfig{});
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

struct SdsHaInstance {
    std::string name;
    std::uint16_t hbp_port = 0;
    std::uint16_t sip_port = 0;
    iwf::test::TempDir dir;
    iwf::test::IwfdProcess iwfd;
};

struct SdsFailover : ::testing::Test {
    void SetUp() override {
        db = keymap::test::freshPostgresDatabase();
        ASSERT_FALSE(db.empty());
        auto r = runCommand({IWFCTL_BIN, "keymap", "--store", db, "import",
                             std::string(IWF_SOURCE_DIR) + "/configs/keymap.example.yaml"});
        ASSERT_EQ(r.exit_code, 0) << r.err;
        a.name = "a";
        b.name = "b";
        for (SdsHaInstance* i : {&a, &b}) {
            i->hbp_port = pickLoopbackPort(PortProtocol::Udp);
            i->sip_port = pickLoopbackPort(PortProtocol::Udp);
        }
    }
    // The short test lease of the other HA tests (renew 200 ms, expiry 1.5 s, margin 300 ms).
    std::string config(const SdsHaInstance& i) const {
        return "instance: " + i.name + "\nlog: {level: debug}\nkeymap:\n  store: \"" + db +
               "\"\n  poll_interval: 200ms\nmessages: {store: \"" + db +
               "\"}\ncluster:\n  name: sds1\n  store: \"" + db +
               "\"\n  renew_period: 200ms\n  lease_expiry: 1500ms\n  safety_margin: 300ms\n"
               "lmr_links:\n"
               "  - name: dmr\n    type: dmr-hbp-master\n    address: 127.0.0.1\n    port: " +
               std::to_string(i.hbp_port) +
               "\n    password: ha-sds\n    id: 310099\n    data: {sap: 10}\n"
               "mc_links:\n"
               "  - name: mcdata\n    type: mcdata-iwf2\n"
               "    listen: {protocol: udp, address: 127.0.0.1, port: " +
               std::to_string(i.sip_port) +
               "}\n"
               "    peer: {protocol: udp, address: 127.0.0.1, port: " +
               std::to_string(mc->stack->port(sip::Protocol::Udp)) +
               "}\n"
               "    peers: [{name: mc, address: 127.0.0.1, domains: [mc.example, iwf.example]}]\n"
               "    request_uri: sip:mcdata@mc.example\n    iwf_psi: sip:iwf@iwf.example\n";
    }
    static nlohmann::json cluster(SdsHaInstance& i) {
        auto r = httpGet(i.iwfd.adminPort(), "/v1/status");
        if (r.status != 200) {
            return nullptr;
        }
        return nlohmann::json::parse(r.body, nullptr, false).value("cluster", nlohmann::json());
    }
    static std::string role(SdsHaInstance& i) {
        auto c = cluster(i);
        return c.is_object() ? c.value("role", "") : "";
    }
    static double metric(SdsHaInstance& i, const std::string& series) {
        auto m = httpGet(i.iwfd.adminPort(), "/metrics");
        return iwf::test::prometheusValue(m.body, series).value_or(-1);
    }
    // A active and ready, B standby knowing A as the holder.
    void startPair() {
        ASSERT_TRUE(a.iwfd.start(a.dir, config(a))) << a.iwfd.log();
        ASSERT_TRUE(waitFor([&] { return role(a) == "active"; }, 20s)) << a.iwfd.log();
        ASSERT_TRUE(
            waitFor([&] { return httpGet(a.iwfd.adminPort(), "/healthz").status == 200; }, 20s))
            << a.iwfd.log();
        ASSERT_TRUE(b.iwfd.start(b.dir, config(b))) << b.iwfd.log();
        ASSERT_TRUE(waitFor([&] { return cluster(b).value("holder", "") == "a"; }, 20s))
            << b.iwfd.log();
        ASSERT_EQ(role(b), "standby");
    }
    // The repeater `rpt`, logged in to A, sends one short data message to MC user 2002.
    void repeaterSends(iwf::test::HbpRawPeer& rpt, lmr::dmr::DataSender& tx,
                       const std::string& text) {
        DataMessage d;
        d.from = DmrUnit{2001};
        d.to = DmrUnit{2002};
        d.payload = Bytes(text.begin(), text.end());
        auto pkts = tx.onEvent(Event{d});
        ASSERT_TRUE(pkts.ok());
        for (const auto& p : *pkts) {
            rpt.send(a.hbp_port, lmr::dmr::encodeDmrd(p));
        }
    }
    // The queues at A, both directions (see the file's comment). `rpt` logs in to A, sends,
    // and closes (RPTCL) before the MC -> LMR messages come, so that those find no repeater.
    void queueAtA(iwf::test::HbpRawPeer& rpt) {
        ASSERT_TRUE(rpt.login(a.hbp_port, kSdsHaRepeater, "ha-sds")) << a.iwfd.log();
        lmr::dmr::DataSender tx({kSdsHaRepeater, 1, 1}, lmr::dmr::DataConfig{}, 7);
        // LMR -> MC: the first ones taken by the MC system ...
        for (int k = 0; k < kSdsHaDelivered; ++k) {
            ASSERT_NO_FATAL_FAILURE(repeaterSends(rpt, tx, "delivered-" + std::to_string(k)));
        }
        ASSERT_TRUE(sdsHaPump(io, [&] { return mc->by_text.size() >= kSdsHaDelivered; }))
            << a.iwfd.log();
        // ... and settled in A's store on the MC system's 200 ...
        ASSERT_TRUE(waitFor(
            [&] {
                return metric(a,
                              "iwf_mc_mcdata_tx_total{link=\"mcdata\",kind=\"sds_one_to_one\","
                              "status=\"200\"}") >= kSdsHaDelivered;
            },
            10s))
            << a.iwfd.log();
        // ... the next ones find the MC system silent: A retransmits them, they stay queued.
        mc->answer = false;
        for (int k = 0; k < kSdsHaQueued; ++k) {
            ASSERT_NO_FATAL_FAILURE(repeaterSends(rpt, tx, "queued-" + std::to_string(k)));
        }
        ASSERT_TRUE(sdsHaPump(io, [&] {
            return mc->seen_from[a.sip_port] >= kSdsHaDelivered + kSdsHaQueued;
        })) << a.iwfd.log();
        rpt.send(a.hbp_port, lmr::dmr::hbpSimple(lmr::dmr::HbpType::Rptcl, kSdsHaRepeater));
        ASSERT_TRUE(
            waitFor([&] { return a.iwfd.log().find("close=by_peer") != std::string::npos; }, 10s))
            << a.iwfd.log();
        // MC -> LMR, no repeater logged in: stored and answered 202 (RFC 3428 §7).
        for (int k = 0; k < kSdsHaQueued; ++k) {
            ASSERT_EQ(mc->send(io, a.sip_port, "mc-to-lmr-" + std::to_string(k), k), 202)
                << a.iwfd.log();
        }
    }
    // Every message arrived exactly once at its far end.
    void expectEachOnce(const std::map<std::string, int>& at_repeaters) {
        for (int k = 0; k < kSdsHaDelivered; ++k) {
            EXPECT_EQ(mc->by_text["delivered-" + std::to_string(k)], 1) << k;
        }
        for (int k = 0; k < kSdsHaQueued; ++k) {
            EXPECT_EQ(mc->by_text["queued-" + std::to_string(k)], 1) << k;
            auto it = at_repeaters.find("mc-to-lmr-" + std::to_string(k));
            EXPECT_EQ(it == at_repeaters.end() ? 0 : it->second, 1) << k;
        }
        EXPECT_EQ(mc->by_text.size(), static_cast<std::size_t>(kSdsHaDelivered + kSdsHaQueued));
        EXPECT_EQ(mc->by_id.size(), static_cast<std::size_t>(kSdsHaDelivered + kSdsHaQueued));
        for (const auto& [id, n] : mc->by_id) {
            EXPECT_EQ(n, 1) << "message ID " << id << " accepted " << n << " times";
        }
        EXPECT_EQ(at_repeaters.size(), static_cast<std::size_t>(kSdsHaQueued));
    }

    std::string db;
    SdsHaInstance a;
    SdsHaInstance b;
    asio::io_context io;
    metrics::Registry reg;
    std::unique_ptr<SdsHaMcSystem> mc;  // destroyed before io and reg
};

TEST_F(SdsFailover, KilledOwnersQueueIsDeliveredOnceByTheNewOwner) {
    mc = std::make_unique<SdsHaMcSystem>(io, reg);
    ASSERT_NO_FATAL_FAILURE(startPair());
    iwf::test::HbpRawPeer rpt_a;
    ASSERT_NO_FATAL_FAILURE(queueAtA(rpt_a));
    std::map<std::string, int> at_repeaters = sdsHaRepeaterMessages(rpt_a, 0ms);

    a.iwfd.signal(SIGKILL);
    ASSERT_TRUE(a.iwfd.waitExit(10s).has_value() || !a.iwfd.running());
    // What the dead process had sent, unanswered, reaches the MC system before it answers.
    sdsHaPump(
        io, [] { return false; }, 500ms);
    mc->answer = true;
    ASSERT_TRUE(waitFor([&] { return role(b) == "active"; }, 20s, 10ms)) << b.iwfd.log();
    iwf::test::HbpRawPeer rpt_b;
    ASSERT_TRUE(rpt_b.login(b.hbp_port, kSdsHaRepeater2, "ha-sds")) << b.iwfd.log();
    ASSERT_TRUE(sdsHaPump(
        io,
        [&] {
            return mc->by_text.size() >= static_cast<std::size_t>(kSdsHaDelivered + kSdsHaQueued);
        },
        30s))
        << a.iwfd.log() << "\n--- B ---\n"
        << b.iwfd.log();
    for (const auto& [text, n] : sdsHaRepeaterMessages(rpt_b, 3s)) {
        at_repeaters[text] += n;
    }
    // Let a second delivery of anything show up before counting (B retries every 2 s).
    sdsHaPump(
        io, [] { return false; }, 2500ms);
    for (const auto& [text, n] : sdsHaRepeaterMessages(rpt_b, 0ms)) {
        at_repeaters[text] += n;
    }
    expectEachOnce(at_repeaters);
    EXPECT_EQ(mc->accepted_from[b.sip_port], kSdsHaQueued) << b.iwfd.log();
    EXPECT_GE(metric(b, "iwf_messages_redelivered_total"), 2 * kSdsHaQueued);
}

TEST_F(SdsFailover, FrozenOwnerSendsNoneOfItsQueueAfterTheTakeover) {
    mc = std::make_unique<SdsHaMcSystem>(io, reg);
    ASSERT_NO_FATAL_FAILURE(startPair());
    iwf::test::HbpRawPeer rpt_a;
    ASSERT_NO_FATAL_FAILURE(queueAtA(rpt_a));
    std::map<std::string, int> at_repeaters = sdsHaRepeaterMessages(rpt_a, 0ms);

    a.iwfd.signal(SIGSTOP);
    ASSERT_TRUE(waitFor([&] { return role(b) == "active"; }, 20s, 10ms)) << b.iwfd.log();
    // B delivers A's queue: the MC system answers B (A's MESSAGEs, should any come, stay
    // unanswered and are counted), and a repeater logs in to B.
    mc->answer_from.insert(b.sip_port);
    iwf::test::HbpRawPeer rpt_b;
    ASSERT_TRUE(rpt_b.login(b.hbp_port, kSdsHaRepeater2, "ha-sds")) << b.iwfd.log();
    ASSERT_TRUE(sdsHaPump(
        io,
        [&] {
            return mc->by_text.size() >= static_cast<std::size_t>(kSdsHaDelivered + kSdsHaQueued);
        },
        30s))
        << b.iwfd.log();
    for (const auto& [text, n] : sdsHaRepeaterMessages(rpt_b, 3s)) {
        at_repeaters[text] += n;
    }
    // A wakes up: its SIP transactions and its 2 s retry timer are overdue. From now on the
    // MC system answers whoever sends, so a MESSAGE from A would be a second delivery.
    const int a_before = mc->seen_from[a.sip_port];
    sdsHaPump(
        io, [] { return false; }, 300ms);
    const int a_datagrams_before = mc->datagrams_from[a.sip_port];
    mc->answer = true;
    a.iwfd.signal(SIGCONT);
    ASSERT_TRUE(waitFor([&] { return role(a) == "fenced"; }, 20s)) << a.iwfd.log();
    // The repeater logs in to A again (a fenced instance keeps its links' sockets, docs/ha.md).
    EXPECT_TRUE(rpt_a.login(a.hbp_port, kSdsHaRepeater, "ha-sds")) << a.iwfd.log();
    // A's retry period (2 s) passes, and its overdue SIP retransmissions come at once.
    sdsHaPump(
        io, [] { return false; }, 3s);
    for (const auto& [text, n] : sdsHaRepeaterMessages(rpt_a, 0ms)) {
        at_repeaters[text] += n;
    }
    for (const auto& [text, n] : sdsHaRepeaterMessages(rpt_b, 0ms)) {
        at_repeaters[text] += n;
    }
    // Not a single SIP datagram from the old owner after the takeover (docs/ha.md "Never two
    // owners"): its overdue MESSAGE retransmissions are dropped by its send gate.
    std::printf("after SIGCONT: %d SIP datagrams from the old owner reached the MC system\n",
                mc->datagrams_from[a.sip_port] - a_datagrams_before);
    EXPECT_EQ(mc->datagrams_from[a.sip_port], a_datagrams_before)
        << "the old owner sent SIP datagrams after the takeover\n"
        << a.iwfd.log();
    EXPECT_EQ(mc->seen_from[a.sip_port], a_before)
        << "the old owner sent MESSAGEs after the takeover\n"
        << a.iwfd.log();
    expectEachOnce(at_repeaters);
    EXPECT_EQ(mc->accepted_from[b.sip_port], kSdsHaQueued);
    EXPECT_EQ(role(b), "active");
}

}  // namespace
}  // namespace iwf::mc::mcdata
