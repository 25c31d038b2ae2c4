#pragma once
// P25 Phase 1 voice encryption with AES-256 in OFB mode (ALGID 0x84), as a radio does it
// (TIA-102.AAAD-B; shared/research/lmr.md §1.2; docs/harness.md "P25 AES-256 OFB"):
//
//   IV (16 bytes)   = MI[0..7] || LFSR^64(MI[0..7])   (the 64-bit MI expanded by the MI LFSR)
//   keystream       = 15 AES-256 blocks in OFB from the IV (240 bytes); the first block
//                     (16 bytes) is discarded, leaving 224 >= 213 bytes for one superframe
//   positions (after the discarded block), one superframe of 18 IMBE frames:
//     0..10    LDU1 link control area (used only when the LC is protected)
//     11..98   LDU1 IMBE frames 1..8   (11 bytes each)
//     99..100  LDU1 low speed data
//     101..111 LDU1 IMBE frame 9
//     112..199 LDU2 IMBE frames 10..17
//     200..201 LDU2 low speed data
//     202..212 LDU2 IMBE frame 18
//   the MI of the next superframe is LFSR^64 of this one (lmr_adapters/p25/mi_lfsr.hpp).
//
// This code belongs to the harness's simulated endpoints only: the gateway never links it.

#include <array>
#include <cstdint>

#include "common/bytes.hpp"
#include "common/result.hpp"
#include "lmr_adapters/p25/mi_lfsr.hpp"

namespace iwf::harness {

inline constexpr std::uint8_t kP25AlgidAes256 = 0x84;
inline constexpr std::size_t kAes256KeyBytes = 32;
inline constexpr std::size_t kP25KeystreamBytes = 240;  // 15 blocks
inline constexpr std::size_t kP25KeystreamDiscard = 16;
inline constexpr std::size_t kP25SuperframeKeystream = 213;

using Aes256Key = std::array<std::uint8_t, kAes256KeyBytes>;

// The 128-bit AES IV for a P25 MI.
std::array<std::uint8_t, 16> p25AesIv(const lmr::p25::Mi& mi);

// Offset (after the discarded block) of IMBE frame `index` (0..17) of a superframe.
std::size_t p25ImbeOffset(std::uint8_t index);
// Offset of the 2 low speed data bytes of LDU1 (ldu2 = false) or LDU2.
std::size_t p25LsdOffset(bool ldu2);

// The 213 keystream bytes of one superframe (first block already discarded).
struct P25Keystream {
    std::array<std::uint8_t, kP25SuperframeKeystream> bytes{};

    // XOR an IMBE codeword (11 bytes) of frame `index` in place: encrypts or decrypts.
    void applyImbe(std::uint8_t index, MutableByteView imbe11) const;
    // XOR the 2 LSD bytes of LDU1 / LDU2 in place.
    void applyLsd(bool ldu2, MutableByteView lsd2) const;
};

// Generates the keystream for `mi` with OpenSSL EVP (AES-256-OFB). Errors: "openssl".
Result<P25Keystream> p25Keystream(const Aes256Key& key, const lmr::p25::Mi& mi);

// A whole transmission: MI of superframe n = LFSR^(64 n)(first MI). Caches the keystream of
// the last superframe it was asked for.
class P25VoiceCipher {
  public:
    P25VoiceCipher(const Aes256Key& key, const lmr::p25::Mi& first_mi)
        : key_(key), first_mi_(first_mi) {}

    // MI of superframe `superframe` (0 = the one the HDU announced).
    lmr::p25::Mi miOf(std::uint32_t superframe) const;
    // XOR frame `index` (0..17) of superframe `superframe` in place.
    Status applyImbe(std::uint32_t superframe, std::uint8_t index, MutableByteView imbe11);
    Status applyLsd(std::uint32_t superframe, bool ldu2, MutableByteView lsd2);
    // Same, but with the MI given (a receiver that read the MI from the stream).
    Status applyImbeWithMi(const lmr::p25::Mi& mi, std::uint8_t index, MutableByteView imbe11);

  private:
    Status load(const lmr::p25::Mi& mi);

    Aes256Key key_;
    lmr::p25::Mi first_mi_;
    bool cached_ = false;
    lmr::p25::Mi cached_mi_{};
    P25Keystream ks_;
};

// Raw AES-256-OFB of `len` keystream bytes from `iv` (no discard). Errors: "openssl".
Result<Bytes> aes256OfbKeystream(const Aes256Key& key, const std::array<std::uint8_t, 16>& iv,
                                 std::size_t len);

}  // namespace iwf::harness
