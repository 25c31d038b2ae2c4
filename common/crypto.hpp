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

// The ALGID that means "clear" in a family's crypto sync: P25 0x80 (lmr.md §1.2); DMR and
// TETRA carry no ALGID for a clear stream, 0 here (lmr.md §2.3, §3.2).
constexpr std::uint16_t clearAlgid(LmrFamily f) {
    return f == LmrFamily::P25 ? kP25AlgidClear : 0;
}

// The one shape of E2EE metadata, from the decoder that reads it off the wire to the engine
// that checks it against a group's policy to the encoder that writes it on the other side
// (docs/architecture.md "What crosses between adapters and the engine"). A group's configured
// security is a CryptoSync too (gateway/engine/directory.hpp GroupInfo::crypto: no MI), so the
// policy compares like with like. Construct with clear() / encryptedWith() / lateEntry() where
// possible: they keep `encrypted` and `algid` consistent.
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
        c.algid = clearAlgid(f);
        return c;
    }
    // An encrypted stream (or a group's configured security: `mi` empty).
    static CryptoSync encryptedWith(LmrFamily f, std::uint16_t algid, std::uint32_t key_id,
                                    ByteView mi = {}) {
        CryptoSync c;
        c.family = f;
        c.encrypted = true;
        c.algid = algid;
        c.key_id = key_id;
        if (!mi.empty()) {
            c.mi.assign(mi);
        }
        return c;
    }
    // A stream known to be encrypted whose ALGID, key ID and MI are not known yet (late
    // entry: a P25 stream before its first complete LDU2, DMR privacy without a PI header, an
    // ISSI c-protected call before its stream). Nothing is invented: all three stay empty.
    static CryptoSync lateEntry(LmrFamily f) {
        CryptoSync c;
        c.family = f;
        c.encrypted = true;
        return c;
    }
    // False only for a lateEntry() stream: encrypted, and neither ALGID, key ID nor MI known.
    bool parametersKnown() const { return !encrypted || algid != 0 || key_id != 0 || !mi.empty(); }
    // Same E2EE state (clear, or encrypted with the same family, ALGID and key ID). The MI
    // (new every superframe) and the vendor qualifier are not compared.
    bool sameParameters(const CryptoSync& o) const {
        return encrypted == o.encrypted &&
               (!encrypted || (family == o.family && algid == o.algid && key_id == o.key_id));
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
