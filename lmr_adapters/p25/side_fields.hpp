#pragma once
// Building the non-IMBE bytes of an outbound P25 frame when the engine did not supply them
// as received (a call originated on the MC side): LC from the call setup, ES (the next
// superframe's MI, ALGID, KID) from the frame's CryptoSync with the LFSR. Frames that came
// from a P25 link carry their side bytes and are forwarded bit-exact instead.
//
// RS parity bytes (LDU1 frames 6-8, LDU2 frames 16-17) are MMDVMHost's constants and the
// LSD is zero: the receiving station regenerates the FEC from the carried fields (MMDVMHost
// P25Control.cpp createNetLDU1/2 re-encodes the LC and ES itself).

#include <array>
#include <cstdint>

#include "common/events.hpp"
#include "lmr_adapters/p25/records.hpp"

namespace iwf::lmr::p25 {

// The link control and ES values MMDVMHost puts into its records.
struct MmdvmLc {
    std::uint8_t lcf = 0x00;  // 0x00 group, 0x03 unit to unit (P25Defines.h P25_LCF_*)
    std::uint8_t mfid = 0x00;
    std::uint32_t dst = 0;  // 24 bits as written (P25Gateway rewrites it to its talkgroup)
    std::uint32_t src = 0;  // 24 bits
};
struct MmdvmEs {
    std::array<std::uint8_t, 9> mi{};  // as the LDU2 carries it: the next superframe's MI
    std::uint8_t algid = 0x80;
    std::uint16_t kid = 0;
};

// The side bytes (records.hpp layout: the bytes before the IMBE codeword, then after it) of
// voice record `index` 0..17 exactly as MMDVMHost builds them: g4klx/MMDVMHost P25Network.cpp
// writeLDU1() / writeLDU2() fill the templates REC62..REC73 — start-of-LDU bytes
// 02 02 0C 0B 12 64 00 00 80 in 0x62 / 0x6B, the status byte 0x02 after the codeword of
// 0x63..0x69 and 0x6C..0x72 and after the LSD pair of 0x6A / 0x73, the constant parity bytes
// F0 9D 6A / 19 D4 26 / E0 EB 7B (0x67-0x69) and AC B8 A4 / 9B DC 75 (0x71, 0x72) whatever the
// LC, and byte 3 of 0x64 (service options) and byte 4 of every 17-byte record left 0. Only
// LCF and MFID (0x64), destination (0x65), source (0x66), MI (0x6D-0x6F), ALGID/KID (0x70)
// and LSD (0x6A, 0x73) are filled in.
InlineBytes<kMaxSideBytes> mmdvmRecordSide(std::uint8_t index, const MmdvmLc& lc, const MmdvmEs& es,
                                           std::array<std::uint8_t, 2> lsd);

// Service options byte for a call setup: emergency 0x80, encrypted 0x40, priority 4.
std::uint8_t serviceOptionsFor(const CallSetup& setup, const CryptoSync& crypto);

// Side bytes of a records-format voice record (layout of records.hpp) for frame `index`: the
// MMDVMHost shape (mmdvmRecordSide) with the LC from the setup, the ES from `crypto` (the
// next superframe's MI) and, in byte 3 of 0x64, the service options (emergency, encrypted),
// which MMDVMHost and P25Gateway ignore and a DFSI reader uses.
InlineBytes<kMaxSideBytes> recordSideFromSetup(std::uint8_t index, const CallSetup& setup,
                                               const CryptoSync& crypto);

// The 3 ES bytes a frame 12..15 (index 11..14) carries for the superframe after `crypto`'s.
std::array<std::uint8_t, 3> esBytesFor(std::uint8_t index, const CryptoSync& crypto);

}  // namespace iwf::lmr::p25
