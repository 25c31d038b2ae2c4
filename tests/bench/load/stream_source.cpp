#include "tests/bench/load/stream_source.hpp"

#include <variant>

#include "lmr_adapters/dmr/dmrd.hpp"
#include "lmr_adapters/p25/records.hpp"
#include "lmr_adapters/p25/side_fields.hpp"
#include "tests/bench/load/load_book.hpp"

namespace iwf::bench {

namespace p25 = iwf::lmr::p25;
namespace dmr = iwf::lmr::dmr;

std::uint8_t periodOf(StreamKind k) {
    return k == StreamKind::P25 ? 18 : 6;
}

std::int64_t intervalNs(StreamKind k) {
    return k == StreamKind::P25 ? 20'000'000 : 60'000'000;
}

unsigned voiceFramesPerPacket(StreamKind k) {
    return k == StreamKind::P25 ? 1 : 3;
}

namespace {

std::uint64_t next(std::uint64_t& s) {  // xorshift64
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
}

template <typename Array>
void fillRandom(Array& a, std::uint64_t& s) {
    for (auto& b : a) {
        b = static_cast<std::uint8_t>(next(s) >> 24);
    }
}

constexpr std::uint8_t kAlgIdAes256 = 0x84;

}  // namespace

StreamSource::StreamSource(StreamKind kind, std::uint32_t stream_index)
    : kind_(kind), index_(stream_index), rng_(0x9E3779B97F4A7C15ull ^ (stream_index + 1)) {}

std::uint32_t StreamSource::build(std::uint64_t seq, Bytes& out) {
    out.clear();
    if (kind_ == StreamKind::P25) {
        const auto index = static_cast<std::uint8_t>(seq % 18);
        const std::uint64_t superframe = seq / 18;
        p25::VoiceRecord r;
        r.tag = p25::tagOfFrameIndex(index);
        fillRandom(r.imbe, rng_);
        // MMDVMHost's records (P25Network.cpp writeLDU1/2, side_fields.hpp mmdvmRecordSide):
        // service options 0, no header; the LDU2 ES (next superframe's MI, AES-256, key)
        // is what says "encrypted".
        const std::uint32_t tgid = 1000 + index_;
        const std::uint32_t src = 100000 + index_;
        const std::uint16_t kid = static_cast<std::uint16_t>(0x0100 + (index_ & 0xFF));
        p25::MmdvmLc lc;
        lc.dst = tgid;
        lc.src = src;
        p25::MmdvmEs es;
        const std::uint64_t mi = (superframe + 1) * 0x0123456789ull + index_;
        for (unsigned byte = 0; byte < 8; ++byte) {  // MI byte 8 (reserved) stays 0
            es.mi[byte] = static_cast<std::uint8_t>(mi >> (8 * (7 - byte)));
        }
        es.algid = kAlgIdAes256;
        es.kid = kid;
        r.side = p25::mmdvmRecordSide(index, lc, es, {0, 0});
        InlineBytes<p25::kMaxRecordLen> buf;
        if (!p25::encodeRecord(r, buf).ok()) {
            return 0;
        }
        out.assign(buf.data(), buf.data() + buf.size());
        return fnv1a(r.imbe.data(), r.imbe.size());
    }
    dmr::DmrdPacket p;
    const auto burst = static_cast<std::uint8_t>(seq % 6);
    p.seq = static_cast<std::uint8_t>(seq);
    p.src = 3100000 + index_;
    p.dst = 9000 + index_;
    p.peer_id = 310000000 + index_ / 2;  // two timeslots per simulated repeater
    p.slot = static_cast<std::uint8_t>(1 + index_ % 2);
    p.frame_type = burst == 0 ? dmr::FrameType::VoiceSync : dmr::FrameType::Voice;
    p.dtype_vseq = burst;
    p.stream_id = 0x5000'0000u + index_;
    fillRandom(p.burst, rng_);
    dmr::encodeDmrd(p, out);
    return fnv1a(p.burst.data(), p.burst.size());
}

std::optional<FrameOut> extractFrame(StreamKind kind, ByteView datagram) {
    if (kind == StreamKind::P25) {
        auto rec = p25::decodeRecord(datagram);
        if (!rec.ok()) {
            return std::nullopt;
        }
        const auto* v = std::get_if<p25::VoiceRecord>(&rec.value());
        if (v == nullptr) {
            return std::nullopt;
        }
        return FrameOut{v->index(), fnv1a(v->imbe.data(), v->imbe.size())};
    }
    auto pkt = dmr::decodeDmrd(datagram);
    if (!pkt.ok() || !pkt.value().isVoice()) {
        return std::nullopt;
    }
    const auto& p = pkt.value();
    return FrameOut{p.dtype_vseq, fnv1a(p.burst.data(), p.burst.size())};
}

}  // namespace iwf::bench
