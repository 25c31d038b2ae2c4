#pragma once
// The arithmetic under SAKKE (sakke.cpp): parameter set 1 of RFC 6509 Appendix A, F_p^2 and
// the points of E: y^2 = x^3 - 3x over F_p, all on the constant-time field (ct_field.hpp)
// wherever a value may be secret: the RSK and everything the pairing derives from it on the
// receiver, r and g^r on the sender. Public values (R_(b,S), [b]P + Z, the Miller loop's
// multiples of R) stay on OpenSSL bignums and EC points.

#include <memory>

#include "common/bytes.hpp"
#include "mc_adapters/security/ct_field.hpp"
#include "mc_adapters/security/modular.hpp"
#include "mc_adapters/security/ossl.hpp"

namespace iwf::mc::security::sakke_detail {

inline constexpr std::size_t kFieldLen = 128;  // octets of F_p

struct Params {
    BnPtr p, q, g, q_minus_1;
    EcGroupPtr group;
    std::unique_ptr<PrimeField> fq;  // public / KMS-side values modulo q
    std::unique_ptr<CtField> fp_ct;  // secret values in F_p
    std::unique_ptr<CtField> fq_ct;  // secret values modulo q (r)
    CtFe curve_a;                    // a = -3 (Montgomery form of p - 3)
    CtFe g_ct;                       // g of the parameter set
    bool ok = false;

    Params();
};
const Params& params();

// a + b·i of F_p^2 = F_p[i]/(i^2 + 1) (-1 is a non-residue since p = 3 mod 4).
struct Fp2 {
    CtFe a, b;
};
void fp2Mul(Fp2& out, const Fp2& x, const Fp2& y);  // out may alias x or y
void fp2Sqr(Fp2& out, const Fp2& x);
void fp2Wipe(Fp2& x);

// A point in homogeneous projective coordinates (X : Y : Z); (0 : 1 : 0) is infinity.
struct CtPoint {
    CtFe x, y, z;
};
void ctPointWipe(CtPoint& p);

// 0x04 || x || y of a secret point (the RSK). The length and the leading octet are format,
// public; returns a mask: all ones if x < p, y < p and y^2 = x^3 - 3x. The RSK is never the
// point at infinity (that has no such encoding).
CtLimb ctDecodePoint(CtPoint& out, ByteView v);
// A public EC point -> CtPoint (false: infinity or an allocation failure).
bool ctPointOf(CtPoint& out, const EC_POINT* p, BN_CTX* ctx);
// out = a + b with the complete formulas of Renes, Costello, Batina, "Complete addition
// formulas for prime order elliptic curves" (2016), Algorithm 1, for a = -3 and b = 0: no
// exceptional case for points of odd order (all here lie in the subgroup of prime order q),
// so doubling and infinity need no branch.
void ctPointAdd(CtPoint& out, const CtPoint& a, const CtPoint& b);
// Bit i of the big-endian k (bit 0 the most significant) as a mask, for the ladders over
// every bit of a secret scalar.
CtLimb ctBitMask(ByteView k, std::size_t i);
// [k]base with k big-endian: double and add always over every bit of k, the sum kept or not
// by a mask.
void ctScalarMul(CtPoint& out, const CtPoint& base, ByteView k);
// Mask: a equals the affine point (x, y) (a not at infinity).
CtLimb ctPointEqualsAffine(const CtPoint& a, const CtFe& x, const CtFe& y);
// Affine coordinates as 0x04 || x || y (the caller made sure a is not at infinity).
void ctPointEncode(MutableByteView out, const CtPoint& a);

}  // namespace iwf::mc::security::sakke_detail
