#pragma once
// TS 24.481 group key transport payloads (GKTPs): how a GMK's MIKEY-SAKKE I_MESSAGE (TS 33.180
// §5.7, E.2) reaches a group member in the group document (docs/protocols/mc-security.md
// §12b). The document is the OMA / 24.481 group document (`application/vnd.oma.poc.groups+xml`,
// root <group>, one <list-service uri="GROUP">); the keys are in its <list-service> child
//
//   <mgktp:GKTPs xmlns:mgktp="urn:3gpp:ns:mcpttGKTP:1.0">
//     <mgktp:GMK-GKTPs>
//       <mgktp:GKTP id="MEMBER" activationtime="...">HEX OF THE I_MESSAGE</mgktp:GKTP>
//       <mgktp:on-network-regrouped-GKTPs temporary-MCPTT-group-ID="TEMP GROUP">
//         <mgktp:GKTP id="MEMBER">...</mgktp:GKTP>
//       </mgktp:on-network-regrouped-GKTPs>
//     </mgktp:GMK-GKTPs>
//     <mgktp:MKFC-GKTPs>...</mgktp:MKFC-GKTPs>           (MBMS floor keys: not read)
//   </mgktp:GKTPs>
//
// (TS 24.481 V18.3.0 schema of urn:3gpp:ns:mcpttGKTP:1.0: GKTP is xs:hexBinary with a
// required `id` and an optional `activationtime` xs:dateTime.) Only the GKTPs whose `id` is
// the reader's own MC identity are returned [I: `id` names the member the payload is
// encrypted to]; the others are not decoded, so a document for a thousand members costs no
// ECCSI work for the 999 that are not us.
//
// A codec: no logging, no sockets, no clock; every refusal is a fixed reason.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.hpp"
#include "common/result.hpp"

namespace iwf::mc::mcptt {

inline constexpr std::string_view kGroupDocumentContentType = "application/vnd.oma.poc.groups+xml";
inline constexpr std::string_view kGktpNamespace = "urn:3gpp:ns:mcpttGKTP:1.0";
// At most this many GKTPs for one member in one document (a GMK rollover announces a few).
inline constexpr std::size_t kMaxGktpsPerMember = 16;
// A MIKEY-SAKKE I_MESSAGE is about 600 octets (SAKKE data 273, signature 129); 4 kB bounds it.
inline constexpr std::size_t kMaxGktpOctets = 4096;

struct GroupKeyTransport {
    std::string group;            // list-service@uri, or temporary-MCPTT-group-ID (regroup)
    std::string activation_time;  // the attribute as written (unsigned: informational only)
    Bytes i_message;              // the MIKEY-SAKKE I_MESSAGE
};

// The GMK GKTPs of `member` in a group document, in document order. Errors: gktp_bad_xml,
// gktp_no_group (no <list-service uri>), gktp_bad_hex, gktp_too_large, gktp_too_many. A
// document without GKTPs for `member` gives an empty list.
Result<std::vector<GroupKeyTransport>> parseGroupKeyTransports(std::string_view document,
                                                               std::string_view member);

}  // namespace iwf::mc::mcptt
