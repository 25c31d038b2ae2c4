#include "mc_adapters/rtp/rtp_packet.hpp"

namespace iwf::mc::rtp {

Result<RtpView> RtpView::parse(ByteView packet) {
    if (packet.size() < kRtpFixedHeader) {
        return Error{"truncated", static_cast<std::int64_t>(packet.size())};
    }
    if ((packet[0] >> 6) != 2) {
        return Error{"bad_version", packet[0] >> 6};
    }
    RtpView v;
    v.b_ = packet;
    std::size_t off = kRtpFixedHeader + 4 * static_cast<std::size_t>(packet[0] & 0x0F);
    if (off > packet.size()) {
        return Error{"bad_csrc", packet[0] & 0x0F};
    }
    if (v.hasExtension()) {
        if (off + 4 > packet.size()) {
            return Error{"bad_extension", static_cast<std::int64_t>(off)};
        }
        v.ext_profile_ = static_cast<std::uint16_t>(packet[off] << 8 | packet[off + 1]);
        const std::size_t words = static_cast<std::size_t>(packet[off + 2] << 8 | packet[off + 3]);
        off += 4;
        if (off + 4 * words > packet.size()) {
            return Error{"bad_extension", static_cast<std::int64_t>(words)};
        }
        v.extension_ = packet.subspan(off, 4 * words);
        off += 4 * words;
    }
    std::size_t end = packet.size();
    if (v.padding()) {
        const std::size_t pad = packet[end - 1];
        if (pad == 0 || pad > end - off) {
            return Error{"bad_padding", static_cast<std::int64_t>(pad)};
        }
        v.padding_ = pad;
        end -= pad;
    }
    v.payload_ = packet.subspan(off, end - off);
    return v;
}

Status buildRtp(const RtpHeader& h, ByteView payload, Bytes& out, std::uint8_t padding) {
    if (h.payload_type > 127) {
        return Error{"bad_payload_type", h.payload_type};
    }
    if (h.csrcs.size() > 15) {
        return Error{"too_many_csrcs", static_cast<std::int64_t>(h.csrcs.size())};
    }
    if (h.extension &&
        (h.extension->data.size() % 4 != 0 || h.extension->data.size() / 4 > 0xFFFF)) {
        return Error{"bad_extension", static_cast<std::int64_t>(h.extension->data.size())};
    }
    ByteWriter w(out);
    w.u8(static_cast<std::uint8_t>(0x80 | (padding != 0 ? 0x20 : 0) | (h.extension ? 0x10 : 0) |
                                   h.csrcs.size()));
    w.u8(static_cast<std::uint8_t>((h.marker ? 0x80 : 0) | h.payload_type));
    w.u16(h.sequence);
    w.u32(h.timestamp);
    w.u32(h.ssrc);
    for (std::uint32_t c : h.csrcs) {
        w.u32(c);
    }
    if (h.extension) {
        w.u16(h.extension->profile);
        w.u16(static_cast<std::uint16_t>(h.extension->data.size() / 4));
        w.bytes(h.extension->data);
    }
    w.bytes(payload);
    if (padding != 0) {
        w.zeros(padding - 1u);
        w.u8(padding);
    }
    return {};
}

std::uint64_t SequenceExtender::extend(std::uint16_t seq) {
    if (!started_) {
        started_ = true;
        highest_ = (1ULL << 16) + seq;  // start one cycle up so early backward steps fit
        return highest_;
    }
    const auto cur = static_cast<std::uint16_t>(highest_);
    const auto delta = static_cast<std::int16_t>(static_cast<std::uint16_t>(seq - cur));
    const std::uint64_t ext =
        highest_ + static_cast<std::uint64_t>(static_cast<std::int64_t>(delta));
    if (ext > highest_) {
        highest_ = ext;
    }
    return ext;
}

}  // namespace iwf::mc::rtp
