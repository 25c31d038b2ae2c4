#pragma once
// The speech path of an analogue leg (issue #19): 8 kHz narrowband PCM from a USRP or G.711
// peer <-> 16 kHz wideband PCM <-> AMR-WB frames for the MCPTT side, with Debian's
// libraries: libvo-amrwbenc (encoder), libopencore-amrwb (decoder, whose bad-frame handling
// is the packet-loss concealment), libspeexdsp (resampler, jitter buffer). One object per
// stream and direction, each owning its library state; nothing shared, so a stream lives
// on one thread. Frames are 20 ms: 160 samples at 8 kHz, 320 at 16 kHz.

#include <array>
#include <cstdint>
#include <memory>
#include <span>

#include "common/result.hpp"
#include "media/amr_payload.hpp"

namespace iwf::media {

inline constexpr std::size_t kNbFrameSamples = 160;  // 20 ms at 8 kHz
inline constexpr std::size_t kWbFrameSamples = 320;  // 20 ms at 16 kHz
using NbFrame = std::array<std::int16_t, kNbFrameSamples>;
using WbFrame = std::array<std::int16_t, kWbFrameSamples>;

// AMR-WB speech modes (FT 0..8) by bit rate; the MCPTT codec's rates of TS 26.171.
enum class AmrWbMode : std::uint8_t {
    R6_60 = 0,
    R8_85 = 1,
    R12_65 = 2,
    R14_25 = 3,
    R15_85 = 4,
    R18_25 = 5,
    R19_85 = 6,
    R23_05 = 7,
    R23_85 = 8,
};

// Speex resampler at quality 5 (the library's VoIP default), fixed ratio, 20 ms frames.
class Resampler {
  public:
    static Result<std::unique_ptr<Resampler>> create(std::uint32_t in_rate, std::uint32_t out_rate);
    ~Resampler();
    Resampler(const Resampler&) = delete;
    Resampler& operator=(const Resampler&) = delete;
    // Resamples exactly one 20 ms frame; in and out sizes must be in_rate/50 and out_rate/50.
    Status process(std::span<const std::int16_t> in, std::span<std::int16_t> out);
    // Delay the filter adds, in output samples.
    int outputLatency() const;

  private:
    explicit Resampler(void* state) : state_(state) {}
    void* state_;
};

class AmrWbEncoder {
  public:
    static Result<std::unique_ptr<AmrWbEncoder>> create(AmrWbMode mode);
    ~AmrWbEncoder();
    AmrWbEncoder(const AmrWbEncoder&) = delete;
    AmrWbEncoder& operator=(const AmrWbEncoder&) = delete;
    void setMode(AmrWbMode mode) { mode_ = mode; }  // a CMR from the far end
    // Encodes one 20 ms wideband frame. Error "encoder_failed".
    Result<AmrFrame> encode(const WbFrame& pcm);

  private:
    AmrWbEncoder(void* state, AmrWbMode mode) : state_(state), mode_(mode) {}
    void* state_;
    AmrWbMode mode_;
};

class AmrWbDecoder {
  public:
    static Result<std::unique_ptr<AmrWbDecoder>> create();
    ~AmrWbDecoder();
    AmrWbDecoder(const AmrWbDecoder&) = delete;
    AmrWbDecoder& operator=(const AmrWbDecoder&) = delete;
    void decode(const AmrFrame& frame, WbFrame& pcm);
    // A frame that never arrived (or arrived damaged). libopencore-amrwb's D_IF_decode
    // cannot reach its decoder's bad-frame path: it sets `quality = 1; /* ? */` and turns
    // any bfi into mode 15, NO_DATA (opencore-amr amrwb/dec_if.c D_IF_decode); FT 14
    // (SPEECH_LOST) measures the same. The DTX handler mutes NO_DATA and fades back in over
    // ~20 frames (measured: one lost frame of a 1 kHz tone costs -29 dB in that frame and
    // -1.7 dB over the next 400 ms). So the first kMaxRepeats lost frames in a row are
    // rebuilt from the last good frame's parameters, the substitution TS 26.191 describes
    // for a first lost frame: the decoder synthesises that frame again (its excitation and
    // filter memories carry on, so the waveform continues); from the third on, the
    // decoder's NO_DATA handling mutes, so a long gap never becomes a stuck tone.
    void conceal(WbFrame& pcm);
    static constexpr int kMaxRepeats = 2;

  private:
    explicit AmrWbDecoder(void* state) : state_(state) {}
    void decodeRaw(const AmrFrame& frame, WbFrame& pcm);
    void* state_;
    AmrFrame last_good_{};
    bool have_good_ = false;
    int lost_in_row_ = 0;
};

// Adaptive jitter buffer on an input of 20 ms frames: libspeexdsp's JitterBuffer, which
// adapts its delay to the measured arrival jitter (minimising late-loss plus delay cost).
// Timestamps are in samples of the stream's clock; span = one frame.
class JitterBuffer {
  public:
    static Result<std::unique_ptr<JitterBuffer>> create(std::uint32_t frame_span);
    ~JitterBuffer();
    JitterBuffer(const JitterBuffer&) = delete;
    JitterBuffer& operator=(const JitterBuffer&) = delete;

    // Copies the payload (at most kMaxPayload bytes; error "too_long").
    Status put(ByteView payload, std::uint32_t timestamp);
    enum class Get { Frame, Missing };
    // Once per frame period: the next frame, or Missing (conceal it). `out` gets the
    // payload; `timestamp` its timestamp.
    Get get(InlineBytes<512>& out, std::uint32_t& timestamp);
    void tick();  // after get(), once per frame period
    static constexpr std::size_t kMaxPayload = 512;

  private:
    JitterBuffer(void* jb, std::uint32_t span) : jb_(jb), span_(span) {}
    void* jb_;
    std::uint32_t span_;
};

// The two directions of an analogue <-> MCPTT stream, built from the parts above.
class NbToAmrWb {
  public:
    static Result<std::unique_ptr<NbToAmrWb>> create(AmrWbMode mode);
    Result<AmrFrame> process(const NbFrame& in);
    AmrWbEncoder& encoder() { return *encoder_; }
    int latencySamples16k() const { return up_->outputLatency(); }

  private:
    std::unique_ptr<Resampler> up_;
    std::unique_ptr<AmrWbEncoder> encoder_;
};

class AmrWbToNb {
  public:
    static Result<std::unique_ptr<AmrWbToNb>> create();
    void process(const AmrFrame& in, NbFrame& out);
    void conceal(NbFrame& out);
    int latencySamples8k() const { return down_->outputLatency(); }

  private:
    std::unique_ptr<AmrWbDecoder> decoder_;
    std::unique_ptr<Resampler> down_;
    WbFrame wb_{};
};

}  // namespace iwf::media
