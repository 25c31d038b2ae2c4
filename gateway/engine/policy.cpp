#include "gateway/engine/policy.hpp"

namespace iwf::gateway::engine {

namespace {
constexpr PolicyVerdict accept() {
    return {PolicyOutcome::Accept, {}};
}
constexpr PolicyVerdict refuse(std::string_view reason) {
    return {PolicyOutcome::Refuse, reason};
}
constexpr PolicyVerdict wait() {
    return {PolicyOutcome::Wait, {}};
}
}  // namespace

std::string_view toString(PolicyOutcome o) {
    switch (o) {
        case PolicyOutcome::Accept:
            return "accept";
        case PolicyOutcome::Refuse:
            return "refuse";
        case PolicyOutcome::Wait:
            return "wait";
    }
    return "refuse";
}

PolicyVerdict checkGroupPolicy(const GroupInfo& group, const CryptoSync& stream) {
    if (!stream.encrypted) {
        return group.mode == E2eeMode::Secure ? refuse("clear_in_secure_group") : accept();
    }
    switch (group.mode) {
        case E2eeMode::Clear:
            return refuse("encrypted_in_clear_group");  // whatever its algorithm
        case E2eeMode::Secure:
        case E2eeMode::Mixed:
            break;
    }
    if (!stream.parametersKnown()) {
        return wait();
    }
    const CryptoSync& need = group.crypto;
    if (stream.family != need.family) {
        return refuse("family_mismatch");
    }
    if (stream.algid != need.algid) {
        return refuse("algid_mismatch");
    }
    if (stream.key_id != need.key_id) {
        return refuse("key_id_mismatch");
    }
    return accept();
}

PolicyVerdict checkPrivatePolicy(bool e2ee_allowed, const CryptoSync& stream) {
    if (!stream.encrypted) {
        return accept();
    }
    if (!e2ee_allowed) {
        return refuse("e2ee_not_authorised");
    }
    return stream.parametersKnown() ? accept() : wait();
}

bool isSyncPoint(const CryptoSync& crypto, std::uint8_t frame_index) {
    if (!crypto.encrypted) {
        return true;
    }
    return frame_index == 0 && !crypto.mi.empty();
}

}  // namespace iwf::gateway::engine
