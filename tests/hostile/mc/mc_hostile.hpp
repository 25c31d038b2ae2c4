#pragma once
// The MC side of the hostile-network suite (issue #21, docs/security.md "MC links"): the real
// iwfd on loopback with the example keymap (fire-ops = TG 100, secure, AES-256 0x84 key
// 0x0101), a p25-records link and an mcptt-iwf1 link whose one configured peer is the test's
// MC system on 127.0.0.1. A legitimate radio talks an encrypted transmission on TG 100 while
// the test plays attackers from other hosts (127.0.0.x source addresses) or a careless peer;
// the MC system must receive every frame, in order, bit-exact.
#include <algorithm>
#include <chrono>
#include <dirent.h>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/asio.hpp"
#include "common/loopback_port.hpp"
#include "lmr_adapters/p25/mi_lfsr.hpp"
#include "lmr_adapters/p25/records.hpp"
#include "mc_adapters/mcptt/mcptt_info.hpp"
#include "mc_adapters/mcptt/mcptt_sdp.hpp"
#include "mc_adapters/rtp/floor_endpoint.hpp"
#include "mc_adapters/rtp/voice_endpoint.hpp"
#include "p25_test_support.hpp"
#include "sip/multipart.hpp"
#include "sip/stack.hpp"
#include "superframe_builder.hpp"
#include "tests/integration/support/iwfd_process.hpp"
#include "tests/support/mc_answer.hpp"

namespace iwf::mc::hostile {

using namespace std::chrono_literals;

// Runs `io` until done() or the deadline (generous: the machine is shared).
inline bool pump(asio::io_context& io, const std::function<bool()>& done,
                 std::chrono::milliseconds timeout = 20s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
        if (std::chrono::steady_clock::now() > deadline) {
            return false;
        }
        io.restart();
        io.run_one_for(5ms);
    }
    return true;
}

inline asio::ip::address ip(const char* a) {
    return asio::ip::make_address(a);
}

// File descriptors a process holds now (/proc/<pid>/fd).
inline int openFds(pid_t pid) {
    int n = 0;
    if (DIR* d = ::opendir(("/proc/" + std::to_string(pid) + "/fd").c_str())) {
        while (const dirent* e = ::readdir(d)) {
            n += e->d_name[0] != '.' ? 1 : 0;
        }
        ::closedir(d);
    }
    return n;
}

// A SIP stack on another "host" (a 127.x.y.z address), short timers so an unanswered
// request ends in a synthetic 408 within 64 * T1.
inline std::unique_ptr<sip::Stack> stackOn(asio::io_context& io, metrics::Registry& reg,
                                           const std::string& address,
                                           std::chrono::milliseconds t1 = 10ms) {
    sip::StackConfig sc;
    sc.name = "host-" + address;
    sc.listeners = {{sip::Protocol::Udp, address, 0, {}}};
    sc.timers.t1 = t1;
    auto s = std::make_unique<sip::Stack>(io, reg, sc);
    EXPECT_TRUE(s->start().ok());
    return s;
}

// The legitimate MC system: answers iwfd's INVITEs (unless hold_answers) with its own RTP and
// floor ports on 127.0.0.1 and records the frames it receives.
struct McSystem {
    McSystem(asio::io_context& io, metrics::Registry& reg)
        : voice(io, reg, SteadyClock::instance(), "mc-sim", rtp::VoiceEndpointConfig{96, 99, 7, 0})
        , floor(io, reg, "mc-sim") {
        stack = stackOn(io, reg, "127.0.0.1", 100ms);
        EXPECT_TRUE(voice.open({ip("127.0.0.1"), 0}).ok());
        EXPECT_TRUE(floor.open({ip("127.0.0.1"), 0}).ok());
        voice.onFrame([this](VoiceFrame&& f, const rtp::RtpView&) { frames.push_back(f); });
        floor.onMessage(
            [this](const floor::FloorMessage& m, const rtp::Udp::endpoint&) { msgs.push_back(m); });
        stack->onRequest([this](sip::ServerTxId tx, const sip::Message& req, const sip::Peer&) {
            requests.push_back(req);
            if (req.method() == "INVITE" && req.toTag().empty()) {
                held.emplace_back(tx, req);
                if (!hold_answers) {
                    answerHeld();
                }
                return;
            }
            (void)stack->respond(tx, sip::makeResponse(req, 200, {}));
        });
        stack->onAck([this](const sip::Message& ack, const sip::Peer&) { acks.push_back(ack); });
    }
    void answerHeld() {
        for (auto& [tx, req] : held) {
            if (auto offer = iwf::test::answerMcpttInvite(*stack, tx, req, voice, floor)) {
                iwf_media = *offer;
            }
        }
        held.clear();
    }
    std::uint16_t port() const { return stack->port(sip::Protocol::Udp); }

    std::unique_ptr<sip::Stack> stack;
    rtp::VoiceEndpoint voice;
    rtp::FloorEndpoint floor;
    bool hold_answers = false;
    std::vector<std::pair<sip::ServerTxId, sip::Message>> held;
    std::vector<sip::Message> requests;
    std::vector<sip::Message> acks;
    std::optional<mcptt::McpttMedia> iwf_media;
    std::vector<VoiceFrame> frames;
    std::vector<floor::FloorMessage> msgs;
};

// An encrypted P25 transmission from unit 1001 on TG 100, one superframe at a time.
struct Talker {
    lmr::p25::Mi mi{0x12, 0x34, 0x56, 0x78, 0x90, 0xAB, 0xCD, 0xEF, 0x00};
    std::vector<lmr::p25::test::SuperframeSpec> specs;
    std::vector<Bytes> superframe() {
        lmr::p25::test::SuperframeSpec s;
        s.service_options = 0x40;  // encrypted
        s.dst = 100;
        s.src = 1001;
        s.algid = 0x84;
        s.kid = 0x0101;
        mi = lmr::p25::nextMi(mi);
        std::copy(mi.begin(), mi.end(), s.next_mi.begin());
        s.imbe_seed = static_cast<std::uint8_t>(specs.size() * 7 + 1);
        specs.push_back(s);
        return lmr::p25::test::buildSuperframe(s);
    }
    // True when `frames` are exactly the transmission's frames so far, in order, bit-exact
    // (payloads; superframe 0 is a late entry without MI: docs/protocols/p25-network-records.md).
    ::testing::AssertionResult exact(const std::vector<VoiceFrame>& frames) const {
        if (frames.size() != specs.size() * 18) {
            return ::testing::AssertionFailure()
                   << frames.size() << " frames, expected " << specs.size() * 18;
        }
        for (std::size_t k = 0; k < frames.size(); ++k) {
            const auto sf = k / 18;
            const int idx = static_cast<int>(k % 18);
            const Bytes want = lmr::p25::test::imbeFor(specs[sf], idx);
            if (frames[k].pos.superframe != sf || frames[k].pos.index != idx ||
                Bytes(frames[k].payload.view().begin(), frames[k].payload.view().end()) != want ||
                !frames[k].crypto.encrypted) {
                return ::testing::AssertionFailure() << "frame " << k << " differs";
            }
        }
        return ::testing::AssertionSuccess();
    }
};

inline Bytes pollBytes(std::string_view cs) {
    InlineBytes<lmr::p25::kMaxRecordLen> b;
    EXPECT_TRUE(lmr::p25::encodeRecord(lmr::p25::makePoll(cs, false), b).ok());
    return Bytes(b.view().begin(), b.view().end());
}

// Voice records (LDU frames, tags 0x62..0x73) the radio received within `quiet` of silence.
inline int voiceRecordsAt(lmr::p25::test::UdpPeer& radio, std::chrono::milliseconds quiet = 300ms) {
    int n = 0;
    while (auto d = radio.receive(quiet)) {
        n += !d->empty() && (*d)[0] >= 0x62 && (*d)[0] <= 0x73 ? 1 : 0;
    }
    return n;
}

struct IwfdMc : ::testing::Test {
    void SetUp() override {
        store = "sqlite:" + dir.file("keymap.db");
        auto r =
            iwf::test::runCommand({IWFCTL_BIN, "keymap", "--store", store, "import",
                                   std::string(IWF_SOURCE_DIR) + "/configs/keymap.example.yaml"});
        ASSERT_EQ(r.exit_code, 0) << r.err;
        p25_port = pickLoopbackPort(PortProtocol::Udp);
        sip_port = pickLoopbackPort(PortProtocol::Udp);
    }
    // iwfd's config: the MC link's one peer is the MC system's address (any source port, so
    // the test's other stacks on 127.0.0.1 count as that careless peer), its identities in
    // mc.example; `extra` is appended to the mcptt-iwf1 section (limits, session_timer).
    std::string config(std::uint16_t mc_port, const std::string& extra = "",
                       const std::string& more_peers = "") const {
        return "instance: hostile-mc\nlog: {level: info}\n"
               "keymap:\n  store: \"" +
               store +
               "\"\n  poll_interval: 200ms\n"
               "timers:\n  hang: 20s\n"
               "lmr_links:\n"
               "  - name: p25\n    type: p25-records\n    address: 127.0.0.1\n    port: " +
               std::to_string(p25_port) +
               "\n    wacn: 0xBEE00\n    system: 0x001\n    tgid: 100\n    call_timeout: 10s\n"
               // The test's radio sends whole superframes at once where a real one paces a
               // record every 20 ms: the link's default per-peer budget (200/s, burst 100)
               // dropped records of a 4-superframe burst (IwfdMc.ForgedResponse...: 103 of 108
               // frames, rate_limited). The attacks here are not floods of the radio's port.
               "    rate_limit: {pps: 2000}\n"
               "mc_links:\n"
               "  - name: mc\n    type: mcptt-iwf1\n    psi: sip:iwf@iwf.example\n"
               "    server_uri: sip:cf@mc.example\n"
               "    listen: [{transport: udp, address: 127.0.0.1, port: " +
               std::to_string(sip_port) +
               "}]\n"
               "    peer: {transport: udp, address: 127.0.0.1, port: " +
               std::to_string(mc_port) +
               "}\n"
               "    peers:\n"
               "      - {name: mc-core, address: 127.0.0.1, domains: [mc.example]}\n" +
               more_peers +
               "    media: {address: 127.0.0.1}\n"
               "    e2ee_groups: [sip:fire-ops@iwf.example]\n"
               "    timers: {t1: 100ms}\n" +
               extra;
    }
    double metric(const std::string& series) {
        auto m = iwf::test::httpGet(iwfd.adminPort(), "/metrics");
        return iwf::test::prometheusValue(m.body, series).value_or(-1);
    }
    void startIwfd(const McSystem& mc, const std::string& extra = "",
                   const std::string& more_peers = "") {
        ASSERT_TRUE(iwfd.start(dir, config(mc.port(), extra, more_peers))) << iwfd.log();
        ASSERT_TRUE(iwf::test::waitFor([&] { return metric("iwf_keymap_revision") == 1; }, 20s))
            << iwfd.log();
    }
    void linkRadio() {
        radio.sendTo(p25_port, pollBytes("RADIO1"));
        ASSERT_TRUE(radio.receive(5s).has_value()) << "no poll answer\n" << iwfd.log();
    }
    void talk(Talker& t) {
        for (const auto& r : t.superframe()) {
            radio.sendTo(p25_port, r);
        }
    }
    void endTransmission() {
        Bytes end(17, 0);
        end[0] = 0x80;
        radio.sendTo(p25_port, end);
    }
    sip::Peer iwfdSip() const { return {sip::Protocol::Udp, ip("127.0.0.1"), sip_port}; }

    // An INVITE to iwfd joining `group` with the given caller and SDP media address / port.
    static sip::Message groupInvite(sip::Stack& from, const std::string& caller,
                                    const std::string& media_address, std::uint16_t audio_port,
                                    bool emergency = false,
                                    const std::string& group = "sip:fire-ops@iwf.example") {
        sip::Message m = sip::Message::request("INVITE", "sip:iwf@iwf.example");
        m.addHeader("From", "<" + caller + ">;tag=" + from.newTag());
        m.addHeader("To", "<sip:iwf@iwf.example>");
        m.addHeader("Call-ID", from.newCallId());
        m.addHeader("CSeq", "1 INVITE");
        m.addHeader("Contact", "<" + from.contactUri("cf", sip::Protocol::Udp) + ">");
        mcptt::McpttMedia media;
        media.address = media_address;
        media.audio_port = audio_port;
        media.floor_port = static_cast<std::uint16_t>(audio_port + 1);
        media.floor_params = {true, 3, false, false};
        mcptt::McpttInfo info;
        info.session_type = "prearranged";
        info.request_uri = "sip:iwf@iwf.example";
        info.calling_user_id = caller;
        info.calling_group_id = group;
        if (emergency) {
            info.emergency = true;
        }
        sip::setBodies(
            m, {{"application/sdp", {}, mcptt::buildMcpttSdp(media, 1).toString()},
                {std::string(mcptt::kMcpttInfoContentType), {}, mcptt::buildMcpttInfo(info)}});
        return m;
    }

    iwf::test::TempDir dir;
    iwf::test::IwfdProcess iwfd;
    lmr::p25::test::UdpPeer radio;
    std::string store;
    std::uint16_t p25_port = 0;
    std::uint16_t sip_port = 0;
};

}  // namespace iwf::mc::hostile
