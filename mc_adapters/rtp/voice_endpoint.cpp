#include "mc_adapters/rtp/voice_endpoint.hpp"

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
    w.u32(cfg_.timestamp_base + rtpTimestampOffset(f));
    w.u32(cfg_.ssrc);
    IWF_TRY_STATUS(encodeLmrPayload(f, tx_buf));
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
    auto frame = decodeLmrPayload(rtp->payload());
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
    frame->rx_ns = toNs(clock_.now());
    rx_.inc();
    if (handler_) {
        handler_(std::move(*frame), *rtp);
    }
}

}  // namespace iwf::mc::rtp
