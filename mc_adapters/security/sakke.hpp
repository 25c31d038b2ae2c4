#pragma once
// SAKKE: Sakai-Kasahara Key Encryption, RFC 6508, with the MIKEY-SAKKE parameter set 1 of
// RFC 6509 Appendix A (the only set 3GPP uses: TS 33.180 Annex E, "SAKKE payload ... parameter
// set 1"): the supersingular curve E: y^2 = x^3 - 3x over F_p, p a 1024-bit prime = 3 mod 4,
// a subgroup of prime order q with p + 1 = 4q, the Tate-Lichtenbaum pairing of RFC 6508 §3.2
// (written here from the RFC's description: Miller's loop over the bits of q - 1 with the
// distortion map (x, y) -> (-x, iy), then the power (p + 1)/q in PF_p[q]), and
// SHA-256 as the hash. n = 128: the shared secret value (SSV) is 16 octets.
//
// Encodings (RFC 6508 §4): a point is 0x04 || x || y with 128-octet coordinates (257 octets);
// the Encapsulated Data are R_(b,S) || H, 257 + 16 = 273 octets; an element of PF_p is
// represented by one 128-octet element of F_p.
//
// Constant time (docs/protocols/mc-security.md §9): the RSK, the pairing value, the SSV, r,
// [r]([b]P + Z) and g^r are computed on fixed-width, branch-free F_p arithmetic
// (ct_field.hpp, sakke_arith.hpp); only public values (R_(b,S), [b]P + Z and the Miller loop's
// multiples of R) use OpenSSL bignums. Checked by the ctest ct_mc_security under valgrind:
// no branch and no memory index depends on the RSK (receiver) or the SSV (sender).

#include "common/bytes.hpp"
#include "common/result.hpp"

namespace iwf::mc::security {

inline constexpr std::size_t kSakkeFieldLen = 128;                     // octets of F_p
inline constexpr std::size_t kSakkePointLen = 1 + 2 * kSakkeFieldLen;  // 257
inline constexpr std::size_t kSakkeSsvLen = 16;                        // n = 128 bits
inline constexpr std::size_t kSakkeEncapsulatedLen = kSakkePointLen + kSakkeSsvLen;  // 273

// Sender (RFC 6508 §6.2.1): encapsulates `ssv` (16 octets) to identifier `b` under the KMS
// public key Z (257 octets). Deterministic in (ssv, b): r is derived from them.
Result<Bytes> sakkeEncapsulate(ByteView kms_public_z, ByteView b, ByteView ssv);

// Receiver (RFC 6508 §6.2.2): recovers the SSV with the Receiver Secret Key (257 octets) and
// checks it (step 5). "sakke_bad_format" for a malformed encapsulation,
// "sakke_check_failed" when R_(b,S) does not match the recovered SSV (wrong RSK or tampering).
Result<Bytes> sakkeDecapsulate(ByteView kms_public_z, ByteView b, ByteView rsk,
                               ByteView encapsulated);

// Validates an RSK received from the KMS (RFC 6508 §6.1.2): < [b]P + Z, K_(b,S) > = g.
Status sakkeValidateRsk(ByteView kms_public_z, ByteView b, ByteView rsk);

// The pairing < R, Q > of two encoded points, represented as an element of F_p (128 octets).
Result<Bytes> sakkePairing(ByteView r, ByteView q);
// g of parameter set 1, the value the pairing of P with itself must give (RFC 6509 App. A).
Bytes sakkeG();

// HashToIntegerRange( s, n, SHA-256 ) of RFC 6508 §5.1, returned as `width` big-endian octets.
Result<Bytes> sakkeHashToIntegerRange(ByteView s, ByteView n, std::size_t width);

// KMS side, for the harness KMS simulator and the tests (RFC 6508 §6.1.1, §2.2):
// Z = [z]P and K_(a) = [(a + z)^-1]P.
Result<Bytes> sakkeKmsPublicKey(ByteView z);
Result<Bytes> sakkeIssueRsk(ByteView z, ByteView a);

}  // namespace iwf::mc::security
