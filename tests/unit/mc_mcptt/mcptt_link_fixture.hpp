#pragma once
// Shared by the mcptt-iwf1 link tests: an io_context pump with a deadline, a recording sink,
// and a fixture whose MC side is a plain SIP stack playing the controlling function (answers
// 200 unless a test sets mc_answer) next to the link under test, with the config both use.

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/asio.hpp"
#include "mc_adapters/mcptt/mcptt_link.hpp"
#include "sip/multipart.hpp"
#include "sip/stack.hpp"
#include "tests/support/link_fixtures.hpp"

namespace iwf::mc::mcptt::test {

// Runs the io_context until done() or 10 s; false on the deadline.
inline bool runUntil(asio::io_context& io, const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!done()) {
        if (std::chrono::steady_clock::now() > deadline) {
            return false;
        }
        io.restart();
        io.run_one_for(std::chrono::milliseconds(20));
    }
    return true;
}

struct Sink : EventSink {
    std::vector<Event> events;
    void onEvent(const LinkId&, Event&& e) override { events.push_back(std::move(e)); }
    template <typename T>
    std::vector<T> all() const {
        return iwf::test::eventsOf<T>(events);
    }
    template <typename T>
    const T* last() const {
        for (auto it = events.rbegin(); it != events.rend(); ++it) {
            if (const auto* t = std::get_if<T>(&*it)) {
                return t;
            }
        }
        return nullptr;
    }
    template <typename T>
    int count() const {
        int n = 0;
        for (const auto& e : events) {
            n += std::holds_alternative<T>(e) ? 1 : 0;
        }
        return n;
    }
};

struct McpttLinkFixture : ::testing::Test {
    asio::io_context io;
    metrics::Registry reg;
    std::unique_ptr<sip::Stack> mc;
    std::unique_ptr<McpttLink> link;
    Sink sink;
    std::vector<sip::Message> mc_requests;
    std::function<void(sip::ServerTxId, const sip::Message&, const sip::Peer&)> mc_answer;

    void SetUp() override {
        sip::StackConfig sc;
        sc.name = "mc";
        sc.listeners = {{sip::Protocol::Udp, "127.0.0.1", 0, {}}};
        sc.timers.t1 = std::chrono::milliseconds(20);
        mc = std::make_unique<sip::Stack>(io, reg, sc);
        mc->onRequest([this](sip::ServerTxId tx, const sip::Message& req, const sip::Peer& p) {
            mc_requests.push_back(req);
            if (mc_answer) {
                mc_answer(tx, req, p);
            } else {
                (void)mc->respond(tx, sip::makeResponse(req, 200, {}, mc->newTag()));
            }
        });
        ASSERT_TRUE(mc->start().ok());
    }
    // The link toward the MC stack: UDP on 127.0.0.1, group sip:secure@mc.example is E2EE.
    McpttLinkConfig linkConfig() const {
        McpttLinkConfig c;
        c.name = "iwf1";
        c.psi = "sip:iwf@iwf.example";
        c.listen = {{sip::Protocol::Udp, "127.0.0.1", 0, {}}};
        c.peer = {sip::Protocol::Udp, asio::ip::make_address("127.0.0.1"),
                  mc->port(sip::Protocol::Udp)};
        c.server_uri = "sip:cf@mc.example";
        c.media.address = "127.0.0.1";
        c.e2ee_groups = {"sip:secure@mc.example"};
        c.timers.t1 = std::chrono::milliseconds(20);
        c.peers = {mcPeer()};
        return c;
    }
    // The MC stack as the link's one configured peer: its address and port, identities of
    // mc.example, media on 127.0.0.1.
    peers::PeerConfig mcPeer() const {
        return peers::peerAt("mc", asio::ip::make_address("127.0.0.1"), {"mc.example"},
                             mc->port(sip::Protocol::Udp));
    }
    void startLink(const McpttLinkConfig& c) {
        link = std::make_unique<McpttLink>(io, reg, c);
        ASSERT_TRUE(link->start(sink).ok());
    }
    sip::Peer linkPeer() {
        return {sip::Protocol::Udp, asio::ip::make_address("127.0.0.1"),
                link->stack().port(sip::Protocol::Udp)};
    }
    // An out-of-dialog request from the MC side (the controlling function) to the IWF's PSI.
    sip::Message outOfDialog(const std::string& method) {
        sip::Message m = sip::Message::request(method, "sip:iwf@iwf.example");
        m.addHeader("From", "<sip:cf@mc.example>;tag=" + mc->newTag());
        m.addHeader("To", "<sip:iwf@iwf.example>");
        m.addHeader("Call-ID", mc->newCallId());
        m.addHeader("CSeq", "1 " + method);
        return m;
    }
    // An INVITE from the MC side with the given SDP media and MCPTT info bodies.
    sip::Message groupInvite(const McpttMedia& media, const McpttInfo& info) {
        sip::Message m = outOfDialog("INVITE");
        m.addHeader("Contact", "<" + mc->contactUri("cf", sip::Protocol::Udp) + ">");
        sip::setBodies(m, {{"application/sdp", {}, buildMcpttSdp(media, 1).toString()},
                           {std::string(kMcpttInfoContentType), {}, buildMcpttInfo(info)}});
        return m;
    }
};

}  // namespace iwf::mc::mcptt::test
