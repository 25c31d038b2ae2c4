#pragma once
// mcptt-info XML (TS 24.379 Annex F.1; content type application/vnd.3gpp.mcptt-info+xml, root
// <mcpttinfo xmlns="urn:3gpp:ns:mcpttInfo:1.0"> -> <mcptt-Params>). Identity and indicator
// elements use the schema's contentType: attribute type="Normal" and a <mcpttURI>,
// <mcpttString> or <mcpttBoolean> child. session-type and broadcast-ind are plain values.
// Elements with type="Encrypted" (signalling protection, 33.180) are reported but not read:
// the IWF holds no signalling keys of the MC system.

#include <optional>
#include <string>
#include <string_view>

#include "common/result.hpp"
#include "mc_adapters/mcptt/encryption.hpp"

namespace iwf::mc::mcptt {

inline constexpr std::string_view kMcpttInfoNs = "urn:3gpp:ns:mcpttInfo:1.0";
inline constexpr std::string_view kMcpttInfoContentType = "application/vnd.3gpp.mcptt-info+xml";

struct McpttInfo {
    std::string session_type;            // "prearranged", "chat", "private", ...; empty = absent
    std::string request_uri;             // mcptt-request-uri
    std::string calling_user_id;         // mcptt-calling-user-id
    std::string called_party_id;         // mcptt-called-party-id
    std::string calling_group_id;        // mcptt-calling-group-id
    std::optional<bool> emergency;       // emergency-ind
    std::optional<bool> alert;           // alert-ind
    std::optional<bool> imminent_peril;  // imminentperil-ind
    std::optional<bool> broadcast;       // broadcast-ind
    std::string client_id;               // mcptt-client-id
    std::string originated_by;           // originated-by
    std::string floor_state;             // floor-state
    std::string associated_group_id;     // associated-group-id
    // anyExt
    std::string functional_alias;                  // functional-alias-URI
    std::string called_functional_alias;           // called-functional-alias-URI
    std::string release_reason;                    // release-reason
    std::optional<EncryptionInfo> lmr_encryption;  // IWF extension (encryption.hpp)
    int encrypted_elements = 0;  // elements seen with type="Encrypted" (not readable)

    bool operator==(const McpttInfo&) const = default;
};

std::string buildMcpttInfo(const McpttInfo& info);

// The body of an affiliation PUBLISH (TS 24.379 9.2.1; application/pidf+xml, RFC 3863, with
// the MCPTT presence extension urn:3gpp:ns:mcpttPresInfo:1.0): <presence entity> with one
// <tuple id> whose <status> holds <affiliation group> (none when `group` is empty: a
// de-affiliation), then <p-id> as a child of <presence> after the tuple, where independent
// stacks put it (MCOP's affiliation builder; tests/data/xsd/mcpttPresInfo.xsd).
std::string buildAffiliationPidf(const std::string& entity, const std::string& group,
                                 const std::string& tuple_id, const std::string& p_id);
Result<McpttInfo> parseMcpttInfo(std::string_view xml);

}  // namespace iwf::mc::mcptt
