#include "gateway/engine/policy.hpp"

namespace iwf::gateway::engine {

PolicyVerdict checkGroupPolicy(const GroupInfo& group, const CryptoSync& stream) {
    switch (group.mode) {
        case E2eeMode::Mixed:
            return {};
        case E2eeMode::Clear:
            if (stream.encrypted) {
                return {false, "encrypted_in_clear_group"};
            }
            return {};
        case E2eeMode::Secure:
            if (!stream.encrypted) {
                return {false, "clear_in_secure_group"};
            }
            if (stream.family != group.crypto.family) {
                return {false, "family_mismatch"};
            }
            if (stream.algid != group.crypto.algid) {
                return {false, "algid_mismatch"};
            }
            if (stream.key_id != group.crypto.key_id) {
                return {false, "key_id_mismatch"};
            }
            return {};
    }
    return {false, "unknown_mode"};
}

PolicyVerdict checkPrivatePolicy(bool e2ee_allowed, const CryptoSync& stream) {
    if (stream.encrypted && !e2ee_allowed) {
        return {false, "e2ee_not_authorised"};
    }
    return {};
}

bool isSyncPoint(const CryptoSync& crypto, std::uint8_t frame_index) {
    if (!crypto.encrypted) {
        return true;
    }
    return frame_index == 0 && !crypto.mi.empty();
}

}  // namespace iwf::gateway::engine
