#pragma once
// The "3GPP key parameters" General Extension payload of a MIKEY-SAKKE I_MESSAGE (TS 33.180
// E.6, General Extension type 7): the parameters a key travels with — key type, status,
// activation and expiry time, a name, the groups it serves — inside a protected payload
// encrypted with the distributed key itself (E.6.1: "The key encapsulated by the MIKEY payload
// (e.g. GMK ...) shall be used to protect the Protected Payload"; DPPK-ID = the CSB ID).
//
// Key Parameters content (E.6.1 Table E.6.1-1, MONP coding of TS 24.379 Annex I):
//   Key Type        V     1   (E.6.11: 0 GMK, 1 PCK, 2 CSK, 3 SPK, 4 MKFC, 5 MSCCK, 6 MuSiK)
//   Status          V     4   (E.6.9: bit 0 "not revoked", bit 1 "shared with a gateway")
//   Activation Time V     5   (E.6.4)
//   Expiry Time     V     5   (E.6.10)
//   Text            LV-E  2+n (E.6.5)
//   Group IDs       (rest, kept as octets)
// Times are 40-bit counts of seconds since 1900-01-01 (the NTP era-0 seconds, as TS 24.282
// codes "Date and time"); 0 means "not set".
//
// Protected payload envelope (33.180 §8.5.4; the clause text was not available to us, the
// layout is the one a real MC implementation sends and decrypts — Streamwide sw_mikey_sakke,
// libmikey/mikey/MikeyMcDataProtected.cc, MikeyMcDataProtected() — and the one its published
// GMK I_MESSAGE carries: tests/unit/mc_security/streamwide_interop_test.cpp opens it):
//   message type 1 | date/time 5 | payload ID 4 | sequence 1 | algorithm 1 | IV 16 |
//   DPPK-ID 4 | payload type 1 | payload length 2 | AES-128-GCM(ciphertext || 16-octet tag)
// with the key DPCK = KDF(DPPK, FC 0x53, DPPK-ID) (33.180 F.1.5), the 16-octet IV as GCM
// nonce and associated data = the first 12 octets || IV || DPPK-ID.

#include <cstdint>
#include <optional>
#include <string>

#include "common/bytes.hpp"
#include "common/result.hpp"

namespace iwf::mc::security {

struct KeyParameters {
    std::uint8_t key_type = 0;
    std::uint32_t status = 1;           // bit 0: not revoked
    std::uint64_t activation_time = 0;  // seconds since 1900, 0 = immediately
    std::uint64_t expiry_time = 0;      // seconds since 1900, 0 = no expiry
    std::string text;
    Bytes group_ids;
    bool operator==(const KeyParameters&) const = default;

    bool revoked() const { return (status & 1u) == 0; }
};

Result<KeyParameters> decodeKeyParameters(ByteView content);
Bytes encodeKeyParameters(const KeyParameters& p);

// Opens the protected payload with the distributed key (dppk) and checks its DPPK-ID.
// "keyparams_bad_format", "keyparams_wrong_key_id", "keyparams_auth_fail".
Result<KeyParameters> openKeyParameters(ByteView ext_data, ByteView dppk, std::uint32_t dppk_id);
// Builds the protected payload; `iv` (16 octets) is random in production, fixed in tests.
Result<Bytes> sealKeyParameters(const KeyParameters& p, ByteView dppk, std::uint32_t dppk_id,
                                ByteView iv);

}  // namespace iwf::mc::security
