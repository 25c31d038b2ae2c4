#pragma once
// The USRP protocol of AllStarLink chan_usrp and DVSwitch Analog_Bridge / USRP_Client: one
// UDP datagram per packet, a 32-byte header and a payload whose meaning the header's type
// gives. Voice is 20 ms of 8 kHz 16-bit linear PCM (160 samples, 320 bytes); an unkey is a
// header alone with keyup 0. Layouts and byte order: docs/protocols/usrp.md, from
// AllStarLink/app_rpt channels/chan_usrp.c (struct _chan_usrp_bufhdr, usrp_xwrite,
// usrp_indicate, usrp_xread) and DVSwitch/USRP_Client pyUC.py (rxAudioStream,
// txAudioStream, sendUSRPCommand, sendMetadata).
//
// Byte order, which is not uniform (docs/protocols/usrp.md "Byte order"):
// - seq, memory, keyup, talkgroup, mpxid, reserved: big-endian (htonl/ntohl in chan_usrp.c,
//   struct.unpack(">i") in pyUC.py);
// - type: host order, little-endian on every platform the peers run on. chan_usrp.c
//   compares `bufhdrp->type == USRP_TYPE_TEXT` without ntohl; pyUC.py reads it with
//   struct.unpack("i") and writes `packetType << 24` packed big-endian, i.e. the type value
//   in byte 20 and zeros in bytes 21..23. A peer that writes the type big-endian (value in
//   byte 23) is accepted too; voice (type 0) is the same either way;
// - PCM samples: host order, little-endian (usrp_xwrite memcpy()s Asterisk's slin frame,
//   which is host order; pyUC.py hands pyaudio's paInt16 buffer over as is).
//
// Pure codec: no I/O, no logging, no allocation on the voice path.

#include <array>
#include <cstdint>
#include <string_view>
#include <variant>

#include "common/bytes.hpp"
#include "common/result.hpp"

namespace iwf::lmr::analog {

inline constexpr std::size_t kUsrpHeaderBytes = 32;
inline constexpr std::size_t kUsrpVoiceSamples = 160;  // 20 ms at 8 kHz
inline constexpr std::size_t kUsrpVoiceBytes = kUsrpVoiceSamples * 2;
inline constexpr std::size_t kUsrpMaxPacket = kUsrpHeaderBytes + kUsrpVoiceBytes;
// chan_usrp.c usrp_xread receives into char buf[512]: no peer sends a longer datagram.
inline constexpr std::size_t kUsrpMaxPayload = 512 - kUsrpHeaderBytes;
inline constexpr std::size_t kUsrpMaxDtmf = 32;

// USRP_TYPE_* of DVSwitch (pyUC.py); chan_usrp.c knows the first three.
enum class UsrpType : std::uint32_t {
    Voice = 0,
    Dtmf = 1,
    Text = 2,
    Ping = 3,
    Tlv = 4,         // DVSwitch TLV (AMBE, remote commands, file transfer): refused
    VoiceAdpcm = 5,  // refused: not sent by chan_usrp; Analog_Bridge only on request
    VoiceUlaw = 6,   // refused: as above
};

struct UsrpHeader {
    std::uint32_t seq = 0;
    std::uint32_t memory = 0;
    std::uint32_t keyup = 0;  // 1 while PTT is pressed (chan_usrp.c writes htonl(1))
    std::uint32_t talkgroup = 0;
    UsrpType type = UsrpType::Voice;
    std::uint32_t mpxid = 0;
    std::uint32_t reserved = 0;

    bool keyed() const { return keyup != 0; }
    bool operator==(const UsrpHeader&) const = default;
};

using Pcm8k = std::array<std::int16_t, kUsrpVoiceSamples>;

// Type 0. has_audio false: the header-only unkey of chan_usrp.c usrp_indicate.
struct UsrpVoice {
    UsrpHeader header;
    bool has_audio = false;
    Pcm8k pcm{};
    bool operator==(const UsrpVoice&) const = default;
};

// Type 1: ASCII digits / commands ("*DMR", "3100" in pyUC.py setMode / setRemoteTG).
struct UsrpDtmf {
    UsrpHeader header;
    InlineBytes<kUsrpMaxDtmf> digits;
    bool operator==(const UsrpDtmf&) const = default;
};

// The DVSwitch SET_INFO metadata tunnelled in a TEXT packet (pyUC.py sendMetadata and
// rxAudioStream): tag 8, length, source ID (24 bits), repeater ID (32), destination (24),
// slot, colour code / private flag (0x80), NUL-terminated callsign.
struct UsrpSetInfo {
    std::uint32_t source_id = 0;
    std::uint32_t repeater_id = 0;
    std::uint32_t destination = 0;
    std::uint8_t slot = 0;
    std::uint8_t cc_flags = 0;
    std::string_view callsign;  // points into UsrpText::text
};

// Type 2: metadata. Registration strings ("REG:DVSWITCH", "INFO:{json}") or a SET_INFO TLV.
struct UsrpText {
    UsrpHeader header;
    InlineBytes<kUsrpMaxPayload> text;  // the payload as received (NUL padding kept)
    bool operator==(const UsrpText&) const = default;
};
// The SET_INFO inside a TEXT packet, if that is what it carries; errors "not_set_info",
// "truncated".
Result<UsrpSetInfo> setInfoOf(const UsrpText& text);

// Type 3: keep-alive (pyUC.py ping_thread sends "PING" every 20 s). Payload not kept.
struct UsrpPing {
    UsrpHeader header;
    bool operator==(const UsrpPing&) const = default;
};

using UsrpPacket = std::variant<UsrpVoice, UsrpDtmf, UsrpText, UsrpPing>;

// Decodes one datagram. Errors (reason strings, usable as counter labels):
//   "truncated"         shorter than the 32-byte header
//   "bad_eye"           the first four bytes are not "USRP"
//   "bad_voice_length"  a voice payload of neither 0 nor 320 bytes
//   "bad_dtmf"          an empty DTMF payload, one over 32 bytes or with a non-printable byte
//   "too_long"          a payload over 480 bytes (chan_usrp.c reads at most 512)
//   "tlv_unsupported", "adpcm_unsupported", "ulaw_unsupported"  types 4, 5, 6
//   "unknown_type"      any other type
Result<UsrpPacket> decodeUsrp(ByteView datagram);

using UsrpBuffer = InlineBytes<kUsrpHeaderBytes + kUsrpMaxPayload>;

// Encodes the way the peers do: big-endian fields, type little-endian (byte 20), PCM
// little-endian. Fails with "bad_dtmf" for an empty DTMF.
Status encodeUsrp(const UsrpPacket& packet, UsrpBuffer& out);

std::string_view usrpTypeName(UsrpType type);

}  // namespace iwf::lmr::analog
