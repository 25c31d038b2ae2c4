#pragma once
// The RTP voice endpoint of one call: sends iwf::VoiceFrame as RTP packets in the LMR payload
// format (lmr_payload.hpp) and turns received RTP back into VoiceFrames.
//
// Order is part of the data for an encrypted stream (docs/architecture.md "The one property"): a
// packet older than the newest one delivered is dropped ("late"), a repeated one too ("duplicate");
// frames are never reordered or invented. Gaps are counted in iwf_mc_rtp_lost_total and the frame's
// `seq` (the extended RTP sequence number) shows them to the engine. Every dropped datagram is
// counted in iwf_mc_rtp_dropped_total{link, peer, reason}.
// With TS 33.180 media protection (protection()), packets are SRTP both ways.

#include <functional>
#include <optional>
#include <string>

#include "common/clock.hpp"
#include "common/metrics.hpp"
#include "common/voice.hpp"
#include "mc_adapters/rtp/lmr_payload.hpp"
#include "mc_adapters/rtp/peer_socket.hpp"
#include "mc_adapters/rtp/rtp_packet.hpp"
#include "mc_adapters/rtp/srtp_guard.hpp"

namespace iwf::mc::rtp {

struct VoiceEndpointConfig {
    std::uint8_t payload_type = 96;  // dynamic PT negotiated in SDP for X-IWF-LMR/8000
    std::uint32_t ssrc = 0;          // our SSRC (random per call, 33.180 7.5)
    std::uint16_t initial_sequence = 0;
    std::uint32_t timestamp_base = 0;
};

class VoiceEndpoint {
  public:
    using Handler = std::function<void(VoiceFrame&& frame, const RtpView& rtp)>;

    VoiceEndpoint(asio::io_context& io, metrics::Registry& metrics, const Clock& clock,
                  std::string link, VoiceEndpointConfig cfg);

    Status open(const Udp::endpoint& local);
    void close();
    Udp::endpoint localEndpoint() const { return peer_.localEndpoint(); }
    void setRemote(const Udp::endpoint& remote) { peer_.setRemote(remote); }
    // The socket's peer accounting: its drop label and latch filter (peer_socket.hpp).
    PeerSocket& peerSocket() { return peer_; }
    void onFrame(Handler h) { handler_ = std::move(h); }
    // TS 33.180 SRTP of the call (srtp_guard.hpp); off unless the owner sets it. A refused
    // datagram is counted in iwf_mc_rtp_dropped_total with the guard's reason.
    SrtpGuard& protection() { return srtp_; }

    // AMR-WB calls (issue #19): frames are VoiceCodec::AmrWb storage frames and travel as
    // RFC 4867 payloads (one frame per packet, CMR 15, RTP clock 16 kHz) in the given layout,
    // both ways. Off (default): the X-IWF-LMR payload.
    void setAmrWb(bool octet_aligned) { amr_octet_aligned_ = octet_aligned; }

    // Sends one frame; `marker` marks the first packet of a talk spurt.
    Status send(const VoiceFrame& f, bool marker = false);

  private:
    void onDatagram(ByteView data, const Udp::endpoint& from);
    Status encodeAmrWb(const VoiceFrame& f, Bytes& out) const;
    Result<VoiceFrame> decodeAmrWb(ByteView payload) const;

    PeerSocket peer_;
    const Clock& clock_;
    VoiceEndpointConfig cfg_;
    Handler handler_;
    SrtpGuard srtp_{SrtpGuard::Kind::Rtp};
    std::optional<bool> amr_octet_aligned_;  // set: AMR-WB (RFC 4867) in this layout
    SequenceExtender rx_seq_;
    bool rx_started_ = false;
    std::uint16_t next_seq_;  // here: fills the padding behind rx_started_
    std::uint32_t rx_ssrc_ = 0;
    std::uint64_t last_delivered_ = 0;
    metrics::Counter& rx_;
    metrics::Counter& tx_;
    metrics::Counter& lost_;
};

}  // namespace iwf::mc::rtp
