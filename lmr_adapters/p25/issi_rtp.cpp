#include "lmr_adapters/p25/issi_rtp.hpp"

#include <cstring>

namespace iwf::lmr::p25 {

std::string_view toString(IssiPacketKind k) {
    switch (k) {
        case IssiPacketKind::PttRequest:
            return "ptt_request";
        case IssiPacketKind::PttGrant:
            return "ptt_grant";
        case IssiPacketKind::PttProgress:
            return "ptt_progress";
        case IssiPacketKind::PttEnd:
            return "ptt_end";
        case IssiPacketKind::PttStart:
            return "ptt_start";
        case IssiPacketKind::Mute:
            return "mute";
        case IssiPacketKind::Unmute:
            return "unmute";
        case IssiPacketKind::PttWait:
            return "ptt_wait";
        case IssiPacketKind::PttDeny:
            return "ptt_deny";
        case IssiPacketKind::Heartbeat:
            return "heartbeat";
        case IssiPacketKind::HeartbeatQuery:
            return "heartbeat_query";
    }
    return "unknown";
}

std::optional<std::uint8_t> ImbeBlock::index() const {
    if (ft >= 0x62 && ft <= 0x73) {
        return static_cast<std::uint8_t>(ft - 0x62);
    }
    if (ft >= 0xC2 && ft <= 0xD3) {
        return static_cast<std::uint8_t>(ft - 0xC2);
    }
    return std::nullopt;
}

std::uint8_t issiFrameType(std::uint8_t index) {
    // NIST: frames carrying LSD (9, 18) or ES (12..17) keep the CAI value, the others use
    // 0xC2 + index (observed in every NIST capture).
    if (index == 8 || index >= 11) {
        return static_cast<std::uint8_t>(0x62 + index);
    }
    return static_cast<std::uint8_t>(0xC2 + index);
}

std::optional<std::size_t> imbeBlockLength(std::uint8_t ft) {
    if (ft >= 0xC2 && ft <= 0xD3) {
        return kImbeBlockBase;
    }
    if (ft < 0x62 || ft > 0x73) {
        return std::nullopt;
    }
    const std::uint8_t i = static_cast<std::uint8_t>(ft - 0x62);
    if (i == 8 || i == 17) {
        return kImbeBlockBase + 3;
    }
    if ((i >= 2 && i <= 7) || (i >= 11 && i <= 16)) {
        return kImbeBlockBase + 4;
    }
    return kImbeBlockBase;
}

Result<RtpHeader> decodeRtpHeader(ByteView p, ByteView& payload_out) {
    if (p.size() < kRtpHeaderLen) {
        return Error{"truncated", static_cast<std::int64_t>(p.size())};
    }
    if ((p[0] >> 6) != 2) {
        return Error{"bad_rtp_version", p[0] >> 6};
    }
    RtpHeader h;
    h.padding = (p[0] & 0x20) != 0;
    h.extension = (p[0] & 0x10) != 0;
    h.csrc_count = p[0] & 0x0F;
    h.marker = (p[1] & 0x80) != 0;
    h.payload_type = p[1] & 0x7F;
    ByteReader r(p);
    r.skip(2);
    h.seq = r.u16();
    h.timestamp = r.u32();
    h.ssrc = r.u32();
    r.skip(std::size_t{h.csrc_count} * 4);
    if (h.extension) {
        r.skip(2);
        const std::size_t words = r.u16();
        r.skip(words * 4);
    }
    if (!r.ok()) {
        return Error{"truncated", static_cast<std::int64_t>(p.size())};
    }
    ByteView rest = r.rest();
    if (h.padding) {
        if (rest.empty() || rest.back() == 0 || rest.back() > rest.size()) {
            return Error{"bad_rtp_padding"};
        }
        rest = rest.first(rest.size() - rest.back());
    }
    payload_out = rest;
    return h;
}

static Result<BlockBody> decodeBody(std::uint8_t type, ByteView b) {
    ByteReader r(b);
    switch (type) {
        case static_cast<std::uint8_t>(BlockType::PacketType): {
            if (b.size() != 4) {
                return Error{"bad_block_length", static_cast<std::int64_t>(b.size())};
            }
            PacketTypeBlock t;
            const std::uint8_t b0 = r.u8();
            t.mute = (b0 & 0x80) != 0;
            t.type = b0 & 0x7F;
            t.service_options = r.u8();
            const std::uint8_t b2 = r.u8();
            t.tsn = b2 >> 1;
            t.losing_audio = (b2 & 1) != 0;
            t.heartbeat = r.u8();
            return BlockBody{t};
        }
        case static_cast<std::uint8_t>(BlockType::PttControl): {
            if (b.size() != 8) {
                return Error{"bad_block_length", static_cast<std::int64_t>(b.size())};
            }
            PttControlWord w;
            const std::uint32_t ws = r.u32();
            w.wacn = ws >> 12;
            w.system = static_cast<std::uint16_t>(ws & 0xFFF);
            w.unit = r.u24();
            w.priority = r.u8();
            return BlockBody{w};
        }
        case static_cast<std::uint8_t>(BlockType::HeaderWord): {
            if (b.size() != 18) {
                return Error{"bad_block_length", static_cast<std::int64_t>(b.size())};
            }
            HeaderWord h;
            h.mi = r.array<kMiBytes>();
            h.algid = r.u8();
            h.kid = r.u16();
            h.mfid = r.u8();
            h.group = r.u16();
            h.nid = r.u16();
            h.sf_vbb = r.u8();
            return BlockBody{h};
        }
        case static_cast<std::uint8_t>(BlockType::ImbeVoice): {
            if (b.size() < kImbeBlockBase || b.size() > kImbeBlockBase + 8) {
                return Error{"bad_block_length", static_cast<std::int64_t>(b.size())};
            }
            ImbeBlock v;
            v.ft = r.u8();
            v.imbe = r.array<kImbeBytes>();
            v.status = r.array<2>();
            v.extra.assign(r.rest());
            return BlockBody{v};
        }
        default:
            return BlockBody{OpaqueBlock{Bytes(b.begin(), b.end())}};
    }
}

Result<IssiPayload> decodeIssiPayload(ByteView p) {
    if (p.empty()) {
        return Error{"truncated"};
    }
    IssiPayload out;
    const std::uint8_t ctl = p[0];
    out.signal = (ctl & 0x80) != 0;
    out.compact = (ctl & 0x40) != 0;
    const std::size_t count = ctl & 0x3F;
    if (count == 0) {
        return Error{"no_blocks"};
    }
    struct Hdr {
        bool e;
        std::uint8_t type;
        std::uint16_t tso;
        std::size_t len;  // SIZE_MAX for compact: implied by content
    };
    std::array<Hdr, 63> hdrs{};
    ByteReader r(p.subspan(1));
    for (std::size_t i = 0; i < count; ++i) {
        if (out.compact) {
            const std::uint8_t b = r.u8();
            hdrs[i] = {(b & 0x80) != 0, static_cast<std::uint8_t>(b & 0x7F), 0, SIZE_MAX};
        } else {
            const std::uint32_t w = r.u32();
            hdrs[i] = {(w & 0x80000000U) != 0, static_cast<std::uint8_t>((w >> 24) & 0x7F),
                       static_cast<std::uint16_t>((w >> 10) & 0x3FFF),
                       static_cast<std::size_t>(w & 0x3FF)};
        }
    }
    if (!r.ok()) {
        return Error{"truncated", static_cast<std::int64_t>(p.size())};
    }
    out.blocks.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
        std::size_t len = hdrs[i].len;
        if (len == SIZE_MAX) {
            switch (hdrs[i].type) {
                case static_cast<std::uint8_t>(BlockType::PacketType):
                    len = 4;
                    break;
                case static_cast<std::uint8_t>(BlockType::PttControl):
                    len = 8;
                    break;
                case static_cast<std::uint8_t>(BlockType::HeaderWord):
                    len = 18;
                    break;
                case static_cast<std::uint8_t>(BlockType::ImbeVoice): {
                    if (r.remaining() == 0) {
                        return Error{"block_overrun", static_cast<std::int64_t>(i)};
                    }
                    auto l = imbeBlockLength(r.rest()[0]);
                    if (!l) {
                        return Error{"compact_unknown_length", hdrs[i].type};
                    }
                    len = *l;
                    break;
                }
                default:
                    return Error{"compact_unknown_length", hdrs[i].type};
            }
        }
        if (len > r.remaining()) {
            return Error{"block_overrun", static_cast<std::int64_t>(i)};
        }
        auto body = decodeBody(hdrs[i].type, r.take(len));
        if (!body) {
            return body.error();
        }
        out.blocks.push_back(IssiBlock{hdrs[i].e, hdrs[i].type, hdrs[i].tso, std::move(*body)});
    }
    if (r.remaining() != 0) {
        return Error{"trailing_bytes", static_cast<std::int64_t>(r.remaining())};
    }
    return out;
}

Result<IssiPacket> decodeIssiPacket(ByteView packet) {
    ByteView payload;
    auto h = decodeRtpHeader(packet, payload);
    if (!h) {
        return h.error();
    }
    auto p = decodeIssiPayload(payload);
    if (!p) {
        return p.error();
    }
    return IssiPacket{*h, std::move(*p)};
}

static void encodeBody(const BlockBody& body, Bytes& out) {
    ByteWriter w(out);
    if (const auto* t = std::get_if<PacketTypeBlock>(&body)) {
        w.u8(static_cast<std::uint8_t>((t->mute ? 0x80 : 0) | (t->type & 0x7F)));
        w.u8(t->service_options);
        w.u8(static_cast<std::uint8_t>((t->tsn << 1) | (t->losing_audio ? 1 : 0)));
        w.u8(t->heartbeat);
    } else if (const auto* c = std::get_if<PttControlWord>(&body)) {
        w.u32(((c->wacn & 0xFFFFF) << 12) | (c->system & 0xFFFU));
        w.u24(c->unit & 0xFFFFFF);
        w.u8(c->priority);
    } else if (const auto* h = std::get_if<HeaderWord>(&body)) {
        w.bytes(ByteView(h->mi.data(), h->mi.size()));
        w.u8(h->algid);
        w.u16(h->kid);
        w.u8(h->mfid);
        w.u16(h->group);
        w.u16(h->nid);
        w.u8(h->sf_vbb);
    } else if (const auto* v = std::get_if<ImbeBlock>(&body)) {
        w.u8(v->ft);
        w.bytes(ByteView(v->imbe.data(), v->imbe.size()));
        w.bytes(ByteView(v->status.data(), v->status.size()));
        w.bytes(v->extra.view());
    } else {
        w.bytes(std::get<OpaqueBlock>(body).bytes);
    }
}

Status encodeIssiPayload(const IssiPayload& p, Bytes& out) {
    if (p.blocks.empty() || p.blocks.size() > 63) {
        return Error{"bad_block_count", static_cast<std::int64_t>(p.blocks.size())};
    }
    out.push_back(static_cast<std::uint8_t>((p.signal ? 0x80 : 0) | (p.compact ? 0x40 : 0) |
                                            p.blocks.size()));
    const std::size_t hdr_at = out.size();
    out.resize(out.size() + p.blocks.size() * (p.compact ? 1 : 4));
    for (std::size_t i = 0; i < p.blocks.size(); ++i) {
        const IssiBlock& b = p.blocks[i];
        const std::size_t start = out.size();
        encodeBody(b.body, out);
        const std::size_t len = out.size() - start;
        if (p.compact) {
            out[hdr_at + i] = static_cast<std::uint8_t>((b.e ? 0x80 : 0) | (b.type & 0x7F));
        } else {
            if (len > 0x3FF) {
                return Error{"bad_block_length", static_cast<std::int64_t>(len)};
            }
            const std::uint32_t word =
                (b.e ? 0x80000000U : 0) | (std::uint32_t{b.type & 0x7FU} << 24) |
                (std::uint32_t{b.tso & 0x3FFFU} << 10) | static_cast<std::uint32_t>(len);
            for (int k = 0; k < 4; ++k) {
                out[hdr_at + i * 4 + static_cast<std::size_t>(k)] =
                    static_cast<std::uint8_t>(word >> (24 - 8 * k));
            }
        }
    }
    return Status::success();
}

Status encodeIssiPacket(const IssiPacket& packet, Bytes& out) {
    const RtpHeader& h = packet.rtp;
    ByteWriter w(out);
    w.u8(0x80);
    w.u8(static_cast<std::uint8_t>((h.marker ? 0x80 : 0) | (h.payload_type & 0x7F)));
    w.u16(h.seq);
    w.u32(h.timestamp);
    w.u32(h.ssrc);
    return encodeIssiPayload(packet.payload, out);
}

template <typename T>
static const T* findBody(const IssiPayload& p) {
    for (const auto& b : p.blocks) {
        if (const auto* t = std::get_if<T>(&b.body)) {
            return t;
        }
    }
    return nullptr;
}

const PacketTypeBlock* IssiPayload::packetType() const {
    return findBody<PacketTypeBlock>(*this);
}
const PttControlWord* IssiPayload::pttControl() const {
    return findBody<PttControlWord>(*this);
}
const HeaderWord* IssiPayload::headerWord() const {
    return findBody<HeaderWord>(*this);
}

}  // namespace iwf::lmr::p25
