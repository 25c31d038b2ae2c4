#pragma once
// "analog-usrp": an analogue FM channel reached over the USRP protocol of AllStarLink
// chan_usrp / DVSwitch Analog_Bridge (docs/protocols/usrp.md): one UDP peer, 20 ms of 8 kHz
// 16-bit PCM per datagram, both ways.
//
// Toward the engine the link speaks AMR-WB, the MCPTT codec, because PCM cannot cross IWF-1
// and a 20 ms PCM frame does not fit a VoiceFrame: the link transcodes at its edge with the
// media library (media/speech.hpp), which the analogue adapter may include and the engine may
// not (docs/architecture.md layer table).
//
// From the channel (receive):
//   key-up (a VOICE packet with keyup 1)  -> CallSetup, group call, callee AnalogGroup{the
//       header's talkgroup, or `talkgroup` when the peer sends 0 as chan_usrp and pyUC do},
//       crypto clear(analog), codec amr-wb; the engine treats it as the talker's floor request
//       (the protocol has no floor signalling, like the P25 records and DMR HBP links);
//   each 20 ms of PCM -> libspeexdsp's adaptive jitter buffer (timestamp from the header's
//       seq), played out by a 20 ms timer: 8 -> 16 kHz, AMR-WB encode (amr_mode), one
//       Voice frame (payload: the RFC 4867 section 5.3 storage frame);
//   unkey (a header-only VOICE packet, chan_usrp usrp_indicate; or keyup 0 with audio, pyUC
//       txAudioStream) -> the buffered audio plays out, then CallEnd{Normal} (the floor
//       release); no packet for call_timeout -> CallEnd{Timeout}.
// To the channel (deliver):
//   CallSetup -> an outbound transmission; each AMR-WB Voice frame -> decode, concealment of
//       the frames a gap in Voice::frame.seq says were lost (media::AmrWbToNb::conceal),
//       16 -> 8 kHz, one VOICE packet with keyup 1 to `peer`; CallEnd -> the header-only
//       unkey chan_usrp sends (usrp_indicate).
//   A frame that is not clear AMR-WB (an encrypted or digital LMR vocoder stream: the gateway
//   has no IMBE/AMBE vocoder and never decrypts) is refused and counted in
//   iwf_analog_refused_frames_total{link, reason}.
//
// Every malformed datagram, or one from a source outside `allow`, is dropped and counted in
// iwf_lmr_dropped_total{link, peer, reason} with a rate-limited warning. While a transmission
// is open, voice from any other source (address and port) than its key-up's is dropped as
// "foreign_source": USRP has no stream identity, and mixing a second sender's packets into
// the jitter buffer would corrupt the talker's audio.
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
#include "lmr_adapters/analog/usrp.hpp"
#include "media/speech.hpp"

namespace iwf::lmr::analog {

struct UsrpLinkConfig {
    std::string name = "fm";
    std::string address = "0.0.0.0";
    std::uint16_t port = 34001;  // 0 = any (tests)
    std::string peer_address;    // where chan_usrp / Analog_Bridge listens
    std::uint16_t peer_port = 0;
    // The talkgroup of packets whose talkgroup field is 0 (chan_usrp and pyUC send 0), and
    // of outbound packets when the call names none.
    std::uint32_t talkgroup = 1;
    // AMR-WB rate of the analogue talker's stream toward the MC system (any mode, up to
    // 23.85 kbit/s: its 61-byte storage frame fits VoiceFrame::payload).
    media::AmrWbMode amr_mode = media::AmrWbMode::R12_65;
    std::chrono::milliseconds call_timeout{1000};
    net::AddressFilter allow = net::AddressFilter::loopback();
    int receive_buffer = 0;

    // Reads the link's YAML section (throws ConfigError naming file/line/field).
    static UsrpLinkConfig fromConfig(const ConfigNode& node);
};

class UsrpLink final : public LmrLink {
  public:
    UsrpLink(UsrpLinkConfig cfg, asio::io_context& io, metrics::Registry& metrics,
             const Clock& clock);
    ~UsrpLink() override;

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
        Endpoint source;  // the key-up's sender: the only one heard until the call ends
        std::uint32_t base_seq = 0;
        std::uint32_t last_ts = 0;  // timestamp of the newest frame put in the buffer
        std::unique_ptr<media::JitterBuffer> jitter;
        std::unique_ptr<media::NbToAmrWb> encode;
        bool unkeyed = false;
        // The engine ended (refused) this transmission: its packets are dropped until the
        // unkey or call_timeout, so one key-up is one CallSetup, not one per packet.
        bool refused = false;
        bool playing = false;  // the buffer has handed out a frame
        int missing_in_row = 0;
        std::uint32_t seq = 0;  // Voice::frame.seq toward the engine
        Clock::TimePoint last_rx{};
    };
    struct OutCall {
        CallRef ref = 0;
        std::uint32_t talkgroup = 0;
        std::unique_ptr<media::AmrWbToNb> decode;
        std::optional<std::uint32_t> next_seq;
    };

    void onDatagram(const Endpoint& from, ByteView data);
    void onVoice(const Endpoint& from, const UsrpVoice& v);
    void playout();
    void armPlayout();
    void endIn(EndReason reason, std::string_view detail);
    Status deliverVoice(const Voice& v);
    void sendPcm(const media::NbFrame& pcm, bool keyed);
    void sendPacket(const UsrpPacket& p);
    Status refuseFrame(std::string_view reason);
    void emit(Event&& e);

    UsrpLinkConfig cfg_;
    LinkId id_;
    asio::io_context& io_;
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
    std::uint32_t tx_seq_ = 1;  // chan_usrp starts txseq at 0 and skips the check on 0
    std::optional<Clock::TimePoint> last_heard_;
    metrics::Counter* rx_voice_ = nullptr;
    metrics::Counter* rx_other_ = nullptr;
    metrics::Counter* tx_packets_ = nullptr;
    metrics::Counter* concealed_ = nullptr;
    metrics::Counter* late_ = nullptr;
};

}  // namespace iwf::lmr::analog
