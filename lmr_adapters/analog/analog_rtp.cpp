#include "lmr_adapters/analog/analog_rtp.hpp"

#include <algorithm>

namespace iwf::lmr::analog {

Result<AnalogRtpPacket> decodeAnalogRtp(ByteView d) {
    if (d.size() < kRtpHeaderBytes) {
        return Error{"truncated", static_cast<std::int64_t>(d.size())};
    }
    if ((d[0] >> 6) != 2) {
        return Error{"bad_version", d[0] >> 6};
    }
    AnalogRtpPacket p;
    const bool padding = (d[0] & 0x20) != 0;
    const bool extension = (d[0] & 0x10) != 0;
    p.csrc_count = d[0] & 0x0F;
    ByteReader r(d);
    r.skip(1);
    const std::uint8_t b1 = r.u8();
    p.marker = (b1 & 0x80) != 0;
    p.payload_type = b1 & 0x7F;
    p.sequence = r.u16();
    p.timestamp = r.u32();
    p.ssrc = r.u32();
    std::size_t off = kRtpHeaderBytes + 4u * p.csrc_count;
    if (d.size() < off) {
        return Error{"truncated", static_cast<std::int64_t>(d.size())};
    }
    if (extension) {
        // RFC 3550 5.3.1: 16-bit profile, 16-bit length in 32-bit words excluding this header.
        if (d.size() < off + 4) {
            return Error{"truncated", static_cast<std::int64_t>(d.size())};
        }
        const std::size_t words = static_cast<std::size_t>(d[off + 2] << 8 | d[off + 3]);
        off += 4 + 4 * words;
        if (d.size() < off) {
            return Error{"bad_extension", static_cast<std::int64_t>(words)};
        }
    }
    std::size_t end = d.size();
    if (padding) {
        // RFC 3550 5.1: the last octet counts the padding octets, itself included.
        const std::size_t pad = d[d.size() - 1];
        if (pad == 0 || pad > end - off) {
            return Error{"bad_padding", static_cast<std::int64_t>(pad)};
        }
        end -= pad;
    }
    if (p.payload_type != kPtPcmu && p.payload_type != kPtPcma) {
        return Error{"wrong_pt", p.payload_type};
    }
    if (end - off != kG711FrameBytes) {
        return Error{"bad_payload_length", static_cast<std::int64_t>(end - off)};
    }
    p.payload = d.subspan(off, end - off);
    return p;
}

Status encodeAnalogRtp(const AnalogRtpPacket& p, AnalogRtpBuffer& out) {
    if (p.payload.size() > kG711FrameBytes) {
        return Error{"too_long", static_cast<std::int64_t>(p.payload.size())};
    }
    std::uint8_t h[kRtpHeaderBytes + kG711FrameBytes];
    h[0] = 0x80;  // V=2, P=0, X=0, CC=0
    h[1] = static_cast<std::uint8_t>((p.marker ? 0x80 : 0) | (p.payload_type & 0x7F));
    h[2] = static_cast<std::uint8_t>(p.sequence >> 8);
    h[3] = static_cast<std::uint8_t>(p.sequence);
    for (int i = 0; i < 4; ++i) {
        h[4 + i] = static_cast<std::uint8_t>(p.timestamp >> (24 - 8 * i));
        h[8 + i] = static_cast<std::uint8_t>(p.ssrc >> (24 - 8 * i));
    }
    std::copy(p.payload.begin(), p.payload.end(), h + kRtpHeaderBytes);
    out.assign(ByteView(h, kRtpHeaderBytes + p.payload.size()));
    return Status::success();
}

}  // namespace iwf::lmr::analog
