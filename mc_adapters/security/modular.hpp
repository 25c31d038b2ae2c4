#pragma once
// Arithmetic modulo an odd prime on OpenSSL bignums: products are Montgomery products,
// inverses Fermat inverses with BN_mod_exp_mont_consttime. NOT branch-free: add / sub /
// reduce compare and trim their operands (BN_mod_add_quick, BN_nnmod, bn_correct_top), which
// valgrind flags for secret operands (docs/protocols/mc-security.md §9). Used for public values
// (hashes, identifiers) and on the KMS side (the harness KMS issuing keys); the IWF's own
// secrets (SSK, RSK, SAKKE's r, ECCSI's j) go through the constant-time ct_field.hpp.

#include <openssl/bn.h>

#include "mc_adapters/security/ossl.hpp"

namespace iwf::mc::security {

struct MontDeleter {
    void operator()(BN_MONT_CTX* m) const { BN_MONT_CTX_free(m); }
};
using MontPtr = std::unique_ptr<BN_MONT_CTX, MontDeleter>;

class PrimeField {
  public:
    // Takes a copy of the odd prime modulus. valid() is false if a setup step failed.
    explicit PrimeField(const BIGNUM* modulus);

    bool valid() const { return ok_; }
    const BIGNUM* modulus() const { return m_.get(); }
    int bits() const { return BN_num_bits(m_.get()); }

    // out = a * b mod m. a and b must be reduced (< m). Constant time in the values.
    bool mul(BIGNUM* out, const BIGNUM* a, const BIGNUM* b, BN_CTX* ctx) const;
    // out = a + b mod m, out = a - b mod m (a, b reduced).
    bool add(BIGNUM* out, const BIGNUM* a, const BIGNUM* b) const;
    bool sub(BIGNUM* out, const BIGNUM* a, const BIGNUM* b) const;
    // out = a^-1 mod m by Fermat (a^(m-2)), constant time; a must be non-zero.
    bool inv(BIGNUM* out, const BIGNUM* a, BN_CTX* ctx) const;
    // out = a^e mod m, constant time in a and e.
    bool exp(BIGNUM* out, const BIGNUM* a, const BIGNUM* e, BN_CTX* ctx) const;
    // out = a mod m for any non-negative a.
    bool reduce(BIGNUM* out, const BIGNUM* a, BN_CTX* ctx) const;

  private:
    BnPtr m_;
    BnPtr m_minus_2_;
    MontPtr mont_;
    bool ok_ = false;
};

}  // namespace iwf::mc::security
