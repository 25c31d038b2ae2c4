#include "lmr_adapters/analog/usrp.hpp"

#include <array>
#include <cstring>

namespace iwf::lmr::analog {
namespace {

constexpr std::array<std::uint8_t, 4> kEye = {'U', 'S', 'R', 'P'};
constexpr std::uint8_t kTlvSetInfo = 8;    // TLV_TAG_SET_INFO, pyUC.py
constexpr std::size_t kSetInfoFixed = 14;  // tag, len, src(3), rpt(4), dst(3), slot, cc

// The type field (offset 20) in host order as the peers write it: little-endian. A value
// whose low three bytes are zero and whose top byte is small was written big-endian by a
// peer that htonl()s every field; read it as that peer meant it.
std::uint32_t typeFromWire(std::uint32_t le) {
    if ((le & 0x00FFFFFFu) == 0 && (le >> 24) != 0 && (le >> 24) <= 0x7F) {
        return le >> 24;
    }
    return le;
}

Error checkDtmf(ByteView digits) {
    if (digits.empty() || digits.size() > kUsrpMaxDtmf) {
        return Error{"bad_dtmf", static_cast<std::int64_t>(digits.size())};
    }
    for (std::uint8_t c : digits) {
        if (c < 0x20 || c > 0x7E) {
            return Error{"bad_dtmf", c};
        }
    }
    return Error{};
}

}  // namespace

Result<UsrpPacket> decodeUsrp(ByteView datagram) {
    if (datagram.size() < kUsrpHeaderBytes) {
        return Error{"truncated", static_cast<std::int64_t>(datagram.size())};
    }
    if (std::memcmp(datagram.data(), kEye.data(), kEye.size()) != 0) {
        return Error{"bad_eye"};
    }
    ByteReader r(datagram);
    r.skip(4);
    UsrpHeader h;
    h.seq = r.u32();
    h.memory = r.u32();
    h.keyup = r.u32();
    h.talkgroup = r.u32();
    const std::uint32_t type = typeFromWire(r.u32le());
    h.mpxid = r.u32();
    h.reserved = r.u32();
    ByteView payload = r.rest();
    if (payload.size() > kUsrpMaxPayload) {
        return Error{"too_long", static_cast<std::int64_t>(datagram.size())};
    }
    switch (type) {
        case static_cast<std::uint32_t>(UsrpType::Voice): {
            h.type = UsrpType::Voice;
            UsrpVoice v{h, false, {}};
            if (payload.empty()) {
                return UsrpPacket{v};
            }
            if (payload.size() != kUsrpVoiceBytes) {
                return Error{"bad_voice_length", static_cast<std::int64_t>(payload.size())};
            }
            v.has_audio = true;
            for (std::size_t i = 0; i < kUsrpVoiceSamples; ++i) {
                v.pcm[i] = static_cast<std::int16_t>(r.u16le());
            }
            return UsrpPacket{v};
        }
        case static_cast<std::uint32_t>(UsrpType::Dtmf): {
            h.type = UsrpType::Dtmf;
            // pyUC.py sends the digits without a terminator; a C peer may add a NUL.
            ByteView digits = payload;
            while (!digits.empty() && digits.back() == 0) {
                digits = digits.first(digits.size() - 1);
            }
            if (Error e = checkDtmf(digits); !e.reason.empty()) {
                return e;
            }
            UsrpDtmf d{h, {}};
            d.digits.assign(digits);
            return UsrpPacket{d};
        }
        case static_cast<std::uint32_t>(UsrpType::Text): {
            h.type = UsrpType::Text;
            UsrpText t{h, {}};
            t.text.assign(payload);
            return UsrpPacket{t};
        }
        case static_cast<std::uint32_t>(UsrpType::Ping):
            h.type = UsrpType::Ping;
            return UsrpPacket{UsrpPing{h}};
        case static_cast<std::uint32_t>(UsrpType::Tlv):
            return Error{"tlv_unsupported"};
        case static_cast<std::uint32_t>(UsrpType::VoiceAdpcm):
            return Error{"adpcm_unsupported"};
        case static_cast<std::uint32_t>(UsrpType::VoiceUlaw):
            return Error{"ulaw_unsupported"};
        default:
            return Error{"unknown_type", static_cast<std::int64_t>(type)};
    }
}

Result<UsrpSetInfo> setInfoOf(const UsrpText& text) {
    ByteView p = text.text.view();
    if (p.empty() || p[0] != kTlvSetInfo) {
        return Error{"not_set_info"};
    }
    if (p.size() < kSetInfoFixed) {
        return Error{"truncated", static_cast<std::int64_t>(p.size())};
    }
    ByteReader r(p);
    r.skip(2);  // tag, length (pyUC.py sets it but reads by position)
    UsrpSetInfo info;
    info.source_id = r.u24();
    info.repeater_id = r.u32();
    info.destination = r.u24();
    info.slot = r.u8();
    info.cc_flags = r.u8();
    ByteView rest = r.rest();
    std::size_t n = 0;
    while (n < rest.size() && rest[n] != 0) {
        ++n;
    }
    info.callsign = std::string_view(reinterpret_cast<const char*>(rest.data()), n);
    return info;
}

namespace {

// A fixed buffer writer: encodeUsrp runs on the voice path and does not allocate.
class Out {
  public:
    void be32(std::uint32_t v) {
        for (int i = 3; i >= 0; --i) {
            put(static_cast<std::uint8_t>(v >> (8 * i)));
        }
    }
    void le32(std::uint32_t v) {
        for (int i = 0; i < 4; ++i) {
            put(static_cast<std::uint8_t>(v >> (8 * i)));
        }
    }
    void le16(std::uint16_t v) {
        put(static_cast<std::uint8_t>(v));
        put(static_cast<std::uint8_t>(v >> 8));
    }
    void bytes(ByteView v) {
        for (std::uint8_t b : v) {
            put(b);
        }
    }
    ByteView view() const { return {buf_.data(), n_}; }

  private:
    void put(std::uint8_t b) {
        if (n_ < buf_.size()) {
            buf_[n_++] = b;
        }
    }
    std::array<std::uint8_t, kUsrpHeaderBytes + kUsrpMaxPayload> buf_{};
    std::size_t n_ = 0;
};

void putHeader(Out& w, const UsrpHeader& h, UsrpType type) {
    w.bytes(kEye);
    w.be32(h.seq);
    w.be32(h.memory);
    w.be32(h.keyup);
    w.be32(h.talkgroup);
    w.le32(static_cast<std::uint32_t>(type));
    w.be32(h.mpxid);
    w.be32(h.reserved);
}

}  // namespace

Status encodeUsrp(const UsrpPacket& packet, UsrpBuffer& out) {
    Out w;
    if (const auto* v = std::get_if<UsrpVoice>(&packet)) {
        putHeader(w, v->header, UsrpType::Voice);
        if (v->has_audio) {
            for (std::int16_t s : v->pcm) {
                w.le16(static_cast<std::uint16_t>(s));
            }
        }
    } else if (const auto* d = std::get_if<UsrpDtmf>(&packet)) {
        if (Error e = checkDtmf(d->digits.view()); !e.reason.empty()) {
            return e;
        }
        putHeader(w, d->header, UsrpType::Dtmf);
        w.bytes(d->digits.view());
    } else if (const auto* t = std::get_if<UsrpText>(&packet)) {
        putHeader(w, t->header, UsrpType::Text);
        w.bytes(t->text.view());
    } else {
        const auto& p = std::get<UsrpPing>(packet);
        putHeader(w, p.header, UsrpType::Ping);
        w.bytes(asBytes("PING"));  // pyUC.py ping_thread
    }
    out.assign(w.view());
    return Status::success();
}

std::string_view usrpTypeName(UsrpType type) {
    switch (type) {
        case UsrpType::Voice:
            return "voice";
        case UsrpType::Dtmf:
            return "dtmf";
        case UsrpType::Text:
            return "text";
        case UsrpType::Ping:
            return "ping";
        case UsrpType::Tlv:
            return "tlv";
        case UsrpType::VoiceAdpcm:
            return "voice_adpcm";
        case UsrpType::VoiceUlaw:
            return "voice_ulaw";
    }
    return "unknown";
}

}  // namespace iwf::lmr::analog
