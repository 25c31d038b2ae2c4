// Voice and floor endpoints over real UDP sockets on 127.0.0.1 (ports bound to 0); events are
// waited for with a deadline, never with sleeps.
#include <chrono>
#include <cstring>
#include <functional>
#include <vector>

#include <gtest/gtest.h>

#include "common/clock.hpp"
#include "mc_adapters/rtp/floor_endpoint.hpp"
#include "mc_adapters/rtp/voice_endpoint.hpp"

namespace {

using namespace iwf;
using namespace iwf::mc;
using namespace iwf::mc::rtp;

const Udp::endpoint kAny(asio::ip::make_address("127.0.0.1"), 0);

bool runUntil(asio::io_context& io, const std::function<bool()>& pred,
              std::chrono::seconds deadline = std::chrono::seconds(5)) {
    const auto end = std::chrono::steady_clock::now() + deadline;
    while (!pred() && std::chrono::steady_clock::now() < end) {
        io.run_one_for(std::chrono::milliseconds(20));
    }
    return pred();
}

VoiceFrame frame(std::uint32_t n) {
    VoiceFrame f;
    f.codec = VoiceCodec::ImbeFullRate;
    f.pos = {n / 18, static_cast<std::uint8_t>(n % 18)};
    f.crypto.family = LmrFamily::P25;
    f.crypto.encrypted = true;
    f.crypto.algid = 0xAA;
    f.crypto.key_id = 0x4321;
    Bytes mi(9, static_cast<std::uint8_t>(n / 18));
    f.crypto.mi.assign(mi);
    Bytes p(11);
    for (std::size_t i = 0; i < p.size(); ++i) {
        p[i] = static_cast<std::uint8_t>(n * 13 + i);
    }
    f.payload.assign(p);
    return f;
}

struct VoicePair {
    asio::io_context io;
    metrics::Registry reg;
    ManualClock clock;
    VoiceEndpoint a{io, reg, clock, "mc-a", VoiceEndpointConfig{100, 0x1111, 65530, 1000}};
    VoiceEndpoint b{io, reg, clock, "mc-b", VoiceEndpointConfig{100, 0x2222, 0, 0}};
    std::vector<VoiceFrame> got;
    std::vector<std::uint16_t> got_seq;
    VoicePair() {
        EXPECT_TRUE(a.open(kAny).ok());
        EXPECT_TRUE(b.open(kAny).ok());
        a.setRemote(b.localEndpoint());
        b.onFrame([this](VoiceFrame&& f, const RtpView& rtp) {
            got_seq.push_back(rtp.sequence());
            got.push_back(std::move(f));
        });
    }
    std::uint64_t dropped(const std::string& reason) {
        return reg.counterValue("iwf_mc_rtp_dropped_total",
                                {{"link", "mc-b"}, {"peer", "peer"}, {"reason", reason}});
    }
};

TEST(VoiceEndpoint, CarriesEncryptedFramesBitExactInOrderAcrossSequenceWrap) {
    VoicePair p;
    for (std::uint32_t n = 0; n < 40; ++n) {
        ASSERT_TRUE(p.a.send(frame(n), n == 0).ok());
    }
    ASSERT_TRUE(runUntil(p.io, [&] { return p.got.size() == 40; }));
    for (std::uint32_t n = 0; n < 40; ++n) {
        VoiceFrame want = frame(n);
        VoiceFrame got = p.got[n];
        EXPECT_EQ(got.payload, want.payload);
        EXPECT_EQ(got.crypto, want.crypto);
        EXPECT_EQ(got.pos, want.pos);
        EXPECT_EQ(got.codec, want.codec);
        EXPECT_EQ(got.seq, p.got[0].seq + n);  // extended sequence continues over 65535 -> 0
        EXPECT_EQ(p.got_seq[n], static_cast<std::uint16_t>(65530 + n));
    }
    EXPECT_EQ(p.reg.counterValue("iwf_mc_rtp_tx_total", {{"link", "mc-a"}}), 40u);
    EXPECT_EQ(p.reg.counterValue("iwf_mc_rtp_rx_total", {{"link", "mc-b"}}), 40u);
    EXPECT_EQ(p.reg.counterValue("iwf_mc_rtp_lost_total", {{"link", "mc-b"}}), 0u);
}

TEST(VoiceEndpoint, LatchesOntoFirstPeerAndDropsOthers) {
    VoicePair p;
    // b has no remote configured: it latches onto a's first packet; a second socket is then
    // an unknown peer.
    Udp::socket raw(p.io, kAny);
    auto packet = [&](std::uint16_t seq, std::uint8_t pt, std::uint32_t n) {
        Bytes payload;
        EXPECT_TRUE(encodeLmrPayload(frame(n), payload).ok());
        RtpHeader h;
        h.payload_type = pt;
        h.sequence = seq;
        h.ssrc = 0x1111;
        Bytes out;
        EXPECT_TRUE(buildRtp(h, payload, out).ok());
        return out;
    };
    ASSERT_TRUE(p.a.send(frame(0)).ok());
    ASSERT_TRUE(runUntil(p.io, [&] { return p.got.size() == 1; }));
    // From an unknown peer: dropped.
    raw.send_to(asio::buffer(packet(65531, 100, 1)), p.b.localEndpoint());
    ASSERT_TRUE(runUntil(p.io, [&] { return p.reg.counterSum("iwf_mc_rtp_dropped_total") == 1; }));
    EXPECT_EQ(p.reg.counterValue("iwf_mc_rtp_dropped_total",
                                 {{"link", "mc-b"}, {"peer", "other"}, {"reason", "unknown_peer"}}),
              1u);
    // a keeps going: consecutive sequence numbers, no loss.
    ASSERT_TRUE(p.a.send(frame(1)).ok());  // 65531
    ASSERT_TRUE(runUntil(p.io, [&] { return p.got.size() == 2; }));
    EXPECT_EQ(p.got[1].seq, p.got[0].seq + 1);
    EXPECT_EQ(p.reg.counterValue("iwf_mc_rtp_lost_total", {{"link", "mc-b"}}), 0u);
    EXPECT_TRUE(p.a.send(frame(2)).ok());  // 65532
    EXPECT_TRUE(p.a.send(frame(3)).ok());  // 65533
    ASSERT_TRUE(runUntil(p.io, [&] { return p.got.size() == 4; }));
    EXPECT_EQ(p.dropped("late"), 0u);
}

// Issue #21: before the remote is known, only a source the owner's filter admits (the MC
// peer's media realm) may be latched onto; another host's datagrams are dropped, counted with
// the bounded label "other", and latch nothing.
TEST(VoiceEndpoint, LatchFilterKeepsOtherHostsOut) {
    asio::io_context io;
    metrics::Registry reg;
    ManualClock clock;
    VoiceEndpoint b(io, reg, clock, "mc-b", VoiceEndpointConfig{100, 0x2222, 0, 0});
    ASSERT_TRUE(b.open(kAny).ok());
    b.peerSocket().setPeerLabel("mc-core");
    const auto realm = asio::ip::make_address("127.0.0.1");
    b.peerSocket().setLatchFilter([realm](const asio::ip::address& a) { return a == realm; });
    std::vector<VoiceFrame> got;
    b.onFrame([&](VoiceFrame&& f, const RtpView&) { got.push_back(std::move(f)); });
    auto packet = [](std::uint16_t seq) {
        Bytes payload;
        EXPECT_TRUE(encodeLmrPayload(frame(seq), payload).ok());
        RtpHeader h;
        h.payload_type = 100;
        h.sequence = seq;
        h.ssrc = 0x1111;
        Bytes out;
        EXPECT_TRUE(buildRtp(h, payload, out).ok());
        return out;
    };
    Udp::socket attacker(io, Udp::endpoint(asio::ip::make_address("127.0.0.66"), 0));
    Udp::socket peer(io, kAny);
    for (std::uint16_t i = 0; i < 5; ++i) {
        attacker.send_to(asio::buffer(packet(i)), b.localEndpoint());
    }
    ASSERT_TRUE(runUntil(io, [&] {
        return reg.counterValue("iwf_mc_rtp_dropped_total",
                                {{"link", "mc-b"}, {"peer", "other"}, {"reason", "not_a_peer"}}) ==
               5;
    }));
    EXPECT_TRUE(got.empty());
    peer.send_to(asio::buffer(packet(7)), b.localEndpoint());
    ASSERT_TRUE(runUntil(io, [&] { return got.size() == 1; }));
    // Latched onto the realm's source now: the other host is an unknown peer.
    attacker.send_to(asio::buffer(packet(8)), b.localEndpoint());
    ASSERT_TRUE(runUntil(io, [&] {
        return reg.counterValue(
                   "iwf_mc_rtp_dropped_total",
                   {{"link", "mc-b"}, {"peer", "other"}, {"reason", "unknown_peer"}}) == 1;
    }));
    EXPECT_EQ(got.size(), 1u);
}

TEST(VoiceEndpoint, DropReasonsFromTheLatchedPeer) {
    asio::io_context io;
    metrics::Registry reg;
    ManualClock clock;
    VoiceEndpoint b(io, reg, clock, "mc-b", VoiceEndpointConfig{100, 0x2222, 0, 0});
    ASSERT_TRUE(b.open(kAny).ok());
    std::vector<VoiceFrame> got;
    b.onFrame([&](VoiceFrame&& f, const RtpView&) { got.push_back(std::move(f)); });
    Udp::socket raw(io, kAny);
    auto send = [&](std::uint16_t seq, std::uint8_t pt, std::uint32_t n) {
        Bytes payload;
        EXPECT_TRUE(encodeLmrPayload(frame(n), payload).ok());
        RtpHeader h;
        h.payload_type = pt;
        h.sequence = seq;
        h.ssrc = 0x1111;
        Bytes out;
        EXPECT_TRUE(buildRtp(h, payload, out).ok());
        raw.send_to(asio::buffer(out), b.localEndpoint());
    };
    auto dropped = [&](const std::string& reason) {
        return reg.counterValue("iwf_mc_rtp_dropped_total",
                                {{"link", "mc-b"}, {"peer", "peer"}, {"reason", reason}});
    };
    send(10, 100, 0);
    ASSERT_TRUE(runUntil(io, [&] { return got.size() == 1; }));
    send(13, 100, 3);  // 11 and 12 lost
    ASSERT_TRUE(runUntil(io, [&] { return got.size() == 2; }));
    EXPECT_EQ(reg.counterValue("iwf_mc_rtp_lost_total", {{"link", "mc-b"}}), 2u);
    EXPECT_EQ(got[1].seq, got[0].seq + 3);
    send(13, 100, 3);  // duplicate
    ASSERT_TRUE(runUntil(io, [&] { return dropped("duplicate") == 1; }));
    send(12, 100, 2);  // late: never delivered out of order
    ASSERT_TRUE(runUntil(io, [&] { return dropped("late") == 1; }));
    send(14, 8, 4);  // PCMA, not our payload type
    ASSERT_TRUE(runUntil(io, [&] { return dropped("unexpected_payload_type") == 1; }));
    const std::uint8_t junk[] = {0x80, 0x64, 0x00};
    raw.send_to(asio::buffer(junk), b.localEndpoint());
    ASSERT_TRUE(runUntil(io, [&] { return dropped("truncated") == 1; }));
    const std::uint8_t bad_payload[] = {0x80, 0x64, 0x00, 0x0F, 0, 0, 0, 0, 0, 0, 0x11, 0x11, 0xC0};
    raw.send_to(asio::buffer(bad_payload), b.localEndpoint());
    ASSERT_TRUE(runUntil(io, [&] { return dropped("bad_version") == 1; }));
    // Larger than any X-IWF-LMR packet: refused whole, never parsed from a truncated buffer.
    Bytes big(UdpEndpoint::kMaxDatagram + 100, 0x80);
    raw.send_to(asio::buffer(big), b.localEndpoint());
    ASSERT_TRUE(runUntil(io, [&] { return dropped("oversize") == 1; }));
    send(15, 100, 5);  // and the stream goes on
    ASSERT_TRUE(runUntil(io, [&] { return got.size() == 3; }));
    EXPECT_EQ(got[2].payload, frame(5).payload);
    EXPECT_EQ(got.size(), 3u);
    EXPECT_EQ(clock.now().time_since_epoch().count(), got[0].rx_ns);
}

TEST(VoiceEndpoint, SendWithoutRemoteOrAfterCloseFails) {
    asio::io_context io;
    metrics::Registry reg;
    ManualClock clock;
    VoiceEndpoint a(io, reg, clock, "mc-a", VoiceEndpointConfig{});
    EXPECT_EQ(a.send(frame(0)).error().reason, "no_remote");
    ASSERT_TRUE(a.open(kAny).ok());
    a.setRemote(Udp::endpoint(asio::ip::make_address("127.0.0.1"), 9));
    a.close();
    EXPECT_EQ(a.send(frame(0)).error().reason, "not_open");
}

TEST(FloorEndpoint, ExchangesFloorMessagesAndLatchesThePeer) {
    asio::io_context io;
    metrics::Registry reg;
    FloorEndpoint a(io, reg, "fa");
    FloorEndpoint b(io, reg, "fb");
    ASSERT_TRUE(a.open(kAny).ok());
    ASSERT_TRUE(b.open(kAny).ok());
    a.setRemote(b.localEndpoint());
    std::vector<floor::FloorMessage> at_a, at_b;
    a.onMessage([&](const floor::FloorMessage& m, const Udp::endpoint&) { at_a.push_back(m); });
    b.onMessage([&](const floor::FloorMessage& m, const Udp::endpoint&) { at_b.push_back(m); });

    floor::FloorMessage req;
    req.type = floor::MessageType::FloorRequest;
    req.ssrc = 0xAAAA;
    req.add(floor::FloorPriority{3}).add(floor::UserId{"sip:lmr-1@iwf.example"});
    ASSERT_TRUE(a.send(req).ok());
    ASSERT_TRUE(runUntil(io, [&] { return at_b.size() == 1; }));
    EXPECT_EQ(at_b[0], req);
    ASSERT_TRUE(b.hasRemote());  // latched onto a
    EXPECT_EQ(b.remote(), a.localEndpoint());

    floor::FloorMessage granted;
    granted.type = floor::MessageType::FloorGranted;
    granted.ack_required = true;
    granted.ssrc = 0xBBBB;
    granted.add(floor::Duration{30});
    floor::FloorMessage taken;
    taken.type = floor::MessageType::FloorTaken;
    taken.ssrc = 0xBBBB;
    ASSERT_TRUE(b.sendBatch({granted, taken}).ok());  // two messages, one datagram
    ASSERT_TRUE(runUntil(io, [&] { return at_a.size() == 2; }));
    EXPECT_EQ(at_a[0], granted);
    EXPECT_EQ(at_a[1], taken);
    EXPECT_EQ(reg.counterValue("iwf_mc_floor_rx_total", {{"link", "fa"}}), 2u);
    EXPECT_EQ(reg.counterValue("iwf_mc_floor_tx_total", {{"link", "fb"}}), 2u);
}

TEST(FloorEndpoint, CountsCompoundExtrasAndDropsBadDatagrams) {
    asio::io_context io;
    metrics::Registry reg;
    FloorEndpoint b(io, reg, "fb");
    ASSERT_TRUE(b.open(kAny).ok());
    std::vector<floor::FloorMessage> got;
    b.onMessage([&](const floor::FloorMessage& m, const Udp::endpoint&) { got.push_back(m); });
    Udp::socket raw(io, kAny);
    Udp::socket other(io, kAny);
    auto dropped = [&](const Udp::socket& s, const std::string& reason) {
        return reg.counterValue(
            "iwf_mc_floor_dropped_total",
            {{"link", "fb"}, {"peer", &s == &other ? "other" : "peer"}, {"reason", reason}});
    };
    // Garbage before any peer is latched: dropped, nothing latched.
    const std::uint8_t junk[] = {0x00, 0x01, 0x02, 0x03};
    raw.send_to(asio::buffer(junk), b.localEndpoint());
    ASSERT_TRUE(runUntil(io, [&] { return dropped(raw, "bad_version") == 1; }));
    EXPECT_FALSE(b.hasRemote());
    // RR + Floor Idle in one compound datagram.
    floor::FloorMessage idle;
    idle.type = floor::MessageType::FloorIdle;
    idle.ssrc = 5;
    idle.add(floor::MessageSequenceNumber{9});
    Bytes d = {0x80, 0xC9, 0x00, 0x01, 0, 0, 0, 5};
    ASSERT_TRUE(floor::encode(idle, d).ok());
    raw.send_to(asio::buffer(d), b.localEndpoint());
    ASSERT_TRUE(runUntil(io, [&] { return got.size() == 1; }));
    EXPECT_EQ(got[0], idle);
    EXPECT_EQ(reg.counterValue("iwf_mc_floor_ignored_rtcp_total", {{"link", "fb"}}), 1u);
    // Now latched onto raw: another peer is dropped.
    Bytes only;
    ASSERT_TRUE(floor::encode(idle, only).ok());
    other.send_to(asio::buffer(only), b.localEndpoint());
    ASSERT_TRUE(runUntil(io, [&] { return dropped(other, "unknown_peer") == 1; }));
    // A broken MCPT packet from the peer.
    Bytes bad = only;
    bad[0] = 0x87;  // message type 7 does not exist
    raw.send_to(asio::buffer(bad), b.localEndpoint());
    ASSERT_TRUE(runUntil(io, [&] { return dropped(raw, "unknown_message_type") == 1; }));
    EXPECT_EQ(got.size(), 1u);
    EXPECT_EQ(b.send(idle).ok(), true);  // replies go to the latched peer
}

}  // namespace

namespace iwf::mc::rtp {
namespace {

// The receive buffer is one per thread, shared by every endpoint. Datagrams queued on many
// sockets at once (several ready in one epoll wake-up, several queued on one socket) must each
// reach their own endpoint's handler with their own bytes, in the order sent per socket.
TEST(UdpEndpoint, SharedReceiveBufferKeepsEveryDatagramApartAcrossSockets) {
    asio::io_context io;
    constexpr int kSockets = 8;
    constexpr int kPerSocket = 40;  // more than kMaxReadsPerWake: the loop re-arms
    std::vector<std::unique_ptr<UdpEndpoint>> eps;
    std::vector<std::vector<Bytes>> got(kSockets);
    for (int s = 0; s < kSockets; ++s) {
        eps.push_back(std::make_unique<UdpEndpoint>(io));
        ASSERT_TRUE(eps.back()
                        ->open(kAny,
                               [&got, s](ByteView d, const Udp::endpoint&) {
                                   got[s].emplace_back(d.begin(), d.end());
                               })
                        .ok());
    }
    UdpEndpoint tx(io);
    ASSERT_TRUE(tx.open(kAny, [](ByteView, const Udp::endpoint&) {}).ok());
    auto payload = [](int s, int i) {
        // Different lengths too, so a stale tail from another datagram would show.
        Bytes b(static_cast<std::size_t>(20 + (s * 7 + i) % 60));
        for (std::size_t k = 0; k < b.size(); ++k) {
            b[k] = static_cast<std::uint8_t>(s * 31 + i * 7 + k);
        }
        return b;
    };
    // Everything is queued in the kernel before the io_context runs a single handler.
    for (int i = 0; i < kPerSocket; ++i) {
        for (int s = 0; s < kSockets; ++s) {
            ASSERT_TRUE(tx.sendTo(payload(s, i), eps[s]->localEndpoint()).ok());
        }
    }
    ASSERT_TRUE(runUntil(io, [&] {
        for (const auto& g : got) {
            if (g.size() < static_cast<std::size_t>(kPerSocket)) {
                return false;
            }
        }
        return true;
    }));
    for (int s = 0; s < kSockets; ++s) {
        ASSERT_EQ(got[s].size(), static_cast<std::size_t>(kPerSocket));
        for (int i = 0; i < kPerSocket; ++i) {
            EXPECT_EQ(got[s][i], payload(s, i)) << "socket " << s << " datagram " << i;
        }
    }
}

// A handler that closes its own endpoint ends the read loop: nothing more reaches it, and
// the other endpoints keep receiving.
TEST(UdpEndpoint, CloseFromInsideTheHandlerStopsThatEndpointOnly) {
    asio::io_context io;
    UdpEndpoint a(io);
    UdpEndpoint b(io);
    int a_count = 0;
    int b_count = 0;
    ASSERT_TRUE(a.open(kAny, [&](ByteView, const Udp::endpoint&) {
                     ++a_count;
                     a.close();
                 }).ok());
    ASSERT_TRUE(b.open(kAny, [&](ByteView, const Udp::endpoint&) { ++b_count; }).ok());
    UdpEndpoint tx(io);
    ASSERT_TRUE(tx.open(kAny, [](ByteView, const Udp::endpoint&) {}).ok());
    const auto a_ep = a.localEndpoint();
    const Bytes d(10, 0x5A);
    for (int i = 0; i < 5; ++i) {
        ASSERT_TRUE(tx.sendTo(d, a_ep).ok());
        ASSERT_TRUE(tx.sendTo(d, b.localEndpoint()).ok());
    }
    ASSERT_TRUE(runUntil(io, [&] { return b_count == 5; }));
    EXPECT_EQ(a_count, 1);
    EXPECT_FALSE(a.isOpen());
}

}  // namespace
}  // namespace iwf::mc::rtp

namespace {

// Issue #19: an AMR-WB call's RTP, judged against RFC 4867 4.4 (octet-aligned: CMR octet
// 0xF0 = CMR 15 "no request", one ToC octet F=0|FT|Q|00, the speech bits) read from the raw
// datagram, and 320 timestamp ticks (16 kHz) per 20 ms frame (RFC 4867 4.1). The frame's
// storage format (RFC 4867 5.3) is one header octet 0|FT|Q|00 and the same bits, so the ToC
// octet equals it here: 0x14 for FT 2 (12.65 kbit/s, 253 bits = 32 bytes), Q 1.
TEST(VoiceEndpointAmrWb, SendsOctetAlignedRfc4867AndReadsItBack) {
    asio::io_context io;
    metrics::Registry reg;
    ManualClock clock;
    VoiceEndpoint a{io, reg, clock, "mc-a", VoiceEndpointConfig{97, 0x1111, 10, 5000}};
    a.setAmrWb(true);
    asio::ip::udp::socket raw(io);
    raw.open(asio::ip::udp::v4());
    raw.bind(kAny);
    ASSERT_TRUE(a.open(kAny).ok());
    a.setRemote(raw.local_endpoint());
    std::uint8_t storage[33];
    storage[0] = 0x14;
    for (int i = 1; i < 33; ++i) {
        storage[i] = static_cast<std::uint8_t>(i * 7);
    }
    storage[32] &= 0xE0;  // 253 bits: the last 3 bits of the 32nd byte are padding
    for (std::uint32_t n = 0; n < 2; ++n) {
        VoiceFrame f;
        f.codec = VoiceCodec::AmrWb;
        f.crypto = CryptoSync::clear(LmrFamily::Analog);
        f.pos.superframe = n;
        f.payload.assign(ByteView(storage, 33));
        ASSERT_TRUE(a.send(f, n == 0).ok());
    }
    std::uint8_t buf[128];
    asio::ip::udp::endpoint from;
    std::size_t len = raw.receive_from(asio::buffer(buf), from);
    ASSERT_EQ(len, 12u + 1u + 1u + 32u);
    EXPECT_EQ(buf[1], 0x80 | 97);                                           // marker, PT
    EXPECT_EQ((buf[4] << 24 | buf[5] << 16 | buf[6] << 8 | buf[7]), 5000);  // ts base
    EXPECT_EQ(buf[12], 0xF0);                                               // CMR 15
    EXPECT_EQ(buf[13], 0x14);                                               // F 0, FT 2, Q 1
    EXPECT_EQ(std::memcmp(buf + 14, storage + 1, 32), 0);
    len = raw.receive_from(asio::buffer(buf), from);
    ASSERT_EQ(len, 46u);
    EXPECT_EQ((buf[4] << 24 | buf[5] << 16 | buf[6] << 8 | buf[7]), 5000 + 320);

    // Back: the same octets from the peer become the same storage frame, clear AMR-WB.
    std::vector<VoiceFrame> got;
    a.onFrame([&](VoiceFrame&& f, const RtpView&) { got.push_back(std::move(f)); });
    buf[1] = 97;
    raw.send_to(asio::buffer(buf, len), a.localEndpoint());
    ASSERT_TRUE(runUntil(io, [&] { return got.size() == 1; }));
    EXPECT_EQ(got[0].codec, VoiceCodec::AmrWb);
    EXPECT_FALSE(got[0].crypto.encrypted);
    EXPECT_EQ(got[0].payload.view().size(), 33u);
    EXPECT_EQ(std::memcmp(got[0].payload.data(), storage, 33), 0);
}

}  // namespace
