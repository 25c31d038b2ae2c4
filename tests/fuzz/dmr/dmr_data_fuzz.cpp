// DMR packet data: the reassembler (DataReceiver) and the builder (DataSender).
// Byte 0 selects the mode and configuration:
//   bit 7 = 1: round trip. The rest is a payload; it is built into DMRD packets, fed back,
//     and must come out as exactly one event with the same bytes (else abort).
//   bit 7 = 0: records of 13 bytes: a control byte (bits 1..0: 0 data header, 1 rate 1/2 block,
//     2 rate 3/4, 3 rate 1; bit 2: slot; bits 4..3: stream; bit 5: skip a sequence number;
//     bit 6: advance the clock past the reassembly timeout; bit 7: give a header a valid
//     CRC-CCITT) and 12 block octets, sent as real bursts through the receiver. Every event
//     must respect the size limit and the pending table its bound.
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "lmr_adapters/dmr/data.hpp"
#include "lmr_adapters/dmr/fec.hpp"

using namespace iwf;
using namespace iwf::lmr::dmr;

namespace {

std::size_t payloadSize(const Event& e) {
    if (const auto* d = std::get_if<DataMessage>(&e)) {
        return d->payload.size();
    }
    if (const auto* s = std::get_if<SecurityMessage>(&e)) {
        return s->payload.size();
    }
    std::abort();  // the receiver reports nothing else
}

int roundTrip(std::uint8_t cfg_byte, const std::uint8_t* data, std::size_t size) {
    DataConfig cfg;
    cfg.kmm = KmmService{9};
    const bool kmm = (cfg_byte & 0x01) != 0;
    const bool group = (cfg_byte & 0x02) != 0;
    Bytes payload(data, data + std::min(size, kMaxDataPayload));
    Event e;
    if (kmm) {
        SecurityMessage m;
        m.from = DmrUnit{0x123456};
        m.to = group ? Address{DmrGroup{91}} : Address{DmrUnit{2001}};
        m.payload = payload;
        e = m;
    } else {
        DataMessage m;
        m.from = DmrUnit{0x123456};
        m.to = group ? Address{DmrGroup{91}} : Address{DmrUnit{2001}};
        m.payload = payload;
        e = m;
    }
    DataSender tx(DataSenderConfig{1, 1, 1}, cfg, cfg_byte);
    auto pkts = tx.onEvent(e);
    if (!pkts) {
        std::abort();  // every size up to the maximum must build
    }
    DataReceiver rx(cfg);
    std::vector<Event> out;
    std::vector<std::string_view> drops;
    for (const auto& p : *pkts) {
        auto d = decodeDmrd(encodeDmrd(p));
        if (!d) {
            std::abort();
        }
        rx.onPacket(*d, 1, out, drops);
    }
    if (!drops.empty() || out.size() != 1 || out[0].index() != e.index()) {
        std::abort();
    }
    const Bytes& got =
        kmm ? std::get<SecurityMessage>(out[0]).payload : std::get<DataMessage>(out[0]).payload;
    if (got != payload) {
        std::abort();
    }
    return 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    const std::uint8_t cfg_byte = data[0];
    if ((cfg_byte & 0x80) != 0) {
        return roundTrip(cfg_byte, data + 1, size - 1);
    }
    DataConfig cfg;
    if ((cfg_byte & 0x01) != 0) {
        cfg.kmm = KmmService{static_cast<std::uint8_t>(cfg_byte >> 4)};
    }
    cfg.max_bytes = (cfg_byte & 0x02) != 0 ? 40 : kMaxDataPayload;
    cfg.max_pending = 3;
    cfg.timeout = std::chrono::milliseconds(100);
    DataReceiver rx(cfg);
    std::vector<Event> out;
    std::vector<std::string_view> drops;
    std::int64_t now = 0;
    std::uint8_t seq[2][4] = {};
    static constexpr std::uint8_t kTypes[4] = {6, 7, 8, 10};
    for (std::size_t off = 1; off + 13 <= size; off += 13) {
        const std::uint8_t ctl = data[off];
        Block12 block{};
        std::copy_n(data + off + 1, 12, block.begin());
        const std::uint8_t type = kTypes[ctl & 0x03];
        if (type == 6 && (ctl & 0x80) != 0) {
            setCrcBlock(block, kCrcMaskDataHeader);
        }
        const unsigned slot = (ctl >> 2) & 1;
        const unsigned stream = (ctl >> 3) & 3;
        seq[slot][stream] = static_cast<std::uint8_t>(seq[slot][stream] + ((ctl & 0x20) ? 2 : 1));
        now += (ctl & 0x40) != 0 ? 200'000'000 : 1'000'000;
        DmrdPacket p;
        p.seq = seq[slot][stream];
        p.peer_id = 7;
        p.slot = static_cast<std::uint8_t>(slot + 1);
        p.frame_type = FrameType::DataSync;
        p.dtype_vseq = type;
        p.stream_id = 0x1000 + stream;
        p.burst = buildDataBurst(block, type, 1);
        rx.onPacket(p, now, out, drops);
        rx.expire(now, drops);
        if (rx.pending() > cfg.max_pending) {
            std::abort();
        }
    }
    for (const auto& e : out) {
        if (payloadSize(e) > cfg.max_bytes) {
            std::abort();
        }
    }
    return 0;
}
