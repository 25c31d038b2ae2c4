#pragma once
// The key derivations TS 33.180 needs for MIKEY-SAKKE and media protection:
//
//  - the MIKEY PRF of RFC 3830 §4.1.2 with HMAC-SHA-256 (RFC 6043 §6.1, "PRF-HMAC-SHA-256"),
//    and the SRTP master key / master salt of RFC 3830 §4.1.3 derived from a TGK, which is
//    how 33.180 §7.4.1 (PCK) and §7.4.2 (GMK) turn a distributed key into SRTP keys;
//  - the generic KDF of TS 33.220 Annex B.2 (HMAC-SHA-256(Key, FC || P0 || L0 || ...)), used
//    for the GUK-ID user salt (33.180 F.1.3, FC 0x50) and the DPCK (F.1.5, FC 0x53);
//  - the MIKEY-SAKKE UID of 33.180 F.2.1: SHA-256 over the 33.220 B.1 encoding of
//    "MIKEY-SAKKE-UID", the user URI, the KMS URI, key period, offset and period number.
//
// Key identifiers (33.180 §5.2.2, E.6.11): 32 bits whose 4 most significant bits are a
// purpose tag (GMK 0, PCK 1, CSK 2, SPK 3, MKFC 4, MSCCK 5, MuSiK 6); the other 28 are random.

#include <cstdint>
#include <string_view>

#include "common/bytes.hpp"
#include "common/result.hpp"

namespace iwf::mc::security {

enum class KeyPurpose : std::uint8_t {
    Gmk = 0,
    Pck = 1,
    Csk = 2,
    Spk = 3,
    Mkfc = 4,
    Mscck = 5,
    Musik = 6
};

inline KeyPurpose purposeOf(std::uint32_t key_id) {
    return static_cast<KeyPurpose>(key_id >> 28);
}
inline std::uint32_t withPurpose(KeyPurpose p, std::uint32_t random28) {
    return (static_cast<std::uint32_t>(p) << 28) | (random28 & 0x0fffffffu);
}

// CS-ID values of 33.180 Table E.1.3-1 (the crypto session a derived key belongs to).
enum class CsId : std::uint8_t {
    McpttPrivateInitiator = 0,
    McpttPrivateReceiver = 1,
    McvideoPrivateInitiator = 2,
    McvideoPrivateReceiver = 3,
    McpttGroup = 4,
    McvideoGroup = 5,
    CskSrtcpMcptt = 6,
    MusikSrtcpMcptt = 7,
    CskSrtcpMcvideo = 8,
    MusikSrtcpMcvideo = 9,
};

// RFC 3830 §4.1.2 PRF(inkey, label) with HMAC-SHA-256, `out_len` octets.
Result<Bytes> mikeyPrf(ByteView inkey, ByteView label, std::size_t out_len);

// RFC 3830 §4.1.3 label: constant || cs_id || csb_id || RAND.
Bytes mikeyLabel(std::uint32_t constant, std::uint8_t cs_id, std::uint32_t csb_id, ByteView rand);
inline constexpr std::uint32_t kMikeyConstTek = 0x2AD01C64;   // RFC 3830 §4.1.3, TEK
inline constexpr std::uint32_t kMikeyConstSalt = 0x39A2C14B;  // RFC 3830 §4.1.4, salting key

struct SrtpMasterKey {
    Bytes key;   // SRTP master key (16 octets for AES-128)
    Bytes salt;  // SRTP master salt (12 octets for AEAD-AES-GCM, 14 for AES-CM)
};
// 33.180 §7.4: TGK = GMK / PCK (CSK for SRTCP), CSB ID = GUK-ID / PCK-ID, RAND from the
// I_MESSAGE, CS-ID from Table E.1.3-1.
Result<SrtpMasterKey> deriveSrtpMasterKey(ByteView tgk, CsId cs_id, std::uint32_t csb_id,
                                          ByteView rand, std::size_t key_len, std::size_t salt_len);

// TS 33.220 Annex B.2: HMAC-SHA-256(key, FC || P0 || L0 || P1 || L1 ...).
Result<Bytes> kdf33220(ByteView key, std::uint8_t fc, std::initializer_list<ByteView> params);

// 33.180 F.1.3: the 28-bit user salt of the MC service user ID under the GMK (FC 0x50), and
// the GUK-ID = GMK-ID XOR salt (§5.2.3), which keeps the purpose tag.
Result<std::uint32_t> gukIdSalt(ByteView gmk, std::string_view user_id);
Result<std::uint32_t> gukIdFromGmkId(ByteView gmk, std::string_view user_id, std::uint32_t gmk_id);
Result<std::uint32_t> gmkIdFromGukId(ByteView gmk, std::string_view user_id, std::uint32_t guk_id);

// 33.180 F.1.5: the DPCK (payload cipher key) from a DPPK (e.g. the GMK) and its ID, FC 0x53;
// the 128 least significant bits of the KDF output for a 128-bit DPPK.
Result<Bytes> dpckFromDppk(ByteView dppk, std::uint32_t dppk_id);

// 33.180 F.2.1: the MIKEY-SAKKE UID (32 octets).
Bytes mikeySakkeUid(std::string_view user_uri, std::string_view kms_uri, std::uint64_t key_period,
                    std::uint64_t key_period_offset, std::uint64_t period_no);

// The key period number of an NTP-seconds time (33.180 F.2.1 P5: periods since 1900).
std::uint64_t keyPeriodNo(std::uint64_t ntp_seconds, std::uint64_t key_period,
                          std::uint64_t key_period_offset);

// 33.220 B.2.1.3: a non-negative integer as the fewest big-endian octets (0 -> 0x00).
Bytes encodeNonNegative(std::uint64_t v);

}  // namespace iwf::mc::security
