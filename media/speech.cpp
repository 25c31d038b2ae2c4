#include "media/speech.hpp"

#include <cstring>

extern "C" {
#include <opencore-amrwb/dec_if.h>
#include <speex/speex_jitter.h>
#include <speex/speex_resampler.h>
#include <vo-amrwbenc/enc_if.h>
}

namespace iwf::media {

// ---- Resampler ----------------------------------------------------------------------------

Result<std::unique_ptr<Resampler>> Resampler::create(std::uint32_t in_rate,
                                                     std::uint32_t out_rate) {
    int err = 0;
    SpeexResamplerState* st =
        speex_resampler_init(1, in_rate, out_rate, SPEEX_RESAMPLER_QUALITY_VOIP, &err);
    if (st == nullptr || err != RESAMPLER_ERR_SUCCESS) {
        return Error{"resampler_init_failed", err};
    }
    return std::unique_ptr<Resampler>(new Resampler(st));
}

Resampler::~Resampler() {
    speex_resampler_destroy(static_cast<SpeexResamplerState*>(state_));
}

Status Resampler::process(std::span<const std::int16_t> in, std::span<std::int16_t> out) {
    auto in_len = static_cast<spx_uint32_t>(in.size());
    auto out_len = static_cast<spx_uint32_t>(out.size());
    const int err = speex_resampler_process_int(static_cast<SpeexResamplerState*>(state_), 0,
                                                in.data(), &in_len, out.data(), &out_len);
    if (err != RESAMPLER_ERR_SUCCESS) {
        return Error{"resampler_failed", err};
    }
    // A fixed integer ratio gives whole frames; should the library ever return fewer
    // samples, keep frames 20 ms long by padding the start with silence.
    if (out_len < out.size()) {
        const std::size_t missing = out.size() - out_len;
        std::memmove(out.data() + missing, out.data(), out_len * sizeof(std::int16_t));
        std::fill(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(missing), 0);
    }
    return Status::success();
}

int Resampler::outputLatency() const {
    return speex_resampler_get_output_latency(static_cast<SpeexResamplerState*>(state_));
}

// ---- AMR-WB -------------------------------------------------------------------------------

Result<std::unique_ptr<AmrWbEncoder>> AmrWbEncoder::create(AmrWbMode mode) {
    void* st = E_IF_init();
    if (st == nullptr) {
        return Error{"encoder_init_failed"};
    }
    return std::unique_ptr<AmrWbEncoder>(new AmrWbEncoder(st, mode));
}

AmrWbEncoder::~AmrWbEncoder() {
    E_IF_exit(state_);
}

Result<AmrFrame> AmrWbEncoder::encode(const WbFrame& pcm) {
    std::array<std::uint8_t, 1 + kAmrMaxFrameBytes + 4> storage{};
    // dtx 0: the MC side gets a speech frame every 20 ms while the floor is held.
    const int n = E_IF_encode(state_, static_cast<int>(mode_), pcm.data(), storage.data(), 0);
    if (n <= 0 || static_cast<std::size_t>(n) > storage.size()) {
        return Error{"encoder_failed", n};
    }
    // libvo-amrwbenc writes the RFC 4867 storage format (header octet, then the bits).
    return frameFromStorage(AmrCodec::AmrWb, ByteView(storage).first(static_cast<std::size_t>(n)));
}

Result<std::unique_ptr<AmrWbDecoder>> AmrWbDecoder::create() {
    void* st = D_IF_init();
    if (st == nullptr) {
        return Error{"decoder_init_failed"};
    }
    return std::unique_ptr<AmrWbDecoder>(new AmrWbDecoder(st));
}

AmrWbDecoder::~AmrWbDecoder() {
    D_IF_exit(state_);
}

void AmrWbDecoder::decodeRaw(const AmrFrame& frame, WbFrame& pcm) {
    std::array<std::uint8_t, 1 + kAmrMaxFrameBytes> storage{};
    frameToStorage(frame, storage);
    D_IF_decode(state_, storage.data(), pcm.data(), _good_frame);
}

void AmrWbDecoder::decode(const AmrFrame& frame, WbFrame& pcm) {
    const bool speech = frame.ft <= 8;
    if (speech && !frame.q) {
        conceal(pcm);  // damaged on the way (RFC 4867 Q = 0): treat as lost
        return;
    }
    decodeRaw(frame, pcm);
    if (speech) {
        last_good_ = frame;
        have_good_ = true;
    }
    lost_in_row_ = 0;
}

void AmrWbDecoder::conceal(WbFrame& pcm) {
    ++lost_in_row_;
    if (have_good_ && lost_in_row_ <= kMaxRepeats) {
        decodeRaw(last_good_, pcm);
        return;
    }
    AmrFrame lost;
    lost.ft = kAmrFtNoData;
    decodeRaw(lost, pcm);
}

// ---- Jitter buffer ------------------------------------------------------------------------

Result<std::unique_ptr<JitterBuffer>> JitterBuffer::create(std::uint32_t frame_span) {
    ::JitterBuffer* jb = jitter_buffer_init(static_cast<int>(frame_span));
    if (jb == nullptr) {
        return Error{"jitter_init_failed"};
    }
    return std::unique_ptr<JitterBuffer>(new JitterBuffer(jb, frame_span));
}

JitterBuffer::~JitterBuffer() {
    jitter_buffer_destroy(static_cast<::JitterBuffer*>(jb_));
}

Status JitterBuffer::put(ByteView payload, std::uint32_t timestamp) {
    if (payload.size() > kMaxPayload) {
        return Error{"too_long", static_cast<std::int64_t>(payload.size())};
    }
    JitterBufferPacket p{};
    // jitter_buffer_put copies the data (speex_jitter.c: speex_alloc + SPEEX_COPY).
    p.data = const_cast<char*>(reinterpret_cast<const char*>(payload.data()));
    p.len = static_cast<spx_uint32_t>(payload.size());
    p.timestamp = timestamp;
    p.span = span_;
    jitter_buffer_put(static_cast<::JitterBuffer*>(jb_), &p);
    return Status::success();
}

JitterBuffer::Get JitterBuffer::get(InlineBytes<512>& out, std::uint32_t& timestamp) {
    std::array<char, kMaxPayload> buf{};
    JitterBufferPacket p{};
    p.data = buf.data();
    p.len = static_cast<spx_uint32_t>(buf.size());
    spx_int32_t offset = 0;
    const int r = jitter_buffer_get(static_cast<::JitterBuffer*>(jb_), &p,
                                    static_cast<spx_int32_t>(span_), &offset);
    if (r != JITTER_BUFFER_OK) {
        return Get::Missing;
    }
    out.assign(ByteView(reinterpret_cast<const std::uint8_t*>(buf.data()), p.len));
    timestamp = p.timestamp;
    return Get::Frame;
}

void JitterBuffer::tick() {
    jitter_buffer_tick(static_cast<::JitterBuffer*>(jb_));
}

// ---- Directions ---------------------------------------------------------------------------

Result<std::unique_ptr<NbToAmrWb>> NbToAmrWb::create(AmrWbMode mode) {
    auto up = Resampler::create(8000, 16000);
    if (!up) {
        return up.error();
    }
    auto enc = AmrWbEncoder::create(mode);
    if (!enc) {
        return enc.error();
    }
    auto self = std::make_unique<NbToAmrWb>();
    self->up_ = std::move(*up);
    self->encoder_ = std::move(*enc);
    return self;
}

Result<AmrFrame> NbToAmrWb::process(const NbFrame& in) {
    WbFrame wb{};
    if (Status s = up_->process(in, wb); !s) {
        return s.error();
    }
    return encoder_->encode(wb);
}

Result<std::unique_ptr<AmrWbToNb>> AmrWbToNb::create() {
    auto dec = AmrWbDecoder::create();
    if (!dec) {
        return dec.error();
    }
    auto down = Resampler::create(16000, 8000);
    if (!down) {
        return down.error();
    }
    auto self = std::make_unique<AmrWbToNb>();
    self->decoder_ = std::move(*dec);
    self->down_ = std::move(*down);
    return self;
}

void AmrWbToNb::process(const AmrFrame& in, NbFrame& out) {
    decoder_->decode(in, wb_);
    (void)down_->process(wb_, out);  // fixed 320 -> 160: cannot fail after create()
}

void AmrWbToNb::conceal(NbFrame& out) {
    decoder_->conceal(wb_);
    (void)down_->process(wb_, out);
}

}  // namespace iwf::media
