#pragma once
// DMR talker alias (ETSI TS 102 361-2 §7.1.1 FLCO 4..7, §7.2.18): the radio's display name,
// sent in the embedded LC of voice superframes in place of the voice LC, one block per
// superframe: a header (FLCO 4) and up to three blocks (FLCO 5, 6, 7).
//
//   header, LC bytes 2..8:  format (2 bits) · length (5 bits) · 49 data bits
//   block n, LC bytes 2..8: 56 data bits
//
// Formats: 0 seven-bit characters (the data bits run on from the header's last bit), 1 ISO
// 8859-1 and 2 UTF-8 (octets from header byte 3 on), 3 UTF-16BE (pairs from header byte 3 on).
// The length counts characters (UTF-8: octets). MMDVMHost reads it the same way
// (g4klx/MMDVMHost DMRTA.cpp decodeTA(): 7-bit groups from the first byte skipping the first
// group, 8-bit and UTF-16 from m_buf[1]) and forwards the blocks in the embedded LC it
// regenerates (DMRSlot.cpp writeModem: the previous superframe's embedded data), so they reach
// a master through MMDVMHost and DMRGateway alike.
//
// Pure: no I/O. The text is the sender's: it is cleaned for display (control characters and
// quotes become '?') and never used as a metric label.

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "common/bytes.hpp"

namespace iwf::lmr::dmr {

inline constexpr std::uint8_t kFlcoTalkerAliasHeader = 0x04;
inline constexpr std::uint8_t kFlcoTalkerAliasBlock3 = 0x07;
inline constexpr std::size_t kTalkerAliasMaxChars = 31;

class TalkerAliasAssembler {
  public:
    // Feeds the 7 alias bytes (LC bytes 2..8) of block 0 (header) .. 3. Returns the alias once
    // every block its length needs has arrived (again when a later block changes it).
    std::optional<std::string> feed(std::uint8_t block, ByteView bytes7);
    // Feeds a whole 9-byte LC; FLCO 4..7 only (others: nullopt, nothing changes).
    std::optional<std::string> feedLc(ByteView lc9);
    void reset();

  private:
    std::array<std::uint8_t, 28> buf_{};  // 4 blocks x 7 bytes
    std::uint8_t have_ = 0;               // bit n: block n present
    std::optional<std::string> last_;
};

// Decodes from the 28 bytes of header + blocks, given which blocks are present. nullopt
// until the blocks the length needs are all present.
std::optional<std::string> decodeTalkerAlias(const std::array<std::uint8_t, 28>& buf,
                                             std::uint8_t have_mask);

}  // namespace iwf::lmr::dmr
