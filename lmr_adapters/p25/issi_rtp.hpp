#pragma once
// The ISSI RTP payload (TIA-102.BACA; framing shared with DFSI): RTP header, a control
// octet, N block headers (verbose 4 bytes or compact 1 byte), then the block payloads in
// header order. Block types handled: 0 IMBE voice, 1 ISSI packet type, 5 ISSI header word,
// 11 PTT control word; every other type is kept as opaque bytes (round-trips bit-exact).
// Layouts: shared/research/lmr.md §1.4 (NIST p25-wireline P25Payload, BlockType,
// ISSIPacketType, PTTControlWord, ISSIHeaderWord, IMBEVoiceBlock) and docs/protocols/p25-issi.md.
//
// Decision recorded in the protocol note: the verbose block header is E(1) · type(7) ·
// TSO(14) · length(10) as in NIST's implementation (dvmhost/dvmissi read a 10-bit TSO);
// every block of the NIST captures decodes with this split and its lengths add up exactly.
//
// Pure codec: no I/O, no logging.

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>
#include <variant>
#include <vector>

#include "common/bytes.hpp"
#include "common/result.hpp"
#include "lmr_adapters/p25/mi_lfsr.hpp"
#include "lmr_adapters/p25/records.hpp"

namespace iwf::lmr::p25 {

inline constexpr std::uint8_t kIssiRtpPayloadType = 100;
inline constexpr std::size_t kRtpHeaderLen = 12;

struct RtpHeader {
    bool padding = false;
    bool extension = false;
    std::uint8_t csrc_count = 0;
    bool marker = false;
    std::uint8_t payload_type = kIssiRtpPayloadType;
    std::uint16_t seq = 0;
    std::uint32_t timestamp = 0;
    std::uint32_t ssrc = 0;
    bool operator==(const RtpHeader&) const = default;
};

enum class BlockType : std::uint8_t {
    ImbeVoice = 0,
    PacketType = 1,
    HeaderWord = 5,
    PttControl = 11,
};

// ISSI packet type (block 1) values.
enum class IssiPacketKind : std::uint8_t {
    PttRequest = 0,
    PttGrant = 1,
    PttProgress = 2,
    PttEnd = 3,
    PttStart = 4,
    Mute = 5,
    Unmute = 6,
    PttWait = 7,
    PttDeny = 8,
    Heartbeat = 9,
    HeartbeatQuery = 10,
};
std::string_view toString(IssiPacketKind k);

// Block type 1 (4 bytes): M(1) PT(7) | service options(8) | TSN(7) L(1) | heartbeat(8).
struct PacketTypeBlock {
    bool mute = false;
    std::uint8_t type = 0;  // IssiPacketKind, 7 bits (unknown values kept)
    std::uint8_t service_options = 0;
    std::uint8_t tsn = 0;  // 7 bits
    bool losing_audio = false;
    std::uint8_t heartbeat = 0;  // seconds
    bool operator==(const PacketTypeBlock&) const = default;
};

// Block type 11 (8 bytes): WACN(20) SysID(12) UnitID(24) TP(8).
struct PttControlWord {
    std::uint32_t wacn = 0;
    std::uint16_t system = 0;
    std::uint32_t unit = 0;
    std::uint8_t priority = 0;  // TP: priority type (high nibble) + level (low nibble)
    bool operator==(const PttControlWord&) const = default;
};

// Block type 5 (18 bytes): MI(72) ALGID(8) KID(16) MFID(8) GroupID(16) NID(16) SF/VBB(8).
struct HeaderWord {
    Mi mi{};
    std::uint8_t algid = 0x80;
    std::uint16_t kid = 0;
    std::uint8_t mfid = 0;
    std::uint16_t group = 0;  // 0 = unit-to-unit call
    std::uint16_t nid = 0;
    std::uint8_t sf_vbb = 0;  // SF(2) VBB(2) reserved(4), kept as is
    std::uint8_t superframe() const { return sf_vbb >> 6; }
    std::uint8_t voiceBlocksBundled() const { return (sf_vbb >> 4) & 0x3; }
    bool operator==(const HeaderWord&) const = default;
};

// Block type 0: FT(8) · IMBE u0..u7 (11 bytes) · 2 status bytes · frame-specific extra
// (LSD for frames 9/18, ES / LC for frames 3-8, 12-17 when present).
inline constexpr std::size_t kImbeBlockBase = 14;
struct ImbeBlock {
    std::uint8_t ft = 0x62;
    Imbe imbe{};
    std::array<std::uint8_t, 2> status{};
    InlineBytes<8> extra;
    // 0..17, from FT 0x62..0x73 (CAI) or 0xC2..0xD3 (NIST ISSI numbering); nullopt otherwise.
    std::optional<std::uint8_t> index() const;
    bool operator==(const ImbeBlock&) const = default;
};
// NIST's frame-type byte for a frame index (0xC2.. for frames without extra data, the CAI
// value 0x6A/0x6D..0x73 for frames that carry LSD/ES).
std::uint8_t issiFrameType(std::uint8_t index);
// The block length implied by a frame type (compact headers have no length field).
std::optional<std::size_t> imbeBlockLength(std::uint8_t ft);

struct OpaqueBlock {
    Bytes bytes;
    bool operator==(const OpaqueBlock&) const = default;
};

using BlockBody = std::variant<PacketTypeBlock, PttControlWord, HeaderWord, ImbeBlock, OpaqueBlock>;

struct IssiBlock {
    bool e = true;          // E bit (1 = profile-specific block type, what ISSI uses)
    std::uint8_t type = 0;  // 7 bits
    std::uint16_t tso = 0;  // 14 bits (verbose only)
    BlockBody body;
    bool operator==(const IssiBlock&) const = default;
};

struct IssiPayload {
    bool signal = false;   // control octet S bit
    bool compact = false;  // control octet C bit
    std::vector<IssiBlock> blocks;
    bool operator==(const IssiPayload&) const = default;

    const PacketTypeBlock* packetType() const;
    const PttControlWord* pttControl() const;
    const HeaderWord* headerWord() const;
};

struct IssiPacket {
    RtpHeader rtp;
    IssiPayload payload;
};

// Errors: "truncated", "bad_rtp_version", "bad_rtp_padding", "no_blocks",
// "block_overrun", "trailing_bytes", "bad_block_length", "compact_unknown_length".
Result<RtpHeader> decodeRtpHeader(ByteView packet, ByteView& payload_out);
Result<IssiPayload> decodeIssiPayload(ByteView payload);
Result<IssiPacket> decodeIssiPacket(ByteView packet);

// Encodes without CSRCs, extension or padding; verbose or compact per payload.compact.
Status encodeIssiPayload(const IssiPayload& payload, Bytes& out);
Status encodeIssiPacket(const IssiPacket& packet, Bytes& out);

}  // namespace iwf::lmr::p25
