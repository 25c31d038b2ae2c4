#pragma once
// Building the non-IMBE bytes of an outbound P25 frame when the engine did not supply them
// as received (a call originated on the MC side): LC from the call setup, ES (the next
// superframe's MI, ALGID, KID) from the frame's CryptoSync with the LFSR. Frames that came
// from a P25 link carry their side bytes and are forwarded bit-exact instead.
//
// RS parity bytes (LDU1 frames 6-8, LDU2 frames 16-17) and LSD are sent as zeros: the
// receiving station regenerates the FEC from the carried fields (documented gap).

#include <cstdint>

#include "common/events.hpp"
#include "lmr_adapters/p25/records.hpp"

namespace iwf::lmr::p25 {

// Service options byte for a call setup: emergency 0x80, encrypted 0x40, priority 4.
std::uint8_t serviceOptionsFor(const CallSetup& setup, const CryptoSync& crypto);

// Side bytes of a records-format voice record (layout of records.hpp) for frame `index`.
InlineBytes<kMaxSideBytes> recordSideFromSetup(std::uint8_t index, const CallSetup& setup,
                                               const CryptoSync& crypto);

// The 3 ES bytes a frame 12..15 (index 11..14) carries for the superframe after `crypto`'s.
std::array<std::uint8_t, 3> esBytesFor(std::uint8_t index, const CryptoSync& crypto);

}  // namespace iwf::lmr::p25
