#pragma once
// SDP for MCPTT calls on IWF-1 (TS 29.379 §6.1.1, TS 24.380/29.380 fmtp for the floor line):
//
//   m=audio <port> RTP/AVP <pt>         one speech stream, i=speech, a=rtpmap:<pt> <enc>/<clock>
//   m=application <port> udp MCPTT      the media-floor control entity (if floor control)
//   a=fmtp:MCPTT mc_queueing;mc_priority=<n>[;mc_granted][;mc_implicit_request]
//
// For an E2EE group the audio line carries the LMR codec itself (no transcoding). The encoding
// name defaults to the IWF LMR payload format of mc_adapters/rtp (X-IWF-LMR/8000, see
// docs/protocols/iwf-1-media.md).
//
// TS 33.180 media protection (docs/protocols/mc-security.md §12a): a protected call's audio
// line is RTP/SAVP (RFC 3711 §12), and a private call's offer carries the PCK's MIKEY-SAKKE
// I_MESSAGE in a=key-mgmt:mikey (RFC 4567; security/key_mgmt.hpp). No a=crypto: 33.180 keys
// SRTP from MIKEY, never from SDES.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/bytes.hpp"
#include "common/result.hpp"
#include "sip/sdp.hpp"

namespace iwf::mc::mcptt {

struct FloorParams {
    bool queueing = false;          // mc_queueing
    std::optional<int> priority;    // mc_priority (0..255)
    bool granted = false;           // mc_granted (answer: implicit request granted)
    bool implicit_request = false;  // mc_implicit_request
    bool operator==(const FloorParams&) const = default;
};

struct McpttMedia {
    std::string address;  // c= address
    std::uint16_t audio_port = 0;
    std::string encoding = "X-IWF-LMR";
    std::uint32_t clock_rate = 8000;
    std::uint8_t payload_type = 96;
    bool floor = true;  // an m=application MCPTT line
    std::uint16_t floor_port = 0;
    FloorParams floor_params;
    // The audio line's a=fmtp value (AMR-WB: "octet-align=1;mode-set=0,1,2,3,4,5,6,7,8"); "" =
    // none.
    std::string audio_fmtp;
    // Ours only: answer an AMR-WB/16000 offer (an analogue-backed call) with AMR-WB
    // (mcptt-iwf1 `media.amr_wb`; off: such an offer is codec_mismatch, as before).
    bool accept_amr_wb = false;
    // Ours only: the layout our AMR-WB offers name (mcptt-iwf1 `media.amr_octet_align`):
    // octet-align=1 (true) or bandwidth-efficient (RFC 4867 4.3, 8.1).
    bool amr_octet_align = true;
    bool srtp = false;  // audio proto RTP/SAVP instead of RTP/AVP
    Bytes key_mgmt;     // the MIKEY message of a=key-mgmt:mikey (empty: none)
    bool operator==(const McpttMedia&) const = default;
};

// AMR-WB on the audio line (RFC 4867 8.1, 8.3) for calls whose LMR side is an analogue
// channel (issue #19): the only AMR-WB calls the gateway makes. Every speech mode, 6.60 to
// 23.85 kbit/s (0..8): an analogue link encodes at its `amr_mode` (lmr_adapters/analog).
inline constexpr std::string_view kAmrWbEncoding = "AMR-WB";
inline constexpr std::uint16_t kAmrWbModeSet = 0x01FF;  // modes 0 .. 8
struct AmrWbParams {
    bool octet_aligned = false;  // octet-align=1 (absent: bandwidth-efficient, RFC 4867 8.1)
    std::uint16_t mode_set = 0;  // bit per mode; 0 = any
};
// Reads "octet-align=1; mode-set=0,2" (parameters in any order, others ignored). Errors:
// bad_fmtp (octet-align not 0/1, a bad mode-set), unsupported_amr (interleaving,
// crc=1, robust-sorting=1, channels above 1: not implemented, media/amr_payload.hpp).
Result<AmrWbParams> parseAmrWbFmtp(std::string_view fmtp);
std::string formatAmrWbFmtp(const AmrWbParams& p);
// `base` with the audio line switched to AMR-WB/16000 and this fmtp.
McpttMedia amrWbMedia(McpttMedia base, const AmrWbParams& p);

sip::SessionDescription buildMcpttSdp(const McpttMedia& m, std::uint64_t session_id,
                                      std::uint64_t version = 1);
// Reads the speech and floor lines of a received SDP. Errors: no_audio, several_audio,
// no_rtpmap (dynamic payload type without rtpmap), bad_fmtp, key_mgmt_bad_base64 /
// key_mgmt_empty (an a=key-mgmt:mikey that does not decode; other protocol ids are ignored).
Result<McpttMedia> readMcpttSdp(const sip::SessionDescription& sdp);
// The answer to `offer` given what we support (`ours`: our address, ports, encoding):
// codec_mismatch when the offer lacks our encoding (answer 488), the offer's payload type
// otherwise; floor line only if offered and we do floor control; RTP/SAVP only if offered and
// `ours` protects the call (RFC 3264 §6: the answer keeps the offer's transport); never a
// key-mgmt (a MIKEY-SAKKE I_MESSAGE has no response message, 33.180 E.3: V = 0).
Result<McpttMedia> answerMedia(const McpttMedia& offer, const McpttMedia& ours);

std::string formatFloorFmtp(const FloorParams& p);
Result<FloorParams> parseFloorFmtp(std::string_view value);  // value after "a=fmtp:"

}  // namespace iwf::mc::mcptt
