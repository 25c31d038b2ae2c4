#include "lmr_adapters/analog/rtp_link.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>

#include <fmt/ranges.h>

#include "common/link_limits.hpp"
#include "lmr_adapters/analog/analog_edge.hpp"

namespace iwf::lmr::analog {

namespace {

// A timestamp this far (in samples) before the transmission's first packet is a stale
// packet of an earlier talkspurt, not one to play: 1 s.
constexpr std::uint32_t kMaxBackwards = 8000;

}  // namespace

double levelDbfs(const media::NbFrame& pcm) {
    double sum = 0;
    for (std::int16_t s : pcm) {
        sum += static_cast<double>(s) * s;
    }
    const double rms = std::sqrt(sum / static_cast<double>(pcm.size()));
    return rms > 0 ? 20.0 * std::log10(rms / 32768.0) : -120.0;
}

AnalogRtpLinkConfig AnalogRtpLinkConfig::fromConfig(const ConfigNode& n) {
    n.expectKeys({"name", "type", "address", "port", "peer_address", "peer_port", "law",
                  "talkgroup", "amr_mode", "key_detect", "vad_threshold_dbfs", "hang_time", "allow",
                  "receive_buffer"});
    AnalogRtpLinkConfig c;
    c.name = n.getString("name");
    c.address = n.getIpAddress("address", "0.0.0.0");
    c.port = static_cast<std::uint16_t>(n.getInt("port", 0, 65535, 34100));
    c.peer_address = n.getIpAddress("peer_address");
    c.peer_port = static_cast<std::uint16_t>(n.getInt("peer_port", 1, 65535));
    c.law = n.getEnum("law", {"pcmu", "pcma"}, "pcmu") == "pcmu" ? media::G711Law::Ulaw
                                                                 : media::G711Law::Alaw;
    c.talkgroup = static_cast<std::uint32_t>(n.getInt("talkgroup", 1, 0xFFFFFF, 1));
    c.amr_mode = edge::amrModeFromConfig(n);
    c.key_detect = n.getEnum("key_detect", {"marker", "vad"}, "marker") == "marker"
                       ? KeyDetect::Marker
                       : KeyDetect::Vad;
    c.vad_threshold_dbfs = static_cast<int>(n.getInt("vad_threshold_dbfs", -90, 0, -45));
    c.hang_time = n.getDuration("hang_time", std::chrono::milliseconds(500));
    if (c.hang_time < std::chrono::milliseconds(60) || c.hang_time > std::chrono::seconds(10)) {
        n.fail("hang_time", "must be 60ms..10s (at least three 20 ms packets)");
    }
    c.allow = net::allowListFromConfig(n, c.address, {c.peer_address});
    c.receive_buffer = net::receiveBufferFromConfig(n, 0);
    return c;
}

AnalogRtpLink::AnalogRtpLink(AnalogRtpLinkConfig cfg, asio::io_context& io,
                             metrics::Registry& metrics, const Clock& clock)
    : cfg_(std::move(cfg))
    , id_{Side::Lmr, cfg_.name}
    , metrics_(metrics)
    , clock_(clock)
    , socket_(io)
    , timer_(io)
    , receiver_(socket_, 8, kAnalogRtpMaxDatagram)
    , drops_(metrics, cfg_.name, log::get("analog"))
    , log_(log::get("analog")) {
    const metrics::Labels l{{"link", cfg_.name}};
    rx_packets_ = &metrics_.counter("iwf_analog_rtp_rx_total", "analog-rtp packets accepted", l);
    tx_packets_ = &metrics_.counter("iwf_analog_rtp_tx_total", "analog-rtp packets sent", l);
    keyup_marker_ = &metrics_.counter("iwf_analog_keyups_total",
                                      "Transmissions of an analogue channel, by what keyed them",
                                      {{"link", cfg_.name}, {"cause", "marker"}});
    keyup_vad_ = &metrics_.counter("iwf_analog_keyups_total",
                                   "Transmissions of an analogue channel, by what keyed them",
                                   {{"link", cfg_.name}, {"cause", "vad"}});
    concealed_ = &metrics_.counter(
        "iwf_analog_concealed_frames_total",
        "20 ms frames toward the analogue channel rebuilt by loss concealment", l);
    late_ = &metrics_.counter("iwf_analog_jitter_missing_total",
                              "20 ms play-out slots of an analogue talker the jitter buffer "
                              "could not fill (late or lost packets)",
                              l);
    boost::system::error_code ec;
    peer_ = Endpoint(asio::ip::make_address(cfg_.peer_address, ec), cfg_.peer_port);
    std::random_device rd;
    tx_ssrc_ = rd();
    tx_seq_ = static_cast<std::uint16_t>(rd());
    tx_ts_ = rd();
}

AnalogRtpLink::~AnalogRtpLink() {
    stop();
}

Status AnalogRtpLink::start(EventSink& sink) {
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
    log_->info("link={} listening port={} peer={} law={} key_detect={} allow={}", cfg_.name,
               localPort(), net::endpointName(peer_), media::g711Name(cfg_.law),
               cfg_.key_detect == KeyDetect::Marker ? "marker" : "vad",
               fmt::join(cfg_.allow.entries(), ","));
    receiver_.start([this](const Endpoint& from, ByteView data) { onDatagram(from, data); });
    return Status::success();
}

void AnalogRtpLink::stop() {
    if (!running_) {
        return;
    }
    running_ = false;
    out_.reset();
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

std::uint16_t AnalogRtpLink::localPort() const {
    boost::system::error_code ec;
    auto ep = socket_.local_endpoint(ec);
    return ec ? 0 : ep.port();
}

LinkView AnalogRtpLink::view() const {
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

void AnalogRtpLink::emit(Event&& e) {
    if (sink_ != nullptr) {
        sink_->onEvent(id_, std::move(e));
    }
}

void AnalogRtpLink::onDatagram(const Endpoint& from, ByteView data) {
    if (!cfg_.allow.allows(from.address())) {
        drops_.drop(from, "not_allowed");
        return;
    }
    auto packet = decodeAnalogRtp(data);
    if (!packet) {
        drops_.drop(from, packet.error().reason);
        return;
    }
    const AnalogRtpPacket& p = *packet;
    if (p.payload_type != payloadTypeOf(cfg_.law)) {
        drops_.drop(from, "wrong_pt", p.payload_type);  // the other law: not what we agreed
        return;
    }
    if (in_ && p.ssrc != in_->ssrc) {
        drops_.drop(from, "foreign_ssrc");  // a second talker on a channel that has one
        return;
    }
    last_heard_ = clock_.now();
    rx_packets_->inc();
    media::NbFrame pcm;
    media::g711Decode(cfg_.law, p.payload, pcm);
    const bool voice = cfg_.key_detect == KeyDetect::Vad &&
                       levelDbfs(pcm) >= static_cast<double>(cfg_.vad_threshold_dbfs);
    if (!in_) {
        if (cfg_.key_detect == KeyDetect::Marker && !p.marker) {
            // RFC 3551 4.1: a talkspurt starts with the marker; this is the tail of one that
            // already ended (hang_time), or a gateway that needs key_detect: vad.
            drops_.drop(from, "no_marker");
            return;
        }
        if (cfg_.key_detect == KeyDetect::Vad && !voice) {
            return;  // the channel is idle: counted in rx_total, nothing to carry
        }
        keyUp(from, p, cfg_.key_detect == KeyDetect::Marker ? "marker" : "vad");
        if (!in_) {
            return;
        }
    }
    in_->last_rx = clock_.now();
    if (voice) {
        in_->last_voice = in_->last_rx;
    }
    if (in_->refused) {
        drops_.drop(from, "refused_transmission");
        return;
    }
    // RTP timestamps count 8 kHz samples (RFC 3551 4.5.14): 160 per 20 ms packet.
    const std::uint32_t ts = p.timestamp - in_->base_ts;
    if (ts > 0xFFFFFFFFu - kMaxBackwards) {
        drops_.drop(from, "before_keyup");
        return;
    }
    const ByteView bytes(reinterpret_cast<const std::uint8_t*>(pcm.data()),
                         pcm.size() * sizeof(std::int16_t));
    if (Status st = in_->jitter->put(bytes, ts); !st) {
        drops_.drop(from, st.error().reason);
    } else {
        in_->last_ts = std::max(in_->last_ts, ts);
    }
}

void AnalogRtpLink::keyUp(const Endpoint& from, const AnalogRtpPacket& p, std::string_view cause) {
    auto jitter = media::JitterBuffer::create(kG711FrameBytes);
    auto enc = media::NbToAmrWb::create(cfg_.amr_mode);
    if (!jitter || !enc) {
        drops_.drop(from, "media_init_failed");
        return;
    }
    in_.emplace(InCall{});  // not emplace(): clang 14 (usrp_link.cpp)
    in_->ref = next_ref_++;
    in_->ssrc = p.ssrc;
    in_->base_ts = p.timestamp;
    in_->jitter = std::move(*jitter);
    in_->encode = std::move(*enc);
    in_->last_rx = clock_.now();
    in_->last_voice = in_->last_rx;
    (cause == "marker" ? keyup_marker_ : keyup_vad_)->inc();
    CallSetup s;
    s.call = in_->ref;
    s.callee = AnalogGroup{cfg_.talkgroup};
    s.kind = CallKind::Group;
    s.crypto = CryptoSync::clear(LmrFamily::Analog);
    s.codec = VoiceCodec::AmrWb;
    log_->info("link={} keyup call={} cause={} ssrc={:08x}", cfg_.name, in_->ref, cause, p.ssrc);
    emit(Event{std::move(s)});
    if (!in_) {
        return;
    }
    next_tick_ = std::chrono::steady_clock::now();
    armPlayout();
}

void AnalogRtpLink::armPlayout() {
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

bool AnalogRtpLink::hangExpired() const {
    const auto last = cfg_.key_detect == KeyDetect::Vad ? in_->last_voice : in_->last_rx;
    return clock_.now() - last > cfg_.hang_time;
}

void AnalogRtpLink::playout() {
    if (!in_) {
        return;
    }
    if (in_->refused) {
        if (hangExpired()) {
            in_.reset();  // the talker stopped: the next key-up is a new request
        }
        return;
    }
    InlineBytes<media::JitterBuffer::kMaxPayload> buf;
    std::uint32_t ts = 0;
    const auto got = in_->jitter->get(buf, ts);
    in_->jitter->tick();
    if (got == media::JitterBuffer::Get::Frame && buf.size() == sizeof(media::NbFrame)) {
        in_->playing = true;
        media::NbFrame pcm;
        std::memcpy(pcm.data(), buf.data(), sizeof pcm);
        auto amr = in_->encode->process(pcm);
        if (amr) {
            emit(Event{Voice{in_->ref, edge::amrVoiceFrame(*amr, in_->seq++, toNs(clock_.now()))}});
        }
    } else if (in_->playing) {
        late_->inc();
        ++in_->seq;  // the engine counts the gap as loss; the MC receiver conceals it
    }
    if (in_ && hangExpired()) {
        endIn(EndReason::Normal,
              cfg_.key_detect == KeyDetect::Vad ? "vad hang time" : "stream stopped");
    }
}

void AnalogRtpLink::endIn(EndReason reason, std::string_view detail) {
    if (!in_) {
        return;
    }
    const CallRef ref = in_->ref;
    log_->info("link={} end call={} reason={} frames={}", cfg_.name, ref, toString(reason),
               in_->seq);
    in_.reset();
    emit(Event{CallEnd{ref, reason, std::string(detail)}});
}

Status AnalogRtpLink::refuseFrame(std::string_view reason) {
    metrics_
        .counter("iwf_analog_refused_frames_total",
                 "Frames toward an analogue channel refused (not clear AMR-WB)",
                 {{"link", cfg_.name}, {"reason", std::string(reason)}})
        .inc();
    return Error{std::string(reason)};
}

Status AnalogRtpLink::deliver(const Event& event) {
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
        out_.emplace(OutCall{});
        out_->ref = s->call;
        out_->decode = std::move(*dec);
        // RFC 3550 5.1: the timestamp follows the sampling clock across the silence.
        if (last_tx_) {
            const auto gap =
                std::chrono::duration_cast<std::chrono::milliseconds>(clock_.now() - *last_tx_);
            tx_ts_ += static_cast<std::uint32_t>(gap.count()) * 8;
        }
        log_->info("link={} transmit call={}", cfg_.name, s->call);
        return Status::success();
    }
    if (const auto* v = std::get_if<Voice>(&event)) {
        return deliverVoice(*v);
    }
    if (const auto* e = std::get_if<CallEnd>(&event)) {
        if (out_ && out_->ref == e->call) {
            out_.reset();  // the stream stops; the gateway's RTP timeout drops PTT
            return Status::success();
        }
        if (in_ && in_->ref == e->call) {
            log_->info("link={} call={} ended by the engine reason={} detail={}", cfg_.name,
                       e->call, toString(e->reason), e->detail);
            in_->refused = true;
            in_->jitter.reset();
            in_->encode.reset();
            return Status::success();
        }
        return Error{"unknown_call"};
    }
    return Status::success();  // floor events: FM has no floor signalling
}

Status AnalogRtpLink::deliverVoice(const Voice& v) {
    if (!out_ || out_->ref != v.call) {
        return Error{"unknown_call"};
    }
    const VoiceFrame& f = v.frame;
    if (f.crypto.encrypted) {
        return refuseFrame("encrypted");
    }
    if (f.codec != VoiceCodec::AmrWb) {
        return refuseFrame("no_vocoder");
    }
    auto amr = media::frameFromStorage(media::AmrCodec::AmrWb, f.payload.view());
    if (!amr) {
        return refuseFrame("bad_amr_frame");
    }
    media::NbFrame pcm;
    if (out_->next_seq && f.seq != *out_->next_seq) {
        const std::uint32_t gap = f.seq - *out_->next_seq;
        if (gap < 0x80000000U) {
            for (std::uint32_t i = 0; i < std::min(gap, edge::kMaxConcealed); ++i) {
                out_->decode->conceal(pcm);
                sendPcm(pcm);
                concealed_->inc();
            }
        }
    }
    out_->next_seq = f.seq + 1;
    out_->decode->process(*amr, pcm);
    sendPcm(pcm);
    return Status::success();
}

void AnalogRtpLink::sendPcm(const media::NbFrame& pcm) {
    std::uint8_t g711[kG711FrameBytes];
    media::g711Encode(cfg_.law, pcm, g711);
    AnalogRtpPacket p;
    p.marker = out_ && out_->first;
    p.payload_type = payloadTypeOf(cfg_.law);
    p.sequence = tx_seq_++;
    p.timestamp = tx_ts_;
    p.ssrc = tx_ssrc_;
    p.payload = ByteView(g711, sizeof g711);
    tx_ts_ += kG711FrameBytes;
    last_tx_ = clock_.now();
    if (out_) {
        out_->first = false;
    }
    AnalogRtpBuffer buf;
    if (!encodeAnalogRtp(p, buf)) {
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
