#pragma once
// Interworking Security Data message (TS 29.379 clause 14; stage 2: TS 23.283 10.12 "LMR
// security transport"): a SIP MESSAGE that carries an opaque LMR key-management payload
// (P25 KMM/OTAR, TETRA E2EE key management, ...) between the IWF and an LMR-aware MC client,
// both directions. The gateway never looks inside the payload.
//
// IWF-originated request (29.379 14.1.1, shared/research/specs.md b3):
//   Request-URI = terminating participating function of the target
//   Accept-Contact: *;+g.3gpp.mcptt;require;explicit
//   Accept-Contact: *;+g.3gpp.icsi-ref="urn%3Aurn-7%3A3gpp-service.ims.icsi.mcptt";require;explicit
//   P-Asserted-Service: urn:urn-7:3gpp-service.ims.icsi.mcptt
//   P-Asserted-Identity: <IWF PSI>
//   body: multipart/mixed of application/vnd.3gpp.mcptt-info+xml (mcptt-request-uri = the
//   target's MCPTT ID) and application/vnd.3gpp.interworking-data (the payload).
// The payload coding of 29.379 14.2.1 was not available to us: the interworking-data part is
// the opaque payload octets themselves (docs/protocols/iwf-2-mcdata.md, "Security messages").

#include <optional>
#include <string>
#include <string_view>

#include "common/bytes.hpp"
#include "common/result.hpp"
#include "sip/message.hpp"

namespace iwf::mc::security {

inline constexpr std::string_view kInterworkingDataContentType =
    "application/vnd.3gpp.interworking-data";
inline constexpr std::string_view kMcpttInfoContentType = "application/vnd.3gpp.mcptt-info+xml";
inline constexpr std::string_view kMcpttIcsi = "urn:urn-7:3gpp-service.ims.icsi.mcptt";

struct SecurityRequest {
    std::string request_uri;  // where the MESSAGE goes (participating function of the target)
    std::string from_uri;     // the sender (IWF PSI or the LMR user's MC ID homed in the IWF)
    std::string target_id;    // MCPTT ID of the target (mcptt-request-uri)
    std::string iwf_psi;      // P-Asserted-Identity
    Bytes payload;            // opaque LMR key-management message
};

// Builds the SIP MESSAGE (without Via/CSeq/Call-ID/tags: the caller or the stack adds them).
sip::Message buildSecurityMessage(const SecurityRequest& r);

struct ReceivedSecurityMessage {
    std::string sender;     // P-Asserted-Identity, else From
    std::string target_id;  // mcptt-request-uri, else the Request-URI
    Bytes payload;
};
// Reads a received MESSAGE. Fails with "no_interworking_data" when it carries none,
// "bad_mcptt_info" when the XML part does not parse.
Result<ReceivedSecurityMessage> parseSecurityMessage(const sip::Message& m);

// mcptt-info XML with mcptt-request-uri (and mcptt-calling-user-id when given).
std::string mcpttInfoXml(std::string_view request_uri, std::string_view calling_user = {});
// The mcptt-request-uri of an mcptt-info document (empty if absent), nullopt if not XML.
std::optional<std::string> mcpttRequestUri(std::string_view xml);

}  // namespace iwf::mc::security
