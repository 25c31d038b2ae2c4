#include "mc_adapters/rtp/voice_endpoint.hpp"

#include "media/amr_payload.hpp"

namespace iwf::mc::rtp {

namespace {

constexpr DropAccount kDrops{"iwf_mc_rtp_dropped_total", "RTP datagrams dropped, by reason", "rtp",
                             "rtp"};

}  // namespace

VoiceEndpoint::VoiceEndpoint(asio::io_context& io, metrics::Registry& metrics, const Clock& clock,
                             std::string link, VoiceEndpointConfig cfg)
    : peer_(io, metrics, std::move(link))
    , clock_(clock)
    , cfg_(cfg)
    , next_seq_(cfg.initial_sequence)
    , rx_(metrics.counter("iwf_mc_rtp_rx_total", "RTP voice frames received",
                          {{"link", peer_.link()}}))
    , tx_(metrics.counter("iwf_mc_rtp_tx_total", "RTP voice frames sent", {{"link", peer_.link()}}))
    , lost_(metrics.counter("iwf_mc_rtp_lost_total",
                            "RTP packets missing from received sequence numbers",
                            {{"link", peer_.link()}})) {}

Status VoiceEndpoint::open(const Udp::endpoint& local) {
    return peer_.open(local,
                      [this](ByteView data, const Udp::endpoint& from) { onDatagram(data, from); });
}

void VoiceEndpoint::close() {
    peer_.close();
}

Status VoiceEndpoint::send(const VoiceFrame& f, bool marker) {
    if (!peer_.hasRemote()) {
        return Error{"no_remote"};
    }
    // The fixed header (RFC 3550 5.1: V=2, no padding / extension / CSRC), then the LMR
    // payload encoded in place behind it: no RtpHeader object and no payload copy per frame.
    // One send buffer per thread, not per call: an idle call holds none, and a frame touches
    // no per-call heap block besides the endpoint itself.
    thread_local Bytes tx_buf;
    tx_buf.clear();
    ByteWriter w(tx_buf);
    w.u8(0x80);
    w.u8(static_cast<std::uint8_t>((marker ? 0x80 : 0) | (cfg_.payload_type & 0x7F)));
    w.u16(next_seq_);
    // AMR-WB: 320 ticks of the 16 kHz clock per 20 ms frame (RFC 4867 4.1); the frame's
    // superframe counts its frames.
    w.u32(cfg_.timestamp_base +
          (amr_octet_aligned_ ? f.pos.superframe * 320U : rtpTimestampOffset(f)));
    w.u32(cfg_.ssrc);
    if (amr_octet_aligned_) {
        IWF_TRY_STATUS(encodeAmrWb(f, tx_buf));
    } else {
        IWF_TRY_STATUS(encodeLmrPayload(f, tx_buf));
    }
    IWF_TRY_STATUS(srtp_.protect(tx_buf));
    IWF_TRY_STATUS(peer_.sendToRemote(tx_buf));
    ++next_seq_;
    tx_.inc();
    return {};
}

void VoiceEndpoint::onDatagram(ByteView data, const Udp::endpoint& from) {
    if (!peer_.admit(kDrops, data, from)) {
        return;
    }
    if (srtp_.active()) {
        auto clear = srtp_.unprotect(data);
        if (!clear) {
            peer_.drop(kDrops, from, clear.error().reason);
            return;
        }
        data = *clear;
    }
    auto rtp = RtpView::parse(data);
    if (!rtp) {
        peer_.drop(kDrops, from, rtp.error().reason);
        return;
    }
    if (rtp->payloadType() != cfg_.payload_type) {
        peer_.drop(kDrops, from, "unexpected_payload_type");
        return;
    }
    auto frame =
        amr_octet_aligned_ ? decodeAmrWb(rtp->payload()) : decodeLmrPayload(rtp->payload());
    if (!frame) {
        peer_.drop(kDrops, from, frame.error().reason);
        return;
    }
    if (rx_started_ && rtp->ssrc() != rx_ssrc_) {
        // A new source (e.g. another talker through the MC server): restart sequencing.
        rx_seq_ = SequenceExtender{};
        rx_started_ = false;
    }
    const std::uint64_t ext = rx_seq_.extend(rtp->sequence());
    if (rx_started_) {
        if (ext == last_delivered_) {
            peer_.drop(kDrops, from, "duplicate");
            return;
        }
        if (ext < last_delivered_) {
            peer_.drop(kDrops, from, "late");
            return;
        }
        if (ext > last_delivered_ + 1) {
            lost_.inc(ext - last_delivered_ - 1);
        }
    }
    rx_started_ = true;
    rx_ssrc_ = rtp->ssrc();
    last_delivered_ = ext;
    if (!peer_.hasRemote()) {
        peer_.setRemote(from);
    }
    frame->seq = static_cast<std::uint32_t>(ext);
    if (amr_octet_aligned_) {
        frame->pos.superframe = frame->seq;  // sent on as the frame count (timestamp)
    }
    frame->rx_ns = toNs(clock_.now());
    rx_.inc();
    if (handler_) {
        handler_(std::move(*frame), *rtp);
    }
}

Status VoiceEndpoint::encodeAmrWb(const VoiceFrame& f, Bytes& out) const {
    if (f.codec != VoiceCodec::AmrWb || f.crypto.encrypted) {
        return Error{"not_amr_wb"};
    }
    auto frame = media::frameFromStorage(media::AmrCodec::AmrWb, f.payload.view());
    if (!frame) {
        return frame.error();
    }
    media::AmrPayload p;
    p.frames[0] = *frame;
    p.count = 1;
    media::AmrPayloadBuffer buf;
    IWF_TRY_STATUS(media::encodeAmrPayload({media::AmrCodec::AmrWb, *amr_octet_aligned_}, p, buf));
    out.insert(out.end(), buf.data(), buf.data() + buf.size());
    return {};
}

Result<VoiceFrame> VoiceEndpoint::decodeAmrWb(ByteView payload) const {
    auto p = media::decodeAmrPayload({media::AmrCodec::AmrWb, *amr_octet_aligned_}, payload);
    if (!p) {
        return p.error();
    }
    // One 20 ms frame per packet, as we answer (ptime 20); a CMR is not acted on (the
    // analogue link encodes at its configured amr_mode, inside the negotiated mode-set).
    if (p->count != 1) {
        return Error{"amr_frames_per_packet"};
    }
    VoiceFrame f;
    f.codec = VoiceCodec::AmrWb;
    f.crypto = CryptoSync::clear(LmrFamily::Analog);
    std::uint8_t storage[1 + media::kAmrMaxFrameBytes];
    const std::size_t n =
        media::frameToStorage(p->frames[0], MutableByteView(storage, sizeof storage));
    if (n > f.payload.capacity()) {
        return Error{"amr_mode_too_high"};  // cannot happen: 23.85 kbit/s fits the payload
    }
    f.payload.assign(ByteView(storage, n));
    return f;
}

}  // namespace iwf::mc::rtp
