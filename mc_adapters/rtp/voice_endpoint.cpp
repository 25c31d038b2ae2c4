#include "mc_adapters/rtp/voice_endpoint.hpp"

#include "mc_adapters/rtp/floor_endpoint.hpp"

namespace iwf::mc::rtp {

VoiceEndpoint::VoiceEndpoint(asio::io_context& io, metrics::Registry& metrics, const Clock& clock,
                             std::string link, VoiceEndpointConfig cfg)
    : udp_(io)
    , metrics_(metrics)
    , clock_(clock)
    , link_(std::move(link))
    , cfg_(cfg)
    , next_seq_(cfg.initial_sequence)
    , rx_(metrics.counter("iwf_mc_rtp_rx_total", "RTP voice frames received", {{"link", link_}}))
    , tx_(metrics.counter("iwf_mc_rtp_tx_total", "RTP voice frames sent", {{"link", link_}}))
    , lost_(metrics.counter("iwf_mc_rtp_lost_total",
                            "RTP packets missing from received sequence numbers",
                            {{"link", link_}})) {}

Status VoiceEndpoint::open(const Udp::endpoint& local) {
    return udp_.open(local,
                     [this](ByteView data, const Udp::endpoint& from) { onDatagram(data, from); });
}

void VoiceEndpoint::close() {
    udp_.close();
}

void VoiceEndpoint::setRemote(const Udp::endpoint& remote) {
    remote_ = remote;
    has_remote_ = true;
}

Status VoiceEndpoint::send(const VoiceFrame& f, bool marker) {
    if (!has_remote_) {
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
    IWF_TRY_STATUS(udp_.sendTo(tx_buf, remote_));
    ++next_seq_;
    tx_.inc();
    return {};
}

void VoiceEndpoint::drop(const Udp::endpoint& from, std::string_view reason) {
    metrics_
        .counter("iwf_mc_rtp_dropped_total", "RTP datagrams dropped, by reason",
                 {{"link", link_}, {"peer", peerLabel(from)}, {"reason", std::string(reason)}})
        .inc();
    std::uint64_t suppressed = 0;
    if (warn_limit_.allow(std::chrono::steady_clock::now(), suppressed)) {
        log::get("rtp")->warn("link={} peer={} rtp datagram dropped reason={} suppressed={}", link_,
                              peerLabel(from), reason, suppressed);
    }
}

void VoiceEndpoint::onDatagram(ByteView data, const Udp::endpoint& from) {
    if (data.size() > UdpEndpoint::kMaxDatagram) {
        drop(from, "oversize");
        return;
    }
    if (has_remote_ && from != remote_) {
        drop(from, "unknown_peer");
        return;
    }
    auto rtp = RtpView::parse(data);
    if (!rtp) {
        drop(from, rtp.error().reason);
        return;
    }
    if (rtp->payloadType() != cfg_.payload_type) {
        drop(from, "unexpected_payload_type");
        return;
    }
    auto frame = decodeLmrPayload(rtp->payload());
    if (!frame) {
        drop(from, frame.error().reason);
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
            drop(from, "duplicate");
            return;
        }
        if (ext < last_delivered_) {
            drop(from, "late");
            return;
        }
        if (ext > last_delivered_ + 1) {
            lost_.inc(ext - last_delivered_ - 1);
        }
    }
    rx_started_ = true;
    rx_ssrc_ = rtp->ssrc();
    last_delivered_ = ext;
    if (!has_remote_) {
        setRemote(from);
    }
    frame->seq = static_cast<std::uint32_t>(ext);
    frame->rx_ns = toNs(clock_.now());
    rx_.inc();
    if (handler_) {
        handler_(std::move(*frame), *rtp);
    }
}

}  // namespace iwf::mc::rtp
