#pragma once
// The harness's MC client of an analogue group (issue #19): an MC system and its user in one,
// that really decodes and encodes AMR-WB (media/speech.hpp: libopencore-amrwb,
// libvo-amrwbenc). It answers iwfd's INVITE for an analogue talker with AMR-WB in the offered
// RFC 4867 layout (mc_adapters/mcptt answerMedia), decodes every frame it hears at its place
// in the talk spurt (RTP timestamp; a missing frame is concealed by the decoder), then talks:
// Floor Request (TS 24.380) and one AMR-WB frame per call of sendFrame, as RTP it builds
// itself (RFC 3550 header, RFC 4867 payload), so a frame it "loses" leaves a gap in sequence
// number and timestamp exactly as a network would.
//
// Single-threaded: everything runs on the caller's io_context, driven by poll().
#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include "common/asio.hpp"
#include "common/metrics.hpp"
#include "mc_adapters/mcptt/mcptt_sdp.hpp"
#include "mc_adapters/rtp/floor_endpoint.hpp"
#include "media/speech.hpp"
#include "sip/stack.hpp"

namespace iwf::harness {

class AnalogMcClient {
  public:
    AnalogMcClient(asio::io_context& io, metrics::Registry& reg);
    ~AnalogMcClient();
    AnalogMcClient(const AnalogMcClient&) = delete;
    AnalogMcClient& operator=(const AnalogMcClient&) = delete;

    Status start();
    std::uint16_t sipPort() const;
    // Runs the io_context for `d` and reads every RTP datagram that arrived.
    void poll(std::chrono::milliseconds d);

    // The current call (the last INVITE answered); forgets the previous one.
    bool inCall() const { return call_ != nullptr; }
    // 16 kHz PCM of the talk spurt heard, frame k at k * 320 (k from the first frame's RTP
    // timestamp); receive times per frame (steady ns, 0 = concealed).
    const std::vector<std::int16_t>& heard() const;
    const std::vector<std::int64_t>& heardAt() const;
    std::size_t framesReceived() const;
    bool sawFloor(mc::floor::MessageType t) const;

    Status requestFloor();
    Status releaseFloor();
    // Encodes frame i (320 samples at 16 kHz) at `mode` and sends it, unless `lose`.
    Status sendFrame(std::size_t i, const std::int16_t* wb, media::AmrWbMode mode, bool lose);

  private:
    struct Call;
    void onInvite(sip::ServerTxId tx, const sip::Message& req);
    void readRtp();
    Status sendFloor(mc::floor::MessageType type);

    asio::io_context& io_;
    metrics::Registry& reg_;
    std::unique_ptr<sip::Stack> stack_;
    std::unique_ptr<Call> call_;
};

}  // namespace iwf::harness
