// Hostile network, MCPTT (IWF-1) side, against the real iwfd (issue #21; docs/security.md
// "MC links"). Each test runs next to a legitimate encrypted P25 transmission on TG 100 that
// the MC system must receive exactly, and each failed before the MC links knew their peers:
//  - an INVITE from another host (any address) got 200, joined the secure group and, with
//    emergency-ind, pre-empted the talker; injected frames reached the radio;
//  - a configured peer could assert any caller identity;
//  - SDP could point the call's RTP at a third party, with no cap on calls or setups
//    (3,000 unacknowledged INVITEs: 1,178,892 RTP packets to the third party, fds 18 -> 6,020);
//  - a SIP response from any source was taken as the MC system's answer.
#include <array>
#include <iostream>
#include <map>

#include <gtest/gtest.h>

#include "tests/hostile/mc/mc_hostile.hpp"

namespace iwf::mc::hostile {
namespace {

// Counts datagrams arriving on a UDP socket of its own (a third party, an attacker's port).
struct Counter {
    Counter(asio::io_context& io, const char* address) : sock(io, {ip(address), 0}) { arm(); }
    void arm() {
        sock.async_receive_from(asio::buffer(buf), from,
                                [this](boost::system::error_code ec, std::size_t) {
                                    if (!ec) {
                                        ++n;
                                        arm();
                                    }
                                });
    }
    std::uint16_t port() const { return sock.local_endpoint().port(); }
    asio::ip::udp::socket sock;
    std::array<std::uint8_t, 2048> buf{};
    asio::ip::udp::endpoint from;
    int n = 0;
};

int finalStatus(asio::io_context& io, sip::Stack& from, const sip::Message& m, const sip::Peer& to,
                sip::Message* rsp = nullptr) {
    int status = 0;
    from.sendRequest(m, to, [&](const sip::Message& r) {
        if (r.status() >= 200 && status == 0) {
            status = r.status();
            if (rsp != nullptr) {
                *rsp = r;
            }
        }
    });
    EXPECT_TRUE(pump(io, [&] { return status != 0; }));
    return status;
}

// Before: 200 OK; 90/90 injected frames reached the P25 radio; emergency-ind pre-empted the
// legitimate talker (709/882 frames lost). After: dropped unanswered, nothing injected, the
// talker's frames all arrive.
TEST_F(IwfdMc, InviteFromAnotherHostIsDroppedAndCannotInjectOrPreempt) {
    asio::io_context io;
    metrics::Registry reg;
    McSystem mc(io, reg);
    ASSERT_NO_FATAL_FAILURE(startIwfd(mc));
    ASSERT_NO_FATAL_FAILURE(linkRadio());
    Talker t;
    talk(t);
    talk(t);  // late entry: the stream states ALGID / key ID in superframe 0's LDU2
    ASSERT_TRUE(pump(io, [&] { return mc.frames.size() >= 18; })) << iwfd.log();

    auto attacker = stackOn(io, reg, "127.0.0.2");
    rtp::VoiceEndpoint evil(io, reg, SteadyClock::instance(), "evil",
                            rtp::VoiceEndpointConfig{96, 0x666, 0, 0});
    ASSERT_TRUE(evil.open({ip("127.0.0.2"), 0}).ok());
    int leaked = 0;
    evil.onFrame([&](VoiceFrame&&, const rtp::RtpView&) { ++leaked; });
    sip::Message ok;
    const int status = finalStatus(io, *attacker,
                                   groupInvite(*attacker, "sip:alice@mc.example", "127.0.0.2",
                                               evil.localEndpoint().port(), /*emergency=*/true),
                                   iwfdSip(), &ok);
    if (status == 200) {
        // What an attacker does with an answer: talk into the secure group.
        auto answer = mcptt::readMcpttSdp(*sip::parseSdp(ok.body()));
        ASSERT_TRUE(answer.ok());
        evil.setRemote({ip("127.0.0.1"), answer->audio_port});
        for (std::uint32_t k = 0; k < 90; ++k) {
            VoiceFrame f = mc.frames.at(k % 18);
            f.pos = {k / 18, static_cast<std::uint8_t>(k % 18)};
            (void)evil.send(f, k == 0);
        }
    }
    for (int n = 0; n < 4; ++n) {
        talk(t);
    }
    endTransmission();
    ASSERT_TRUE(pump(io, [&] { return mc.frames.size() >= t.specs.size() * 18; }))
        << mc.frames.size() << "\n"
        << iwfd.log();
    const int injected = voiceRecordsAt(radio);
    std::cout << "[figures] attacker final=" << status << " injected_at_radio=" << injected
              << " leaked_to_attacker=" << leaked << " mc_frames=" << mc.frames.size() << "/"
              << t.specs.size() * 18 << "\n";
    EXPECT_EQ(status, 408) << "the attacker got an answer";
    EXPECT_TRUE(t.exact(mc.frames));
    EXPECT_EQ(injected, 0) << "injected frames reached the radio";
    EXPECT_EQ(leaked, 0) << "the secure group's frames reached the attacker";
    EXPECT_GE(metric("iwf_mc_peer_refused_total{link=\"mc\",reason=\"not_a_peer\"}"), 1);
    // The refusals are counted with the fixed label set: no series names the attacker.
    EXPECT_EQ(iwf::test::httpGet(iwfd.adminPort(), "/metrics").body.find("127.0.0.2"),
              std::string::npos);
}

// Before: the caller identity was taken from the body, whoever sent it. After: a configured
// peer may assert identities of its own domains only (403 otherwise, the call never starts).
TEST_F(IwfdMc, PeerCannotAssertAnotherDomainsCaller) {
    asio::io_context io;
    metrics::Registry reg;
    McSystem mc(io, reg);
    ASSERT_NO_FATAL_FAILURE(
        startIwfd(mc, "",
                  "      - {name: partner, address: 127.0.0.4, domains: [partner.example], media: "
                  "[127.0.0.4]}\n"));
    ASSERT_NO_FATAL_FAILURE(linkRadio());
    Talker t;
    talk(t);
    talk(t);  // late entry: the stream states ALGID / key ID in superframe 0's LDU2
    ASSERT_TRUE(pump(io, [&] { return mc.frames.size() >= 18; })) << iwfd.log();
    auto partner = stackOn(io, reg, "127.0.0.4");
    sip::Message rsp;
    const int status = finalStatus(
        io, *partner,
        groupInvite(*partner, "sip:alice@mc.example", "127.0.0.4", 40000, /*emergency=*/true),
        iwfdSip(), &rsp);
    for (int n = 0; n < 3; ++n) {
        talk(t);
    }
    endTransmission();
    ASSERT_TRUE(pump(io, [&] { return mc.frames.size() >= t.specs.size() * 18; })) << iwfd.log();
    EXPECT_EQ(status, 403);
    EXPECT_NE(rsp.header("Warning").value_or("").find("identity_domain"), std::string::npos);
    EXPECT_TRUE(t.exact(mc.frames));
    EXPECT_EQ(metric("iwf_mc_peer_refused_total{link=\"mc\",reason=\"identity_domain\"}"), 1);
    EXPECT_EQ(metric("iwf_mcptt_calls_total{link=\"mc\",reason=\"received\"}"), -1);
}

// Before: 3,000 unacknowledged INVITEs whose SDP named a third party made iwfd send 1,178,892
// RTP packets there (x1,310), fds 18 -> 6,020. Here 150 INVITEs name a third party and 150 more
// (media in the realm) are never ACKed, with max_setups_per_peer 8: the third party gets
// nothing (488), at most 8 setups are answered (503 beyond), iwfd's descriptors stay bounded.
TEST_F(IwfdMc, MediaOnlyToThePeersRealmAndSetupsAreCapped) {
    asio::io_context io;
    metrics::Registry reg;
    McSystem mc(io, reg);
    ASSERT_NO_FATAL_FAILURE(startIwfd(mc,
                                      "    limits: {max_calls: 40, max_calls_per_peer: 40, "
                                      "max_setups_per_peer: 8}\n"));
    ASSERT_NO_FATAL_FAILURE(linkRadio());
    Talker t;
    talk(t);
    talk(t);  // late entry: the stream states ALGID / key ID in superframe 0's LDU2
    ASSERT_TRUE(pump(io, [&] { return mc.frames.size() >= 18; })) << iwfd.log();
    const int fds_before = openFds(iwfd.pid());

    Counter victim(io, "127.0.0.9");
    Counter sink(io, "127.0.0.1");
    // The careless peer: the MC system's address, another port (the peer has no port set).
    auto flood = stackOn(io, reg, "127.0.0.1", 500ms);
    std::map<int, int> statuses;
    int answered = 0;
    auto burst = [&](const char* media_address, std::uint16_t port, int count) {
        for (int i = 0; i < count; ++i) {
            flood->sendRequest(groupInvite(*flood, "sip:alice@mc.example", media_address, port),
                               iwfdSip(), [&](const sip::Message& r) {
                                   if (r.status() >= 200) {
                                       ++statuses[r.status()];
                                       ++answered;
                                   }
                               });
        }
    };
    burst("127.0.0.9", victim.port(), 150);
    burst("127.0.0.1", sink.port(), 150);
    ASSERT_TRUE(pump(
        io, [&] { return answered == 300; }, 60s))
        << answered << "\n"
        << iwfd.log();
    const int fds_after = openFds(iwfd.pid());
    for (int n = 0; n < 4; ++n) {
        talk(t);
    }
    endTransmission();
    ASSERT_TRUE(pump(io, [&] { return mc.frames.size() >= t.specs.size() * 18; })) << iwfd.log();
    std::cout << "[figures] 488=" << statuses[488] << " 200=" << statuses[200]
              << " 503=" << statuses[503] << " third_party_packets=" << victim.n
              << " fds=" << fds_before << "->" << fds_after << " mc_frames=" << mc.frames.size()
              << "/" << t.specs.size() * 18 << "\n";
    EXPECT_TRUE(t.exact(mc.frames));
    EXPECT_EQ(statuses[488], 150);  // a third party's address: refused, no socket opened
    EXPECT_LE(statuses[200], 8);    // never ACKed: at most max_setups_per_peer at a time
    EXPECT_EQ(statuses[200] + statuses[503], 150);
    EXPECT_EQ(victim.n, 0) << "RTP reached the third party";
    // Two sockets per answered setup, nothing for the refused ones.
    EXPECT_LE(fds_after - fds_before, 2 * 8 + 4) << fds_before << " -> " << fds_after;
    EXPECT_EQ(metric("iwf_mc_peer_refused_total{link=\"mc\",reason=\"media_realm\"}"), 150);
    EXPECT_GE(metric("iwf_mc_peer_refused_total{link=\"mc\",reason=\"setup_cap\"}"), 142);
}

// Before: SIP responses were accepted from any source. Here another host forges the MC
// system's 200 OK (with the INVITE's branch, as an on-path observer could) pointing the media
// at its own port on 127.0.0.1 (inside the peer's media realm, so only the source check can
// stop it): iwfd ignores it, and the real answer carries the call.
TEST_F(IwfdMc, ForgedResponseFromAnotherHostIsIgnored) {
    asio::io_context io;
    metrics::Registry reg;
    McSystem mc(io, reg);
    mc.hold_answers = true;
    ASSERT_NO_FATAL_FAILURE(startIwfd(mc));
    ASSERT_NO_FATAL_FAILURE(linkRadio());
    Talker t;
    talk(t);
    talk(t);  // late entry: the stream states ALGID / key ID in superframe 0's LDU2
    ASSERT_TRUE(pump(io, [&] { return mc.held.size() == 1; })) << iwfd.log();
    Counter evil_rtp(io, "127.0.0.1");
    const sip::Message& invite = mc.held.front().second;
    sip::Message forged = sip::makeResponse(invite, 200, {}, "forged");
    forged.addHeader("Contact", "<sip:cf@127.0.0.2:5060>");
    mcptt::McpttMedia media;
    media.address = "127.0.0.1";
    media.audio_port = evil_rtp.port();
    media.floor = true;
    media.floor_port = static_cast<std::uint16_t>(evil_rtp.port() + 1);
    forged.setBody(mcptt::buildMcpttSdp(media, 1).toString(), sip::kSdpContentType);
    asio::ip::udp::socket raw(io, {ip("127.0.0.2"), 0});
    const std::string wire = forged.serialize();
    raw.send_to(asio::buffer(wire), {ip("127.0.0.1"), sip_port});
    // Either iwfd dropped it (after) or took it and ACKed it toward the MC system (before).
    ASSERT_TRUE(iwf::test::waitFor(
        [&] {
            io.restart();
            io.poll();
            return !mc.acks.empty() ||
                   metric("iwf_sip_dropped_total{stack=\"mc\",reason=\"not_admitted\"}") >= 1;
        },
        20s))
        << iwfd.log();
    mc.answerHeld();
    for (int n = 0; n < 4; ++n) {
        talk(t);
    }
    endTransmission();
    ASSERT_TRUE(pump(
        io, [&] { return mc.frames.size() >= t.specs.size() * 18; }, 20s))
        << mc.frames.size() << "\n"
        << iwfd.log();
    EXPECT_TRUE(t.exact(mc.frames));
    EXPECT_EQ(evil_rtp.n, 0) << "media went to the forger";
    for (const auto& a : mc.acks) {
        EXPECT_EQ(a.toTag().find("forged"), std::string::npos) << "iwfd ACKed the forgery";
    }
}

}  // namespace
}  // namespace iwf::mc::hostile
