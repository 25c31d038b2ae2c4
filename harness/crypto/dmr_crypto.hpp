#pragma once
// DMR voice privacy with AES-256 (PI header ALGID 5; shared/research/lmr.md §2.3), as the
// harness's simulated DMR radios do it. The digest confirms the PI header fields (ALGID 3
// bits, key ID 8 bits, IV 32 bits) but marks the IV expansion and the keystream placement as
// inferred, so the harness defines them explicitly (docs/harness.md "DMR AES-256"):
//
//   IV (16 bytes)  = 128 output bits of the 32-bit LFSR with taps 31, 21, 1, 0 seeded with
//                    the PI header IV (the first 32 output bits are the IV itself)
//   keystream      = AES-256-OFB from that IV; the first block is discarded; the next
//                    6 x 27 = 162 bytes cover the 216 vocoder bits (3 AMBE+2 frames, as
//                    carried in the burst) of voice bursts A..F of one superframe
//   next IV        = the LFSR state after 32 more steps (one per superframe)
//
// Known gap (documented): real radios encrypt the 49-bit AMBE+2 parameters before FEC; the
// harness encrypts the 216 carried bits, which is equivalent for an opaque gateway (it must
// forward the burst bit-exact either way) but not interoperable with a real radio.

#include <array>
#include <cstdint>

#include "common/bytes.hpp"
#include "common/result.hpp"
#include "harness/crypto/p25_crypto.hpp"
#include "lmr_adapters/dmr/burst.hpp"

namespace iwf::harness {

inline constexpr std::uint8_t kDmrAlgidAes256 = 5;
inline constexpr std::size_t kDmrVoiceBytes = 27;
inline constexpr std::size_t kDmrSuperframeKeystream = 6 * kDmrVoiceBytes;

std::uint32_t dmrLfsrStep(std::uint32_t state);  // one shift; returns the new state
std::array<std::uint8_t, 16> dmrAesIv(std::uint32_t iv32);
std::uint32_t dmrNextIv(std::uint32_t iv32);  // 32 LFSR steps

struct DmrKeystream {
    std::array<std::uint8_t, kDmrSuperframeKeystream> bytes{};
    // XOR the 27 vocoder bytes of voice burst `burst_index` (0..5 = A..F) in place.
    void applyVoice(std::uint8_t burst_index, MutableByteView ambe27) const;
};

Result<DmrKeystream> dmrKeystream(const Aes256Key& key, std::uint32_t iv32);

// A transmission: IV of superframe n = dmrNextIv^n(first IV).
class DmrVoiceCipher {
  public:
    DmrVoiceCipher(const Aes256Key& key, std::uint32_t first_iv) : key_(key), first_iv_(first_iv) {}
    std::uint32_t ivOf(std::uint32_t superframe) const;
    // Encrypts / decrypts the vocoder bits of a whole 33-byte burst in place (the middle
    // 48 bits, sync or EMB + embedded signalling, stay clear).
    Status applyBurst(std::uint32_t superframe, std::uint8_t burst_index, lmr::dmr::Burst& b);
    Status applyBurstWithIv(std::uint32_t iv32, std::uint8_t burst_index, lmr::dmr::Burst& b);

  private:
    Aes256Key key_;
    std::uint32_t first_iv_;
    bool cached_ = false;
    std::uint32_t cached_iv_ = 0;
    DmrKeystream ks_;
};

}  // namespace iwf::harness
