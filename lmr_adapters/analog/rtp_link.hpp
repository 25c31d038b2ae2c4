#pragma once
// "analog-rtp": an analogue FM channel behind a commercial Radio-over-IP gateway that
// streams RTP G.711 (docs/protocols/analog-rtp.md): one UDP peer, 20 ms of µ-law (PT 0) or
// A-law (PT 8) at 8 kHz per packet, both ways. Built like "analog-usrp" (usrp_link.hpp): the
// link decodes G.711 to the same 8 kHz PCM the USRP link receives and transcodes it to
// AMR-WB at its edge (media/speech.hpp), so the engine sees the same calls from both.
//
// From the channel (receive):
//   key-up -> CallSetup, group call, callee AnalogGroup{`talkgroup`}, crypto clear(analog),
//       codec amr-wb. What keys the channel up (`key_detect`):
//       marker  a packet with the RTP marker bit, which RFC 3551 section 4.1 sets on the
//               first packet of a talkspurt (the gateway sends RTP only while COR/PTT is
//               active). An unmarked packet with no transmission open is dropped
//               ("no_marker"). The transmission ends (CallEnd{Normal}) when no packet came
//               for `hang_time`.
//       vad     the gateway streams all the time (or never sets the marker): a packet whose
//               20 ms level (RMS, dBFS) is at least `vad_threshold_dbfs` keys up; the
//               transmission ends when no packet reached the threshold for `hang_time`
//               (packets below it in between are carried: the pauses between words).
//   each 20 ms of G.711 -> PCM -> libspeexdsp's adaptive jitter buffer (timestamp from the
//       RTP timestamp), played out by a 20 ms timer: 8 -> 16 kHz, AMR-WB encode, one Voice.
//   While a transmission is open, packets of another SSRC are dropped ("foreign_ssrc"): one
//   talker per channel; packets of the other G.711 law or another payload type are dropped
//   ("wrong_pt"), the gateway must send the configured `law`.
// To the channel (deliver):
//   CallSetup -> an outbound transmission; each AMR-WB Voice frame -> decode, concealment of
//       lost frames, 16 -> 8 kHz, G.711 (`law`), one RTP packet to `peer`: the marker bit on
//       the first packet of each transmission (RFC 3551 4.1), one SSRC chosen at random per
//       link, sequence numbers +1 per packet and the timestamp +160 per packet, both from
//       random initial values (RFC 3550 5.1), the timestamp advanced over the silence
//       between transmissions by the time elapsed (RFC 3550 5.1: it reflects the sampling
//       instant). CallEnd -> the stream stops (RTP has no unkey; the gateway's own RTP
//       timeout drops PTT).
//   A frame that is not clear AMR-WB is refused and counted, as on the USRP link.
//
// Every malformed datagram, or one from a source outside `allow`, is dropped and counted in
// iwf_lmr_dropped_total{link, peer, reason} with a rate-limited warning.
//
// Runs on one thread (worker 0): deliver(), the receiver and the timer share it.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "common/address_filter.hpp"
#include "common/asio.hpp"
#include "common/clock.hpp"
#include "common/config_node.hpp"
#include "common/link.hpp"
#include "common/log.hpp"
#include "common/metrics.hpp"
#include "common/udp_socket.hpp"
#include "lmr_adapters/analog/analog_rtp.hpp"
#include "media/g711.hpp"
#include "media/speech.hpp"

namespace iwf::lmr::analog {

enum class KeyDetect : std::uint8_t { Marker, Vad };

struct AnalogRtpLinkConfig {
    std::string name = "roip";
    std::string address = "0.0.0.0";
    std::uint16_t port = 34100;  // 0 = any (tests)
    std::string peer_address;    // where the RoIP gateway receives RTP
    std::uint16_t peer_port = 0;
    media::G711Law law = media::G711Law::Ulaw;
    std::uint32_t talkgroup = 1;  // the AnalogGroup of the channel (RTP has no talkgroup)
    media::AmrWbMode amr_mode = media::AmrWbMode::R12_65;
    KeyDetect key_detect = KeyDetect::Marker;
    // vad: the 20 ms RMS level, dB relative to full scale (32768), at or above which a
    // packet counts as voice. -45: 19 dB under -26 dBov, the active speech level ITU-T P.56
    // measurements and P.800-series tests use as nominal, so a quiet talker still keys; and
    // well above an idle channel: G.711's digital silence (µ-law 0xFF decodes to 0, A-law
    // 0xD5 to 8, i.e. -72 dBFS) and the low-level hiss a gateway passes behind a closed
    // squelch. Raise it for a gateway that passes open-squelch noise.
    int vad_threshold_dbfs = -45;
    // marker: no packet for this long ends the transmission; vad: no voice packet for this
    // long does. 500 ms: longer than the pauses inside speech (up to ~300 ms between
    // words), so a talker is not cut into several calls, and short enough that the floor is
    // free half a second after the talker stops (an FM repeater's own hang time is 0.5-2 s).
    std::chrono::milliseconds hang_time{500};
    net::AddressFilter allow = net::AddressFilter::loopback();
    int receive_buffer = 0;

    // Reads the link's YAML section (throws ConfigError naming file/line/field).
    static AnalogRtpLinkConfig fromConfig(const ConfigNode& node);
};

// The RMS level of 20 ms of PCM, dBFS (full scale 32768); -120 for digital silence.
double levelDbfs(const media::NbFrame& pcm);

class AnalogRtpLink final : public LmrLink {
  public:
    AnalogRtpLink(AnalogRtpLinkConfig cfg, asio::io_context& io, metrics::Registry& metrics,
                  const Clock& clock);
    ~AnalogRtpLink() override;

    const LinkId& id() const override { return id_; }
    LmrFamily family() const override { return LmrFamily::Analog; }
    Status start(EventSink& sink) override;
    void stop() override;
    Status deliver(const Event& event) override;
    LinkView view() const override;

    std::uint16_t localPort() const;

  private:
    using Endpoint = asio::ip::udp::endpoint;
    struct InCall {
        CallRef ref = 0;
        std::uint32_t ssrc = 0;
        std::uint32_t base_ts = 0;
        std::uint32_t last_ts = 0;
        std::unique_ptr<media::JitterBuffer> jitter;
        std::unique_ptr<media::NbToAmrWb> encode;
        bool refused = false;  // ended by the engine: dropped until the talker stops
        bool playing = false;
        std::uint32_t seq = 0;  // Voice::frame.seq toward the engine
        Clock::TimePoint last_rx{};
        Clock::TimePoint last_voice{};  // vad: the last packet at or above the threshold
    };
    struct OutCall {
        CallRef ref = 0;
        std::unique_ptr<media::AmrWbToNb> decode;
        std::optional<std::uint32_t> next_seq;
        bool first = true;  // the next packet carries the marker bit
    };

    void onDatagram(const Endpoint& from, ByteView data);
    void keyUp(const Endpoint& from, const AnalogRtpPacket& p, std::string_view cause);
    void playout();
    void armPlayout();
    bool hangExpired() const;
    void endIn(EndReason reason, std::string_view detail);
    Status deliverVoice(const Voice& v);
    void sendPcm(const media::NbFrame& pcm);
    Status refuseFrame(std::string_view reason);
    void emit(Event&& e);

    AnalogRtpLinkConfig cfg_;
    LinkId id_;
    metrics::Registry& metrics_;
    const Clock& clock_;
    asio::ip::udp::socket socket_;
    asio::steady_timer timer_;
    net::BatchReceiver receiver_;
    net::DropCounter drops_;
    std::shared_ptr<spdlog::logger> log_;
    Endpoint peer_;
    EventSink* sink_ = nullptr;
    bool running_ = false;
    bool timer_armed_ = false;
    std::chrono::steady_clock::time_point next_tick_{};
    std::optional<InCall> in_;
    std::optional<OutCall> out_;
    CallRef next_ref_ = 1;
    // RTP sender state (RFC 3550 5.1: SSRC, sequence and timestamp start random).
    std::uint32_t tx_ssrc_ = 0;
    std::uint16_t tx_seq_ = 0;
    std::uint32_t tx_ts_ = 0;
    std::optional<Clock::TimePoint> last_tx_;
    std::optional<Clock::TimePoint> last_heard_;
    metrics::Counter* rx_packets_ = nullptr;
    metrics::Counter* tx_packets_ = nullptr;
    metrics::Counter* keyup_marker_ = nullptr;
    metrics::Counter* keyup_vad_ = nullptr;
    metrics::Counter* concealed_ = nullptr;
    metrics::Counter* late_ = nullptr;
};

}  // namespace iwf::lmr::analog
