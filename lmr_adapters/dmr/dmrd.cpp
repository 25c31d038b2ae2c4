#include "lmr_adapters/dmr/dmrd.hpp"

#include <cstring>

namespace iwf::lmr::dmr {

std::string_view toString(FrameType t) {
    switch (t) {
        case FrameType::Voice:
            return "voice";
        case FrameType::VoiceSync:
            return "voice_sync";
        case FrameType::DataSync:
            return "data_sync";
    }
    return "?";
}

bool isDmrd(ByteView d) {
    return d.size() >= 4 && std::memcmp(d.data(), "DMRD", 4) == 0;
}

Result<DmrdPacket> decodeDmrd(ByteView d) {
    if (!isDmrd(d)) {
        return Error{"bad_magic", 0};
    }
    if (d.size() < kDmrdLength) {
        return Error{"truncated", static_cast<std::int64_t>(d.size())};
    }
    if (d.size() != kDmrdLength && d.size() != kDmrdLengthMmdvm) {
        return Error{"bad_length", static_cast<std::int64_t>(d.size())};
    }
    ByteReader r(d);
    r.skip(4);
    DmrdPacket p;
    p.seq = r.u8();
    p.src = r.u24();
    p.dst = r.u24();
    p.peer_id = r.u32();
    const std::uint8_t b15 = r.u8();
    p.slot = (b15 & 0x80) ? 2 : 1;
    p.unit_call = (b15 & 0x40) != 0;
    const std::uint8_t ft = (b15 >> 4) & 0x03;
    if (ft == 3) {
        return Error{"bad_slot_bits", b15};
    }
    p.frame_type = static_cast<FrameType>(ft);
    p.dtype_vseq = b15 & 0x0F;
    if (p.frame_type != FrameType::DataSync && p.dtype_vseq > 5) {
        return Error{"bad_voice_seq", p.dtype_vseq};
    }
    p.stream_id = r.u32();
    p.burst = r.array<kBurstBytes>();
    p.has_trailer = d.size() == kDmrdLengthMmdvm;
    if (p.has_trailer) {
        p.ber = r.u8();
        p.rssi = r.u8();
    }
    if (!r.ok()) {
        return Error{"truncated", static_cast<std::int64_t>(d.size())};
    }
    return p;
}

void encodeDmrd(const DmrdPacket& p, Bytes& out) {
    ByteWriter w(out);
    w.str("DMRD");
    w.u8(p.seq);
    w.u24(p.src & 0xFFFFFF);
    w.u24(p.dst & 0xFFFFFF);
    w.u32(p.peer_id);
    std::uint8_t b15 = p.slot == 2 ? 0x80 : 0x00;
    if (p.unit_call) {
        b15 |= 0x40;
    }
    b15 = static_cast<std::uint8_t>(b15 | (static_cast<std::uint8_t>(p.frame_type) << 4) |
                                    (p.dtype_vseq & 0x0F));
    w.u8(b15);
    w.u32(p.stream_id);
    w.bytes(p.burst);
    if (p.has_trailer) {
        w.u8(p.ber);
        w.u8(p.rssi);
    }
}

Bytes encodeDmrd(const DmrdPacket& p) {
    Bytes out;
    out.reserve(kDmrdLengthMmdvm);
    encodeDmrd(p, out);
    return out;
}

}  // namespace iwf::lmr::dmr
