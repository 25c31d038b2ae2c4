#pragma once
// Typed identities. Never pass a bare integer for an LMR or MC identity.
//
// Widths (TIA-102.BAAC / ETSI TS 102 361-1 / EN 300 392-1; see shared/research/lmr.md §1.1,
// §2.1): P25 WACN 20 bits, System ID 12 bits, unit ID 24 bits, talkgroup ID 16 bits;
// DMR unit and group IDs 24 bits; TETRA MCC 10 bits, MNC 14 bits, SSI 24 bits.

#include <compare>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace iwf {

enum class LmrFamily : std::uint8_t { P25 = 0, Dmr = 1, Tetra = 2, Analog = 3 };

struct P25System {
    std::uint32_t wacn = 0;    // 20 bits
    std::uint16_t system = 0;  // 12 bits
    auto operator<=>(const P25System&) const = default;
};

struct P25Unit {
    P25System sys;
    std::uint32_t unit = 0;  // 24 bits
    auto operator<=>(const P25Unit&) const = default;
};

struct P25Group {
    P25System sys;
    std::uint16_t tgid = 0;  // 16 bits
    auto operator<=>(const P25Group&) const = default;
};

struct DmrUnit {
    std::uint32_t id = 0;  // 24 bits
    auto operator<=>(const DmrUnit&) const = default;
};

struct DmrGroup {
    std::uint32_t id = 0;  // 24 bits
    auto operator<=>(const DmrGroup&) const = default;
};

struct TetraSubscriber {
    std::uint16_t mcc = 0;  // 10 bits
    std::uint16_t mnc = 0;  // 14 bits
    std::uint32_t ssi = 0;  // 24 bits (individual or group SSI)
    bool group = false;
    auto operator<=>(const TetraSubscriber&) const = default;
};

// A talkgroup of an analogue (Radio-over-IP) channel: the USRP header's talkgroup field
// (32 bits; chan_usrp and pyUC send 0, so a link maps 0 to its configured talkgroup). The
// keymap's one analogue system holds the groups (like DMR: no network identity on the wire).
struct AnalogGroup {
    std::uint32_t talkgroup = 0;
    auto operator<=>(const AnalogGroup&) const = default;
};

// MC service ID of a user (a SIP URI, e.g. "sip:alice@mcptt.example").
struct McId {
    std::string uri;
    auto operator<=>(const McId&) const = default;
};

// MC group ID (a SIP URI).
struct McGroupId {
    std::string uri;
    auto operator<=>(const McGroupId&) const = default;
};

// Any party an event can name. monostate = unknown / not given (e.g. encrypted LC hides the
// talker and the call setup did not say).
using Address = std::variant<std::monostate, P25Unit, P25Group, DmrUnit, DmrGroup, TetraSubscriber,
                             McId, McGroupId, AnalogGroup>;

bool isGroup(const Address& a);
// The LMR family an address belongs to (nullopt for MC IDs and the empty address).
std::optional<LmrFamily> familyOf(const Address& a);
// "p25:unit:BEE00.001.000001", "dmr:group:91", "mc:sip:alice@x", ... for logs and JSON.
std::string toString(const Address& a);
// "p25", "dmr", "tetra", "analog": the one spelling of a family in configs, keymaps, XML,
// metrics labels and logs.
std::string_view familyName(LmrFamily f);
std::string toString(LmrFamily f);

// Range checks against the widths above.
bool fitsBits(std::uint64_t value, unsigned bits);
bool valid(const P25System& s);
bool valid(const P25Unit& u);
bool valid(const P25Group& g);
bool valid(const DmrUnit& u);
bool valid(const DmrGroup& g);

}  // namespace iwf
