// The mcptt-iwf1 link's media: every call owns real RTP and floor control sockets on
// 127.0.0.1, the SDP carries their ports, and voice frames and floor messages cross them both
// ways with the call's CallRef. The MC side is a plain SIP stack plus rtp::VoiceEndpoint and
// rtp::FloorEndpoint of its own (ephemeral ports as well).
#include <chrono>
#include <functional>
#include <memory>
#include <vector>

#include <gtest/gtest.h>

#include "common/asio.hpp"
#include "common/config_node.hpp"
#include "mc_adapters/mcptt/mcptt_link.hpp"
#include "sip/multipart.hpp"
#include "sip/stack.hpp"
#include "tests/unit/mc_mcptt/mcptt_link_fixture.hpp"

namespace iwf::mc::mcptt {
namespace {

using namespace std::chrono_literals;

using test::runUntil;

VoiceFrame encryptedFrame(std::uint32_t superframe, std::uint8_t index) {
    VoiceFrame f;
    f.codec = VoiceCodec::ImbeFullRate;
    f.pos = {superframe, index};
    f.crypto.family = LmrFamily::P25;
    f.crypto.encrypted = true;
    f.crypto.algid = 0x84;
    f.crypto.key_id = 0x0101;
    const std::uint8_t mi[9] = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99};
    f.crypto.mi.assign(ByteView(mi, sizeof(mi)));
    std::uint8_t imbe[11];
    for (int k = 0; k < 11; ++k) {
        imbe[k] = static_cast<std::uint8_t>(0xA0 + 16 * index + k + superframe);
    }
    f.payload.assign(ByteView(imbe, sizeof(imbe)));
    const std::uint8_t side[2] = {0xC0, static_cast<std::uint8_t>(index)};
    f.side.assign(ByteView(side, sizeof(side)));
    return f;
}

// Position, crypto and bytes equal; seq and rx_ns are the receiver's.
void expectSameFrame(const VoiceFrame& got, const VoiceFrame& sent) {
    EXPECT_EQ(got.codec, sent.codec);
    EXPECT_EQ(got.pos, sent.pos);
    EXPECT_EQ(got.crypto, sent.crypto);
    EXPECT_EQ(got.payload, sent.payload);
    EXPECT_EQ(got.side, sent.side);
}

struct McSide {
    struct Rx {
        VoiceFrame frame;
        bool marker = false;
        std::uint8_t pt = 0;
    };
    McSide(asio::io_context& io, metrics::Registry& reg)
        : voice(io, reg, SteadyClock::instance(), "mc-peer", rtp::VoiceEndpointConfig{96, 7, 0, 0})
        , floor(io, reg, "mc-peer") {
        EXPECT_TRUE(voice.open({asio::ip::make_address("127.0.0.1"), 0}).ok());
        EXPECT_TRUE(floor.open({asio::ip::make_address("127.0.0.1"), 0}).ok());
        voice.onFrame([this](VoiceFrame&& f, const rtp::RtpView& r) {
            frames.push_back({std::move(f), r.marker(), r.payloadType()});
        });
        floor.onMessage(
            [this](const floor::FloorMessage& m, const rtp::Udp::endpoint&) { msgs.push_back(m); });
    }
    McpttMedia media(bool with_floor) const {
        McpttMedia m;
        m.address = "127.0.0.1";
        m.audio_port = voice.localEndpoint().port();
        m.floor = with_floor;
        m.floor_port = with_floor ? floor.localEndpoint().port() : 0;
        m.floor_params = {true, 3, false, false};
        return m;
    }
    rtp::VoiceEndpoint voice;
    rtp::FloorEndpoint floor;
    std::vector<Rx> frames;
    std::vector<floor::FloorMessage> msgs;
};

struct McpttLinkMedia : test::McpttLinkFixture {
    void startLink(MediaPortRange range = {}) {
        McpttLinkConfig c = linkConfig();
        c.port_range = range;
        McpttLinkFixture::startLink(c);
    }
    sip::Message groupInvite(const McpttMedia& media) {
        McpttInfo info;
        info.session_type = "prearranged";
        info.calling_user_id = "sip:alice@mc.example";
        info.calling_group_id = "sip:secure@mc.example";
        return McpttLinkFixture::groupInvite(media, info);
    }
    McpttMedia answerOf(const sip::Message& m) {
        auto text = sip::bodyOfType(m, sip::kSdpContentType);
        EXPECT_TRUE(text.has_value());
        auto sdp = sip::parseSdp(text.value_or(""));
        EXPECT_TRUE(sdp.ok());
        auto media = readMcpttSdp(*sdp);
        EXPECT_TRUE(media.ok());
        return media.ok() ? *media : McpttMedia{};
    }
};

TEST_F(McpttLinkMedia, IncomingCallCarriesVoiceAndFloorBothWaysOnItsOwnSockets) {
    startLink();
    McSide peer(io, reg);
    sip::Message invite = groupInvite(peer.media(true));
    std::optional<sip::Message> ok;
    mc->sendRequest(invite, linkPeer(), [&](const sip::Message& r) {
        if (r.status() == 200) {
            ok = r;
        }
    });
    ASSERT_TRUE(runUntil(io, [&] { return ok.has_value(); }));
    ASSERT_EQ(sink.all<CallSetup>().size(), 1u);
    const CallRef ref = sink.all<CallSetup>()[0].call;
    const McpttMedia ans = answerOf(*ok);
    ASSERT_NE(ans.audio_port, 0);
    EXPECT_EQ(ans.audio_port, link->audioPort(ref));
    ASSERT_TRUE(ans.floor);
    EXPECT_EQ(ans.floor_port, link->floorPort(ref));
    EXPECT_NE(ans.floor_port, ans.audio_port);
    auto dialog = sip::Dialog::asUac(invite, *ok, linkPeer());
    mc->sendAck(dialog.makeAck(1), linkPeer());
    const asio::ip::address lo = asio::ip::make_address("127.0.0.1");
    peer.voice.setRemote({lo, ans.audio_port});
    peer.floor.setRemote({lo, ans.floor_port});

    // MC user asks for the floor (with the acknowledgement bit): the link acks and reports it.
    floor::FloorMessage req;
    req.type = floor::MessageType::FloorRequest;
    req.ack_required = true;
    req.ssrc = 1234;
    req.add(floor::FloorPriority{3}).add(floor::UserId{"sip:alice@mc.example"});
    ASSERT_TRUE(peer.floor.send(req).ok());
    ASSERT_TRUE(runUntil(io, [&] { return !sink.all<FloorRequest>().empty(); }));
    EXPECT_EQ(sink.all<FloorRequest>()[0].call, ref);
    EXPECT_EQ(std::get<McId>(sink.all<FloorRequest>()[0].who.id).uri, "sip:alice@mc.example");
    ASSERT_TRUE(runUntil(io, [&] { return !peer.msgs.empty(); }));
    ASSERT_EQ(peer.msgs[0].type, floor::MessageType::FloorAck);
    ASSERT_NE(peer.msgs[0].find<floor::AckMessageType>(), nullptr);
    EXPECT_EQ(peer.msgs[0].find<floor::AckMessageType>()->subtype, req.subtype());
    ASSERT_NE(peer.msgs[0].find<floor::Source>(), nullptr);
    EXPECT_EQ(peer.msgs[0].find<floor::Source>()->value,
              static_cast<std::uint16_t>(floor::SourceValue::ControllingFunction));

    // The engine grants it: a Floor Granted reaches the MC side's floor socket.
    ASSERT_TRUE(link->deliver(FloorGranted{ref, Talker{McId{"sip:alice@mc.example"}, {}, {}},
                                           std::chrono::seconds(30)})
                    .ok());
    ASSERT_TRUE(runUntil(io, [&] { return peer.msgs.size() >= 2; }));
    EXPECT_EQ(peer.msgs[1].type, floor::MessageType::FloorGranted);
    ASSERT_NE(peer.msgs[1].find<floor::Duration>(), nullptr);
    EXPECT_EQ(peer.msgs[1].find<floor::Duration>()->seconds, 30);

    // MC user talks: RTP in X-IWF-LMR -> Voice events with the call's ref, bytes unchanged.
    std::vector<VoiceFrame> sent;
    for (std::uint8_t i = 0; i < 18; ++i) {
        sent.push_back(encryptedFrame(0, i));
        ASSERT_TRUE(peer.voice.send(sent.back(), i == 0).ok());
    }
    ASSERT_TRUE(runUntil(io, [&] { return sink.all<Voice>().size() == 18; }));
    auto voice = sink.all<Voice>();
    for (std::size_t i = 0; i < voice.size(); ++i) {
        EXPECT_EQ(voice[i].call, ref);
        expectSameFrame(voice[i].frame, sent[i]);
    }

    // Release -> event; then the LMR side talks: Floor Taken and RTP toward the MC side, the
    // first packet of the spurt with the marker bit.
    floor::FloorMessage rel;
    rel.type = floor::MessageType::FloorRelease;
    rel.ssrc = 1234;
    rel.add(floor::UserId{"sip:alice@mc.example"});
    ASSERT_TRUE(peer.floor.send(rel).ok());
    ASSERT_TRUE(runUntil(io, [&] { return !sink.all<FloorRelease>().empty(); }));
    EXPECT_EQ(sink.all<FloorRelease>()[0].call, ref);
    ASSERT_TRUE(
        link->deliver(FloorTaken{ref, Talker{McId{"sip:p25-1001@iwf.example"}, {}, {}}}).ok());
    std::vector<VoiceFrame> down;
    for (std::uint8_t i = 0; i < 9; ++i) {
        down.push_back(encryptedFrame(3, i));
        ASSERT_TRUE(link->deliver(Voice{ref, down.back()}).ok());
    }
    ASSERT_TRUE(runUntil(io, [&] { return peer.frames.size() == 9 && peer.msgs.size() >= 3; }));
    EXPECT_EQ(peer.msgs[2].type, floor::MessageType::FloorTaken);
    ASSERT_NE(peer.msgs[2].find<floor::GrantedPartyIdentity>(), nullptr);
    EXPECT_EQ(peer.msgs[2].find<floor::GrantedPartyIdentity>()->id, "sip:p25-1001@iwf.example");
    for (std::size_t i = 0; i < peer.frames.size(); ++i) {
        expectSameFrame(peer.frames[i].frame, down[i]);
        EXPECT_EQ(peer.frames[i].marker, i == 0) << i;
        EXPECT_EQ(peer.frames[i].pt, 96);
    }

    // BYE ends the call and closes both sockets: their ports can be bound again.
    const std::uint16_t audio = link->audioPort(ref);
    const std::uint16_t fl = link->floorPort(ref);
    int bye = 0;
    mc->sendRequest(dialog.makeRequest("BYE"), linkPeer(),
                    [&](const sip::Message& r) { bye = r.status(); });
    ASSERT_TRUE(runUntil(io, [&] { return bye == 200; }));
    EXPECT_EQ(link->audioPort(ref), 0);
    ASSERT_TRUE(runUntil(io, [&] {
        rtp::UdpEndpoint a(io);
        rtp::UdpEndpoint f(io);
        return a.open({lo, audio}, [](ByteView, const rtp::Udp::endpoint&) {}).ok() &&
               f.open({lo, fl}, [](ByteView, const rtp::Udp::endpoint&) {}).ok();
    }));
    // A frame for the ended call is refused and counted.
    EXPECT_FALSE(link->deliver(Voice{ref, down[0]}).ok());
    EXPECT_EQ(reg.counterValue("iwf_mcptt_media_dropped_total",
                               {{"link", "iwf1"}, {"reason", "unknown_call"}}),
              1u);
}

TEST_F(McpttLinkMedia, OutgoingCallHoldsMediaUntilAnsweredThenSendsItInOrder) {
    startLink();
    McSide peer(io, reg);
    mc_answer = [&](sip::ServerTxId tx, const sip::Message& req, const sip::Peer&) {
        sip::Message ok = sip::makeResponse(req, 200, {}, "mctag");
        ok.addHeader("Contact", "<" + mc->contactUri("cf", sip::Protocol::Udp) + ">");
        if (req.method() == "INVITE") {
            ok.setBody(buildMcpttSdp(peer.media(true), 5).toString(), "application/sdp");
        }
        (void)mc->respond(tx, ok);
    };
    CallSetup s;
    s.call = 42;
    s.caller = Talker{McId{"sip:p25-1001@iwf.example"}, "", {}};
    s.callee = McGroupId{"sip:secure@mc.example"};
    ASSERT_TRUE(link->deliver(s).ok());
    // What the engine does for an LMR talker: Floor Taken and frames at once, before the 200.
    ASSERT_TRUE(
        link->deliver(FloorTaken{42, Talker{McId{"sip:p25-1001@iwf.example"}, {}, {}}}).ok());
    std::vector<VoiceFrame> sent;
    for (std::uint8_t i = 0; i < 18; ++i) {
        sent.push_back(encryptedFrame(0, i));
        ASSERT_TRUE(link->deliver(Voice{42, sent.back()}).ok());
    }
    ASSERT_TRUE(runUntil(io, [&] { return !mc_requests.empty(); }));
    // The offer names the call's real sockets.
    const McpttMedia offer = answerOf(mc_requests[0]);
    EXPECT_EQ(offer.audio_port, link->audioPort(42));
    EXPECT_NE(offer.audio_port, 0);
    ASSERT_TRUE(offer.floor);
    EXPECT_EQ(offer.floor_port, link->floorPort(42));

    ASSERT_TRUE(runUntil(io, [&] { return peer.frames.size() == 18 && !peer.msgs.empty(); }));
    EXPECT_EQ(peer.msgs[0].type, floor::MessageType::FloorTaken);
    for (std::size_t i = 0; i < 18; ++i) {
        expectSameFrame(peer.frames[i].frame, sent[i]);
        EXPECT_EQ(peer.frames[i].marker, i == 0);
    }
    // RTP from the MC side arrives as Voice of call 42 (latched on the SDP's ports).
    const VoiceFrame back = encryptedFrame(7, 2);
    ASSERT_TRUE(peer.voice.send(back, true).ok());
    ASSERT_TRUE(runUntil(io, [&] { return !sink.all<Voice>().empty(); }));
    EXPECT_EQ(sink.all<Voice>()[0].call, 42u);
    expectSameFrame(sink.all<Voice>()[0].frame, back);
    // A floor message from the MC side -> event of call 42.
    floor::FloorMessage idle;
    idle.type = floor::MessageType::FloorIdle;
    idle.ssrc = 9;
    ASSERT_TRUE(peer.floor.send(idle).ok());
    ASSERT_TRUE(runUntil(io, [&] { return !sink.all<FloorIdle>().empty(); }));
    EXPECT_EQ(sink.all<FloorIdle>()[0].call, 42u);

    ASSERT_TRUE(link->deliver(CallEnd{42, EndReason::Normal, ""}).ok());
    EXPECT_EQ(link->audioPort(42), 0);
}

TEST_F(McpttLinkMedia, RefusedOutgoingCallCountsTheMediaItHeld) {
    startLink();
    mc_answer = [&](sip::ServerTxId tx, const sip::Message& req, const sip::Peer&) {
        (void)mc->respond(tx, sip::makeResponse(req, 486, {}, "x"));
    };
    CallSetup s;
    s.call = 9;
    s.caller = Talker{McId{"sip:p25-1001@iwf.example"}, "", {}};
    s.callee = McGroupId{"sip:secure@mc.example"};
    ASSERT_TRUE(link->deliver(s).ok());
    for (std::uint8_t i = 0; i < 5; ++i) {
        ASSERT_TRUE(link->deliver(Voice{9, encryptedFrame(0, i)}).ok());
    }
    ASSERT_TRUE(runUntil(io, [&] { return !sink.all<CallEnd>().empty(); }));
    EXPECT_EQ(reg.counterValue("iwf_mcptt_media_dropped_total",
                               {{"link", "iwf1"}, {"reason", "call_ended"}}),
              5u);
}

TEST_F(McpttLinkMedia, PortRangeGivesEvenAudioAndTheNextPortForFloor) {
    // Find a free even/odd pair to build a small range around. Below the kernel's ephemeral
    // range (ip_local_port_range, 32768-60999 by default): tests running in parallel bind
    // port 0 and could take a port from the ephemeral range between this probe and the link's
    // bind (seen under ctest -j5).
    std::uint16_t base = 0;
    for (std::uint16_t p = 24000; p < 26000 && base == 0; p = static_cast<std::uint16_t>(p + 4)) {
        // The range below holds two pairs: all four ports must be free.
        const auto lo = asio::ip::make_address("127.0.0.1");
        auto noop = [](ByteView, const rtp::Udp::endpoint&) {};
        std::vector<std::unique_ptr<rtp::UdpEndpoint>> probe;
        bool all_free = true;
        for (std::uint16_t k = 0; k < 4 && all_free; ++k) {
            probe.push_back(std::make_unique<rtp::UdpEndpoint>(io));
            all_free = probe.back()->open({lo, static_cast<std::uint16_t>(p + k)}, noop).ok();
        }
        if (all_free) {
            base = p;
        }
    }
    ASSERT_NE(base, 0);
    startLink({base, static_cast<std::uint16_t>(base + 3)});
    McSide peer(io, reg);
    mc_answer = [&](sip::ServerTxId tx, const sip::Message& req, const sip::Peer&) {
        sip::Message ok = sip::makeResponse(req, 200, {}, mc->newTag());
        ok.setBody(buildMcpttSdp(peer.media(true), 5).toString(), "application/sdp");
        (void)mc->respond(tx, ok);
    };
    for (CallRef ref = 1; ref <= 2; ++ref) {
        CallSetup s;
        s.call = ref;
        s.caller = Talker{McId{"sip:p25-1001@iwf.example"}, "", {}};
        s.callee = McGroupId{"sip:secure@mc.example"};
        ASSERT_TRUE(link->deliver(s).ok());
        EXPECT_EQ(link->audioPort(ref) % 2, 0);
        EXPECT_GE(link->audioPort(ref), base);
        EXPECT_LE(link->audioPort(ref), base + 2);
        EXPECT_EQ(link->floorPort(ref), link->audioPort(ref) + 1);
    }
    EXPECT_NE(link->audioPort(1), link->audioPort(2));
    // The range holds two pairs: a third call has no port and is refused, counted.
    CallSetup s3;
    s3.call = 3;
    s3.caller = Talker{McId{"sip:p25-1001@iwf.example"}, "", {}};
    s3.callee = McGroupId{"sip:secure@mc.example"};
    EXPECT_EQ(link->deliver(s3).error().reason, "no_media_port");
    EXPECT_EQ(reg.counterValue("iwf_mcptt_refused_total",
                               {{"link", "iwf1"}, {"reason", "no_media_port"}}),
              1u);
}

TEST(McpttLinkMediaConfig, PortRangeIsValidatedWithFileLineAndField) {
    const std::string head =
        "name: iwf1\ntype: mcptt-iwf1\npsi: sip:iwf@example\nserver_uri: sip:cf@x\n"
        "listen: [{transport: udp, port: 0}]\npeer: {address: 127.0.0.1, port: 5070}\n"
        "peers: [{address: 127.0.0.1, domains: [mc.example]}]\n";
    auto expectError = [&](const std::string& media, const std::string& field, int line) {
        auto node = ConfigNode::loadString(head + media, "iwfd.yaml");
        try {
            (void)parseMcpttLinkConfig(node);
            ADD_FAILURE() << "accepted: " << media;
        } catch (const ConfigError& e) {
            EXPECT_EQ(e.field(), field) << e.what();
            EXPECT_EQ(e.line(), line) << e.what();
            EXPECT_EQ(e.file(), "iwfd.yaml");
        }
    };
    expectError("media:\n  port_range: {first: 40001, last: 40100}\n", "media.port_range.first", 9);
    expectError("media:\n  port_range:\n    first: 40000\n    last: 40000\n",
                "media.port_range.last", 11);
    expectError("media:\n  audio_port: 40000\n", "media.audio_port", 9);
    auto ok = parseMcpttLinkConfig(
        ConfigNode::loadString(head + "media:\n  port_range: {first: 40000, last: 40099}\n", "x"));
    EXPECT_EQ(ok.port_range.first, 40000);
    EXPECT_EQ(ok.port_range.last, 40099);
    auto none = parseMcpttLinkConfig(ConfigNode::loadString(head, "x"));
    EXPECT_EQ(none.port_range.first, 0);  // ephemeral
}

}  // namespace
}  // namespace iwf::mc::mcptt
