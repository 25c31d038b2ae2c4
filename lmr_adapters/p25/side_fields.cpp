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

InlineBytes<kMaxSideBytes> recordSideFromSetup(std::uint8_t index, const CallSetup& setup,
                                               const CryptoSync& crypto) {
    std::array<std::uint8_t, kMaxSideBytes> s{};
    const std::size_t n = sideBytesForIndex(index);
    auto put24 = [&](std::uint32_t v) {
        s[0] = static_cast<std::uint8_t>(v >> 16);
        s[1] = static_cast<std::uint8_t>(v >> 8);
        s[2] = static_cast<std::uint8_t>(v);
    };
    switch (index) {
        case 0:
        case 9: {
            // Start-of-LDU header as MMDVMHost sends it (research digest §1.7).
            const std::uint8_t hdr[9] = {0x02, 0x02, 0x0C, 0x0B, 0x12, 0x64, 0x00, 0x00, 0x80};
            std::copy(std::begin(hdr), std::end(hdr), s.begin());
            break;
        }
        case 2:
            s[0] = setup.kind == CallKind::Group ? 0x00 : 0x03;  // LCF: group / unit voice
            s[1] = 0x00;                                         // MFID standard
            s[2] = serviceOptionsFor(setup, crypto);
            break;
        case 3:
            put24(groupOf(setup.callee));
            break;
        case 4:
            put24(unitOf(setup.caller.id));
            break;
        case 11:
        case 12:
        case 13:
        case 14: {
            auto es = esBytesFor(index, crypto);
            std::copy(es.begin(), es.end(), s.begin());
            break;
        }
        default:
            break;
    }
    return InlineBytes<kMaxSideBytes>(ByteView(s.data(), n));
}

}  // namespace iwf::lmr::p25
