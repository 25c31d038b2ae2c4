#include "mc_adapters/rtp/lmr_payload.hpp"

namespace iwf::mc::rtp {

namespace {

constexpr std::uint8_t kMaxFamily = static_cast<std::uint8_t>(LmrFamily::Analog);
constexpr std::uint8_t kMaxCodec = static_cast<std::uint8_t>(VoiceCodec::Pcm);

std::uint32_t maxIndex(LmrFamily f, VoiceCodec c) {
    switch (f) {
        case LmrFamily::P25:
            (void)c;
            return 17;  // LDU1 = 0..8, LDU2 = 9..17
        case LmrFamily::Dmr:
            return 5;  // bursts A..F
        case LmrFamily::Tetra:
            return 255;  // frame number, family defined
        case LmrFamily::Analog:
            return 255;
    }
    return 0;
}

Status validate(const VoiceFrame& f) {
    const auto fam = static_cast<std::uint8_t>(f.crypto.family);
    if (fam > kMaxFamily) {
        return Error{"bad_family", fam};
    }
    const auto codec = static_cast<std::uint8_t>(f.codec);
    if (codec > kMaxCodec) {
        return Error{"bad_codec", codec};
    }
    if (f.pos.index > maxIndex(f.crypto.family, f.codec)) {
        return Error{"bad_index", f.pos.index};
    }
    if (f.crypto.family != LmrFamily::Analog) {
        const CryptoWidths w = cryptoWidths(f.crypto.family);
        if (!fitsBits(f.crypto.algid, w.algid_bits)) {
            return Error{"bad_algid", f.crypto.algid};
        }
        if (!fitsBits(f.crypto.key_id, w.key_id_bits)) {
            return Error{"bad_key_id", f.crypto.key_id};
        }
        if (f.crypto.mi.size() > w.mi_bytes) {
            return Error{"bad_mi_length", static_cast<std::int64_t>(f.crypto.mi.size())};
        }
    } else if (f.crypto.encrypted) {
        return Error{"analog_encrypted"};  // TS 23.283 10.13.1: E2EE impossible on FM
    }
    if (f.payload.size() > kLmrVocoderMax) {
        return Error{"bad_payload_length", static_cast<std::int64_t>(f.payload.size())};
    }
    if (f.crypto.encrypted && f.codec == VoiceCodec::Pcm) {
        return Error{"pcm_encrypted"};  // never transcoded, so never PCM when encrypted
    }
    return {};
}

}  // namespace

Status encodeLmrPayload(const VoiceFrame& f, Bytes& out) {
    IWF_TRY_STATUS(validate(f));
    ByteWriter w(out);
    w.u8(static_cast<std::uint8_t>(kLmrPayloadVersion << 6 | (f.crypto.encrypted ? 0x20 : 0)));
    w.u8(static_cast<std::uint8_t>(f.crypto.family));
    w.u8(static_cast<std::uint8_t>(f.codec));
    w.u8(f.pos.index);
    w.u32(f.pos.superframe);
    w.u16(f.crypto.algid);
    w.u32(f.crypto.key_id);
    w.u8(static_cast<std::uint8_t>(f.crypto.mi.size()));
    w.u8(static_cast<std::uint8_t>(f.payload.size()));
    w.u8(static_cast<std::uint8_t>(f.side.size()));
    w.bytes(f.crypto.mi.view());
    w.bytes(f.payload.view());
    w.bytes(f.side.view());
    return {};
}

Result<VoiceFrame> decodeLmrPayload(ByteView payload) {
    ByteReader r(payload);
    const std::uint8_t b0 = r.u8();
    if (!r.ok()) {
        return Error{"truncated", 0};
    }
    if ((b0 >> 6) != kLmrPayloadVersion) {
        return Error{"bad_version", b0 >> 6};
    }
    if ((b0 & 0x1F) != 0) {
        return Error{"reserved_bits_set", b0 & 0x1F};
    }
    VoiceFrame f;
    f.crypto.encrypted = (b0 & 0x20) != 0;
    const std::uint8_t fam = r.u8();
    const std::uint8_t codec = r.u8();
    f.pos.index = r.u8();
    f.pos.superframe = r.u32();
    f.crypto.algid = r.u16();
    f.crypto.key_id = r.u32();
    const std::uint8_t mi_len = r.u8();
    const std::uint8_t p_len = r.u8();
    const std::uint8_t s_len = r.u8();
    if (!r.ok()) {
        return Error{"truncated", static_cast<std::int64_t>(payload.size())};
    }
    if (fam > kMaxFamily) {
        return Error{"bad_family", fam};
    }
    if (codec > kMaxCodec) {
        return Error{"bad_codec", codec};
    }
    f.crypto.family = static_cast<LmrFamily>(fam);
    f.codec = static_cast<VoiceCodec>(codec);
    if (mi_len > decltype(f.crypto.mi)::capacity()) {
        return Error{"bad_mi_length", mi_len};
    }
    if (p_len > kLmrVocoderMax) {
        return Error{"bad_payload_length", p_len};
    }
    if (s_len > decltype(f.side)::capacity()) {
        return Error{"bad_side_length", s_len};
    }
    ByteView mi = r.take(mi_len);
    ByteView p = r.take(p_len);
    ByteView s = r.take(s_len);
    if (!r.ok()) {
        return Error{"truncated", static_cast<std::int64_t>(payload.size())};
    }
    if (r.remaining() != 0) {
        return Error{"trailing_bytes", static_cast<std::int64_t>(r.remaining())};
    }
    f.crypto.mi.assign(mi);
    f.payload.assign(p);
    f.side.assign(s);
    IWF_TRY_STATUS(validate(f));
    return f;
}

std::uint32_t frameTicks(VoiceCodec c) {
    switch (c) {
        case VoiceCodec::ImbeFullRate:
            return 160;  // 20 ms
        case VoiceCodec::AmbePlus2HalfRate:
            return 160;  // 20 ms
        case VoiceCodec::DmrAmbe:
            return 480;  // one 60 ms burst (3 x 20 ms vocoder frames)
        case VoiceCodec::TetraAcelp:
            return 240;  // 30 ms
        case VoiceCodec::Pcm:
            return 160;
        case VoiceCodec::AmrWb:
            return 320;  // 20 ms at 16 kHz (RFC 4867 4.1)
    }
    return 160;
}

std::uint32_t framesPerSuperframe(LmrFamily f, VoiceCodec c) {
    return maxIndex(f, c) + 1;
}

std::uint32_t rtpTimestampOffset(const VoiceFrame& f) {
    const std::uint64_t n = static_cast<std::uint64_t>(f.pos.superframe) *
                                framesPerSuperframe(f.crypto.family, f.codec) +
                            f.pos.index;
    return static_cast<std::uint32_t>(n * frameTicks(f.codec));  // wraps mod 2^32 like RTP
}

}  // namespace iwf::mc::rtp
