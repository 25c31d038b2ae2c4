#include "lmr_adapters/dmr/data.hpp"

#include <algorithm>

#include "lmr_adapters/dmr/burst.hpp"
#include "lmr_adapters/dmr/fec.hpp"

namespace iwf::lmr::dmr {

namespace {

bool receivableSap(std::uint8_t sap) {
    return sap == kSapTcpIpHc || sap == kSapUdpIpHc || sap == kSapIp || sap == kSapProprietary ||
           sap == kSapShortData;
}

}  // namespace

// ------------------------------------------------------------------ header

Result<DataHeader> parseDataHeader(ByteView b) {
    if (b.size() != kDataBlockBytes) {
        return Error{"bad_length", static_cast<std::int64_t>(b.size())};
    }
    if (!checkCrcBlock(b, kCrcMaskDataHeader)) {
        return Error{"bad_header_crc"};
    }
    DataHeader h;
    h.group = (b[0] & 0x80) != 0;
    h.response_requested = (b[0] & 0x40) != 0;
    h.reserved0 = static_cast<std::uint8_t>((b[0] >> 5) & 0x01);
    h.dpf = b[0] & 0x0F;
    h.sap = static_cast<std::uint8_t>(b[1] >> 4);
    h.pad_octets = static_cast<std::uint8_t>(((b[0] & 0x10) != 0 ? 0x10 : 0) | (b[1] & 0x0F));
    h.dst = (std::uint32_t{b[2]} << 16) | (std::uint32_t{b[3]} << 8) | b[4];
    h.src = (std::uint32_t{b[5]} << 16) | (std::uint32_t{b[6]} << 8) | b[7];
    h.full_message = (b[8] & 0x80) != 0;
    h.blocks_to_follow = b[8] & 0x7F;
    h.reserved9 = static_cast<std::uint8_t>(b[9] >> 4);
    h.fsn = b[9] & 0x0F;
    return h;
}

Block12 buildDataHeaderBlock(const DataHeader& h) {
    Block12 b{};
    b[0] = static_cast<std::uint8_t>((h.group ? 0x80 : 0) | (h.response_requested ? 0x40 : 0) |
                                     ((h.reserved0 & 0x01) << 5) |
                                     ((h.pad_octets & 0x10) != 0 ? 0x10 : 0) | (h.dpf & 0x0F));
    b[1] = static_cast<std::uint8_t>(((h.sap & 0x0F) << 4) | (h.pad_octets & 0x0F));
    b[2] = static_cast<std::uint8_t>(h.dst >> 16);
    b[3] = static_cast<std::uint8_t>(h.dst >> 8);
    b[4] = static_cast<std::uint8_t>(h.dst);
    b[5] = static_cast<std::uint8_t>(h.src >> 16);
    b[6] = static_cast<std::uint8_t>(h.src >> 8);
    b[7] = static_cast<std::uint8_t>(h.src);
    b[8] = static_cast<std::uint8_t>((h.full_message ? 0x80 : 0) | (h.blocks_to_follow & 0x7F));
    b[9] = static_cast<std::uint8_t>(((h.reserved9 & 0x0F) << 4) | (h.fsn & 0x0F));
    setCrcBlock(b, kCrcMaskDataHeader);
    return b;
}

// ------------------------------------------------------------------ message CRC

std::uint32_t dataCrc32(ByteView octets) {
    std::uint32_t crc = 0;
    auto feed = [&crc](std::uint8_t v) {
        crc ^= std::uint32_t{v} << 24;
        for (int i = 0; i < 8; ++i) {
            crc = (crc & 0x80000000u) != 0 ? (crc << 1) ^ 0x04C11DB7u : crc << 1;
        }
    };
    for (std::size_t i = 0; i + 1 < octets.size(); i += 2) {
        feed(octets[i + 1]);
        feed(octets[i]);
    }
    return crc;
}

std::size_t dataBlocksFor(std::size_t payload_len) {
    return std::max<std::size_t>(1, (payload_len + 4 + kDataBlockBytes - 1) / kDataBlockBytes);
}

Result<DataPdu> buildDataPdu(bool group, std::uint8_t sap, std::uint32_t src, std::uint32_t dst,
                             ByteView payload) {
    if (payload.size() > kMaxDataPayload) {
        return Error{"oversize", static_cast<std::int64_t>(payload.size())};
    }
    const std::size_t n = dataBlocksFor(payload.size());
    const std::size_t data_len = n * kDataBlockBytes - 4;
    Bytes flat(n * kDataBlockBytes, 0);
    std::copy(payload.begin(), payload.end(), flat.begin());
    const std::uint32_t crc = dataCrc32(ByteView(flat.data(), data_len));
    flat[data_len] = static_cast<std::uint8_t>(crc);
    flat[data_len + 1] = static_cast<std::uint8_t>(crc >> 8);
    flat[data_len + 2] = static_cast<std::uint8_t>(crc >> 16);
    flat[data_len + 3] = static_cast<std::uint8_t>(crc >> 24);

    DataPdu pdu;
    pdu.header.group = group;
    pdu.header.dpf = kDpfUnconfirmed;
    pdu.header.sap = static_cast<std::uint8_t>(sap & 0x0F);
    pdu.header.pad_octets = static_cast<std::uint8_t>(data_len - payload.size());
    pdu.header.dst = dst & 0xFFFFFF;
    pdu.header.src = src & 0xFFFFFF;
    pdu.header.full_message = true;
    pdu.header.blocks_to_follow = static_cast<std::uint8_t>(n);
    pdu.blocks.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
        std::copy_n(flat.begin() + static_cast<std::ptrdiff_t>(i * kDataBlockBytes),
                    kDataBlockBytes, pdu.blocks[i].begin());
    }
    return pdu;
}

Result<Bytes> extractDataPayload(const DataHeader& h, const std::vector<Block12>& blocks) {
    if (blocks.empty() || blocks.size() != h.blocks_to_follow) {
        return Error{"missing_blocks", static_cast<std::int64_t>(blocks.size())};
    }
    const std::size_t data_len = blocks.size() * kDataBlockBytes - 4;
    if (h.pad_octets > data_len) {
        return Error{"bad_pad", h.pad_octets};
    }
    Bytes flat;
    flat.reserve(blocks.size() * kDataBlockBytes);
    for (const auto& b : blocks) {
        flat.insert(flat.end(), b.begin(), b.end());
    }
    const std::uint32_t want = dataCrc32(ByteView(flat.data(), data_len));
    const std::uint32_t got =
        std::uint32_t{flat[data_len]} | (std::uint32_t{flat[data_len + 1]} << 8) |
        (std::uint32_t{flat[data_len + 2]} << 16) | (std::uint32_t{flat[data_len + 3]} << 24);
    if (want != got) {
        return Error{"bad_crc"};
    }
    flat.resize(data_len - h.pad_octets);
    return flat;
}

Burst buildDataBurst(const Block12& block, std::uint8_t data_type, std::uint8_t color_code) {
    Burst b{};
    insertInfo(b, bptc19696Encode(block));
    encodeSlotType(b, color_code, data_type);
    setSync(b, SyncPattern::BsData);
    return b;
}

bool isDataPacket(const DmrdPacket& p) {
    if (p.frame_type != FrameType::DataSync) {
        return false;
    }
    const auto dt = static_cast<DataType>(p.dtype_vseq);
    return dt == DataType::DataHeader || dt == DataType::Rate12Data || dt == DataType::Rate34Data ||
           dt == DataType::Rate1Data;
}

// ------------------------------------------------------------------ receiver

void DataReceiver::onPacket(const DmrdPacket& p, std::int64_t now_ns, std::vector<Event>& out,
                            std::vector<std::string_view>& drops) {
    const Key key{p.peer_id, p.slot, p.stream_id};
    auto it = pending_.find(key);
    auto abandon = [&](std::string_view reason) {
        if (it != pending_.end()) {
            drops.push_back(reason);
            pending_.erase(it);
            it = pending_.end();
        }
    };
    const auto dt = static_cast<DataType>(p.dtype_vseq);
    if (dt == DataType::Rate34Data || dt == DataType::Rate1Data) {
        // Trellis 3/4 and rate 1 blocks are not decoded: the whole PDU is refused.
        drops.push_back("unsupported_rate");
        if (it != pending_.end()) {
            pending_.erase(it);
        }
        return;
    }
    auto burst = decodeDataBurst(p.burst);
    if (!burst) {
        drops.push_back(burst.error().reason);
        abandon("missing_blocks");
        return;
    }
    if (burst->slot_type.data_type != p.dtype_vseq) {
        drops.push_back("data_type_mismatch");
        abandon("missing_blocks");
        return;
    }
    if (dt == DataType::DataHeader) {
        auto h = parseDataHeader(burst->info);
        if (!h) {
            drops.push_back(h.error().reason);
            abandon("missing_blocks");
            return;
        }
        // A new header on a stream whose PDU is incomplete: the old one lost blocks.
        abandon("missing_blocks");
        if (h->dpf == kDpfConfirmed) {
            drops.push_back("unsupported_confirmed");
            return;
        }
        if (h->dpf != kDpfUnconfirmed) {
            drops.push_back("unsupported_format");
            return;
        }
        const bool kmm = cfg_.kmm && cfg_.kmm->sap == h->sap;
        if (!kmm && !receivableSap(h->sap)) {
            drops.push_back("unsupported_sap");
            return;
        }
        if (h->blocks_to_follow == 0) {
            drops.push_back("bad_blocks_to_follow");
            return;
        }
        const std::size_t data_len = std::size_t{h->blocks_to_follow} * kDataBlockBytes - 4;
        if (h->pad_octets > data_len) {
            drops.push_back("bad_pad");
            return;
        }
        if (data_len - h->pad_octets > cfg_.max_bytes) {
            drops.push_back("oversize");
            return;
        }
        if (pending_.size() >= cfg_.max_pending) {
            drops.push_back("too_many_pending");
            return;
        }
        Pending pd;
        pd.header = *h;
        pd.blocks.reserve(h->blocks_to_follow);
        pd.started_ns = now_ns;
        pd.last_seq = p.seq;
        pending_.emplace(key, std::move(pd));
        return;
    }
    // Rate 1/2 block.
    if (it == pending_.end()) {
        drops.push_back("unexpected_block");
        return;
    }
    Pending& pd = it->second;
    const auto gap = static_cast<std::uint8_t>(p.seq - pd.last_seq);
    if (gap == 0) {
        drops.push_back("duplicate_block");
        return;
    }
    if (gap != 1) {
        // Unconfirmed blocks carry no number: a DMRD sequence gap means a block was lost.
        abandon("missing_blocks");
        return;
    }
    pd.last_seq = p.seq;
    pd.blocks.push_back(burst->info);
    if (pd.blocks.size() == pd.header.blocks_to_follow) {
        complete(pd, out, drops);
        pending_.erase(it);
    }
}

void DataReceiver::complete(Pending& pd, std::vector<Event>& out,
                            std::vector<std::string_view>& drops) {
    auto payload = extractDataPayload(pd.header, pd.blocks);
    if (!payload) {
        drops.push_back(payload.error().reason);
        return;
    }
    const DataHeader& h = pd.header;
    Address from = DmrUnit{h.src};
    Address to = h.group ? Address{DmrGroup{h.dst}} : Address{DmrUnit{h.dst}};
    if (cfg_.kmm && cfg_.kmm->sap == h.sap) {
        SecurityMessage m;
        m.from = from;
        m.to = to;
        m.payload = std::move(*payload);
        out.emplace_back(std::move(m));
        return;
    }
    DataMessage m;
    m.from = from;
    m.to = to;
    m.payload = std::move(*payload);
    out.emplace_back(std::move(m));
}

void DataReceiver::expire(std::int64_t now_ns, std::vector<std::string_view>& drops,
                          std::vector<std::uint32_t>* peers) {
    const std::int64_t timeout_ns = std::chrono::nanoseconds(cfg_.timeout).count();
    for (auto it = pending_.begin(); it != pending_.end();) {
        if (now_ns - it->second.started_ns > timeout_ns) {
            drops.push_back("timeout");
            if (peers != nullptr) {
                peers->push_back(std::get<0>(it->first));
            }
            it = pending_.erase(it);
        } else {
            ++it;
        }
    }
}

void DataReceiver::clear(std::optional<std::uint32_t> peer_id) {
    for (auto it = pending_.begin(); it != pending_.end();) {
        if (!peer_id || std::get<0>(it->first) == *peer_id) {
            it = pending_.erase(it);
        } else {
            ++it;
        }
    }
}

// ------------------------------------------------------------------ sender

DataSender::DataSender(DataSenderConfig link, DataConfig data, std::uint64_t seed)
    : link_(link), data_(data), rng_(static_cast<std::mt19937::result_type>(seed)) {}

Result<std::vector<DmrdPacket>> DataSender::onEvent(const Event& e) {
    if (const auto* d = std::get_if<DataMessage>(&e)) {
        return send(d->from, d->to, data_.out_sap, d->payload);
    }
    if (const auto* s = std::get_if<SecurityMessage>(&e)) {
        if (!data_.kmm) {
            return Error{"no_kmm_service"};
        }
        return send(s->from, s->to, data_.kmm->sap, s->payload);
    }
    return Error{"unsupported_event"};
}

Result<std::vector<DmrdPacket>> DataSender::send(const Address& from, const Address& to,
                                                 std::uint8_t sap, ByteView payload) {
    const auto* src = std::get_if<DmrUnit>(&from);
    const auto* unit = std::get_if<DmrUnit>(&to);
    const auto* grp = std::get_if<DmrGroup>(&to);
    if (src == nullptr || (unit == nullptr && grp == nullptr)) {
        return Error{"unsupported_address"};
    }
    if (payload.size() > data_.max_bytes) {
        return Error{"oversize", static_cast<std::int64_t>(payload.size())};
    }
    const bool group = grp != nullptr;
    const std::uint32_t dst = group ? grp->id : unit->id;
    auto pdu = buildDataPdu(group, sap, src->id, dst, payload);
    if (!pdu) {
        return pdu.error();
    }
    std::uint32_t stream_id = 0;
    do {
        stream_id = static_cast<std::uint32_t>(rng_());
    } while (stream_id == 0);
    std::vector<DmrdPacket> pkts;
    pkts.reserve(pdu->blocks.size() + 1);
    std::uint8_t seq = 0;
    auto add = [&](const Block12& block, DataType t) {
        DmrdPacket p;
        p.seq = seq++;
        p.src = src->id & 0xFFFFFF;
        p.dst = dst & 0xFFFFFF;
        p.peer_id = link_.repeater_id;
        p.slot = link_.slot;
        p.unit_call = !group;
        p.frame_type = FrameType::DataSync;
        p.dtype_vseq = static_cast<std::uint8_t>(t);
        p.stream_id = stream_id;
        p.burst = buildDataBurst(block, static_cast<std::uint8_t>(t), link_.color_code);
        pkts.push_back(p);
    };
    add(buildDataHeaderBlock(pdu->header), DataType::DataHeader);
    for (const auto& b : pdu->blocks) {
        add(b, DataType::Rate12Data);
    }
    return pkts;
}

}  // namespace iwf::lmr::dmr
