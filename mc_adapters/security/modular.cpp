#include "mc_adapters/security/modular.hpp"

namespace iwf::mc::security {

PrimeField::PrimeField(const BIGNUM* modulus)
    : m_(BN_dup(modulus)), m_minus_2_(BN_dup(modulus)), mont_(BN_MONT_CTX_new()) {
    BnCtxPtr ctx = newCtx();
    ok_ = m_ && m_minus_2_ && mont_ && ctx && BN_sub_word(m_minus_2_.get(), 2) == 1 &&
          BN_MONT_CTX_set(mont_.get(), m_.get(), ctx.get()) == 1;
}

bool PrimeField::mul(BIGNUM* out, const BIGNUM* a, const BIGNUM* b, BN_CTX* ctx) const {
    // a -> a*R (Montgomery form), then Mont(a*R, b) = a*b. Both steps are Montgomery products.
    BN_CTX_start(ctx);
    BIGNUM* t = BN_CTX_get(ctx);
    bool ok = t != nullptr;
    if (ok) {
        BN_set_flags(t, BN_FLG_CONSTTIME);
        ok = BN_to_montgomery(t, a, mont_.get(), ctx) == 1 &&
             BN_mod_mul_montgomery(out, t, b, mont_.get(), ctx) == 1;
    }
    BN_CTX_end(ctx);
    BN_set_flags(out, BN_FLG_CONSTTIME);
    return ok;
}

bool PrimeField::add(BIGNUM* out, const BIGNUM* a, const BIGNUM* b) const {
    return BN_mod_add_quick(out, a, b, m_.get()) == 1;
}

bool PrimeField::sub(BIGNUM* out, const BIGNUM* a, const BIGNUM* b) const {
    return BN_mod_sub_quick(out, a, b, m_.get()) == 1;
}

bool PrimeField::inv(BIGNUM* out, const BIGNUM* a, BN_CTX* ctx) const {
    return exp(out, a, m_minus_2_.get(), ctx);
}

bool PrimeField::exp(BIGNUM* out, const BIGNUM* a, const BIGNUM* e, BN_CTX* ctx) const {
    bool ok = BN_mod_exp_mont_consttime(out, a, e, m_.get(), ctx, mont_.get()) == 1;
    BN_set_flags(out, BN_FLG_CONSTTIME);
    return ok;
}

bool PrimeField::reduce(BIGNUM* out, const BIGNUM* a, BN_CTX* ctx) const {
    return BN_nnmod(out, a, m_.get(), ctx) == 1;
}

}  // namespace iwf::mc::security
