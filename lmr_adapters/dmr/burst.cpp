#include "lmr_adapters/dmr/burst.hpp"

#include <algorithm>
#include <bit>

namespace iwf::lmr::dmr {

namespace {

constexpr std::size_t kSyncStart = 108;
constexpr std::size_t kSlotTypeA = 98;   // first 10 bits
constexpr std::size_t kSlotTypeB = 156;  // last 10 bits
constexpr std::size_t kEmbA = 108;
constexpr std::size_t kEmbedded = 116;
constexpr std::size_t kEmbB = 148;
constexpr std::uint8_t kRsMaskHeader = 0x96;
constexpr std::uint8_t kRsMaskTerminator = 0x99;

struct SyncDef {
    SyncPattern p;
    std::uint64_t bits;
    std::string_view name;
};
constexpr SyncDef kSyncs[] = {
    {SyncPattern::BsVoice, 0x755FD7DF75F7, "bs_voice"},
    {SyncPattern::BsData, 0xDFF57D75DF5D, "bs_data"},
    {SyncPattern::MsVoice, 0x7F7D5DD57DFD, "ms_voice"},
    {SyncPattern::MsData, 0xD5D7F77FD757, "ms_data"},
    {SyncPattern::MsRc, 0x77D55F7DFD77, "ms_rc"},
    {SyncPattern::Ts1Voice, 0x5D577F7757FF, "ts1_voice"},
    {SyncPattern::Ts1Data, 0xF7FDD5DDFD55, "ts1_data"},
    {SyncPattern::Ts2Voice, 0x7DFFD5F55D5F, "ts2_voice"},
    {SyncPattern::Ts2Data, 0xD7557F5FF7F5, "ts2_data"},
};

std::uint64_t readBits(const Burst& b, std::size_t start, std::size_t n) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i) {
        v = (v << 1) | (getBit(b, start + i) ? 1u : 0u);
    }
    return v;
}
void writeBits(Burst& b, std::size_t start, std::size_t n, std::uint64_t v) {
    for (std::size_t i = 0; i < n; ++i) {
        setBit(b, start + i, ((v >> (n - 1 - i)) & 1) != 0);
    }
}

}  // namespace

std::string_view toString(SyncPattern s) {
    for (const auto& d : kSyncs) {
        if (d.p == s) {
            return d.name;
        }
    }
    return "none";
}
std::uint64_t syncPatternBits(SyncPattern s) {
    for (const auto& d : kSyncs) {
        if (d.p == s) {
            return d.bits;
        }
    }
    return 0;
}
bool isVoiceSync(SyncPattern s) {
    return s == SyncPattern::BsVoice || s == SyncPattern::MsVoice || s == SyncPattern::Ts1Voice ||
           s == SyncPattern::Ts2Voice;
}
bool isDataSync(SyncPattern s) {
    return s == SyncPattern::BsData || s == SyncPattern::MsData || s == SyncPattern::Ts1Data ||
           s == SyncPattern::Ts2Data;
}
std::uint64_t syncField(const Burst& b) {
    return readBits(b, kSyncStart, 48);
}
SyncPattern identifySync(std::uint64_t field48, unsigned max_errors) {
    SyncPattern best = SyncPattern::None;
    unsigned best_d = max_errors + 1;
    for (const auto& d : kSyncs) {
        const auto dist = static_cast<unsigned>(std::popcount(d.bits ^ field48));
        if (dist < best_d) {
            best_d = dist;
            best = d.p;
        }
    }
    return best;
}
void setSync(Burst& b, SyncPattern s) {
    writeBits(b, kSyncStart, 48, syncPatternBits(s));
}

std::string_view toString(DataType t) {
    switch (t) {
        case DataType::PiHeader:
            return "pi_header";
        case DataType::VoiceLcHeader:
            return "voice_lc_header";
        case DataType::TerminatorWithLc:
            return "terminator_with_lc";
        case DataType::Csbk:
            return "csbk";
        case DataType::MbcHeader:
            return "mbc_header";
        case DataType::MbcContinuation:
            return "mbc_continuation";
        case DataType::DataHeader:
            return "data_header";
        case DataType::Rate12Data:
            return "rate_1_2_data";
        case DataType::Rate34Data:
            return "rate_3_4_data";
        case DataType::Idle:
            return "idle";
        case DataType::Rate1Data:
            return "rate_1_data";
        case DataType::UnifiedSingleBlock:
            return "unified_single_block";
    }
    return "reserved";
}
bool usesBptc(std::uint8_t t) {
    return t <= 7 || t == 9;
}

Result<SlotType> decodeSlotType(const Burst& b) {
    const auto cw = static_cast<std::uint32_t>((readBits(b, kSlotTypeA, 10) << 10) |
                                               readBits(b, kSlotTypeB, 10));
    auto r = golay2087Decode(cw);
    if (!r) {
        return r.error();
    }
    SlotType st;
    st.color_code = static_cast<std::uint8_t>(r->data >> 4);
    st.data_type = static_cast<std::uint8_t>(r->data & 0x0F);
    st.corrected = r->corrected;
    return st;
}
void encodeSlotType(Burst& b, std::uint8_t color_code, std::uint8_t data_type) {
    const std::uint32_t cw =
        golay2087Encode(static_cast<std::uint8_t>(((color_code & 0x0F) << 4) | (data_type & 0x0F)));
    writeBits(b, kSlotTypeA, 10, cw >> 10);
    writeBits(b, kSlotTypeB, 10, cw & 0x3FF);
}

Result<Emb> decodeEmb(const Burst& b) {
    const auto cw =
        static_cast<std::uint16_t>((readBits(b, kEmbA, 8) << 8) | readBits(b, kEmbB, 8));
    auto r = qr1676Decode(cw);
    if (!r) {
        return r.error();
    }
    Emb e;
    e.color_code = static_cast<std::uint8_t>((r->data >> 3) & 0x0F);
    e.pi = ((r->data >> 2) & 1) != 0;
    e.lcss = static_cast<std::uint8_t>(r->data & 3);
    e.corrected = r->corrected;
    return e;
}
void encodeEmb(Burst& b, const Emb& e) {
    const std::uint16_t cw = qr1676Encode(
        static_cast<std::uint8_t>(((e.color_code & 0x0F) << 3) | (e.pi ? 4 : 0) | (e.lcss & 3)));
    writeBits(b, kEmbA, 8, cw >> 8);
    writeBits(b, kEmbB, 8, cw & 0xFF);
}
std::array<std::uint8_t, 4> embeddedFragment(const Burst& b) {
    const auto v = static_cast<std::uint32_t>(readBits(b, kEmbedded, 32));
    return {static_cast<std::uint8_t>(v >> 24), static_cast<std::uint8_t>(v >> 16),
            static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)};
}
void setEmbeddedFragment(Burst& b, const std::array<std::uint8_t, 4>& f) {
    const std::uint32_t v = (std::uint32_t{f[0]} << 24) | (std::uint32_t{f[1]} << 16) |
                            (std::uint32_t{f[2]} << 8) | f[3];
    writeBits(b, kEmbedded, 32, v);
}

Bits196 extractInfo(const Burst& b) {
    Bits196 bits{};
    for (std::size_t i = 0; i < 98; ++i) {
        bits[i] = getBit(b, i) ? 1 : 0;
        bits[98 + i] = getBit(b, 166 + i) ? 1 : 0;
    }
    return bits;
}
void insertInfo(Burst& b, const Bits196& bits) {
    for (std::size_t i = 0; i < 98; ++i) {
        setBit(b, i, bits[i] != 0);
        setBit(b, 166 + i, bits[98 + i] != 0);
    }
}

VoiceParts splitVoiceBurst(const Burst& b) {
    VoiceParts p;
    for (std::size_t i = 0; i < 108; ++i) {
        setBit(p.ambe, i, getBit(b, i));
        setBit(p.ambe, 108 + i, getBit(b, 156 + i));
    }
    for (std::size_t i = 0; i < 48; ++i) {
        setBit(p.middle, i, getBit(b, 108 + i));
    }
    return p;
}
Burst joinVoiceBurst(ByteView ambe27, ByteView middle6) {
    Burst b{};
    for (std::size_t i = 0; i < 108; ++i) {
        setBit(b, i, getBit(ambe27, i));
        setBit(b, 156 + i, getBit(ambe27, 108 + i));
    }
    for (std::size_t i = 0; i < 48; ++i) {
        setBit(b, 108 + i, getBit(middle6, i));
    }
    return b;
}

FullLc parseFullLc(ByteView lc9) {
    FullLc lc;
    lc.protect = (lc9[0] & 0x80) != 0;
    lc.flco = lc9[0] & 0x3F;
    lc.fid = lc9[1];
    lc.service_options = lc9[2];
    lc.dst = (std::uint32_t{lc9[3]} << 16) | (std::uint32_t{lc9[4]} << 8) | lc9[5];
    lc.src = (std::uint32_t{lc9[6]} << 16) | (std::uint32_t{lc9[7]} << 8) | lc9[8];
    return lc;
}
std::array<std::uint8_t, 9> serializeFullLc(const FullLc& lc) {
    return {static_cast<std::uint8_t>((lc.protect ? 0x80 : 0) | (lc.flco & 0x3F)),
            lc.fid,
            lc.service_options,
            static_cast<std::uint8_t>(lc.dst >> 16),
            static_cast<std::uint8_t>(lc.dst >> 8),
            static_cast<std::uint8_t>(lc.dst),
            static_cast<std::uint8_t>(lc.src >> 16),
            static_cast<std::uint8_t>(lc.src >> 8),
            static_cast<std::uint8_t>(lc.src)};
}

PiHeader parsePiHeader(ByteView block12) {
    PiHeader pi;
    pi.group = (block12[0] & 0x20) != 0;
    pi.algid = block12[0] & 0x07;
    pi.reserved0 = block12[0] & 0xD8;
    pi.fid = block12[1];
    pi.key_id = block12[2];
    for (std::size_t i = 0; i < 4; ++i) {
        pi.iv[i] = block12[3 + i];
    }
    pi.dst = (std::uint32_t{block12[7]} << 16) | (std::uint32_t{block12[8]} << 8) | block12[9];
    return pi;
}
std::array<std::uint8_t, 12> buildPiHeaderBlock(const PiHeader& pi) {
    std::array<std::uint8_t, 12> b{};
    b[0] = static_cast<std::uint8_t>((pi.reserved0 & 0xD8) | (pi.group ? 0x20 : 0) |
                                     (pi.algid & 0x07));
    b[1] = pi.fid;
    b[2] = pi.key_id;
    for (std::size_t i = 0; i < 4; ++i) {
        b[3 + i] = pi.iv[i];
    }
    b[7] = static_cast<std::uint8_t>(pi.dst >> 16);
    b[8] = static_cast<std::uint8_t>(pi.dst >> 8);
    b[9] = static_cast<std::uint8_t>(pi.dst);
    setCrcBlock(b, kCrcMaskPiHeader);
    return b;
}

Result<DataBurst> decodeDataBurst(const Burst& b) {
    auto st = decodeSlotType(b);
    if (!st) {
        return st.error();
    }
    DataBurst d;
    d.slot_type = *st;
    d.sync = identifySync(syncField(b));
    d.corrected = st->corrected;
    if (!usesBptc(st->data_type)) {
        return Error{"not_bptc", st->data_type};
    }
    auto info = bptc19696Decode(extractInfo(b));
    if (!info) {
        return info.error();
    }
    d.info = info->info;
    d.corrected += info->corrected;
    return d;
}

Result<PiHeader> decodePiHeader(const DataBurst& d) {
    if (d.slot_type.data_type != static_cast<std::uint8_t>(DataType::PiHeader)) {
        return Error{"not_pi_header", d.slot_type.data_type};
    }
    if (!checkCrcBlock(d.info, kCrcMaskPiHeader)) {
        return Error{"bad_crc", 0};
    }
    return parsePiHeader(d.info);
}

Result<FullLc> decodeFullLc(const DataBurst& d) {
    std::uint8_t mask = 0;
    if (d.slot_type.data_type == static_cast<std::uint8_t>(DataType::VoiceLcHeader)) {
        mask = kRsMaskHeader;
    } else if (d.slot_type.data_type == static_cast<std::uint8_t>(DataType::TerminatorWithLc)) {
        mask = kRsMaskTerminator;
    } else {
        return Error{"not_full_lc", d.slot_type.data_type};
    }
    std::array<std::uint8_t, 12> cw = d.info;
    cw[9] ^= mask;
    cw[10] ^= mask;
    cw[11] ^= mask;
    auto r = rs129Correct(cw);
    if (!r) {
        return r.error();
    }
    return parseFullLc(ByteView(cw).first(9));
}

Burst buildPiHeaderBurst(const PiHeader& pi, std::uint8_t color_code, SyncPattern sync) {
    Burst b{};
    const auto block = buildPiHeaderBlock(pi);
    insertInfo(b, bptc19696Encode(block));
    encodeSlotType(b, color_code, static_cast<std::uint8_t>(DataType::PiHeader));
    setSync(b, sync);
    return b;
}

Burst buildFullLcBurst(const FullLc& lc, DataType type, std::uint8_t color_code, SyncPattern sync) {
    std::array<std::uint8_t, 12> block{};
    const auto bytes = serializeFullLc(lc);
    std::copy(bytes.begin(), bytes.end(), block.begin());
    const auto parity = rs129Parity(bytes);
    const std::uint8_t mask =
        type == DataType::TerminatorWithLc ? kRsMaskTerminator : kRsMaskHeader;
    for (std::size_t i = 0; i < 3; ++i) {
        block[9 + i] = parity[i] ^ mask;
    }
    Burst b{};
    insertInfo(b, bptc19696Encode(block));
    encodeSlotType(b, color_code, static_cast<std::uint8_t>(type));
    setSync(b, sync);
    return b;
}

std::optional<Result<FullLc>> EmbeddedLcAssembler::feed(const Emb& emb,
                                                        const std::array<std::uint8_t, 4>& f) {
    const auto lcss = static_cast<Lcss>(emb.lcss);
    if (lcss == Lcss::First) {
        count_ = 0;
        frags_[count_++] = f;
        return std::nullopt;
    }
    if (lcss == Lcss::Continuation) {
        if (count_ == 0 || count_ >= 3) {
            count_ = 0;  // out of order: wait for the next first fragment
            return std::nullopt;
        }
        frags_[count_++] = f;
        return std::nullopt;
    }
    if (lcss == Lcss::Last) {
        if (count_ != 3) {
            count_ = 0;
            return std::nullopt;
        }
        frags_[3] = f;
        count_ = 0;
        auto r = decodeEmbeddedLc(frags_);
        if (!r) {
            return Result<FullLc>(r.error());
        }
        std::copy_n(r->lc.begin(), last_lc_.size(), last_lc_.begin());
        return Result<FullLc>(parseFullLc(r->lc));
    }
    return std::nullopt;  // single-fragment signalling (RC / null): not an LC
}

}  // namespace iwf::lmr::dmr
