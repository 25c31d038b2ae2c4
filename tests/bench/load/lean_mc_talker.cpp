#include "tests/bench/load/lean_mc_talker.hpp"

#include <deque>
#include <mutex>
#include <optional>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

#include "common/asio.hpp"
#include "common/metrics.hpp"
#include "common/voice.hpp"
#include "lmr_adapters/p25/mi_lfsr.hpp"
#include "mc_adapters/floor/floor_message.hpp"
#include "mc_adapters/mcptt/mcptt_info.hpp"
#include "mc_adapters/mcptt/mcptt_sdp.hpp"
#include "mc_adapters/rtp/lmr_payload.hpp"
#include "mc_adapters/rtp/rtp_packet.hpp"
#include "sip/dialog.hpp"
#include "sip/multipart.hpp"
#include "sip/sdp.hpp"
#include "sip/stack.hpp"
#include "tests/bench/load/dmr_shape.hpp"
#include "tests/bench/load/load_book.hpp"
#include "tests/bench/load/load_net.hpp"

namespace iwf::bench {

namespace mcptt = mc::mcptt;
namespace rtp = mc::rtp;
namespace mcfloor = mc::floor;

struct LeanMcTalker::Impl {
    asio::io_context io;
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
    metrics::Registry metrics;
    std::unique_ptr<sip::Stack> stack;
    std::thread io_thread;
    mutable std::mutex mu;
    std::vector<TalkerCall> calls;  // under mu
    std::vector<bool> floor_granted;
    std::size_t answered = 0;
    std::size_t refused = 0;
    // INVITE pacing (io thread only): the next stream to call and the calls in flight.
    unsigned next = 0;
    unsigned total = 0;
    unsigned in_flight = 0;
    unsigned window = 64;
    std::uint16_t iwf_port = 0;

    sip::Peer iwfPeer() const {
        sip::Peer p;
        p.protocol = sip::Protocol::Udp;
        p.address = asio::ip::make_address("127.0.0.1");
        p.port = iwf_port;
        return p;
    }

    void pump() {
        while (in_flight < window && next < total) {
            invite(next++);
        }
    }

    void invite(unsigned i) {
        TalkerCall c;
        mcptt::McpttMedia offer;
        offer.address = "127.0.0.1";
        offer.payload_type = 96;
        offer.floor = true;
        offer.floor_params.queueing = true;
        offer.floor_params.priority = 5;
        offer.floor_params.implicit_request = true;
        c.voice_fd = openLoopbackUdp(false, 0, 1 << 20);
        c.floor_fd = openLoopbackUdp(false, 0);
        offer.audio_port = localPort(c.voice_fd);
        offer.floor_port = localPort(c.floor_fd);
        {
            std::lock_guard lock(mu);
            calls[i] = c;
        }
        const std::string group = "sip:load-" + std::to_string(i) + "@iwf.example";
        const std::string me = "sip:talker-" + std::to_string(i) + "@mc.example";
        mcptt::McpttInfo info;
        info.session_type = "prearranged";
        info.request_uri = group;
        info.calling_user_id = me;
        info.calling_group_id = group;
        sip::Message inv =
            sip::Message::request("INVITE", "sip:iwf@127.0.0.1:" + std::to_string(iwf_port));
        inv.addHeader("From", "<" + me + ">;tag=" + stack->newTag());
        inv.addHeader("To", "<" + group + ">");
        inv.addHeader("Call-ID", stack->newCallId());
        inv.addHeader("CSeq", "1 INVITE");
        inv.addHeader("Contact",
                      "<" + stack->contactUri("mc", sip::Protocol::Udp) + ">;+g.3gpp.mcptt");
        inv.addHeader("P-Asserted-Identity", "<" + me + ">");
        inv.addHeader("Accept-Contact", "*;+g.3gpp.mcptt;require;explicit");
        inv.addHeader("P-Asserted-Service", "urn:urn-7:3gpp-service.ims.icsi.mcptt");
        sip::setBodies(
            inv, {sip::BodyPart{std::string(sip::kSdpContentType),
                                {},
                                mcptt::buildMcpttSdp(offer, 1000 + i, 1).toString()},
                  sip::BodyPart{
                      std::string(mcptt::kMcpttInfoContentType), {}, mcptt::buildMcpttInfo(info)}});
        ++in_flight;
        stack->sendRequest(inv, iwfPeer(), [this, i, inv](const sip::Message& rsp) {
            if (rsp.status() < 200) {
                return;
            }
            --in_flight;
            std::lock_guard lock(mu);
            TalkerCall& tc = calls[i];
            tc.status = rsp.status();
            if (rsp.status() >= 300) {
                ++refused;
            } else {
                auto sdp_text = sip::bodyOfType(rsp, sip::kSdpContentType);
                auto sdp = sdp_text ? sip::parseSdp(*sdp_text)
                                    : Result<sip::SessionDescription>(Error{"no_sdp"});
                auto ans = sdp.ok() ? mcptt::readMcpttSdp(*sdp)
                                    : Result<mcptt::McpttMedia>(Error{"bad_sdp"});
                if (ans.ok()) {
                    tc.iwf_voice_port = ans->audio_port;
                    tc.iwf_floor_port = ans->floor_port;
                    tc.granted_in_answer = ans->floor_params.granted;
                    tc.answered = true;
                    ++answered;
                } else {
                    ++refused;
                }
                sip::Dialog d = sip::Dialog::asUac(inv, rsp, iwfPeer());
                stack->sendAck(d.makeAck(inv.cseqNumber()), iwfPeer());
            }
            asio::post(io, [this] { pump(); });
        });
    }
};

LeanMcTalker::LeanMcTalker() : impl_(std::make_unique<Impl>()) {}

LeanMcTalker::~LeanMcTalker() {
    stop();
}

Status LeanMcTalker::start() {
    sip::StackConfig sc;
    sc.name = "lean-mc-talker";
    sip::ListenerConfig l;
    l.protocol = sip::Protocol::Udp;
    l.address = "127.0.0.1";
    l.port = 0;
    l.receive_buffer = sip::kDefaultUdpReceiveBuffer;
    sc.listeners.push_back(l);
    sc.user_agent = "iwf-load-lean-mc-talker";
    impl_->stack = std::make_unique<sip::Stack>(impl_->io, impl_->metrics, sc);
    Impl* im = impl_.get();
    // In-dialog requests from iwfd (BYE, UPDATE, session refresh) get 200; nothing else comes.
    impl_->stack->onRequest([im](sip::ServerTxId tx, const sip::Message& req, const sip::Peer&) {
        if (req.method() != "ACK") {
            (void)im->stack->respond(tx, sip::makeResponse(req, 200, {}, {}));
        }
    });
    IWF_TRY_STATUS(impl_->stack->start());
    sip_port_ = impl_->stack->port(sip::Protocol::Udp);
    impl_->work.emplace(asio::make_work_guard(impl_->io));
    impl_->io_thread = std::thread([im] { im->io.run(); });
    return {};
}

void LeanMcTalker::originate(unsigned n, std::uint16_t iwf_sip_port, unsigned window) {
    {
        std::lock_guard lock(impl_->mu);
        impl_->calls.assign(n, TalkerCall{});
        impl_->floor_granted.assign(n, false);
    }
    asio::post(impl_->io, [im = impl_.get(), n, iwf_sip_port, window] {
        im->iwf_port = iwf_sip_port;
        im->total = n;
        im->window = window;
        im->pump();
    });
}

std::size_t LeanMcTalker::answered() const {
    std::lock_guard lock(impl_->mu);
    return impl_->answered;
}

std::size_t LeanMcTalker::refused() const {
    std::lock_guard lock(impl_->mu);
    return impl_->refused;
}

std::vector<TalkerCall> LeanMcTalker::calls() const {
    std::lock_guard lock(impl_->mu);
    return impl_->calls;
}

std::size_t LeanMcTalker::drainFloorGrants() {
    std::lock_guard lock(impl_->mu);
    std::uint8_t buf[2048];
    std::size_t granted = 0;
    for (std::size_t i = 0; i < impl_->calls.size(); ++i) {
        const TalkerCall& c = impl_->calls[i];
        while (c.floor_fd >= 0) {
            const ssize_t len = ::recv(c.floor_fd, buf, sizeof buf, MSG_DONTWAIT);
            if (len <= 0) {
                break;
            }
            auto msgs = mcfloor::decodeDatagram(ByteView(buf, static_cast<std::size_t>(len)));
            if (!msgs.ok()) {
                continue;
            }
            for (const auto& m : *msgs) {
                if (m.type == mcfloor::MessageType::FloorGranted) {
                    impl_->floor_granted[i] = true;
                }
            }
        }
        if (c.granted_in_answer || impl_->floor_granted[i]) {
            ++granted;
        }
    }
    return granted;
}

std::vector<std::thread::native_handle_type> LeanMcTalker::threads() {
    std::vector<std::thread::native_handle_type> t;
    if (impl_->io_thread.joinable()) {
        t.push_back(impl_->io_thread.native_handle());
    }
    return t;
}

void LeanMcTalker::stop() {
    if (impl_->io_thread.joinable()) {
        impl_->work.reset();
        asio::post(impl_->io, [im = impl_.get()] {
            im->stack->stop();
            im->io.stop();
        });
        impl_->io_thread.join();
    }
    std::lock_guard lock(impl_->mu);
    for (auto& c : impl_->calls) {
        for (int* fd : {&c.voice_fd, &c.floor_fd}) {
            if (*fd >= 0) {
                ::close(*fd);
                *fd = -1;
            }
        }
    }
}

// ------------------------------------------------------------------ McTalkSource

namespace {

std::uint64_t splitmix(std::uint64_t& s) {
    std::uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

}  // namespace

McTalkSource::McTalkSource(TalkFamily f, std::uint32_t stream_index)
    : f_(f), i_(stream_index), rng_(0xC0FFEE00ull + stream_index * 0x1000193ull) {
    std::uint64_t s = rng_ ^ 0x5A5A5A5Aull;
    mi0_ = splitmix(s) | 1;  // a non-zero MI
    mi64_ = mi0_;
}

std::uint32_t McTalkSource::build(std::uint64_t seq, Bytes& out) {
    const unsigned per = period(f_);
    const auto sf = static_cast<std::uint32_t>(seq / per);
    const auto idx = static_cast<std::uint8_t>(seq % per);
    VoiceFrame f;
    f.pos = {sf, idx};
    std::uint8_t bytes[27];
    const std::size_t len = f_ == TalkFamily::P25 ? 11 : 27;
    for (std::size_t k = 0; k < len; k += 8) {
        const std::uint64_t r = splitmix(rng_);
        for (std::size_t b = 0; b < 8 && k + b < len; ++b) {
            bytes[k + b] = static_cast<std::uint8_t>(r >> (8 * b));
        }
    }
    f.payload.assign(ByteView(bytes, len));
    if (f_ == TalkFamily::P25) {
        f.codec = VoiceCodec::ImbeFullRate;
        while (mi_sf_ < sf) {  // the LFSR per superframe, as a real P25 encryptor advances it
            mi64_ = lmr::p25::nextMi64(mi64_);
            ++mi_sf_;
        }
        std::uint8_t mi[9];
        for (int b = 0; b < 8; ++b) {
            mi[b] = static_cast<std::uint8_t>(mi64_ >> (56 - 8 * b));
        }
        mi[8] = 0;
        f.crypto =
            CryptoSync::encryptedWith(LmrFamily::P25, 0x84, 0x0100u + (i_ & 0xFF), ByteView(mi, 9));
    } else {
        f.codec = VoiceCodec::DmrAmbe;
        const DmrStreamIds ids = dmrStreamIds(i_);
        const std::uint8_t iv[4] = {
            static_cast<std::uint8_t>(ids.iv >> 24), static_cast<std::uint8_t>(ids.iv >> 16),
            static_cast<std::uint8_t>(ids.iv >> 8), static_cast<std::uint8_t>(ids.iv)};
        f.crypto =
            CryptoSync::encryptedWith(LmrFamily::Dmr, kLoadDmrAlgid, ids.key_id, ByteView(iv, 4));
    }
    Bytes payload;
    (void)rtp::encodeLmrPayload(f, payload);
    rtp::RtpHeader h;
    h.payload_type = 96;
    h.sequence = static_cast<std::uint16_t>(seq);
    h.timestamp = static_cast<std::uint32_t>(seq * rtp::frameTicks(f.codec));
    h.ssrc = 0x10000u + i_;  // the stream: how a single-socket receiver tells streams apart
    h.marker = seq == 0;
    out.clear();
    (void)rtp::buildRtp(h, payload, out);
    return fnv1a(bytes, len);
}

}  // namespace iwf::bench
