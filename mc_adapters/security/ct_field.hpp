#pragma once
// Fixed-width, branch-free arithmetic modulo an odd public modulus m of at most 1024 bits, for
// values that are secret (the SAKKE RSK and everything derived from it, the ECCSI SSK).
//
// Why not OpenSSL: BN_mod_add_quick / BN_mod_sub_quick compare their operands (BN_ucmp) and
// branch, BN_mod_mul_montgomery trims the result's word count (bn_correct_top) by its value,
// BN_bin2bn skips leading zero octets, BN_nnmod divides with value-dependent loops; the fixed
// width variants (bn_mod_add_fixed_top, bn_mul_mont_fixed_top) are internal to libcrypto in
// OpenSSL 3.0. valgrind flagged each of these (docs/protocols/mc-security.md section 9).
//
// Here an element is always n = ceil(bits(m) / 64) 64-bit limbs, little-endian, kept in
// Montgomery form (a·R mod m, R = 2^(64n)). Every loop runs over the n limbs or over the bits
// of a public exponent; results are chosen with masks, never with a branch or a table index
// that depends on a value. The only branches are on n and on public exponents.
//
// Checked with valgrind memcheck (scripts/ct-check-mc-security): no conditional jump or
// memory index depends on a value marked secret.

#include <array>
#include <cstdint>

#include "common/bytes.hpp"
#include "mc_adapters/security/ossl.hpp"

namespace iwf::mc::security {

using CtLimb = std::uint64_t;
inline constexpr std::size_t kCtMaxLimbs = 16;  // 1024 bits: SAKKE's p and q

// An element in Montgomery form. Only the first limbs() of the owning CtField are used.
struct CtFe {
    std::array<CtLimb, kCtMaxLimbs> w{};
};

// Mask helpers: a mask is all ones (true) or zero (false).
CtLimb ctMaskIsZero(CtLimb x);
// The mask made public, for an outcome that is public by design (a signature or an
// encapsulation check passed). Under IWF_CT_CHECK (the valgrind driver) this tells memcheck
// the value is defined: a deliberate declassification, named in the code where it happens.
CtLimb ctDeclassify(CtLimb mask);

class CtField {
  public:
    // The modulus is public; setup runs in variable time. valid() is false if it failed or
    // if m is even or wider than 1024 bits.
    explicit CtField(const BIGNUM* modulus);

    bool valid() const { return ok_; }
    std::size_t limbs() const { return n_; }
    std::size_t octets() const { return 8 * n_; }

    // Big-endian octets (at most octets() of them) -> element. Returns a mask: all ones if the
    // value was < m. A value >= m is still loaded (reduced once), so the caller decides.
    CtLimb load(CtFe& out, ByteView be) const;
    // Any big-endian value of at most 2·octets() octets, reduced mod m.
    void reduce(CtFe& out, ByteView be) const;
    // Element -> exactly out.size() big-endian octets (out.size() >= the modulus' octets,
    // zero-padded on the left).
    void store(MutableByteView out, const CtFe& a) const;
    // A public BIGNUM (a parameter, a point of a public multiple) -> element.
    bool fromBn(CtFe& out, const BIGNUM* public_value) const;

    void zero(CtFe& out) const;
    void one(CtFe& out) const;
    void add(CtFe& out, const CtFe& a, const CtFe& b) const;
    void sub(CtFe& out, const CtFe& a, const CtFe& b) const;
    void mul(CtFe& out, const CtFe& a, const CtFe& b) const;
    void sqr(CtFe& out, const CtFe& a) const { mul(out, a, a); }
    // a^e for a public exponent e (square and multiply over e's bits: the control flow follows
    // e only).
    void powPublic(CtFe& out, const CtFe& a, const BIGNUM* e) const;
    // a^-1 = a^(m-2) (Fermat; m prime). 0 maps to 0.
    void inv(CtFe& out, const CtFe& a) const;

    CtLimb isZero(const CtFe& a) const;
    CtLimb equal(const CtFe& a, const CtFe& b) const;
    // out = mask ? a : b.
    void select(CtFe& out, CtLimb mask, const CtFe& a, const CtFe& b) const;
    void cswap(CtLimb mask, CtFe& a, CtFe& b) const;

  private:
    // Montgomery product a·b·R^-1 mod m of two values < R with a·b < m·R; result < m.
    void montMul(CtLimb* out, const CtLimb* a, const CtLimb* b) const;

    std::size_t n_ = 0;
    CtFe m_;            // the modulus, plain
    CtFe r2_;           // R^2 mod m, plain (loads a value into Montgomery form)
    CtFe r3_;           // R^3 mod m, plain (the upper half in reduce())
    CtFe one_;          // R mod m (1 in Montgomery form)
    CtLimb m0inv_ = 0;  // -m^-1 mod 2^64
    BnPtr m_minus_2_;   // the exponent of inv()
    bool ok_ = false;
};

// Wipes an element (OPENSSL_cleanse).
void ctWipe(CtFe& a);

}  // namespace iwf::mc::security
