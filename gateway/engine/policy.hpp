#pragma once
// The E2EE policy: the one place that decides whether a stream may cross the gateway in a call
// (docs/engine.md "E2EE policy", whose decision table tests/unit/engine/policy_test.cpp runs
// row by row and tests/unit/engine/docs_test.cpp keeps equal to the document). Pure: the
// caller passes the call's configuration and the CryptoSync read from the stream itself
// (CallSetup crypto from HDU / ISSI header word / PI header, else the frame's), never a grant
// flag. The keymap has no rule of its own: it states a group's mode, family, ALGID and key ID
// (GroupInfo), this decides.

#include <cstdint>
#include <string_view>

#include "common/crypto.hpp"
#include "gateway/engine/directory.hpp"

namespace iwf::gateway::engine {

enum class PolicyOutcome : std::uint8_t {
    Accept = 0,
    Refuse,  // the reason says why
    Wait,    // encrypted, ALGID / key ID not known yet: decide on the first frame stating them
};
std::string_view toString(PolicyOutcome o);

struct PolicyVerdict {
    PolicyOutcome outcome = PolicyOutcome::Accept;
    std::string_view reason;  // static snake_case reason when refused ("" otherwise)
    bool allowed() const { return outcome == PolicyOutcome::Accept; }
    bool refused() const { return outcome == PolicyOutcome::Refuse; }
};

// A stream in an interworking group (`group.crypto`: the group's family and, in secure and
// mixed mode, the ALGID and key ID it requires):
//   clear   clear streams only                        (encrypted_in_clear_group)
//   secure  encrypted only, with the group's family, ALGID and key ID
//           (clear_in_secure_group, family_mismatch, algid_mismatch, key_id_mismatch)
//   mixed   clear streams, and encrypted ones exactly as in secure mode: mixed relaxes "must be
//           encrypted", never "with what" (an algorithm or key the group does not name is
//           refused as in secure mode).
// The family of a clear stream is not an E2EE question (the codec, negotiated per call, is).
PolicyVerdict checkGroupPolicy(const GroupInfo& group, const CryptoSync& stream);

// A private call: clear always passes; an encrypted stream (any ALGID and key ID: a private
// call has no group configuration) needs every LMR-identified party allowed to use E2EE
// (keymap user profile), else e2ee_not_authorised.
PolicyVerdict checkPrivatePolicy(bool e2ee_allowed, const CryptoSync& stream);

// A sync point for a receiver that joins mid-stream: a clear frame is one anywhere; an
// encrypted frame only at a superframe start (P25: frame 0, after the LDU2 that carried its MI;
// DMR: burst A, after the PI header / previous superframe) with a message indicator present.
bool isSyncPoint(const CryptoSync& crypto, std::uint8_t frame_index);

}  // namespace iwf::gateway::engine
