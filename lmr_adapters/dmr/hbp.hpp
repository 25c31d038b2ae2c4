#pragma once
// Homebrew Repeater Protocol (HBP) control messages: login (RPTL -> RPTACK+salt -> RPTK ->
// RPTACK -> RPTC -> RPTACK), options (RPTO), keep-alive (RPTPING / MSTPONG), close (RPTCL /
// MSTCL), refusal (MSTNAK). Layouts and sources: docs/protocols/dmr-hbp.md.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

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
    Dmra,     // talker alias fragment (MMDVMHost / DMRGateway; see HbpMessage::text)
    Rptsbkn,  // beacon request: master -> peer (DMRGateway DMRNetwork.cpp clock())
    Dmrg,     // GPS position fragment (MMDVMHost / DMRGateway): accepted, not used
    Rptg,     // home position "RPTG" + ID + "%+08.4f%+09.4f" (DMRGateway writeHomePosition)
};
std::string_view toString(HbpType t);

// RPTC configuration: ASCII fields in this order, written by the peers with
//   sprintf("%-8.8s%09u%09u%02u%02u%8.8s%9.9s%03d%-20.20s%-19.19s%c%-124.124s%-40.40s%-40.40s")
// (g4klx/DMRGateway DMRGateway.cpp getConfig(); MMDVMHost DMRDirectNetwork.cpp writeConfig()
// before 2023-06). 294 bytes when every field has its width; a frequency of 1 GHz or more
// takes 10 digits (%09u has no maximum), so DMRGateway sends 303 or 304 bytes then (it sends
// strlen of what sprintf wrote); MMDVMHost always sent 302, cutting the end off. Decoding
// takes the callsign from the start, the 12 fields after the frequencies from the end (all
// have fixed widths) and splits what is between them into the two frequencies.
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
// Longest RPTC accepted: DMRGateway's buffer (char buffer[400U] in DMRNetwork.cpp
// writeConfig()).
inline constexpr std::size_t kRptcMaxLength = 400;

// RPTO options (HBlink4 docs/connecting_to_hblink4.md "RPTO Message Format":
// "TS1=1,2,3;TS2=10,20", an empty list subscribes nothing on that slot; DMR+ startup options
// in g4klx/MMDVMHost DMRplus_startup_options.md: "TS1_1=262;TS1_2=1;...", one talkgroup per
// key). DMRGateway sends the text of its `Options=` line unchanged (DMRNetwork.cpp
// writeOptions()). A slot no key names is not restricted; other keys are kept, not used.
struct RptoOptions {
    std::optional<std::vector<std::uint32_t>> ts1;  // talkgroups subscribed on TS1
    std::optional<std::vector<std::uint32_t>> ts2;
    std::vector<std::pair<std::string, std::string>> other;  // StartRef, RelinkTime, ...
    // Whether a group call to `tg` may go to this peer on `slot` (1 or 2).
    bool allows(std::uint8_t slot, std::uint32_t tg) const;
    bool restricted() const { return ts1.has_value() || ts2.has_value(); }
};
// Never fails: malformed items (no '=', a talkgroup that is not a number) are skipped and
// counted in `bad_items`.
RptoOptions parseRptoOptions(std::string_view text, std::size_t* bad_items = nullptr);

// DMRA as the two peers write it, both 15 bytes (only the 4 bytes after "DMRA" tell them
// apart): MMDVMHost (DMRDirectNetwork.cpp / DMRNetwork.cpp writeTalkerAlias()): "DMRA",
// source ID (3), block type 0..3, the 7 alias bytes of the embedded LC (bytes 2..8);
// DMRGateway (DMRNetwork.cpp writeTalkerAlias()): "DMRA", its repeater ID (4), then only the
// first 7 bytes after MMDVMHost's "DMRA" (source ID, block type, 3 alias bytes: it copies
// length - 4 bytes to offset 8 but sends `length` bytes, so 4 alias bytes are cut off).
struct DmraFragment {
    std::uint32_t src = 0;
    std::uint8_t block = 0;     // 0 header, 1..3 blocks (FLCO 4..7)
    Bytes data;                 // 7 bytes (MMDVMHost) or 3 (DMRGateway, truncated)
    bool from_gateway = false;  // DMRGateway's shape (repeater ID after the magic)
};
// `peer_id`: the sender's HBP ID, to tell the shapes apart.
std::optional<DmraFragment> parseDmra(ByteView datagram, std::uint32_t peer_id);

struct HbpMessage {
    HbpType type = HbpType::Rptl;
    std::uint32_t peer_id = 0;           // every type but RPTACK-with-salt carries the ID
    std::array<std::uint8_t, 4> ack{};   // RPTACK: salt (after RPTL) or the peer ID
    std::array<std::uint8_t, 32> key{};  // RPTK
    RptcConfig config;                   // RPTC
    std::string text;                    // RPTO options; DMRA / DMRG / RPTG bytes after the ID
};

// Decodes one datagram. DMRD is recognised (type Dmrd) but parsed by decodeDmrd(). For DMRA,
// DMRG and RPTG `peer_id` is bytes 4..7 whatever the shape (see parseDmra).
// Errors: "bad_magic" (no known prefix), "bad_length" (wrong size for its type).
Result<HbpMessage> decodeHbp(ByteView datagram);
Bytes encodeHbp(const HbpMessage& m);

// SHA-256(salt || password), the RPTK key.
std::array<std::uint8_t, 32> hbpLoginKey(ByteView salt, std::string_view password);

HbpMessage hbpSimple(HbpType type, std::uint32_t peer_id);
std::array<std::uint8_t, 4> idBytes(std::uint32_t id);

}  // namespace iwf::lmr::dmr
