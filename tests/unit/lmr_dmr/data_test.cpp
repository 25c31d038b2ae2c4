// DMR packet data: data header and message CRC codecs, build -> parse identity for many payload
// sizes, the receiver's reassembly and its refusals, and the sender's packets.
#include "lmr_adapters/dmr/data.hpp"

#include <algorithm>

#include <gtest/gtest.h>

#include "lmr_adapters/dmr/burst.hpp"

namespace iwf::lmr::dmr {
namespace {

Bytes pattern(std::size_t n, std::uint8_t seed = 7) {
    Bytes b(n);
    for (std::size_t i = 0; i < n; ++i) {
        b[i] = static_cast<std::uint8_t>(i * 31 + seed * 17 + (i >> 8));
    }
    return b;
}

std::vector<DmrdPacket> packetsFor(const Event& e, DataConfig cfg = {}) {
    DataSender tx(DataSenderConfig{310001, 2, 7}, cfg, 42);
    auto pkts = tx.onEvent(e);
    EXPECT_TRUE(pkts.ok()) << (pkts.ok() ? "" : pkts.error().toString());
    return pkts.ok() ? *pkts : std::vector<DmrdPacket>{};
}

struct RxResult {
    std::vector<Event> events;
    std::vector<std::string_view> drops;
};

RxResult receive(DataReceiver& rx, const std::vector<DmrdPacket>& pkts, std::int64_t t0 = 1000) {
    RxResult r;
    std::int64_t t = t0;
    for (const auto& p : pkts) {
        auto d = decodeDmrd(encodeDmrd(p));  // through the wire format too
        EXPECT_TRUE(d.ok());
        EXPECT_TRUE(isDataPacket(*d));
        rx.onPacket(*d, t += 60'000'000, r.events, r.drops);
    }
    return r;
}

DataMessage unitMessage(Bytes payload) {
    DataMessage m;
    m.from = DmrUnit{2001};
    m.to = DmrUnit{3002};
    m.payload = std::move(payload);
    return m;
}

// Octets of a confirmed rate 3/4 PDU captured over the air (dsd-neo test fixture for its
// GitHub discussion #231: 76 data octets, then the CRC as sent: 7B 17 9A 5F).
TEST(DmrData, MessageCrcMatchesAnOverTheAirCapture) {
    const Bytes data = *fromHex(
        "0068006500"
        "6c006f00200069002000610"
        "06d0020006a0075006e0069006f0072002c002000690074007300200061002000740065007800740020"
        "006d00650073007300610067006500"
        "2e0000");
    ASSERT_EQ(data.size(), 76u);
    const std::uint32_t crc = dataCrc32(data);
    EXPECT_EQ(crc, 0x5F9A177Bu);
    // Least significant octet first on the air.
    EXPECT_EQ(crc & 0xFF, 0x7Bu);
    EXPECT_EQ(crc >> 24, 0x5Fu);
}

TEST(DmrData, HeaderRoundTripsBitExact) {
    for (int i = 0; i < 64; ++i) {
        DataHeader h;
        h.group = (i & 1) != 0;
        h.response_requested = (i & 2) != 0;
        h.reserved0 = static_cast<std::uint8_t>((i >> 2) & 1);
        h.dpf = static_cast<std::uint8_t>(i % 16);
        h.sap = static_cast<std::uint8_t>((i * 7) % 16);
        h.pad_octets = static_cast<std::uint8_t>(i % 32);
        h.dst = 0xABCDEFu - static_cast<std::uint32_t>(i);
        h.src = 0x123456u + static_cast<std::uint32_t>(i);
        h.full_message = (i & 4) != 0;
        h.blocks_to_follow = static_cast<std::uint8_t>((i * 5) % 128);
        h.reserved9 = static_cast<std::uint8_t>(i % 16);
        h.fsn = static_cast<std::uint8_t>((i * 3) % 16);
        const auto block = buildDataHeaderBlock(h);
        auto back = parseDataHeader(block);
        ASSERT_TRUE(back.ok()) << i;
        EXPECT_EQ(*back, h) << i;
        EXPECT_EQ(buildDataHeaderBlock(*back), block) << i;
    }
}

TEST(DmrData, HeaderFieldPositions) {
    DataHeader h;
    h.group = true;
    h.dpf = kDpfUnconfirmed;
    h.sap = kSapIp;
    h.pad_octets = 0x13;  // MSB in byte 0 bit 4
    h.dst = 0x000091;
    h.src = 0x0007D1;
    h.blocks_to_follow = 3;
    h.fsn = 8;
    const auto b = buildDataHeaderBlock(h);
    EXPECT_EQ(b[0], 0x80 | 0x10 | 0x02);
    EXPECT_EQ(b[1], 0x43);
    EXPECT_EQ(b[4], 0x91);
    EXPECT_EQ(b[7], 0xD1);
    EXPECT_EQ(b[8], 0x83);
    EXPECT_EQ(b[9], 0x08);
    // CRC-CCITT with the data header mask, not the PI header one.
    EXPECT_TRUE(checkCrcBlock(b, kCrcMaskDataHeader));
    EXPECT_FALSE(checkCrcBlock(b, kCrcMaskPiHeader));
}

TEST(DmrData, HeaderWithAnyFlippedBitIsRefused) {
    DataHeader h;
    h.dst = 91;
    h.src = 2001;
    h.blocks_to_follow = 2;
    const auto good = buildDataHeaderBlock(h);
    for (std::size_t bit = 0; bit < 96; ++bit) {
        auto bad = good;
        bad[bit / 8] = static_cast<std::uint8_t>(bad[bit / 8] ^ (0x80 >> (bit % 8)));
        auto r = parseDataHeader(bad);
        ASSERT_FALSE(r.ok()) << bit;
        EXPECT_EQ(r.error().reason, "bad_header_crc");
    }
}

TEST(DmrData, BlockCountAndPadAtTheEdges) {
    struct Case {
        std::size_t len, blocks, pad;
    };
    for (const Case c : {Case{0, 1, 8}, Case{1, 1, 7}, Case{8, 1, 0}, Case{9, 2, 11},
                         Case{20, 2, 0}, Case{21, 3, 11}, Case{kMaxDataPayload, 127, 0}}) {
        auto pdu = buildDataPdu(false, kSapShortData, 1, 2, pattern(c.len));
        ASSERT_TRUE(pdu.ok()) << c.len;
        EXPECT_EQ(pdu->blocks.size(), c.blocks) << c.len;
        EXPECT_EQ(pdu->header.blocks_to_follow, c.blocks) << c.len;
        EXPECT_EQ(pdu->header.pad_octets, c.pad) << c.len;
        EXPECT_EQ(dataBlocksFor(c.len), c.blocks);
    }
    auto big = buildDataPdu(false, kSapShortData, 1, 2, pattern(kMaxDataPayload + 1));
    ASSERT_FALSE(big.ok());
    EXPECT_EQ(big.error().reason, "oversize");
}

TEST(DmrData, BuildThenExtractIsIdentityForEverySize) {
    for (std::size_t len = 0; len <= 300; ++len) {
        const Bytes payload = pattern(len, static_cast<std::uint8_t>(len));
        auto pdu = buildDataPdu((len & 1) != 0, kSapIp, 2001, 91, payload);
        ASSERT_TRUE(pdu.ok());
        auto back = extractDataPayload(pdu->header, pdu->blocks);
        ASSERT_TRUE(back.ok()) << len << " " << back.error().toString();
        EXPECT_EQ(*back, payload) << len;
    }
    const Bytes max = pattern(kMaxDataPayload);
    auto pdu = buildDataPdu(false, kSapIp, 2001, 91, max);
    ASSERT_TRUE(pdu.ok());
    auto back = extractDataPayload(pdu->header, pdu->blocks);
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, max);
}

TEST(DmrData, AnyCorruptedDataOrCrcOctetIsRefused) {
    const Bytes payload = pattern(30);
    auto pdu = buildDataPdu(false, kSapShortData, 2001, 3002, payload);
    ASSERT_TRUE(pdu.ok());
    ASSERT_EQ(pdu->blocks.size(), 3u);
    for (std::size_t i = 0; i < 36; ++i) {
        auto blocks = pdu->blocks;
        blocks[i / 12][i % 12] ^= 0x01;
        auto r = extractDataPayload(pdu->header, blocks);
        ASSERT_FALSE(r.ok()) << i;
        EXPECT_EQ(r.error().reason, "bad_crc") << i;
    }
    auto fewer = pdu->blocks;
    fewer.pop_back();
    auto r = extractDataPayload(pdu->header, fewer);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().reason, "missing_blocks");
    auto h = pdu->header;
    h.pad_octets = 31;
    h.blocks_to_follow = 1;
    auto one = std::vector<Block12>{pdu->blocks[0]};
    auto p = extractDataPayload(h, one);
    ASSERT_FALSE(p.ok());
    EXPECT_EQ(p.error().reason, "bad_pad");
}

TEST(DmrData, SenderPacketsHaveOneStreamAndRunningSequence) {
    auto m = unitMessage(pattern(25));
    const auto pkts = packetsFor(m);
    ASSERT_EQ(pkts.size(), 1u + 3u);
    EXPECT_EQ(pkts[0].dtype_vseq, static_cast<std::uint8_t>(DataType::DataHeader));
    for (std::size_t i = 0; i < pkts.size(); ++i) {
        const auto& p = pkts[i];
        EXPECT_EQ(p.stream_id, pkts[0].stream_id);
        EXPECT_NE(p.stream_id, 0u);
        EXPECT_EQ(p.seq, i);
        EXPECT_EQ(p.slot, 2);
        EXPECT_EQ(p.peer_id, 310001u);
        EXPECT_EQ(p.src, 2001u);
        EXPECT_EQ(p.dst, 3002u);
        EXPECT_TRUE(p.unit_call);
        EXPECT_EQ(p.frame_type, FrameType::DataSync);
        if (i > 0) {
            EXPECT_EQ(p.dtype_vseq, static_cast<std::uint8_t>(DataType::Rate12Data));
        }
        auto d = decodeDataBurst(p.burst);
        ASSERT_TRUE(d.ok());
        EXPECT_EQ(d->slot_type.color_code, 7);
        EXPECT_EQ(d->slot_type.data_type, p.dtype_vseq);
        EXPECT_EQ(d->sync, SyncPattern::BsData);
    }
    // A second message gets a fresh stream ID.
    DataSender tx(DataSenderConfig{1, 1, 1}, DataConfig{}, 5);
    auto a = tx.onEvent(m);
    auto b = tx.onEvent(m);
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_NE(a->front().stream_id, b->front().stream_id);
}

TEST(DmrData, ReceiverReportsDataMessageWithExactBytesForManySizes) {
    for (std::size_t len : {0u, 1u, 7u, 8u, 9u, 12u, 20u, 21u, 100u, 500u, 1500u}) {
        DataReceiver rx(DataConfig{});
        DataMessage m;
        m.from = DmrUnit{2001};
        m.to = DmrGroup{91};
        m.payload = pattern(len, 3);
        auto r = receive(rx, packetsFor(m));
        EXPECT_TRUE(r.drops.empty()) << len;
        ASSERT_EQ(r.events.size(), 1u) << len;
        const auto* got = std::get_if<DataMessage>(&r.events[0]);
        ASSERT_NE(got, nullptr);
        EXPECT_EQ(got->from, Address(DmrUnit{2001}));
        EXPECT_EQ(got->to, Address(DmrGroup{91}));
        EXPECT_EQ(got->payload, m.payload) << len;
        EXPECT_EQ(rx.pending(), 0u);
    }
}

TEST(DmrData, KmmSapBecomesSecurityMessageAndOtherSapsStayData) {
    DataConfig cfg;
    cfg.kmm = KmmService{9};
    SecurityMessage k;
    k.from = DmrUnit{16000001};
    k.to = DmrUnit{2001};
    k.payload = pattern(57, 9);
    DataReceiver rx(cfg);
    auto r = receive(rx, packetsFor(k, cfg));
    EXPECT_TRUE(r.drops.empty());
    ASSERT_EQ(r.events.size(), 1u);
    const auto* s = std::get_if<SecurityMessage>(&r.events[0]);
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->from, k.from);
    EXPECT_EQ(s->to, k.to);
    EXPECT_EQ(s->payload, k.payload);

    // The header says SAP 9.
    auto pkts = packetsFor(k, cfg);
    auto hb = decodeDataBurst(pkts[0].burst);
    ASSERT_TRUE(hb.ok());
    EXPECT_EQ(parseDataHeader(hb->info)->sap, 9);

    // A DataMessage on the same link uses the data SAP and stays a DataMessage.
    auto r2 = receive(rx, packetsFor(unitMessage(pattern(5)), cfg));
    ASSERT_EQ(r2.events.size(), 1u);
    EXPECT_NE(std::get_if<DataMessage>(&r2.events[0]), nullptr);

    // Without a kmm service, SAP 9 is proprietary packet data: a DataMessage.
    DataReceiver plain(DataConfig{});
    auto r3 = receive(plain, packetsFor(k, cfg));
    ASSERT_EQ(r3.events.size(), 1u);
    EXPECT_NE(std::get_if<DataMessage>(&r3.events[0]), nullptr);
    // And a sender without one refuses a SecurityMessage.
    DataSender tx(DataSenderConfig{}, DataConfig{}, 1);
    auto refused = tx.onEvent(k);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().reason, "no_kmm_service");
}

TEST(DmrData, LostBlockDropsTheMessage) {
    auto pkts = packetsFor(unitMessage(pattern(40)));  // header + 4 blocks
    ASSERT_EQ(pkts.size(), 5u);
    pkts.erase(pkts.begin() + 2);
    DataReceiver rx(DataConfig{});
    auto r = receive(rx, pkts);
    EXPECT_TRUE(r.events.empty());
    ASSERT_FALSE(r.drops.empty());
    EXPECT_EQ(r.drops[0], "missing_blocks");
    EXPECT_EQ(rx.pending(), 0u);
}

TEST(DmrData, LostLastBlockTimesOut) {
    auto pkts = packetsFor(unitMessage(pattern(40)));
    pkts.pop_back();
    DataConfig cfg;
    cfg.timeout = std::chrono::milliseconds(500);
    DataReceiver rx(cfg);
    auto r = receive(rx, pkts, 0);
    EXPECT_TRUE(r.events.empty());
    EXPECT_TRUE(r.drops.empty());
    EXPECT_EQ(rx.pending(), 1u);
    std::vector<std::string_view> drops;
    rx.expire(400'000'000, drops);
    EXPECT_TRUE(drops.empty());
    rx.expire(2'000'000'000, drops);
    ASSERT_EQ(drops.size(), 1u);
    EXPECT_EQ(drops[0], "timeout");
    EXPECT_EQ(rx.pending(), 0u);
}

TEST(DmrData, CorruptedBlockFailsTheMessageCrc) {
    auto pkts = packetsFor(unitMessage(pattern(30)));
    // Re-encode block 2 with one payload octet changed (valid FEC, wrong content).
    auto d = decodeDataBurst(pkts[2].burst);
    ASSERT_TRUE(d.ok());
    Block12 blk = d->info;
    blk[3] ^= 0x40;
    pkts[2].burst = buildDataBurst(blk, static_cast<std::uint8_t>(DataType::Rate12Data), 7);
    DataReceiver rx(DataConfig{});
    auto r = receive(rx, pkts);
    EXPECT_TRUE(r.events.empty());
    ASSERT_EQ(r.drops.size(), 1u);
    EXPECT_EQ(r.drops[0], "bad_crc");
}

TEST(DmrData, SingleBitErrorsOnTheAirAreCorrected) {
    const Bytes payload = pattern(33);
    auto pkts = packetsFor(unitMessage(payload));
    for (auto& p : pkts) {
        p.burst[5] ^= 0x10;  // one bit inside the BPTC info field
    }
    DataReceiver rx(DataConfig{});
    auto r = receive(rx, pkts);
    EXPECT_TRUE(r.drops.empty());
    ASSERT_EQ(r.events.size(), 1u);
    EXPECT_EQ(std::get<DataMessage>(r.events[0]).payload, payload);
}

TEST(DmrData, RefusalsAreCountedByReason) {
    DataReceiver rx(DataConfig{});
    auto base = packetsFor(unitMessage(pattern(10)));
    std::vector<Event> ev;
    std::vector<std::string_view> drops;

    // A block with no header.
    rx.onPacket(base[1], 1, ev, drops);
    // Rate 3/4 and rate 1 blocks.
    auto r34 = base[1];
    r34.dtype_vseq = static_cast<std::uint8_t>(DataType::Rate34Data);
    rx.onPacket(r34, 2, ev, drops);
    auto r1 = base[1];
    r1.dtype_vseq = static_cast<std::uint8_t>(DataType::Rate1Data);
    rx.onPacket(r1, 3, ev, drops);

    auto headerPacket = [&](DataHeader h) {
        auto p = base[0];
        p.burst = buildDataBurst(buildDataHeaderBlock(h),
                                 static_cast<std::uint8_t>(DataType::DataHeader), 1);
        return p;
    };
    DataHeader h;
    h.src = 1;
    h.dst = 2;
    h.blocks_to_follow = 1;
    h.sap = kSapIp;
    auto confirmed = h;
    confirmed.dpf = kDpfConfirmed;
    rx.onPacket(headerPacket(confirmed), 4, ev, drops);
    auto sdata = h;
    sdata.dpf = kDpfDefinedShort;
    rx.onPacket(headerPacket(sdata), 5, ev, drops);
    auto arp = h;
    arp.sap = kSapArp;
    rx.onPacket(headerPacket(arp), 6, ev, drops);
    auto zero = h;
    zero.blocks_to_follow = 0;
    rx.onPacket(headerPacket(zero), 7, ev, drops);
    auto pad = h;
    pad.pad_octets = 9;
    rx.onPacket(headerPacket(pad), 8, ev, drops);
    // Damaged beyond correction.
    auto broken = base[0];
    for (std::size_t i = 0; i < 12; ++i) {
        broken.burst[i] ^= 0xFF;
    }
    rx.onPacket(broken, 9, ev, drops);
    // Slot type says one data type, DMRD another.
    auto mismatch = base[1];
    mismatch.dtype_vseq = static_cast<std::uint8_t>(DataType::DataHeader);
    rx.onPacket(mismatch, 10, ev, drops);

    EXPECT_TRUE(ev.empty());
    ASSERT_EQ(drops.size(), 10u);
    EXPECT_EQ(drops[0], "unexpected_block");
    EXPECT_EQ(drops[1], "unsupported_rate");
    EXPECT_EQ(drops[2], "unsupported_rate");
    EXPECT_EQ(drops[3], "unsupported_confirmed");
    EXPECT_EQ(drops[4], "unsupported_format");
    EXPECT_EQ(drops[5], "unsupported_sap");
    EXPECT_EQ(drops[6], "bad_blocks_to_follow");
    EXPECT_EQ(drops[7], "bad_pad");
    EXPECT_NE(drops[8], "");
    EXPECT_EQ(drops[9], "data_type_mismatch");
    EXPECT_EQ(rx.pending(), 0u);
}

TEST(DmrData, OversizeIsRefusedAtTheHeader) {
    DataConfig small;
    small.max_bytes = 16;
    DataReceiver rx(small);
    auto r = receive(rx, packetsFor(unitMessage(pattern(17))));
    EXPECT_TRUE(r.events.empty());
    ASSERT_FALSE(r.drops.empty());
    EXPECT_EQ(r.drops[0], "oversize");
    EXPECT_EQ(rx.pending(), 0u);
    auto ok = receive(rx, packetsFor(unitMessage(pattern(16))));
    EXPECT_EQ(ok.events.size(), 1u);

    DataSender tx(DataSenderConfig{}, small, 1);
    auto refused = tx.onEvent(unitMessage(pattern(17)));
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().reason, "oversize");
}

TEST(DmrData, PendingTableIsBounded) {
    DataConfig cfg;
    cfg.max_pending = 2;
    DataReceiver rx(cfg);
    std::vector<Event> ev;
    std::vector<std::string_view> drops;
    for (std::uint32_t i = 0; i < 3; ++i) {
        auto pkts = packetsFor(unitMessage(pattern(30)));
        pkts[0].stream_id = 100 + i;
        rx.onPacket(pkts[0], 1, ev, drops);
    }
    EXPECT_EQ(rx.pending(), 2u);
    ASSERT_EQ(drops.size(), 1u);
    EXPECT_EQ(drops[0], "too_many_pending");
    rx.clear(std::nullopt);
    EXPECT_EQ(rx.pending(), 0u);
}

TEST(DmrData, InterleavedStreamsOnBothSlotsReassembleSeparately) {
    DataMessage a = unitMessage(pattern(40, 1));
    DataMessage b = unitMessage(pattern(50, 2));
    auto pa = packetsFor(a);
    auto pb = packetsFor(b);
    for (auto& p : pb) {
        p.slot = 1;
        p.stream_id = pa[0].stream_id + 1;
    }
    std::vector<DmrdPacket> mixed;
    for (std::size_t i = 0; i < std::max(pa.size(), pb.size()); ++i) {
        if (i < pa.size()) {
            mixed.push_back(pa[i]);
        }
        if (i < pb.size()) {
            mixed.push_back(pb[i]);
        }
    }
    DataReceiver rx(DataConfig{});
    auto r = receive(rx, mixed);
    EXPECT_TRUE(r.drops.empty());
    ASSERT_EQ(r.events.size(), 2u);
    EXPECT_EQ(std::get<DataMessage>(r.events[0]).payload, a.payload);
    EXPECT_EQ(std::get<DataMessage>(r.events[1]).payload, b.payload);
}

TEST(DmrData, SenderRefusesNonDmrAddresses) {
    DataSender tx(DataSenderConfig{}, DataConfig{}, 1);
    DataMessage m;
    m.from = DmrGroup{1};
    m.to = DmrUnit{2};
    auto r = tx.onEvent(m);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().reason, "unsupported_address");
    m.from = DmrUnit{1};
    m.to = P25Unit{};
    r = tx.onEvent(m);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().reason, "unsupported_address");
    auto other = tx.onEvent(Event{CallEnd{}});
    ASSERT_FALSE(other.ok());
    EXPECT_EQ(other.error().reason, "unsupported_event");
}

}  // namespace
}  // namespace iwf::lmr::dmr

namespace iwf::lmr::dmr {
namespace {

TEST(DmrData, SameStreamIdAgainCarriesTheNextMessage) {
    for (std::size_t len : {20u, 140u, 1520u}) {
        const auto pkts = packetsFor(unitMessage(pattern(len)));
        DataReceiver rx(DataConfig{});
        for (int round = 0; round < 3; ++round) {
            std::vector<Event> ev;
            std::vector<std::string_view> drops;
            for (const auto& p : pkts) {
                rx.onPacket(p, 1, ev, drops);
            }
            ASSERT_TRUE(drops.empty()) << len << " round " << round << " " << drops[0];
            ASSERT_EQ(ev.size(), 1u) << len << " round " << round;
        }
    }
}

}  // namespace
}  // namespace iwf::lmr::dmr
