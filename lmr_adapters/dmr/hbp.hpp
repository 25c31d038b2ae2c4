#pragma once
// Homebrew Repeater Protocol (HBP) control messages: login (RPTL -> RPTACK+salt -> RPTK ->
// RPTACK -> RPTC -> RPTACK), options (RPTO), keep-alive (RPTPING / MSTPONG), close (RPTCL /
// MSTCL), refusal (MSTNAK). Layouts and sources: docs/protocols/dmr-hbp.md.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/bytes.hpp"
#include "common/result.hpp"

namespace iwf::lmr::dmr {

enum class HbpType : std::uint8_t {
    Rptl,     // login request
    Rptk,     // login key (SHA-256(salt || password))
    Rptc,     // configuration
    Rpto,     // options
    Rptping,  // keep-alive from the peer
    Rptcl,    // close by the peer
    Rptack,   // acknowledgement (+ salt after RPTL, + ID otherwise)
    Mstnak,   // refusal
    Mstpong,  // keep-alive answer
    Mstcl,    // close by the master
    Dmrd,     // DMR data (see dmrd.hpp)
    Dmra,     // talker alias
    Rptsbkn,  // beacon request
};
std::string_view toString(HbpType t);

// RPTC configuration: fixed-width ASCII fields, 294 bytes in this order.
struct RptcConfig {
    std::string callsign;     // 8
    std::string rx_freq;      // 9 (Hz)
    std::string tx_freq;      // 9 (Hz)
    std::string tx_power;     // 2
    std::string color_code;   // 2
    std::string latitude;     // 8
    std::string longitude;    // 9
    std::string height;       // 3
    std::string location;     // 20
    std::string description;  // 19
    std::string slots;        // 1
    std::string url;          // 124
    std::string software_id;  // 40
    std::string package_id;   // 40
    bool operator==(const RptcConfig&) const = default;
};
inline constexpr std::size_t kRptcConfigLength = 294;
inline constexpr std::size_t kRptcLength = 8 + kRptcConfigLength;

struct HbpMessage {
    HbpType type = HbpType::Rptl;
    std::uint32_t peer_id = 0;           // every type but RPTACK-with-salt carries the ID
    std::array<std::uint8_t, 4> ack{};   // RPTACK: salt (after RPTL) or the peer ID
    std::array<std::uint8_t, 32> key{};  // RPTK
    RptcConfig config;                   // RPTC
    std::string text;                    // RPTO options; DMRA alias bytes
};

// Decodes one datagram. DMRD is recognised (type Dmrd) but parsed by decodeDmrd().
// Errors: "bad_magic" (no known prefix), "bad_length" (wrong size for its type).
Result<HbpMessage> decodeHbp(ByteView datagram);
Bytes encodeHbp(const HbpMessage& m);

// SHA-256(salt || password), the RPTK key.
std::array<std::uint8_t, 32> hbpLoginKey(ByteView salt, std::string_view password);

HbpMessage hbpSimple(HbpType type, std::uint32_t peer_id);
std::array<std::uint8_t, 4> idBytes(std::uint32_t id);

}  // namespace iwf::lmr::dmr
