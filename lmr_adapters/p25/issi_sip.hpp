#pragma once
// ISSI SIP bodies for a group call (TIA-102.BACA; NIST p25-wireline p25body, CallParam,
// ISSIConstants; shared/research/lmr.md §1.4) and the pieces of SIP text an RFSS needs:
//
// - SDP offer/answer: one audio stream, RTP/AVP, payload type 100 "X-TIA-P25-IMBE/8000"
//   (as in every NIST capture), connection address and port.
// - application/x-tia-p25-issi call parameters: "name:value" lines, long or compact names
//   (c-initrans/c-i, c-resavail/c-r, c-pref/c-prf, c-duplex/c-d, c-incallroaming/c-icr,
//   c-groupcalltype/c-gct, c-protected/c-p, c-consoletransmitrequestpriority/c-ctxrp); other
//   names are kept as given (BACA-B lists more).
// - multipart/mixed with both parts (RFC 2046 §5.1.1).
// - ISSI SIP identities: sip:<wacn(5 hex)><system(3 hex)><group(4 hex)>@p25dr;user=TIA-P25-SG
//   and <rfss>.<system>.<wacn>.p25dr RFSS domains.
//
// Pure: parses text, builds text; no sockets.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/ids.hpp"
#include "common/result.hpp"

namespace iwf::lmr::p25 {

inline constexpr std::string_view kIssiContentType = "application/x-tia-p25-issi";
inline constexpr std::string_view kIssiRtpMap = "X-TIA-P25-IMBE/8000";
// The multipart boundary NIST's RFSS writes (ISSIConstants.BODY_BOUNDARY) and the only one it
// reads: p25body/ContentList.createContentList splits a multipart body at
// "--P25 ISSI body boundary" whatever the Content-Type's boundary parameter says, so a body
// with any other boundary is unreadable to it (docs/protocols/peers.md "ISSI RFSS").
inline constexpr std::string_view kIssiBodyBoundary = "P25 ISSI body boundary";

struct IssiSdp {
    std::string address;  // c= IPv4 address
    std::uint16_t port = 0;
    std::vector<std::uint8_t> payload_types;
    std::optional<std::uint8_t> imbe_pt;  // the PT whose rtpmap is X-TIA-P25-IMBE (any case)
    std::string session_name = "TIA-P25-Groupcall";
    std::uint64_t session_id = 0;
};
// Errors: "sdp_no_connection", "sdp_no_audio", "sdp_bad_port", "sdp_bad_line".
Result<IssiSdp> parseIssiSdp(std::string_view text);
std::string buildIssiSdp(const IssiSdp& sdp);

struct IssiCallParams {
    std::optional<bool> initial_transmitter;   // c-initrans (value inverted on the wire, NIST)
    std::optional<bool> resource_available;    // c-resavail
    std::optional<bool> availability_check;    // c-pref
    std::optional<bool> full_duplex;           // c-duplex
    std::optional<bool> incall_roaming;        // c-incallroaming
    std::optional<bool> confirmed_group_call;  // c-groupcalltype
    std::optional<bool> protected_mode;        // c-protected: the call is encrypted
    std::optional<int> console_priority;       // c-consoletransmitrequestpriority
    std::map<std::string, std::string> other;  // any other "name:value" line
    bool operator==(const IssiCallParams&) const = default;
};
// Errors: "param_bad_line", "param_bad_value".
Result<IssiCallParams> parseIssiCallParams(std::string_view text);
std::string buildIssiCallParams(const IssiCallParams& p);

struct BodyPart {
    std::string content_type;
    std::string body;
};
// Splits a multipart body given the full Content-Type header value (boundary parameter).
// Errors: "multipart_no_boundary", "multipart_bad_body".
Result<std::vector<BodyPart>> parseMultipart(std::string_view content_type, std::string_view body);
// Builds a multipart/mixed body; returns the body and sets content_type_out (the boundary
// parameter quoted when it is not an RFC 2045 token, e.g. kIssiBodyBoundary's spaces).
std::string buildMultipart(const std::vector<BodyPart>& parts, std::string_view boundary,
                           std::string& content_type_out);

// The SDP and call parameters of an ISSI INVITE/200 body (plain SDP, plain params or
// multipart with either or both).
struct IssiBody {
    std::optional<IssiSdp> sdp;
    std::optional<IssiCallParams> params;
};
Result<IssiBody> parseIssiBody(std::string_view content_type, std::string_view body);

// sip:bee07ad50333@p25dr;user=TIA-P25-SG  <->  P25Group{0xBEE07, 0xAD5, 0x0333}
std::string issiGroupUri(const P25Group& g);
std::optional<P25Group> parseIssiGroupUri(std::string_view uri);
// "03.ad5.bee07.p25dr"
std::string issiRfssDomain(std::uint8_t rfss, const P25System& sys);

}  // namespace iwf::lmr::p25
