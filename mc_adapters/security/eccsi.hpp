#pragma once
// ECCSI: Elliptic Curve-Based Certificateless Signatures for Identity-Based Encryption,
// RFC 6507, on NIST P-256 with SHA-256 (the choice MIKEY-SAKKE makes: RFC 6509 §3.3 and
// TS 33.180 Annex E, "SIGN payload ... ECCSI"), on OpenSSL 3's EC primitives.
//
// Values (RFC 6507 §2.2, §3): the KMS Public Authentication Key KPAK and the Public
// Validation Token PVT are points encoded 0x04 || x || y (65 octets); the Secret Signing Key
// SSK is an integer in F_q* (32 octets); a Signature is r || s || PVT (32 + 32 + 65 = 129
// octets, §3.3).
//
// Constant time: signing keeps the SSK, j, t and s' on the branch-free field of ct_field.hpp
// (t = HE + r·SSK, the Fermat inverse of t, s' = t^-1·j); [j]G goes through OpenSSL's
// constant-time P-256 generator multiplication. The ctest ct_mc_security (valgrind, the SSK
// marked secret) finds no secret-dependent branch or index: docs/protocols/mc-security.md §9.

#include <optional>

#include "common/bytes.hpp"
#include "common/result.hpp"

namespace iwf::mc::security {

inline constexpr std::size_t kEccsiN = 32;              // octets of a P-256 field element
inline constexpr std::size_t kEccsiPointLen = 65;       // 0x04 || x || y
inline constexpr std::size_t kEccsiSignatureLen = 129;  // r || s || PVT (RFC 6507 §3.3)

// What a signer holds, as issued by its KMS (RFC 6507 §5.1.1): SSK secret, PVT public.
struct EccsiSigningKey {
    Bytes ssk;  // 32 octets, secret
    Bytes pvt;  // 65 octets
};

// HS = hash( G || KPAK || ID || PVT ) (RFC 6507 §5.1.1 step 3, §5.2.2 step 2).
Result<Bytes> eccsiHs(ByteView kpak, ByteView id, ByteView pvt);

// Validates a key pair received from the KMS (RFC 6507 §5.1.2): PVT on the curve and
// KPAK = [SSK]G - [HS]PVT. "eccsi_key_invalid" otherwise.
Status eccsiValidateSigningKey(ByteView kpak, ByteView id, const EccsiSigningKey& key);

// Signs (RFC 6507 §5.2.1). `j_for_test` replaces the random ephemeral value (the RFC's test
// vector fixes j); production callers leave it empty and j comes from RAND_priv_bytes.
Result<Bytes> eccsiSign(ByteView kpak, ByteView id, const EccsiSigningKey& key, ByteView message,
                        std::optional<ByteView> j_for_test = std::nullopt);

// Verifies (RFC 6507 §5.2.2). "eccsi_bad_signature" when it does not verify,
// "eccsi_bad_format" when the signature is not r || s || PVT.
Status eccsiVerify(ByteView kpak, ByteView id, ByteView message, ByteView signature);

// KMS side, for the harness KMS simulator and the tests (RFC 6507 §5.1.1, §4.2):
// KPAK = [KSAK]G, and a signing key for ID with the ephemeral v.
Result<Bytes> eccsiKpakFromKsak(ByteView ksak);
Result<EccsiSigningKey> eccsiIssueSigningKey(ByteView ksak, ByteView id, ByteView v);

}  // namespace iwf::mc::security
