#include "lmr_adapters/analog/usrp_link.hpp"

#include <algorithm>
#include <cstring>

#include <fmt/ranges.h>

#include "common/link_limits.hpp"
#include "lmr_adapters/analog/analog_edge.hpp"

namespace iwf::lmr::analog {

namespace {

// Frames the jitter buffer may come up empty after the unkey before the call ends.
constexpr int kDrainMissing = 3;

}  // namespace

UsrpLinkConfig UsrpLinkConfig::fromConfig(const ConfigNode& n) {
    n.expectKeys({"name", "type", "address", "port", "peer_address", "peer_port", "talkgroup",
                  "amr_mode", "call_timeout", "allow", "receive_buffer"});
    UsrpLinkConfig c;
    c.name = n.getString("name");
    c.address = n.getIpAddress("address", "0.0.0.0");
    c.port = static_cast<std::uint16_t>(n.getInt("port", 0, 65535, 34001));
    c.peer_address = n.getIpAddress("peer_address");
    c.peer_port = static_cast<std::uint16_t>(n.getInt("peer_port", 1, 65535));
    c.talkgroup = static_cast<std::uint32_t>(n.getInt("talkgroup", 1, 0xFFFFFF, 1));
    c.amr_mode = edge::amrModeFromConfig(n);
    c.call_timeout = n.getDuration("call_timeout", std::chrono::seconds(1));
    if (c.call_timeout < std::chrono::milliseconds(100)) {
        n.fail("call_timeout", "must be at least 100ms (five 20 ms packets)");
    }
    c.allow = net::allowListFromConfig(n, c.address, {c.peer_address});
    c.receive_buffer = net::receiveBufferFromConfig(n, 0);
    return c;
}

UsrpLink::UsrpLink(UsrpLinkConfig cfg, asio::io_context& io, metrics::Registry& metrics,
                   const Clock& clock)
    : cfg_(std::move(cfg))
    , id_{Side::Lmr, cfg_.name}
    , io_(io)
    , metrics_(metrics)
    , clock_(clock)
    , socket_(io)
    , timer_(io)
    , receiver_(socket_, 8, 512)  // chan_usrp usrp_xread: char buf[512]
    , drops_(metrics, cfg_.name, log::get("analog"))
    , log_(log::get("analog")) {
    const metrics::Labels l{{"link", cfg_.name}};
    rx_voice_ = &metrics_.counter("iwf_analog_usrp_rx_total", "USRP packets received by type",
                                  {{"link", cfg_.name}, {"type", "voice"}});
    rx_other_ = &metrics_.counter("iwf_analog_usrp_rx_total", "USRP packets received by type",
                                  {{"link", cfg_.name}, {"type", "other"}});
    tx_packets_ = &metrics_.counter("iwf_analog_usrp_tx_total", "USRP packets sent", l);
    concealed_ = &metrics_.counter(
        "iwf_analog_concealed_frames_total",
        "20 ms frames toward the analogue channel rebuilt by loss concealment", l);
    late_ = &metrics_.counter("iwf_analog_jitter_missing_total",
                              "20 ms play-out slots of an analogue talker the jitter buffer "
                              "could not fill (late or lost packets)",
                              l);
    boost::system::error_code ec;
    peer_ = Endpoint(asio::ip::make_address(cfg_.peer_address, ec), cfg_.peer_port);
}

UsrpLink::~UsrpLink() {
    stop();
}

Status UsrpLink::start(EventSink& sink) {
    if (running_) {
        return Error{"already_started"};
    }
    std::string why;
    if (Status st = net::bind(socket_, cfg_.address, cfg_.port, {}, &why); !st) {
        log_->error("link={} bind={}:{} error=\"{}\"", cfg_.name, cfg_.address, cfg_.port, why);
        return st;
    }
    if (cfg_.receive_buffer > 0) {
        (void)net::SocketStats::setReceiveBuffer(socket_, cfg_.receive_buffer);
    }
    sink_ = &sink;
    running_ = true;
    log_->info("link={} listening port={} peer={} talkgroup={} allow={}", cfg_.name, localPort(),
               net::endpointName(peer_), cfg_.talkgroup, fmt::join(cfg_.allow.entries(), ","));
    receiver_.start([this](const Endpoint& from, ByteView data) { onDatagram(from, data); });
    return Status::success();
}

void UsrpLink::stop() {
    if (!running_) {
        return;
    }
    running_ = false;
    if (out_) {
        sendPacket(UsrpVoice{});  // unkey the channel's transmitter
        out_.reset();
    }
    boost::system::error_code ec;
    timer_.cancel();
    timer_armed_ = false;
    receiver_.stop();
    socket_.close(ec);
    if (in_ && in_->refused) {
        in_.reset();
    }
    if (in_) {
        endIn(EndReason::LinkDown, "link stopped");
    }
}

std::uint16_t UsrpLink::localPort() const {
    boost::system::error_code ec;
    auto ep = socket_.local_endpoint(ec);
    return ec ? 0 : ep.port();
}

LinkView UsrpLink::view() const {
    LinkView v;
    v.state = running_ ? "running" : "stopped";
    v.local = fmt::format("{}:{}", cfg_.address, localPort());
    PeerView p;
    p.id = cfg_.name;
    p.address = net::endpointName(peer_);
    p.state = in_ ? "keyed" : (out_ ? "transmitting" : "idle");
    if (last_heard_) {
        p.last_seen_s = std::chrono::duration<double>(clock_.now() - *last_heard_).count();
    }
    v.peers.push_back(std::move(p));
    return v;
}

void UsrpLink::emit(Event&& e) {
    if (sink_ != nullptr) {
        sink_->onEvent(id_, std::move(e));
    }
}

void UsrpLink::onDatagram(const Endpoint& from, ByteView data) {
    if (!cfg_.allow.allows(from.address())) {
        drops_.drop(from, "not_allowed");
        return;
    }
    auto packet = decodeUsrp(data);
    if (!packet) {
        drops_.drop(from, packet.error().reason);
        return;
    }
    last_heard_ = clock_.now();
    if (const auto* v = std::get_if<UsrpVoice>(&*packet)) {
        rx_voice_->inc();
        onVoice(from, *v);
        return;
    }
    // DTMF, TEXT (registration, metadata) and PING carry nothing the engine acts on.
    rx_other_->inc();
}

void UsrpLink::onVoice(const Endpoint& from, const UsrpVoice& v) {
    const UsrpHeader& h = v.header;
    if (!in_) {
        if (!h.keyed()) {
            // An unkey (or keyup-0 audio) with no transmission open: chan_usrp repeats
            // nothing, so this is the tail of a stream already ended by call_timeout.
            drops_.drop(from, "unkey_without_call");
            return;
        }
        auto jitter = media::JitterBuffer::create(kUsrpVoiceSamples);
        auto enc = media::NbToAmrWb::create(cfg_.amr_mode);
        if (!jitter || !enc) {
            drops_.drop(from, "media_init_failed");
            return;
        }
        in_.emplace(InCall{});  // not emplace(): clang 14 sees InCall as not default-constructible
                                // (its member initialisers, CWG 1397)
        in_->ref = next_ref_++;
        in_->source = from;
        in_->base_seq = h.seq;
        in_->jitter = std::move(*jitter);
        in_->encode = std::move(*enc);
        const std::uint32_t tg = h.talkgroup != 0 ? h.talkgroup : cfg_.talkgroup;
        CallSetup s;
        s.call = in_->ref;
        s.callee = AnalogGroup{tg};
        s.kind = CallKind::Group;
        s.crypto = CryptoSync::clear(LmrFamily::Analog);
        s.codec = VoiceCodec::AmrWb;
        log_->info("link={} keyup call={} talkgroup={}", cfg_.name, in_->ref, tg);
        emit(Event{std::move(s)});
        if (!in_) {
            return;  // the engine's answer ended it already (not expected: it posts)
        }
        next_tick_ = std::chrono::steady_clock::now();
        armPlayout();
    }
    if (from != in_->source) {
        drops_.drop(from, "foreign_source");  // a second sender while one talks
        return;
    }
    in_->last_rx = clock_.now();
    if (in_->refused) {
        drops_.drop(from, "refused_transmission");
        if (!h.keyed()) {
            in_.reset();  // the engine ended it already: nothing to report
        }
        return;
    }
    if (in_->unkeyed) {
        drops_.drop(from, "after_unkey");
        return;
    }
    if (v.has_audio) {
        // The header's seq counts packets (chan_usrp htonl(txseq++)): 160 samples each.
        const std::uint32_t ts = (h.seq - in_->base_seq) * kUsrpVoiceSamples;
        const ByteView pcm(reinterpret_cast<const std::uint8_t*>(v.pcm.data()),
                           v.pcm.size() * sizeof(std::int16_t));
        if (Status st = in_->jitter->put(pcm, ts); !st) {
            drops_.drop(from, st.error().reason);
        } else {
            in_->last_ts = std::max(in_->last_ts, ts);
        }
    }
    if (!h.keyed()) {
        in_->unkeyed = true;
        log_->info("link={} unkey call={}", cfg_.name, in_->ref);
    }
}

void UsrpLink::armPlayout() {
    if (timer_armed_ || !running_) {
        return;
    }
    timer_armed_ = true;
    next_tick_ += edge::kFramePeriod;
    timer_.expires_at(next_tick_);
    timer_.async_wait([this](boost::system::error_code ec) {
        timer_armed_ = false;
        if (ec || !running_) {
            return;
        }
        playout();
        if (in_) {
            armPlayout();
        }
    });
}

void UsrpLink::playout() {
    if (!in_) {
        return;
    }
    if (in_->refused) {
        if (clock_.now() - in_->last_rx > cfg_.call_timeout) {
            in_.reset();
        }
        return;
    }
    InlineBytes<media::JitterBuffer::kMaxPayload> buf;
    std::uint32_t ts = 0;
    const auto got = in_->jitter->get(buf, ts);
    in_->jitter->tick();
    if (got == media::JitterBuffer::Get::Frame && buf.size() == kUsrpVoiceBytes) {
        in_->playing = true;
        in_->missing_in_row = 0;
        media::NbFrame pcm;
        std::memcpy(pcm.data(), buf.data(), kUsrpVoiceBytes);
        auto amr = in_->encode->process(pcm);
        if (amr) {
            emit(Event{Voice{in_->ref, edge::amrVoiceFrame(*amr, in_->seq++, toNs(clock_.now()))}});
        }
        if (in_ && in_->unkeyed && ts >= in_->last_ts) {
            endIn(EndReason::Normal, "unkey");
        }
        return;
    }
    ++in_->missing_in_row;
    if (in_->playing) {
        late_->inc();
        ++in_->seq;  // the engine counts the gap as loss; the MC receiver conceals it
    }
    if (in_->unkeyed && in_->missing_in_row >= kDrainMissing) {
        endIn(EndReason::Normal, "unkey");
        return;
    }
    if (clock_.now() - in_->last_rx > cfg_.call_timeout) {
        endIn(EndReason::Timeout, "no packet for call_timeout");
    }
}

void UsrpLink::endIn(EndReason reason, std::string_view detail) {
    if (!in_) {
        return;
    }
    const CallRef ref = in_->ref;
    log_->info("link={} end call={} reason={} frames={}", cfg_.name, ref, toString(reason),
               in_->seq);
    in_.reset();
    emit(Event{CallEnd{ref, reason, std::string(detail)}});
}

Status UsrpLink::refuseFrame(std::string_view reason) {
    metrics_
        .counter("iwf_analog_refused_frames_total",
                 "Frames toward an analogue channel refused (not clear AMR-WB)",
                 {{"link", cfg_.name}, {"reason", std::string(reason)}})
        .inc();
    return Error{std::string(reason)};
}

Status UsrpLink::deliver(const Event& event) {
    if (!running_) {
        return Error{"not_running"};
    }
    if (const auto* s = std::get_if<CallSetup>(&event)) {
        if (out_ && out_->ref == s->call) {
            return Status::success();  // a modification (priority): nothing to tell FM
        }
        if (s->crypto && s->crypto->encrypted) {
            return refuseFrame("encrypted");
        }
        auto dec = media::AmrWbToNb::create();
        if (!dec) {
            return Error{"media_init_failed"};
        }
        out_.emplace(OutCall{});  // as in_ above
        out_->ref = s->call;
        const auto* g = std::get_if<AnalogGroup>(&s->callee);
        out_->talkgroup = g != nullptr ? g->talkgroup : cfg_.talkgroup;
        out_->decode = std::move(*dec);
        log_->info("link={} transmit call={} talkgroup={}", cfg_.name, s->call, out_->talkgroup);
        return Status::success();
    }
    if (const auto* v = std::get_if<Voice>(&event)) {
        return deliverVoice(*v);
    }
    if (const auto* e = std::get_if<CallEnd>(&event)) {
        if (out_ && out_->ref == e->call) {
            sendPacket(UsrpVoice{});  // header only, keyup 0: chan_usrp usrp_indicate
            out_.reset();
            return Status::success();
        }
        if (in_ && in_->ref == e->call) {
            // The engine ended the channel's transmission (refused, or the call ended):
            // nothing to send on a channel without floor signalling; stop reporting it.
            log_->info("link={} call={} ended by the engine reason={} detail={}", cfg_.name,
                       e->call, toString(e->reason), e->detail);
            in_->refused = true;
            in_->jitter.reset();
            in_->encode.reset();
            return Status::success();
        }
        return Error{"unknown_call"};
    }
    // Floor events: FM has no floor signalling (signalsFloor() is false); nothing to do.
    return Status::success();
}

Status UsrpLink::deliverVoice(const Voice& v) {
    if (!out_ || out_->ref != v.call) {
        return Error{"unknown_call"};
    }
    const VoiceFrame& f = v.frame;
    if (f.crypto.encrypted) {
        return refuseFrame("encrypted");
    }
    if (f.codec != VoiceCodec::AmrWb) {
        return refuseFrame("no_vocoder");  // IMBE / AMBE / ACELP: no decoder in the gateway
    }
    auto amr = media::frameFromStorage(media::AmrCodec::AmrWb, f.payload.view());
    if (!amr) {
        return refuseFrame("bad_amr_frame");
    }
    media::NbFrame pcm;
    if (out_->next_seq && f.seq != *out_->next_seq) {
        const std::uint32_t gap = f.seq - *out_->next_seq;
        if (gap < 0x80000000U) {  // forward: frames lost in between
            for (std::uint32_t i = 0; i < std::min(gap, edge::kMaxConcealed); ++i) {
                out_->decode->conceal(pcm);
                sendPcm(pcm, true);
                concealed_->inc();
            }
        }
    }
    out_->next_seq = f.seq + 1;
    out_->decode->process(*amr, pcm);
    sendPcm(pcm, true);
    return Status::success();
}

void UsrpLink::sendPcm(const media::NbFrame& pcm, bool keyed) {
    UsrpVoice v;
    v.header.keyup = keyed ? 1 : 0;
    v.header.talkgroup = out_ ? out_->talkgroup : cfg_.talkgroup;
    v.has_audio = true;
    v.pcm = pcm;
    sendPacket(v);
}

void UsrpLink::sendPacket(const UsrpPacket& p) {
    UsrpPacket q = p;
    std::visit([&](auto& x) { x.header.seq = tx_seq_++; }, q);
    UsrpBuffer buf;
    if (!encodeUsrp(q, buf)) {
        return;
    }
    boost::system::error_code ec;
    socket_.send_to(asio::buffer(buf.data(), buf.size()), peer_, 0, ec);
    if (ec) {
        metrics_
            .counter("iwf_lmr_send_errors_total", "LMR datagrams that could not be sent",
                     {{"link", cfg_.name}, {"peer", net::endpointName(peer_)}})
            .inc();
        return;
    }
    tx_packets_->inc();
}

}  // namespace iwf::lmr::analog
