#pragma once
// Tracks the E2EE metadata and the superframe position of one P25 voice stream without ever
// touching the encrypted payload (shared/research/lmr.md §1.2, §6 rule 3).
//
// - ALGID / KID / MI are taken from whichever source comes first: a header (HDU, ISSI header
//   word) for the current superframe, or the ES of an LDU2 (frames 12-15) for the next one.
// - At each superframe boundary the next MI is the one the LDU2 carried; when that LDU2 (or
//   part of it) was lost it is recomputed from the current MI with the LFSR (counted). The MI
//   is never invented: a stream whose first MI was not seen is in late entry (encrypted,
//   MI unknown) until a complete LDU2 ES arrives.
// - Service options (LDU1 frame 3): 0x80 emergency, 0x40 encrypted, low 3 bits priority.
//   LCF bit 0x80 = protected (encrypted) LC: LDU1 addressing is ciphertext then.
// - A stream with no header (P25 records: MMDVMHost writes no HDU and 0 in the service
//   options byte, g4klx/MMDVMHost P25Network.cpp writeLDU1) says whether it is encrypted only
//   in its first LDU2: frame 15 gives ALGID/KID (decided()), and frames 12-14 the MI of the
//   next superframe, from which the MI of the current one is recovered with the inverse LFSR
//   (back-filled, counted): superframe 0 is then as decryptable as any other.
//
// Pure: no I/O, no clock.

#include <array>
#include <cstdint>
#include <optional>
#include <utility>

#include "common/crypto.hpp"
#include "common/voice.hpp"
#include "lmr_adapters/p25/mi_lfsr.hpp"

namespace iwf::lmr::p25 {

inline constexpr std::uint8_t kSvcEmergency = 0x80;
inline constexpr std::uint8_t kSvcEncrypted = 0x40;
inline constexpr std::uint8_t kLcfProtected = 0x80;
inline constexpr std::uint8_t kFramesPerSuperframe = 18;

class CryptoTracker {
  public:
    // A header for the superframe that is about to start or is in progress (HDU, ISSI
    // header word, DFSI voice header): its ALGID, KID and MI as a P25 CryptoSync (ALGID 0x80 =
    // clear). Ignored for the current superframe once an ESS is already known for it (first
    // source wins).
    void onHeader(const CryptoSync& header);
    // Call for every frame, before the frame's side fields, with its index 0..17. Returns
    // the frame's position; a frame index not after the previous one starts a superframe.
    FramePosition onFrame(std::uint8_t index);
    // Side fields of the current frame.
    void onServiceOptions(std::uint8_t so) { service_options_ = so; }
    void onLcf(std::uint8_t lcf) { lcf_ = lcf; }
    // LDU2 ES fragments for the NEXT superframe: index 11/12/13 carry MI bytes 0-2/3-5/6-8,
    // index 14 carries ALGID, KID.
    void onEsFragment(std::uint8_t index, const std::array<std::uint8_t, 3>& bytes);

    // The crypto sync of the current superframe (what a frame of it must carry).
    CryptoSync current() const;
    // The crypto sync of an earlier (or the current) superframe `sf` as known now: once the
    // MI of the current superframe is known, earlier ones follow with the inverse LFSR.
    CryptoSync cryptoOfSuperframe(std::uint32_t sf) const;
    // True once the stream itself said whether it is encrypted: an ESS is known (header or
    // LDU2) or an LDU2 frame 15 announced the ALGID. Service options alone do not decide:
    // MMDVMHost always writes 0 there.
    bool decided() const { return ess_.has_value() || announced_.has_value(); }
    // MIs of a current superframe recovered from the next one (inverse LFSR).
    std::uint64_t miBackfilled() const { return backfilled_; }
    // True while the stream is encrypted but its MI is not known (late entry).
    bool lateEntry() const;
    bool encrypted() const;
    bool essKnown() const { return ess_.has_value(); }
    // The ESS (ALGID, KID, MI) of the current superframe, once known: the one crypto shape
    // (common/crypto.hpp), as current() reports it.
    const std::optional<CryptoSync>& ess() const { return ess_; }
    std::optional<std::uint8_t> serviceOptions() const { return service_options_; }
    bool protectedLc() const { return lcf_ && (*lcf_ & kLcfProtected) != 0; }
    std::optional<std::uint8_t> lcf() const { return lcf_; }

    std::uint64_t miRegenerated() const { return regenerated_; }
    std::uint64_t superframesStarted() const { return superframe_; }
    bool started() const { return last_index_ >= 0; }
    // The ES a sender must put in the LDU2 of the current superframe: the same ALGID and KID
    // with the next MI (LFSR); a clear stream's stays as it is.
    static CryptoSync nextEss(const CryptoSync& current);
    // The ESS of a P25 stream from the wire fields (HDU / header word / LDU2 ES).
    static CryptoSync essOf(std::uint8_t algid, std::uint16_t kid, const Mi& mi);

  private:
    void rollOver();

    std::optional<CryptoSync> ess_;  // current superframe
    // next superframe, being collected from LDU2 frames 12..15
    std::array<std::uint8_t, kMiBytes> next_mi_{};
    std::uint8_t next_parts_ = 0;  // bit 0..2: MI thirds, bit 3: ALGID/KID
    std::uint8_t next_algid_ = 0;
    std::uint16_t next_kid_ = 0;
    // ALGID/KID from the latest LDU2 frame 15, known even when the MI fragments were lost.
    std::optional<std::pair<std::uint8_t, std::uint16_t>> announced_;
    std::optional<std::uint8_t> service_options_;
    std::optional<std::uint8_t> lcf_;
    int last_index_ = -1;
    std::uint32_t superframe_ = 0;
    std::uint64_t regenerated_ = 0;
    std::uint64_t backfilled_ = 0;
};

}  // namespace iwf::lmr::p25
