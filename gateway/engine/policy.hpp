#pragma once
// E2EE policy of an interworking group (docs/engine.md "Policy rules"). Pure: the caller
// passes the group's configuration and the CryptoSync read from the stream (CallSetup crypto
// from HDU / ISSI header word / PI header, else the first voice frame's), never a grant flag.

#include <string_view>

#include "common/crypto.hpp"
#include "gateway/engine/directory.hpp"

namespace iwf::gateway::engine {

struct PolicyVerdict {
    bool allowed = true;
    std::string_view reason;  // static snake_case reason when refused ("" when allowed)
};

// secure: encrypted, same family, ALGID and key ID as configured;
// clear:  not encrypted;
// mixed:  anything (the call is marked clear or encrypted).
PolicyVerdict checkGroupPolicy(const GroupInfo& group, const CryptoSync& stream);

// Private calls: clear always passes; encrypted needs every LMR-identified party allowed to
// use E2EE (keymap user profile).
PolicyVerdict checkPrivatePolicy(bool e2ee_allowed, const CryptoSync& stream);

// A sync point for a receiver that joins mid-stream: a clear frame is one anywhere; an
// encrypted frame only at a superframe start (P25: frame 0, after the LDU2 that carried its MI;
// DMR: burst A, after the PI header / previous superframe) with a message indicator present.
bool isSyncPoint(const CryptoSync& crypto, std::uint8_t frame_index);

}  // namespace iwf::gateway::engine
