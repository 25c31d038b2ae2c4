#pragma once
// Streamwide sw_mikey_sakke's published v5 vectors (tests/data/mc_security/streamwide_v5.vec,
// README.md there): their KMS certificate, their users' key sets, the time of their messages.
#include <cstdint>
#include <string>

#include "mc_adapters/security/mikey_sakke.hpp"
#include "tests/unit/mc_security/vectors.hpp"

namespace iwf::mc::security::test {

inline const Vectors& sw() {
    static const Vectors v("streamwide_v5.vec");
    return v;
}

// The T payload of all three messages: 0xec898da8 seconds since 1900 (2025-10-02), in key
// period 236 of 16777215 seconds.
inline constexpr std::uint64_t kSwNow = 0xec898da8ULL;

inline KmsCertificate swKms() {
    KmsCertificate c;
    c.kms_uri = "kms.mydev.streamwide.com";
    c.z = sw()["Z"];
    c.kpak = sw()["KPAK"];
    c.user_key_period = 16777215;
    c.user_key_offset = 0;
    return c;
}

inline MikeyIdentity swUser(const std::string& uri, const std::string& who) {
    MikeyIdentity id;
    id.user_uri = uri;
    id.kms = swKms();
    id.keys.user_uri = uri;
    id.keys.uid = sw()[who + "_uid"];
    id.keys.key_period_no = 236;
    id.keys.rsk = sw()[who + "_rsk"];
    id.keys.signing = EccsiSigningKey{sw()[who + "_ssk"], sw()[who + "_pvt"]};
    return id;
}

inline KmsDirectory swDirectory() {
    return {{"kms.mydev.streamwide.com", swKms()}};
}

}  // namespace iwf::mc::security::test
