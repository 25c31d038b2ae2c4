#include "lmr_adapters/p25/side_fields.hpp"

#include <algorithm>

#include "lmr_adapters/p25/crypto_tracker.hpp"

namespace iwf::lmr::p25 {

std::uint8_t serviceOptionsFor(const CallSetup& setup, const CryptoSync& crypto) {
    std::uint8_t so = 0x04;  // priority level 4 (normal)
    if (setup.priority == CallPriority::Emergency) {
        so |= kSvcEmergency;
    }
    if (crypto.encrypted) {
        so |= kSvcEncrypted;
    }
    return so;
}

std::array<std::uint8_t, 3> esBytesFor(std::uint8_t index, const CryptoSync& crypto) {
    Mi mi{};
    std::copy_n(crypto.mi.data(), std::min(crypto.mi.size(), kMiBytes), mi.begin());
    const CryptoSync cur = CryptoTracker::essOf(
        static_cast<std::uint8_t>(crypto.encrypted ? crypto.algid : kP25AlgidClear),
        static_cast<std::uint16_t>(crypto.key_id), mi);
    const bool mi_known = crypto.mi.size() == kMiBytes;
    const CryptoSync next = mi_known ? CryptoTracker::nextEss(cur) : cur;
    if (index >= 11 && index <= 13) {
        const std::size_t off = static_cast<std::size_t>(index - 11) * 3;
        return {next.mi.data()[off], next.mi.data()[off + 1], next.mi.data()[off + 2]};
    }
    if (index == 14) {
        return {static_cast<std::uint8_t>(next.algid), static_cast<std::uint8_t>(next.key_id >> 8),
                static_cast<std::uint8_t>(next.key_id)};
    }
    return {0, 0, 0};
}

static std::uint32_t unitOf(const Address& a) {
    if (const auto* u = std::get_if<P25Unit>(&a)) {
        return u->unit & 0xFFFFFF;
    }
    return 0;
}

static std::uint32_t groupOf(const Address& a) {
    if (const auto* g = std::get_if<P25Group>(&a)) {
        return g->tgid;
    }
    if (const auto* u = std::get_if<P25Unit>(&a)) {
        return u->unit & 0xFFFFFF;
    }
    return 0;
}

InlineBytes<kMaxSideBytes> mmdvmRecordSide(std::uint8_t index, const MmdvmLc& lc, const MmdvmEs& es,
                                           std::array<std::uint8_t, 2> lsd) {
    // Bytes before the codeword, then after it (records.hpp). The 17-byte records carry three
    // field bytes and a zero byte before the codeword and the status byte 0x02 after it.
    std::array<std::uint8_t, kMaxSideBytes> s{};
    auto rec17 = [&](std::uint8_t a, std::uint8_t b, std::uint8_t c) { s = {a, b, c, 0x00, 0x02}; };
    auto u24 = [&](std::uint32_t v) {
        rec17(static_cast<std::uint8_t>(v >> 16), static_cast<std::uint8_t>(v >> 8),
              static_cast<std::uint8_t>(v));
    };
    switch (index) {
        case 0:  // 0x62 (REC62)
        case 9:  // 0x6B (REC6B)
            s = {0x02, 0x02, 0x0C, 0x0B, 0x12, 0x64, 0x00, 0x00, 0x80, 0x00};
            break;
        case 1:   // 0x63 (REC63): two bytes after the codeword
        case 10:  // 0x6C (REC6C)
            s = {0x00, 0x02};
            break;
        case 2:  // 0x64: LCF, MFID; service options byte left 0
            rec17(lc.lcf, lc.mfid, 0x00);
            break;
        case 3:  // 0x65: destination
            u24(lc.dst);
            break;
        case 4:  // 0x66: source
            u24(lc.src);
            break;
        case 5:
            rec17(0xF0, 0x9D, 0x6A);  // REC67
            break;
        case 6:
            rec17(0x19, 0xD4, 0x26);  // REC68
            break;
        case 7:
            rec17(0xE0, 0xEB, 0x7B);  // REC69
            break;
        case 8:   // 0x6A: LSD1, LSD2, 0x02 before the codeword; 0x00 after it
        case 17:  // 0x73
            s = {lsd[0], lsd[1], 0x02, 0x00};
            break;
        case 11:
        case 12:
        case 13: {
            const std::size_t off = static_cast<std::size_t>(index - 11) * 3;
            rec17(es.mi[off], es.mi[off + 1], es.mi[off + 2]);
            break;
        }
        case 14:  // 0x70: ALGID, KID
            rec17(es.algid, static_cast<std::uint8_t>(es.kid >> 8),
                  static_cast<std::uint8_t>(es.kid));
            break;
        case 15:
            rec17(0xAC, 0xB8, 0xA4);  // REC71
            break;
        case 16:
            rec17(0x9B, 0xDC, 0x75);  // REC72
            break;
        default:
            break;
    }
    return InlineBytes<kMaxSideBytes>(ByteView(s.data(), sideBytesForIndex(index)));
}

InlineBytes<kMaxSideBytes> recordSideFromSetup(std::uint8_t index, const CallSetup& setup,
                                               const CryptoSync& crypto) {
    MmdvmLc lc;
    lc.lcf = setup.kind == CallKind::Group ? 0x00 : 0x03;  // LCF: group / unit voice
    lc.dst = groupOf(setup.callee);
    lc.src = unitOf(setup.caller.id);
    MmdvmEs es;
    for (std::uint8_t i = 11; i <= 13; ++i) {
        const auto b = esBytesFor(i, crypto);
        std::copy(b.begin(), b.end(), es.mi.begin() + (i - 11) * 3);
    }
    const auto a = esBytesFor(14, crypto);
    es.algid = a[0];
    es.kid = static_cast<std::uint16_t>((a[1] << 8) | a[2]);
    auto side = mmdvmRecordSide(index, lc, es, {0, 0});
    if (index == 2) {
        std::array<std::uint8_t, kMaxSideBytes> s{};
        std::copy(side.view().begin(), side.view().end(), s.begin());
        s[2] = serviceOptionsFor(setup, crypto);
        side.assign(ByteView(s.data(), side.size()));
    }
    return side;
}

}  // namespace iwf::lmr::p25
