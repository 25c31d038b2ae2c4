#include "media/amr_payload.hpp"

#include <charconv>

namespace iwf::media {
namespace {

// TS 26.101 table 1a (AMR 4.75 .. 12.2, SID) and TS 26.201 table 1a (AMR-WB 6.60 .. 23.85,
// SID), as RFC 4867 section 3.6 lists them.
constexpr std::array<int, 16> kAmrBits = {95, 103, 118, 134, 148, 159, 204, 244,
                                          39, -1,  -1,  -1,  -1,  -1,  -1,  0};
constexpr std::array<int, 16> kAmrWbBits = {132, 177, 253, 285, 317, 365, 397, 461,
                                            477, 40,  -1,  -1,  -1,  -1,  0,   0};

// MSB-first bit writer over a fixed buffer.
class BitWriter {
  public:
    explicit BitWriter(std::array<std::uint8_t, kAmrMaxPayload>& buf) : buf_(buf) { buf_.fill(0); }
    bool put(std::uint32_t value, int nbits) {
        for (int i = nbits - 1; i >= 0; --i) {
            if (pos_ / 8 >= buf_.size()) {
                return false;
            }
            if ((value >> i) & 1u) {
                buf_[pos_ / 8] |= static_cast<std::uint8_t>(0x80u >> (pos_ % 8));
            }
            ++pos_;
        }
        return true;
    }
    bool putBits(ByteView bits, int nbits) {
        for (int i = 0; i < nbits; ++i) {
            if (!put((bits[i / 8] >> (7 - i % 8)) & 1u, 1)) {
                return false;
            }
        }
        return true;
    }
    void alignOctet() { pos_ = (pos_ + 7) / 8 * 8; }
    std::size_t bytes() const { return (pos_ + 7) / 8; }

  private:
    std::array<std::uint8_t, kAmrMaxPayload>& buf_;
    std::size_t pos_ = 0;
};

class BitReader {
  public:
    explicit BitReader(ByteView v) : v_(v) {}
    bool ok() const { return ok_; }
    std::uint32_t get(int nbits) {
        std::uint32_t out = 0;
        for (int i = 0; i < nbits; ++i) {
            if (pos_ / 8 >= v_.size()) {
                ok_ = false;
                return 0;
            }
            out = (out << 1) | ((v_[pos_ / 8] >> (7 - pos_ % 8)) & 1u);
            ++pos_;
        }
        return out;
    }
    bool getBits(int nbits, InlineBytes<kAmrMaxFrameBytes>& out) {
        std::array<std::uint8_t, kAmrMaxFrameBytes> tmp{};
        for (int i = 0; i < nbits; ++i) {
            if (get(1)) {
                tmp[i / 8] |= static_cast<std::uint8_t>(0x80u >> (i % 8));
            }
        }
        out.assign(ByteView(tmp).first(static_cast<std::size_t>((nbits + 7) / 8)));
        return ok_;
    }
    void alignOctet() { pos_ = (pos_ + 7) / 8 * 8; }

  private:
    ByteView v_;
    std::size_t pos_ = 0;
    bool ok_ = true;
};

bool validCmr(AmrCodec codec, std::uint8_t cmr) {
    return cmr == kAmrCmrNone || cmr <= amrMaxMode(codec);
}

}  // namespace

int amrSpeechBits(AmrCodec codec, std::uint8_t ft) {
    if (ft > 15) {
        return -1;
    }
    return codec == AmrCodec::Amr ? kAmrBits[ft] : kAmrWbBits[ft];
}

std::uint8_t amrMaxMode(AmrCodec codec) {
    return codec == AmrCodec::Amr ? 7 : 8;
}

bool AmrPayload::operator==(const AmrPayload& o) const {
    if (cmr != o.cmr || count != o.count) {
        return false;
    }
    for (std::size_t i = 0; i < count; ++i) {
        if (!(frames[i] == o.frames[i])) {
            return false;
        }
    }
    return true;
}

Status encodeAmrPayload(const AmrLayout& layout, const AmrPayload& payload, AmrPayloadBuffer& out) {
    if (payload.count == 0) {
        return Error{"no_frames"};
    }
    if (payload.count > kAmrMaxFrames) {
        return Error{"too_many_frames", static_cast<std::int64_t>(payload.count)};
    }
    if (!validCmr(layout.codec, payload.cmr)) {
        return Error{"bad_cmr", payload.cmr};
    }
    for (std::size_t i = 0; i < payload.count; ++i) {
        const AmrFrame& f = payload.frames[i];
        const int nbits = amrSpeechBits(layout.codec, f.ft);
        if (nbits < 0) {
            return Error{"bad_frame_type", f.ft};
        }
        if (f.bits.size() != static_cast<std::size_t>((nbits + 7) / 8)) {
            return Error{"bad_frame_length", static_cast<std::int64_t>(f.bits.size())};
        }
    }
    std::array<std::uint8_t, kAmrMaxPayload> buf;
    BitWriter w(buf);
    // Payload header: CMR (4 bits), then 4 reserved bits in the octet-aligned layout.
    w.put(payload.cmr, 4);
    if (layout.octet_aligned) {
        w.put(0, 4);
    }
    // Table of contents: F (1 = another entry follows), FT (4), Q (1); octet-aligned adds
    // two padding bits P so each entry is an octet (RFC 4867 4.4.2).
    for (std::size_t i = 0; i < payload.count; ++i) {
        const AmrFrame& f = payload.frames[i];
        w.put(i + 1 < payload.count ? 1 : 0, 1);
        w.put(f.ft, 4);
        w.put(f.q ? 1 : 0, 1);
        if (layout.octet_aligned) {
            w.put(0, 2);
        }
    }
    for (std::size_t i = 0; i < payload.count; ++i) {
        const AmrFrame& f = payload.frames[i];
        w.putBits(f.bits.view(), amrSpeechBits(layout.codec, f.ft));
        if (layout.octet_aligned) {
            w.alignOctet();  // each frame octet-aligned (RFC 4867 4.4.3)
        }
    }
    out.assign(ByteView(buf).first(w.bytes()));  // final padding P = 0 (4.3.2)
    return Status::success();
}

Result<AmrPayload> decodeAmrPayload(const AmrLayout& layout, ByteView data) {
    if (data.empty()) {
        return Error{"empty"};
    }
    BitReader r(data);
    AmrPayload p;
    p.cmr = static_cast<std::uint8_t>(r.get(4));
    if (layout.octet_aligned) {
        r.get(4);  // R bits: ignored by the receiver (4.4.1)
    }
    if (!validCmr(layout.codec, p.cmr)) {
        return Error{"bad_cmr", p.cmr};
    }
    bool more = true;
    while (more) {
        if (p.count == kAmrMaxFrames) {
            return Error{"too_many_frames"};
        }
        more = r.get(1) != 0;
        AmrFrame& f = p.frames[p.count++];
        f.ft = static_cast<std::uint8_t>(r.get(4));
        f.q = r.get(1) != 0;
        if (layout.octet_aligned) {
            r.get(2);
        }
        if (!r.ok()) {
            return Error{"truncated"};
        }
        if (amrSpeechBits(layout.codec, f.ft) < 0) {
            return Error{"bad_frame_type", f.ft};
        }
    }
    for (std::size_t i = 0; i < p.count; ++i) {
        AmrFrame& f = p.frames[i];
        if (!r.getBits(amrSpeechBits(layout.codec, f.ft), f.bits)) {
            return Error{"truncated"};
        }
        if (layout.octet_aligned) {
            r.alignOctet();
        }
    }
    return p;
}

Result<AmrFrame> frameFromStorage(AmrCodec codec, ByteView storage) {
    if (storage.empty()) {
        return Error{"empty"};
    }
    AmrFrame f;
    f.ft = static_cast<std::uint8_t>((storage[0] >> 3) & 0x0F);
    f.q = ((storage[0] >> 2) & 1) != 0;
    const int nbits = amrSpeechBits(codec, f.ft);
    if (nbits < 0) {
        return Error{"bad_frame_type", f.ft};
    }
    const std::size_t n = static_cast<std::size_t>((nbits + 7) / 8);
    if (storage.size() < 1 + n) {
        return Error{"truncated", static_cast<std::int64_t>(storage.size())};
    }
    f.bits.assign(storage.subspan(1, n));
    return f;
}

std::size_t frameToStorage(const AmrFrame& frame, MutableByteView out) {
    if (out.size() < 1 + frame.bits.size()) {
        return 0;
    }
    out[0] = static_cast<std::uint8_t>((frame.ft << 3) | (frame.q ? 0x04 : 0));
    std::copy(frame.bits.view().begin(), frame.bits.view().end(), out.begin() + 1);
    return 1 + frame.bits.size();
}

Result<std::uint16_t> parseAmrModeSet(AmrCodec codec, std::string_view list) {
    std::uint16_t mask = 0;
    while (!list.empty()) {
        const std::size_t comma = list.find(',');
        std::string_view item = list.substr(0, comma);
        while (!item.empty() && item.front() == ' ') {
            item.remove_prefix(1);
        }
        while (!item.empty() && item.back() == ' ') {
            item.remove_suffix(1);
        }
        unsigned mode = 0;
        auto [ptr, ec] = std::from_chars(item.data(), item.data() + item.size(), mode);
        if (item.empty() || ec != std::errc{} || ptr != item.data() + item.size() ||
            mode > amrMaxMode(codec) || (mask & (1u << mode)) != 0) {
            return Error{"bad_mode_set"};
        }
        mask = static_cast<std::uint16_t>(mask | (1u << mode));
        if (comma == std::string_view::npos) {
            break;
        }
        list.remove_prefix(comma + 1);
        if (list.empty()) {
            return Error{"bad_mode_set"};  // trailing comma
        }
    }
    if (mask == 0) {
        return Error{"bad_mode_set"};
    }
    return mask;
}

Status checkAmrModeSet(AmrCodec codec, std::uint16_t mode_set, const AmrPayload& payload) {
    if (mode_set == 0) {
        return Status::success();
    }
    auto allowed = [&](std::uint8_t mode) {
        return mode > amrMaxMode(codec) || (mode_set & (1u << mode)) != 0;
    };
    if (payload.cmr != kAmrCmrNone && !allowed(payload.cmr)) {
        return Error{"mode_not_allowed", payload.cmr};
    }
    for (std::size_t i = 0; i < payload.count; ++i) {
        if (!allowed(payload.frames[i].ft)) {
            return Error{"mode_not_allowed", payload.frames[i].ft};
        }
    }
    return Status::success();
}

}  // namespace iwf::media
