#pragma once
// A provisioned-keys file for the IWF-1 link's media protection (media_protection.key_file):
// the GMKs of groups and the CSK, each as a MIKEY-SAKKE I_MESSAGE would have delivered it
// (key, key ID, CSB ID, RAND, profile), for deployments and tests where no GMS / KMS path
// delivers keys to iwfd yet (issue #20). The file holds secrets: it must be a regular file
// that only its owner may read or write (mode 0600 or 0400; group / other bits refused), it is
// read once when the config is loaded and the keys live only in iwfd's memory afterwards.
//
// One key per line; '#' starts a comment; fields separated by blanks; hex without 0x:
//   gmk <group URI> <GMK, 32 hex> <GMK-ID, 8 hex> <GUK-ID, 8 hex> <RAND, 32 hex> [<profile>]
//   csk <CSK, 32 hex> <CSK-ID, 8 hex> <RAND, 32 hex> [<profile>]
// profile: gcm-rcc (AEAD_AES_128_GCM with RCCm3: the 33.180 default group profile, and the
// default here), gcm (AEAD_AES_128_GCM), aes-cm (AES_CM_128_HMAC_SHA1_80). The key IDs must
// carry their purpose tag (33.180 §5.2.2: GMK 0, CSK 2 in the top 4 bits).

#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "common/result.hpp"
#include "mc_adapters/security/mikey_sakke.hpp"

namespace iwf::mc::security {

struct ProvisionedKeys {
    std::vector<std::pair<std::string, DistributedKey>> gmks;  // group URI -> GMK, file order
    std::optional<DistributedKey> csk;
};

struct KeyFileError {
    int line = 0;  // 0: the file itself (missing, mode)
    std::string message;
};

// Reads and checks `path`; on failure the error names the line and what is wrong.
std::variant<ProvisionedKeys, KeyFileError> loadKeyFile(const std::string& path);

// A one-line secret (the KMS access token of media_protection.mikey.token_file): the same
// owner-only mode check as a key file; surrounding blanks and the line end dropped; empty or
// over 4 kB refused.
std::variant<std::string, KeyFileError> loadSecretFile(const std::string& path);

}  // namespace iwf::mc::security
