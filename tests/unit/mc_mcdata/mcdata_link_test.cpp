// The mcdata-iwf2 link against a SIP stack playing the MCData server, over real UDP on
// 127.0.0.1 (ports bound to 0). Waits are conditions with deadlines.
#include "mc_adapters/mcdata/mcdata_link.hpp"

#include <functional>
#include <optional>
#include <vector>

#include <gtest/gtest.h>

#include "common/clock.hpp"
#include "common/config_node.hpp"
#include "mc_adapters/mcdata/sds_sip.hpp"
#include "mc_adapters/security/interworking_data.hpp"
#include "sip/multipart.hpp"
#include "sip/stack.hpp"

namespace {

using namespace iwf;
using namespace iwf::mc::mcdata;

// Records events; plays the engine's part of DataReceipt when `outcome` is set.
struct Sink : EventSink {
    std::vector<Event> events;
    std::optional<DataReceipt> outcome;
    void onEvent(const LinkId&, Event&& e) override {
        if (auto* d = std::get_if<DataMessage>(&e); d && d->receipt && outcome) {
            *d->receipt = *outcome;
        }
        events.push_back(std::move(e));
    }
};

bool runUntil(asio::io_context& io, const std::function<bool()>& pred) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!pred() && std::chrono::steady_clock::now() < end) {
        io.run_one_for(std::chrono::milliseconds(20));
    }
    return pred();
}

struct Fixture : ::testing::Test {
    asio::io_context io;
    metrics::Registry reg;
    ManualClock clock;
    LinkContext ctx{io, reg, clock};
    std::unique_ptr<sip::Stack> server;
    std::unique_ptr<McDataLink> link;
    Sink sink;
    std::vector<sip::Message> at_server;
    int server_status = 200;

    void SetUp() override {
        sip::StackConfig sc;
        sc.name = "mc-server";
        sc.listeners.push_back(sip::ListenerConfig{});
        server = std::make_unique<sip::Stack>(io, reg, sc);
        server->onRequest([this](sip::ServerTxId tx, const sip::Message& req, const sip::Peer&) {
            at_server.push_back(req);
            (void)server->respond(tx,
                                  sip::makeResponse(req, server_status, "OK", server->newTag()));
        });
        ASSERT_TRUE(server->start().ok());
        McDataLinkConfig cfg;
        cfg.name = "iwf2";
        cfg.peer.address = asio::ip::make_address("127.0.0.1");
        cfg.peer.port = server->port(sip::Protocol::Udp);
        cfg.request_uri = "sip:mcdata@mc.example";
        cfg.iwf_psi = "sip:iwf@iwf.example";
        iwf::mc::peers::PeerConfig peer;
        peer.name = "mcdata-server";
        peer.address = cfg.peer.address;
        peer.port = cfg.peer.port;
        peer.domains = {"mc.example"};
        cfg.peers = {peer};
        link = std::make_unique<McDataLink>(cfg, ctx);
        ASSERT_TRUE(link->start(sink).ok());
    }

    sip::Peer linkPeer() const {
        sip::Peer p;
        p.address = asio::ip::make_address("127.0.0.1");
        p.port = link->sipPort();
        return p;
    }

    // Sends a MESSAGE from the server to the link and returns the final status.
    int sendToLink(sip::Message m) {
        m.setHeader("From", "<sip:mcdata@mc.example>;tag=" + server->newTag());
        m.setHeader("To", "<" + m.requestUri() + ">");
        m.setHeader("Call-ID", server->newCallId());
        m.setHeader("CSeq", "1 " + m.method());
        int status = 0;
        server->sendRequest(std::move(m), linkPeer(), [&](const sip::Message& rsp) {
            if (rsp.status() >= 200) {
                status = rsp.status();
                last_warning = rsp.header("Warning").value_or("");
            }
        });
        EXPECT_TRUE(runUntil(io, [&] { return status != 0; }));
        return status;
    }
    std::string last_warning;
};

TEST_F(Fixture, SdsFromMcBecomesDataMessageAndIsNeverClaimedDelivered) {
    SdsSipMessage m;
    m.env.request_uri = "sip:lmr-1001@iwf.example";
    m.env.sender = "sip:alice@mc.example";
    m.env.target = "sip:lmr-1001@iwf.example";
    SdsSignalling s;
    s.conversation_id[0] = 0xC0;
    s.message_id[0] = 0x11;
    s.disposition = DispositionRequest::Delivery;
    m.signalling = s;
    const Bytes blob = {0x00, 0xE2, 0xEE, 0x0D, 0x0A, 0xFF};  // opaque, maybe LMR-encrypted
    m.payload = DataPayload{{Payload{content_type::kBinary, blob}}};
    auto msg = buildSdsMessage(m);
    ASSERT_TRUE(msg.ok());
    EXPECT_EQ(sendToLink(*msg), 200);
    ASSERT_EQ(sink.events.size(), 1u);
    const auto& d = std::get<DataMessage>(sink.events[0]);
    EXPECT_EQ(d.from, Address{McId{"sip:alice@mc.example"}});
    EXPECT_EQ(d.to, Address{McId{"sip:lmr-1001@iwf.example"}});
    EXPECT_EQ(d.payload, blob);
    EXPECT_EQ(d.message_id, toString(s.message_id));
    // The notification goes back to the MCData server, and it does not claim delivery: no
    // LMR bearer confirms one (issue #21).
    ASSERT_TRUE(runUntil(io, [&] { return at_server.size() == 1; }));
    auto back = parseSdsMessage(at_server[0]);
    ASSERT_TRUE(back.ok()) << back.error().toString();
    const auto& n = std::get<SdsNotification>(back->signalling);
    EXPECT_EQ(n.disposition, DispositionNotification::DispositionPreventedBySystem);
    EXPECT_EQ(n.message_id, s.message_id);
    EXPECT_EQ(n.conversation_id, s.conversation_id);
    EXPECT_EQ(back->env.target, "sip:alice@mc.example");

    // The LMR user's reply continues the stored conversation with a fresh message ID.
    DataMessage reply;
    reply.from = McId{"sip:lmr-1001@iwf.example"};
    reply.to = McId{"sip:alice@mc.example"};
    reply.payload = {1, 2, 3};
    ASSERT_TRUE(link->deliver(Event{reply}).ok());
    ASSERT_TRUE(runUntil(io, [&] { return at_server.size() == 2; }));
    auto r = parseSdsMessage(at_server[1]);
    ASSERT_TRUE(r.ok()) << r.error().toString();
    const auto& rs = std::get<SdsSignalling>(r->signalling);
    EXPECT_EQ(rs.conversation_id, s.conversation_id);
    EXPECT_NE(rs.message_id, s.message_id);
    EXPECT_EQ(r->payload->payloads.at(0).data, reply.payload);
    EXPECT_EQ(at_server[1].header("P-Asserted-Identity").value_or(""), "<sip:iwf@iwf.example>");
}

TEST_F(Fixture, DataMessageFromLmrToGroupAndSecurityMessagesBothWays) {
    DataMessage d;
    d.from = McId{"sip:lmr-2002@iwf.example"};
    d.to = McGroupId{"sip:fleet-7@mc.example"};
    d.payload = Bytes(1000, 0xA5);
    ASSERT_TRUE(link->deliver(Event{d}).ok());
    ASSERT_TRUE(link->deliver(Event{d}).ok());
    ASSERT_TRUE(runUntil(io, [&] { return at_server.size() == 2; }));
    auto a = parseSdsMessage(at_server[0]);
    auto b = parseSdsMessage(at_server[1]);
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_TRUE(a->env.group);
    EXPECT_EQ(a->env.target, "sip:fleet-7@mc.example");
    EXPECT_EQ(a->payload->payloads.at(0).data, d.payload);
    const auto& sa = std::get<SdsSignalling>(a->signalling);
    const auto& sb = std::get<SdsSignalling>(b->signalling);
    EXPECT_EQ(sa.conversation_id, sb.conversation_id);  // same pair: same conversation
    EXPECT_NE(sa.message_id, sb.message_id);            // always a fresh message ID

    SecurityMessage sec;
    sec.from = McId{"sip:kmf@lmr.example"};
    sec.to = McId{"sip:alice@mc.example"};
    sec.payload = {0x00, 0x0D, 0x0A, 0x2D, 0x2D, 0xFF};
    ASSERT_TRUE(link->deliver(Event{sec}).ok());
    ASSERT_TRUE(runUntil(io, [&] { return at_server.size() == 3; }));
    auto ps = iwf::mc::security::parseSecurityMessage(at_server[2]);
    ASSERT_TRUE(ps.ok()) << ps.error().toString();
    EXPECT_EQ(ps->payload, sec.payload);
    EXPECT_EQ(ps->target_id, "sip:alice@mc.example");

    iwf::mc::security::SecurityRequest in;
    in.request_uri = "sip:iwf@iwf.example";
    in.from_uri = "sip:alice@mc.example";
    in.target_id = "sip:kmf-user@iwf.example";
    in.iwf_psi = "sip:alice@mc.example";
    in.payload = {9, 8, 7, 0};
    EXPECT_EQ(sendToLink(iwf::mc::security::buildSecurityMessage(in)), 200);
    ASSERT_EQ(sink.events.size(), 1u);
    const auto& se = std::get<SecurityMessage>(sink.events[0]);
    EXPECT_EQ(se.payload, in.payload);
    EXPECT_EQ(se.to, Address{McId{"sip:kmf-user@iwf.example"}});
    EXPECT_EQ(se.from, Address{McId{"sip:alice@mc.example"}});
    EXPECT_EQ(reg.counterValue("iwf_mc_mcdata_rx_total", {{"link", "iwf2"}, {"kind", "security"}}),
              1u);
}

TEST_F(Fixture, BadMessagesGet4xxWithWarningAndAreCounted) {
    sip::Message text = sip::Message::request("MESSAGE", "sip:x@iwf.example");
    text.setBody("hello", "text/plain");
    EXPECT_EQ(sendToLink(text), 415);
    EXPECT_NE(last_warning.find("unsupported_body"), std::string::npos);

    sip::Message broken = sip::Message::request("MESSAGE", "sip:x@iwf.example");
    broken.setBody(std::string("\x01\x00", 2), kSignallingContentType);
    EXPECT_EQ(sendToLink(broken), 400);
    EXPECT_NE(last_warning.find("truncated"), std::string::npos);

    sip::Message info = sip::Message::request("INFO", "sip:x@iwf.example");
    EXPECT_EQ(sendToLink(info), 405);
    EXPECT_TRUE(sink.events.empty());
    EXPECT_EQ(reg.counterSum("iwf_mc_mcdata_dropped_total"), 3u);

    DataMessage bad;
    bad.from = DmrUnit{1};
    bad.to = McId{"sip:a@b"};
    EXPECT_EQ(link->deliver(Event{bad}).error().reason, "sender_not_mc_id");
    bad.from = McId{"sip:a@b"};
    bad.to = DmrGroup{9};
    EXPECT_EQ(link->deliver(Event{bad}).error().reason, "recipient_not_mc_address");
    EXPECT_EQ(link->deliver(Event{FloorIdle{}}).error().reason, "unsupported_event");
    link->stop();
    EXPECT_EQ(link->deliver(Event{bad}).error().reason, "link_not_started");
}

// Issue #21: the answer to an SDS is what became of it. The engine's DataReceipt (played by
// the sink here) decides the final response; a delivery disposition request gets UNDELIVERED
// after a refusal and never DELIVERED after a hand-over no LMR bearer confirms.
TEST_F(Fixture, TheAnswerToAnSdsIsWhatBecameOfIt) {
    auto sds = [](const std::string& sender, std::uint8_t id) {
        SdsSipMessage m;
        m.env.request_uri = "sip:lmr-1001@iwf.example";
        m.env.sender = sender;
        m.env.target = "sip:lmr-1001@iwf.example";
        SdsSignalling s;
        s.message_id[0] = id;
        s.disposition = DispositionRequest::Delivery;
        m.signalling = s;
        m.payload = DataPayload{{Payload{content_type::kBinary, {1, 2, 3}}}};
        return *buildSdsMessage(m);
    };
    auto notified = [&](std::size_t n) {
        EXPECT_TRUE(runUntil(io, [&] { return at_server.size() == n; }));
        auto back = parseSdsMessage(at_server.at(n - 1));
        EXPECT_TRUE(back.ok());
        return std::get<SdsNotification>(back->signalling).disposition;
    };
    struct Case {
        DataReceipt receipt;
        int status;
        DispositionNotification notification;
    };
    const std::vector<Case> cases = {
        {{DataReceipt::Outcome::Refused, "unknown_callee"},
         404,
         DispositionNotification::Undelivered},
        {{DataReceipt::Outcome::Refused, "unmapped_sender"},
         403,
         DispositionNotification::Undelivered},
        {{DataReceipt::Outcome::Refused, "no_link"}, 480, DispositionNotification::Undelivered},
        {{DataReceipt::Outcome::NotDelivered, "no_peer"},
         480,
         DispositionNotification::Undelivered},
        {{DataReceipt::Outcome::Sent, ""},
         200,
         DispositionNotification::DispositionPreventedBySystem},
    };
    std::uint8_t id = 1;
    for (const auto& c : cases) {
        sink.outcome = c.receipt;
        EXPECT_EQ(sendToLink(sds("sip:alice@mc.example", id)), c.status) << c.receipt.reason;
        EXPECT_EQ(notified(id), c.notification) << c.receipt.reason;
        ++id;
    }
    EXPECT_EQ(sink.events.size(), cases.size());
    // A sender outside the peer's domains never reaches the engine.
    EXPECT_EQ(sendToLink(sds("sip:mallory@evil.example", id)), 403);
    EXPECT_EQ(sink.events.size(), cases.size());
    EXPECT_EQ(link->refusals(iwf::mc::peers::Refusal::Domain), 1u);
    EXPECT_EQ(reg.counterValue("iwf_mc_peer_refused_total",
                               {{"link", "iwf2"}, {"reason", "identity_domain"}}),
              1u);
}

// A MESSAGE from another host is dropped unparsed and unanswered: the sender's transaction
// times out, nothing reaches the engine, the refusal is counted without the source as label.
TEST_F(Fixture, MessageFromAnotherHostIsDroppedUnanswered) {
    sip::StackConfig sc;
    sc.name = "intruder";
    sc.listeners = {{sip::Protocol::Udp, "127.0.0.2", 0, {}}};
    sc.timers.t1 = std::chrono::milliseconds(10);
    sip::Stack intruder(io, reg, sc);
    ASSERT_TRUE(intruder.start().ok());
    SdsSipMessage m;
    m.env.request_uri = "sip:lmr-1001@iwf.example";
    m.env.sender = "sip:alice@mc.example";
    m.env.target = "sip:lmr-1001@iwf.example";
    m.signalling = SdsSignalling{};
    m.payload = DataPayload{{Payload{content_type::kBinary, {1}}}};
    sip::Message msg = *buildSdsMessage(m);
    msg.setHeader("From", "<sip:alice@mc.example>;tag=x");
    msg.setHeader("To", "<sip:lmr-1001@iwf.example>");
    msg.setHeader("Call-ID", intruder.newCallId());
    msg.setHeader("CSeq", "1 MESSAGE");
    int status = 0;
    intruder.sendRequest(msg, linkPeer(), [&](const sip::Message& r) {
        if (r.status() >= 200) {
            status = r.status();
        }
    });
    ASSERT_TRUE(runUntil(io, [&] { return status != 0; }));
    EXPECT_EQ(status, 408);  // the intruder's own timeout: the link never answered
    EXPECT_TRUE(sink.events.empty());
    EXPECT_GE(link->refusals(iwf::mc::peers::Refusal::NotAPeer), 1u);
    EXPECT_GE(
        reg.counterValue("iwf_mc_peer_refused_total", {{"link", "iwf2"}, {"reason", "not_a_peer"}}),
        1u);
}

TEST(McDataLinkConfig, RegisteredAndValidatesWithFileLineField) {
    LinkRegistry reg;
    iwf::mc::registerMcDataLinkTypes(reg);
    const LinkType* t = reg.find("mcdata-iwf2");
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->side, Side::Mc);
    auto good = ConfigNode::loadString(
        "name: iwf2\ntype: mcdata-iwf2\nlisten: {protocol: udp, port: 0}\n"
        "peer: {address: 127.0.0.1, port: 5080}\nrequest_uri: sip:mcdata@mc.example\n"
        "iwf_psi: sip:iwf@iwf.example\ndisposition: delivery\n"
        "peers: [{address: 127.0.0.1, domains: [mc.example]}]\n",
        "links.yaml");
    EXPECT_NO_THROW(t->validate(good));
    auto cfg = parseMcDataLinkConfig(good);
    EXPECT_EQ(cfg.peer.port, 5080);
    EXPECT_EQ(cfg.disposition, DispositionRequest::Delivery);
    auto bad = ConfigNode::loadString(
        "name: iwf2\ntype: mcdata-iwf2\nlisten: {port: 0}\npeer: {address: 127.0.0.1}\n"
        "request_uri: sip:x\niwf_psi: sip:y\n",
        "links.yaml");
    try {
        t->validate(bad);
        FAIL() << "expected ConfigError";
    } catch (const ConfigError& e) {
        EXPECT_EQ(e.file(), "links.yaml");
        EXPECT_EQ(e.line(), 4);
        EXPECT_NE(e.field().find("port"), std::string::npos);
    }
    auto bad_uri = ConfigNode::loadString(
        "name: iwf2\ntype: mcdata-iwf2\nlisten: {port: 0}\npeer: {address: 127.0.0.1, port: 1}\n"
        "request_uri: http://x\niwf_psi: sip:y\n"
        "peers: [{address: 127.0.0.1, domains: [mc.example]}]\n",
        "links.yaml");
    EXPECT_THROW(t->validate(bad_uri), ConfigError);
    // `transport` (the mcptt-iwf1 spelling) works too; both at once is refused.
    auto transport = ConfigNode::loadString(
        "name: iwf2\ntype: mcdata-iwf2\nlisten: {transport: tcp, port: 0}\n"
        "peer: {transport: tcp, address: 127.0.0.1, port: 5080}\n"
        "request_uri: sip:mcdata@mc.example\niwf_psi: sip:iwf@iwf.example\n"
        "peers: [{address: 127.0.0.1, domains: [mc.example]}]\n",
        "links.yaml");
    EXPECT_EQ(parseMcDataLinkConfig(transport).peer.protocol, sip::Protocol::Tcp);
    auto both = ConfigNode::loadString(
        "name: iwf2\ntype: mcdata-iwf2\nlisten: {transport: udp, protocol: udp, port: 0}\n"
        "peer: {address: 127.0.0.1, port: 5080}\nrequest_uri: sip:m@mc.example\n"
        "iwf_psi: sip:i@iwf.example\n",
        "links.yaml");
    try {
        t->validate(both);
        FAIL() << "expected ConfigError";
    } catch (const ConfigError& e) {
        EXPECT_EQ(e.line(), 3);
        EXPECT_NE(e.field().find("protocol"), std::string::npos);
    }
}

}  // namespace
