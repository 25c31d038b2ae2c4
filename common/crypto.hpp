#pragma once
// CryptoSync: the E2EE metadata of a stream, copied bit-exact between sides. The gateway
// reads these fields (for policy and for re-framing on the other side) but never holds a key
// and never touches the encrypted payload.
//
// Field widths per family (shared/research/lmr.md §1.2, §2.3, §3.2):
//   P25:   ALGID 8 bits (0x80 = unencrypted), key ID 16 bits, MI 72 bits (9 bytes)
//   DMR:   ALGID 3 bits (PI header), key ID 8 bits, IV 32 bits (4 bytes)
//   TETRA: ALGID 10 bits, key ID 20 bits, sync frame IV up to 16 bytes

#include <cstdint>
#include <string>

#include "common/bytes.hpp"
#include "common/ids.hpp"

namespace iwf {

inline constexpr std::uint16_t kP25AlgidClear = 0x80;

struct CryptoSync {
    LmrFamily family = LmrFamily::P25;
    bool encrypted = false;    // read from the stream (HDU, header word, LDU2, PI header)
    std::uint16_t algid = 0;   // family-specific width
    std::uint32_t key_id = 0;  // family-specific width
    InlineBytes<16> mi;        // message indicator / IV, exactly as on the wire
    // Vendor qualifier of algid where the family has one (DMR: PI header FID, 0x00 ETSI,
    // 0x10 Motorola, ...); 0 otherwise. Copied bit-exact like the other fields.
    std::uint8_t vendor = 0;

    bool operator==(const CryptoSync&) const = default;

    // A CryptoSync for a clear stream of the given family.
    static CryptoSync clear(LmrFamily f) {
        CryptoSync c;
        c.family = f;
        c.encrypted = false;
        c.algid = (f == LmrFamily::P25) ? kP25AlgidClear : 0;
        return c;
    }
};

// Field widths for validation (keymap, codecs).
struct CryptoWidths {
    unsigned algid_bits;
    unsigned key_id_bits;
    unsigned mi_bytes;
};
CryptoWidths cryptoWidths(LmrFamily f);

// "p25 algid=0x84 kid=0x1234 mi=..." (for logs: the MI is public sync data, not a key).
std::string toString(const CryptoSync& c);

}  // namespace iwf
