#pragma once
// The one place that encodes TS 23.283's "Encryption mode" and "Encryption Algorithm"
// information elements on IWF-1 (research digest open question d2: 29.379 gives no wire
// encoding we could find, and the 24.379 mcptt-info schema has no IWF element).
//
// Choice (docs/protocols/iwf-1.md §"Encryption mode / algorithm"): an extension element in
// mcptt-info's <anyExt>, in our own namespace, so a 3GPP receiver ignores it (anyExt is
// processContents="lax"):
//
//   <anyExt>
//     <lmr-encryption xmlns="urn:openiwf:params:xml:ns:lmr-encryption:1">
//       <mode>e2ee</mode>                   <!-- "e2ee" | "clear" (Encryption mode, M) -->
//       <algorithm>0x84</algorithm>         <!-- LMR ALGID, hex (Encryption Algorithm, O) -->
//       <family>p25</family>                <!-- LMR family the ALGID belongs to -->
//     </lmr-encryption>                     <!-- <algorithm>media-stream</algorithm> = the
//   </anyExt>                                    algorithm is signalled in the media stream -->
//
// To change the encoding, change only encryption.cpp (and the protocol note).

#include <cstdint>
#include <optional>
#include <string_view>

#include <pugixml.hpp>

#include "common/crypto.hpp"
#include "common/ids.hpp"
#include "common/result.hpp"

namespace iwf::mc::mcptt {

inline constexpr std::string_view kLmrEncryptionNs = "urn:openiwf:params:xml:ns:lmr-encryption:1";

struct EncryptionInfo {
    bool e2ee = false;                       // Encryption mode
    std::optional<std::uint16_t> algorithm;  // Encryption Algorithm; nullopt = not given
    bool algorithm_in_media = false;         // "determined from the media stream"
    LmrFamily family = LmrFamily::P25;
    bool operator==(const EncryptionInfo&) const = default;
};

// From what an LMR call setup says about its crypto (nullopt crypto: mode from policy only).
EncryptionInfo encryptionFromCrypto(const std::optional<CryptoSync>& crypto, bool e2ee_policy);

// Appends the element to an <anyExt> node.
void appendEncryption(pugi::xml_node any_ext, const EncryptionInfo& info);
// Reads it from an <anyExt> node: nullopt if absent, an Error if present but malformed.
std::optional<Result<EncryptionInfo>> readEncryption(pugi::xml_node any_ext);

}  // namespace iwf::mc::mcptt
