#pragma once
// DMRD: the Homebrew (HBP) DMR data packet (MMDVMHost/DMRGateway/HBlink), 53 bytes plus the
// MMDVM BER/RSSI trailer (55 bytes: what MMDVMHost and DMRGateway write, and the only length
// DMRGateway accepts besides its 71-byte trunking form). Layout in docs/protocols/dmr-hbp.md.

#include <cstdint>
#include <string_view>

#include "common/bytes.hpp"
#include "common/result.hpp"
#include "lmr_adapters/dmr/burst.hpp"

namespace iwf::lmr::dmr {

inline constexpr std::size_t kDmrdLength = 53;
inline constexpr std::size_t kDmrdLengthMmdvm = 55;

// Byte 15 bits 5..4.
enum class FrameType : std::uint8_t { Voice = 0, VoiceSync = 1, DataSync = 2 };
std::string_view toString(FrameType t);

struct DmrdPacket {
    std::uint8_t seq = 0;       // byte 4: per-stream sequence number (wraps)
    std::uint32_t src = 0;      // bytes 5..7
    std::uint32_t dst = 0;      // bytes 8..10
    std::uint32_t peer_id = 0;  // bytes 11..14: repeater / peer ID
    std::uint8_t slot = 1;      // byte 15 bit 7: 0 = TS1, 1 = TS2 (stored as 1 or 2)
    bool unit_call = false;     // byte 15 bit 6: 0 group, 1 unit (private)
    FrameType frame_type = FrameType::Voice;
    std::uint8_t dtype_vseq = 0;  // byte 15 bits 3..0: voice burst 0..5 (A..F) or data type
    std::uint32_t stream_id = 0;  // bytes 16..19
    Burst burst{};                // bytes 20..52
    // Bytes 53..54 (BER, RSSI) present. True by default: MMDVMHost writes every DMRD with them
    // (DMRNetwork.cpp write(): HOMEBREW_DATA_PACKET_LENGTH 55) and DMRGateway queues only 55-
    // or 71-byte DMRD, dropping any other length without a log line (DMRNetwork.cpp and
    // MMDVMNetwork.cpp clock()). A 53-byte packet decodes with has_trailer = false and is
    // re-encoded as received.
    bool has_trailer = true;
    std::uint8_t ber = 0;
    std::uint8_t rssi = 0;

    bool isVoice() const { return frame_type != FrameType::DataSync; }
    bool operator==(const DmrdPacket&) const = default;
};

// Errors: "bad_magic", "truncated", "bad_length", "bad_slot_bits" (frame type 3),
// "bad_voice_seq" (voice burst index > 5).
// True when the datagram starts with the DMRD magic (the HBP voice/data packet).
bool isDmrd(ByteView datagram);
Result<DmrdPacket> decodeDmrd(ByteView datagram);
void encodeDmrd(const DmrdPacket& p, Bytes& out);
Bytes encodeDmrd(const DmrdPacket& p);

}  // namespace iwf::lmr::dmr
