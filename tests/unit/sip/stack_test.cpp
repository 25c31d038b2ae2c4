#include "sip/stack.hpp"

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>

#include <gtest/gtest.h>

#include "common/asio.hpp"
#include "common/metrics.hpp"
#include "sip/dialog.hpp"
#include "tests/support/io_wait.hpp"

namespace iwf::sip {
namespace {

using namespace std::chrono_literals;

// A self-signed certificate (its own CA) generated with openssl at test time, naming `name`
// and 127.0.0.1 (a client verifies the address it connects to when no peer_name is set).
struct Cert {
    std::string cert;
    std::string key;
};
Cert makeCert(const std::string& name) {
    auto dir =
        std::filesystem::temp_directory_path() / ("iwf-sip-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    Cert c{(dir / (name + ".crt")).string(), (dir / (name + ".key")).string()};
    if (!std::filesystem::exists(c.cert)) {
        const std::string cmd =
            "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
            "-nodes -days 1 -subj /CN=" +
            name + " -addext subjectAltName=DNS:" + name + ",IP:127.0.0.1 -keyout " + c.key +
            " -out " + c.cert + " >/dev/null 2>&1";
        EXPECT_EQ(std::system(cmd.c_str()), 0);
    }
    return c;
}

StackConfig config(const std::string& name, Protocol p, const Cert* cert = nullptr,
                   const Cert* trust = nullptr, bool mutual = false) {
    StackConfig cfg;
    cfg.name = name;
    ListenerConfig l;
    l.protocol = p;
    if (p == Protocol::Tls && cert != nullptr) {
        l.tls.cert_file = cert->cert;
        l.tls.key_file = cert->key;
        l.tls.ca_file = trust != nullptr ? trust->cert : "";
        l.tls.require_client_cert = mutual;
    }
    cfg.listeners.push_back(l);
    cfg.timers.t1 = 20ms;
    cfg.timers.t2 = 80ms;
    cfg.timers.t4 = 100ms;
    cfg.timers.timer_d = 200ms;
    return cfg;
}

Message newInvite(Stack& from, const Stack& to, Protocol p) {
    Message m = Message::request("INVITE", to.contactUri("uas", p));
    m.addHeader("From", "<sip:uac@test>;tag=" + from.newTag());
    m.addHeader("To", "<sip:uas@test>");
    m.addHeader("Call-ID", from.newCallId());
    m.addHeader("CSeq", "1 INVITE");
    m.addHeader("Contact", "<" + from.contactUri("uac", p) + ">");
    return m;
}

Peer peerOf(const Stack& s, Protocol p) {
    return {p, asio::ip::make_address("127.0.0.1"), s.port(p)};
}

class StackCall : public ::testing::TestWithParam<Protocol> {};

TEST_P(StackCall, InviteAckByeBetweenTwoStacks) {
    const Protocol p = GetParam();
    Cert cert = makeCert("both");
    asio::io_context io;
    metrics::Registry reg;
    Stack uac(io, reg, config("uac", p, &cert, &cert));
    Stack uas(io, reg, config("uas", p, &cert, &cert, true));
    ASSERT_TRUE(uas.start().ok());
    ASSERT_TRUE(uac.start().ok());

    std::optional<Dialog> uas_dialog;
    bool got_ack = false;
    bool got_bye = false;
    uas.onRequest([&](ServerTxId tx, const Message& req, const Peer& from) {
        if (req.method() == "INVITE") {
            auto d = Dialog::asUas(req, uas.newTag(), from);
            ASSERT_TRUE(uas.respond(tx, makeResponse(req, 180, {}, d.localTag())).ok());
            Message ok = makeResponse(req, 200, {}, d.localTag());
            ok.addHeader("Contact", "<" + uas.contactUri("uas", p) + ">");
            ASSERT_TRUE(uas.respond(tx, ok).ok());
            uas_dialog = d;
        } else if (req.method() == "BYE") {
            got_bye = uas_dialog && Dialog::idOfIncoming(req) == uas_dialog->id();
            ASSERT_TRUE(uas.respond(tx, makeResponse(req, 200, {})).ok());
        }
    });
    uas.onAck([&](const Message& ack, const Peer&) { got_ack = ack.cseqNumber() == 1; });

    Message invite = newInvite(uac, uas, p);
    std::vector<int> statuses;
    std::optional<Dialog> uac_dialog;
    uac.sendRequest(invite, peerOf(uas, p), [&](const Message& rsp) {
        statuses.push_back(rsp.status());
        if (rsp.status() == 200) {
            uac_dialog = Dialog::asUac(invite, rsp, peerOf(uas, p));
            uac.sendAck(uac_dialog->makeAck(1), uac_dialog->peer());
        }
    });
    ASSERT_TRUE(iwf::test::runIoUntil(io, [&] { return got_ack; }));
    ASSERT_TRUE(uac_dialog.has_value());
    EXPECT_EQ(uac_dialog->remoteTag(), uas_dialog->localTag());
    EXPECT_EQ(uac_dialog->remoteTarget(), uas.contactUri("uas", p));
    EXPECT_EQ(statuses.back(), 200);

    int bye_status = 0;
    uac.sendRequest(uac_dialog->makeRequest("BYE"), uac_dialog->peer(),
                    [&](const Message& rsp) { bye_status = rsp.status(); });
    ASSERT_TRUE(iwf::test::runIoUntil(io, [&] { return bye_status == 200; }));
    EXPECT_TRUE(got_bye);
    EXPECT_EQ(uac_dialog->localCseq(), 2u);
}

INSTANTIATE_TEST_SUITE_P(Transports, StackCall,
                         ::testing::Values(Protocol::Udp, Protocol::Tcp, Protocol::Tls));

struct RawUdp {
    asio::ip::udp::socket sock;
    explicit RawUdp(asio::io_context& io)
        : sock(io, asio::ip::udp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {}
    void sendTo(std::uint16_t port, const std::string& s) {
        sock.send_to(asio::buffer(s),
                     asio::ip::udp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    }
};

TEST(Stack, MalformedRequestGets400WithWarningAndGarbageIsDropped) {
    asio::io_context io;
    metrics::Registry reg;
    Stack uas(io, reg, config("uas", Protocol::Udp));
    int requests = 0;
    uas.onRequest([&](ServerTxId, const Message&, const Peer&) { ++requests; });
    ASSERT_TRUE(uas.start().ok());
    RawUdp raw(io);
    raw.sendTo(uas.port(Protocol::Udp),
               "OPTIONS sip:uas@127.0.0.1 SIP/2.0\r\n"
               "Via: SIP/2.0/UDP 127.0.0.1:1;branch=z9hG4bKbad1\r\n"
               "From: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\nCall-ID: bad1\r\n"
               "CSeq: notanumber OPTIONS\r\nContent-Length: 0\r\n\r\n");
    std::string reply(65536, '\0');
    asio::ip::udp::endpoint from;
    std::size_t n = 0;
    raw.sock.async_receive_from(asio::buffer(reply), from,
                                [&](const boost::system::error_code& ec, std::size_t len) {
                                    if (!ec) {
                                        n = len;
                                    }
                                });
    ASSERT_TRUE(iwf::test::runIoUntil(io, [&] { return n > 0; }));
    auto rsp = parseMessage(std::string_view(reply.data(), n));
    ASSERT_TRUE(rsp.ok());
    EXPECT_EQ(rsp->status(), 400);
    EXPECT_NE(rsp->header("Warning").value_or("").find("CSeq"), std::string::npos);
    EXPECT_EQ(rsp->callId(), "bad1");
    EXPECT_EQ(reg.counterSum("iwf_sip_rejected_total"), 1u);

    // A CSeq method that does not match the request: parseable, still a fault.
    raw.sendTo(uas.port(Protocol::Udp),
               "OPTIONS sip:uas@127.0.0.1 SIP/2.0\r\n"
               "Via: SIP/2.0/UDP 127.0.0.1:1;branch=z9hG4bKbad2\r\n"
               "From: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\nCall-ID: bad2\r\n"
               "CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n");
    n = 0;
    raw.sock.async_receive_from(asio::buffer(reply), from,
                                [&](const boost::system::error_code& ec, std::size_t len) {
                                    if (!ec) {
                                        n = len;
                                    }
                                });
    ASSERT_TRUE(iwf::test::runIoUntil(io, [&] { return n > 0; }));
    auto rsp2 = parseMessage(std::string_view(reply.data(), n));
    ASSERT_TRUE(rsp2.ok());
    EXPECT_EQ(rsp2->status(), 400);
    EXPECT_NE(rsp2->header("Warning").value_or("").find("CSeq method mismatch"), std::string::npos);

    raw.sendTo(uas.port(Protocol::Udp), "\x01\x02garbage\r\n\r\n");
    ASSERT_TRUE(
        iwf::test::runIoUntil(io, [&] { return reg.counterSum("iwf_sip_dropped_total") == 1; }));
    EXPECT_EQ(requests, 0);
}

TEST(Stack, UdpInviteToSilentPeerRetransmitsThenTimesOutWith408) {
    asio::io_context io;
    metrics::Registry reg;
    Stack uac(io, reg, config("uac", Protocol::Udp));
    ASSERT_TRUE(uac.start().ok());
    RawUdp silent(io);
    int received = 0;
    std::array<char, 65536> buf{};
    asio::ip::udp::endpoint from;
    std::function<void()> receive = [&] {
        silent.sock.async_receive_from(asio::buffer(buf), from,
                                       [&](const boost::system::error_code& ec, std::size_t) {
                                           if (!ec) {
                                               ++received;
                                               receive();
                                           }
                                       });
    };
    receive();
    Peer to{Protocol::Udp, asio::ip::make_address("127.0.0.1"),
            silent.sock.local_endpoint().port()};
    Stack dummy(io, reg, config("dummy", Protocol::Udp));
    ASSERT_TRUE(dummy.start().ok());
    int final_status = 0;
    uac.sendRequest(newInvite(uac, dummy, Protocol::Udp), to,
                    [&](const Message& rsp) { final_status = rsp.status(); });
    ASSERT_TRUE(iwf::test::runIoUntil(io, [&] { return final_status != 0; }));
    EXPECT_EQ(final_status, 408);
    EXPECT_GT(received, 1);  // Timer A fired at least once
    EXPECT_GT(reg.counterValue("iwf_sip_retransmissions_sent_total", {{"stack", "uac"}}), 0u);
    EXPECT_EQ(reg.counterValue("iwf_sip_transaction_timeouts_total",
                               {{"stack", "uac"}, {"reason", "timer_b"}}),
              1u);
    EXPECT_EQ(uac.clientTransactions(), 0u);
}

// Each timeout reason is exported at 0 from the start: increase() in the dashboards and the
// IwfSipTransactionTimeouts alert (configs/monitoring/) cannot see the first timeout of a
// series that is born at 1.
TEST(Stack, TransactionTimeoutCountersStartAtZero) {
    asio::io_context io;
    metrics::Registry reg;
    Stack s(io, reg, config("fresh", Protocol::Udp));
    const std::string text = reg.renderPrometheus();
    for (const char* reason : {"timer_b", "timer_f", "timer_h", "no_ack_for_2xx"}) {
        EXPECT_NE(
            text.find(std::string("iwf_sip_transaction_timeouts_total{stack=\"fresh\",reason=\"") +
                      reason + "\"} 0"),
            std::string::npos)
            << reason << "\n"
            << text;
    }
}

TEST(Stack, CancelPendingInviteGives487AndCancelHandler) {
    asio::io_context io;
    metrics::Registry reg;
    Stack uac(io, reg, config("uac", Protocol::Udp));
    Stack uas(io, reg, config("uas", Protocol::Udp));
    bool cancelled = false;
    uas.onRequest([&](ServerTxId tx, const Message& req, const Peer&) {
        (void)uas.respond(tx, makeResponse(req, 180, {}, "t1"));
    });
    uas.onCancel(
        [&](ServerTxId, const Message& invite) { cancelled = invite.method() == "INVITE"; });
    ASSERT_TRUE(uas.start().ok());
    ASSERT_TRUE(uac.start().ok());
    int final_status = 0;
    ClientTxId id = 0;
    id = uac.sendRequest(newInvite(uac, uas, Protocol::Udp), peerOf(uas, Protocol::Udp),
                         [&](const Message& rsp) {
                             if (rsp.status() == 180) {
                                 uac.cancel(id);
                             } else if (rsp.status() >= 200) {
                                 final_status = rsp.status();
                             }
                         });
    ASSERT_TRUE(iwf::test::runIoUntil(io, [&] { return final_status != 0 && cancelled; }));
    EXPECT_EQ(final_status, 487);
}

TEST(Stack, MutualTlsRefusesAnUntrustedClient) {
    Cert server_cert = makeCert("server");
    Cert stranger = makeCert("stranger");
    asio::io_context io;
    metrics::Registry reg;
    Stack uas(io, reg, config("uas", Protocol::Tls, &server_cert, &server_cert, true));
    Stack uac(io, reg, config("uac", Protocol::Tls, &stranger, &server_cert));
    int requests = 0;
    uas.onRequest([&](ServerTxId, const Message&, const Peer&) { ++requests; });
    ASSERT_TRUE(uas.start().ok());
    ASSERT_TRUE(uac.start().ok());
    int final_status = 0;
    uac.sendRequest(newInvite(uac, uas, Protocol::Tls), peerOf(uas, Protocol::Tls),
                    [&](const Message& rsp) { final_status = rsp.status(); });
    ASSERT_TRUE(iwf::test::runIoUntil(io, [&] { return final_status != 0; }));
    EXPECT_EQ(final_status, 503);
    EXPECT_EQ(requests, 0);
}

TEST(StreamFramer, CutsMessagesAndRejectsBrokenStreams) {
    StreamFramer f;
    std::string out;
    f.append("\r\nOPTIONS sip:a SIP/2.0\r\nl: 3\r\n\r\nab");
    EXPECT_EQ(f.next(out), StreamFramer::Next::None);
    f.append("cINVITE");
    ASSERT_EQ(f.next(out), StreamFramer::Next::Message);
    EXPECT_EQ(out, "OPTIONS sip:a SIP/2.0\r\nl: 3\r\n\r\nabc");
    EXPECT_EQ(f.next(out), StreamFramer::Next::None);
    StreamFramer g;
    g.append("OPTIONS sip:a SIP/2.0\r\nVia: x\r\n\r\n");
    EXPECT_EQ(g.next(out), StreamFramer::Next::Broken);
    EXPECT_EQ(g.error(), "missing_content_length");
}

// The send gate (docs/ha.md "Never two owners"): a stack whose gate closes sends not one more
// datagram, ends its transactions without a word, and neither answers nor handles what comes
// in; it works as before once the gate opens again.
struct SipTestGate final : SendGate {
    bool is_open = true;
    bool open() const override { return is_open; }
};

Message gateMessage(Stack& from, const Stack& to) {
    Message m = Message::request("MESSAGE", to.contactUri("mc", Protocol::Udp));
    m.addHeader("From", "<sip:iwf@test>;tag=" + from.newTag());
    m.addHeader("To", "<sip:mc@test>");
    m.addHeader("Call-ID", from.newCallId());
    m.addHeader("CSeq", "1 MESSAGE");
    return m;
}

// The peer: counts every datagram it gets (before parsing: retransmissions too) and answers
// requests 200 only while `answer` is set.
struct GatePeer {
    GatePeer(asio::io_context& io, metrics::Registry& reg)
        : stack(io, reg, config("mc", Protocol::Udp)) {
        stack.admitOnly([this](const Peer&) {
            ++datagrams;
            return true;
        });
        stack.onRequest([this](ServerTxId tx, const Message& req, const Peer&) {
            ++requests;
            if (answer) {
                (void)stack.respond(tx, makeResponse(req, 200, "OK", stack.newTag()));
            }
        });
        EXPECT_TRUE(stack.start().ok());
    }
    Stack stack;
    bool answer = false;
    int datagrams = 0;
    int requests = 0;
};

// A gated stack ("owner", timers in ms as above) and its peer.
class SendGateTest : public ::testing::Test {
  protected:
    StackConfig ownerConfig() {
        StackConfig cfg = config("owner", Protocol::Udp);
        cfg.send_gate = &gate;
        return cfg;
    }
    std::uint64_t counter(std::string_view name) const {
        return reg.counterValue(name, {{"stack", "owner"}});
    }

    asio::io_context io;
    metrics::Registry reg;
    SipTestGate gate;
    Stack owner{io, reg, ownerConfig()};
    GatePeer mc{io, reg};
};

TEST_F(SendGateTest, ClosingItEndsTheTransactionWithoutAnotherDatagram) {
    ASSERT_TRUE(owner.start().ok());
    int final_status = 0;
    owner.sendRequest(gateMessage(owner, mc.stack), peerOf(mc.stack, Protocol::Udp),
                      [&](const Message& rsp) { final_status = rsp.status(); });
    // The request and a retransmission (timer E, T1 = 20 ms) while the gate is open.
    ASSERT_TRUE(iwf::test::runIoUntil(io, [&] { return mc.datagrams >= 2; }));
    gate.is_open = false;
    const int before = mc.datagrams;
    ASSERT_TRUE(iwf::test::runIoUntil(io, [&] { return final_status != 0; }));
    EXPECT_EQ(final_status, 503);  // at the next retransmission, not 408 at timer F (1.28 s)
    EXPECT_EQ(owner.clientTransactions(), 0u);
    // Longer than timer F: nothing more, even once the peer would answer.
    mc.answer = true;
    iwf::test::runIoUntil(
        io, [] { return false; }, 1500ms);
    // (+1: a datagram the owner sent just before the gate closed may still be on its way.)
    EXPECT_LE(mc.datagrams, before + 1);
    EXPECT_EQ(counter("iwf_sip_fenced_transactions_ended_total"), 1u);
    EXPECT_GE(counter("iwf_sip_fenced_sends_dropped_total"), 1u);
}

TEST_F(SendGateTest, ClosedStackNeitherSendsNorAnswersAndWorksAgainWhenOpened) {
    gate.is_open = false;
    ASSERT_TRUE(owner.start().ok());
    int handled = 0;
    owner.onRequest([&](ServerTxId tx, const Message& req, const Peer&) {
        ++handled;
        (void)owner.respond(tx, makeResponse(req, 200, "OK", owner.newTag()));
    });
    mc.answer = true;
    // A new request while closed: ended at once (503), not a byte sent.
    int out_status = 0;
    owner.sendRequest(gateMessage(owner, mc.stack), peerOf(mc.stack, Protocol::Udp),
                      [&](const Message& rsp) { out_status = rsp.status(); });
    // A request to the closed stack: no answer at all, so the peer's transaction times out.
    int in_status = 0;
    mc.stack.sendRequest(gateMessage(mc.stack, owner), peerOf(owner, Protocol::Udp),
                         [&](const Message& rsp) { in_status = rsp.status(); });
    ASSERT_TRUE(iwf::test::runIoUntil(io, [&] { return out_status != 0 && in_status != 0; }));
    EXPECT_EQ(out_status, 503);
    EXPECT_EQ(in_status, 408);
    EXPECT_EQ(handled, 0);
    EXPECT_EQ(mc.datagrams, 0);
    EXPECT_GE(reg.counterValue("iwf_sip_dropped_total", {{"stack", "owner"}, {"reason", "fenced"}}),
              1u);
    // Open again: both directions as before.
    gate.is_open = true;
    out_status = 0;
    in_status = 0;
    owner.sendRequest(gateMessage(owner, mc.stack), peerOf(mc.stack, Protocol::Udp),
                      [&](const Message& rsp) { out_status = rsp.status(); });
    mc.stack.sendRequest(gateMessage(mc.stack, owner), peerOf(owner, Protocol::Udp),
                         [&](const Message& rsp) { in_status = rsp.status(); });
    ASSERT_TRUE(iwf::test::runIoUntil(io, [&] { return out_status != 0 && in_status != 0; }));
    EXPECT_EQ(out_status, 200);
    EXPECT_EQ(in_status, 200);
    EXPECT_EQ(handled, 1);
}

TEST_F(SendGateTest, ClosingItStopsAnInvite2xxRetransmissionAndEndsTheServerTransaction) {
    ASSERT_TRUE(owner.start().ok());
    owner.onRequest([&](ServerTxId tx, const Message& req, const Peer&) {
        (void)owner.respond(tx, makeResponse(req, 200, "OK", owner.newTag()));
    });
    // The peer never ACKs: the owner retransmits its 2xx (timer G) until the gate closes.
    mc.stack.sendRequest(newInvite(mc.stack, owner, Protocol::Udp), peerOf(owner, Protocol::Udp),
                         [](const Message&) {});
    ASSERT_TRUE(iwf::test::runIoUntil(io, [&] { return mc.datagrams >= 2; }));
    gate.is_open = false;
    const int before = mc.datagrams;
    // Ended at its next retransmission (without the gate: 2xx every <= 80 ms until 64*T1).
    ASSERT_TRUE(iwf::test::runIoUntil(io, [&] { return owner.serverTransactions() == 0; }));
    iwf::test::runIoUntil(
        io, [] { return false; }, 300ms);
    EXPECT_LE(mc.datagrams, before + 1);
    EXPECT_EQ(counter("iwf_sip_fenced_transactions_ended_total"), 1u);
}

}  // namespace
}  // namespace iwf::sip
