#include "mc_adapters/security/ct_field.hpp"

#include <algorithm>

#include <openssl/crypto.h>

#ifdef IWF_CT_CHECK
#include <valgrind/memcheck.h>
#endif

namespace iwf::mc::security {
namespace {

using CtWide = unsigned __int128;

// Keeps the compiler from reasoning about a mask's value (and from turning a masked select
// into a branch): the asm statement may have changed it.
CtLimb ctBarrier(CtLimb x) {
    __asm__("" : "+r"(x));
    return x;
}

CtLimb hi64(CtWide v) {
    return static_cast<CtLimb>(v >> 64);
}

// 1 if the two-word value (top, low) minus `borrow` would be negative, i.e. top < borrow.
CtLimb underflows(CtLimb top, CtLimb borrow) {
    return hi64(static_cast<CtWide>(top) - borrow) & 1u;
}

void selectLimbs(CtLimb* out, CtLimb mask, const CtLimb* a, const CtLimb* b, std::size_t n) {
    for (std::size_t j = 0; j < n; ++j) {
        out[j] = (a[j] & mask) | (b[j] & ~mask);
    }
}

// out = a - b over n limbs, returns the borrow (0 or 1).
CtLimb subLimbs(CtLimb* out, const CtLimb* a, const CtLimb* b, std::size_t n) {
    CtLimb borrow = 0;
    for (std::size_t j = 0; j < n; ++j) {
        CtWide d = static_cast<CtWide>(a[j]) - b[j] - borrow;
        out[j] = static_cast<CtLimb>(d);
        borrow = hi64(d) & 1u;
    }
    return borrow;
}

// A public BIGNUM -> n little-endian limbs (variable time: public values only).
bool limbsOf(CtLimb* out, const BIGNUM* v, std::size_t n) {
    std::uint8_t le[8 * kCtMaxLimbs] = {};
    if (BN_bn2lebinpad(v, le, static_cast<int>(8 * n)) < 0) {
        return false;
    }
    for (std::size_t j = 0; j < n; ++j) {
        out[j] = 0;
        for (std::size_t k = 0; k < 8; ++k) {
            out[j] |= static_cast<CtLimb>(le[8 * j + k]) << (8 * k);
        }
    }
    return true;
}

// Big-endian octets -> little-endian limbs; positions are public, values are not looked at.
void limbsFromBigEndian(CtLimb* out, ByteView be, std::size_t n) {
    for (std::size_t j = 0; j < n; ++j) {
        out[j] = 0;
    }
    for (std::size_t i = 0; i < be.size(); ++i) {
        out[i / 8] |= static_cast<CtLimb>(be[be.size() - 1 - i]) << (8 * (i % 8));
    }
}

// CIOS (coarsely integrated operand scanning) Montgomery product over n limbs:
// t = (t + a·b_i + q_i·m) / 2^64, n times; then t < 2m and m is subtracted unless that goes
// negative. N is the limb count when known at compile time (the loops unroll), 0 otherwise.
template <std::size_t N>
void montMulLimbs(CtLimb* out, const CtLimb* a, const CtLimb* b, const CtLimb* m, CtLimb m0inv,
                  std::size_t n_runtime) {
    const std::size_t n = N != 0 ? N : n_runtime;
    CtLimb t[kCtMaxLimbs + 2] = {};
    for (std::size_t i = 0; i < n; ++i) {
        CtLimb c = 0;
        for (std::size_t j = 0; j < n; ++j) {
            CtWide s = static_cast<CtWide>(a[j]) * b[i] + t[j] + c;
            t[j] = static_cast<CtLimb>(s);
            c = hi64(s);
        }
        CtWide s = static_cast<CtWide>(t[n]) + c;
        t[n] = static_cast<CtLimb>(s);
        t[n + 1] = hi64(s);
        const CtLimb qi = t[0] * m0inv;
        s = static_cast<CtWide>(qi) * m[0] + t[0];
        c = hi64(s);
        for (std::size_t j = 1; j < n; ++j) {
            s = static_cast<CtWide>(qi) * m[j] + t[j] + c;
            t[j - 1] = static_cast<CtLimb>(s);
            c = hi64(s);
        }
        s = static_cast<CtWide>(t[n]) + c;
        t[n - 1] = static_cast<CtLimb>(s);
        t[n] = t[n + 1] + hi64(s);
    }
    CtLimb d[kCtMaxLimbs];
    const CtLimb borrow = subLimbs(d, t, m, n);
    const CtLimb keep_t = ctBarrier(0 - underflows(t[n], borrow));
    selectLimbs(out, keep_t, t, d, n);
}

}  // namespace

CtLimb ctMaskIsZero(CtLimb x) {
    return ctBarrier(((x | (0 - x)) >> 63) - 1);
}

CtLimb ctDeclassify(CtLimb mask) {
#ifdef IWF_CT_CHECK
    VALGRIND_MAKE_MEM_DEFINED(&mask, sizeof mask);
#endif
    return mask;
}

void ctWipe(CtFe& a) {
    OPENSSL_cleanse(a.w.data(), sizeof a.w);
}

CtField::CtField(const BIGNUM* modulus) {
    const int bits = BN_num_bits(modulus);
    n_ = static_cast<std::size_t>((bits + 63) / 64);
    if (bits < 2 || n_ > kCtMaxLimbs || !BN_is_odd(modulus)) {
        return;
    }
    BnCtxPtr ctx = newCtx();
    BnPtr r2 = newBn();
    BnPtr r3 = newBn();
    BnPtr r1 = newBn();
    m_minus_2_.reset(BN_dup(modulus));
    if (!ctx || !r2 || !r3 || !r1 || !m_minus_2_ || BN_sub_word(m_minus_2_.get(), 2) != 1) {
        return;
    }
    const int rbits = static_cast<int>(64 * n_);
    ok_ = BN_set_bit(r1.get(), rbits) == 1 && BN_set_bit(r2.get(), 2 * rbits) == 1 &&
          BN_set_bit(r3.get(), 3 * rbits) == 1 &&
          BN_nnmod(r1.get(), r1.get(), modulus, ctx.get()) == 1 &&
          BN_nnmod(r2.get(), r2.get(), modulus, ctx.get()) == 1 &&
          BN_nnmod(r3.get(), r3.get(), modulus, ctx.get()) == 1 &&
          limbsOf(m_.w.data(), modulus, n_) && limbsOf(one_.w.data(), r1.get(), n_) &&
          limbsOf(r2_.w.data(), r2.get(), n_) && limbsOf(r3_.w.data(), r3.get(), n_);
    // -m^-1 mod 2^64 by Newton's iteration (each step doubles the correct low bits).
    CtLimb inv = m_.w[0];
    for (int i = 0; i < 6; ++i) {
        inv *= 2 - m_.w[0] * inv;
    }
    m0inv_ = 0 - inv;
}

void CtField::montMul(CtLimb* out, const CtLimb* a, const CtLimb* b) const {
    // The dispatch is on the modulus' width, public.
    if (n_ == 16) {
        montMulLimbs<16>(out, a, b, m_.w.data(), m0inv_, n_);
    } else if (n_ == 4) {
        montMulLimbs<4>(out, a, b, m_.w.data(), m0inv_, n_);
    } else {
        montMulLimbs<0>(out, a, b, m_.w.data(), m0inv_, n_);
    }
}

CtLimb CtField::load(CtFe& out, ByteView be) const {
    CtFe v;
    limbsFromBigEndian(v.w.data(), be.last(std::min(be.size(), octets())), n_);
    CtLimb d[kCtMaxLimbs];
    const CtLimb below = ctBarrier(0 - subLimbs(d, v.w.data(), m_.w.data(), n_));
    montMul(out.w.data(), v.w.data(), r2_.w.data());
    ctWipe(v);
    return below;
}

void CtField::reduce(CtFe& out, ByteView be) const {
    // be = hi || lo with lo the last octets(): value = hi·R + lo; in Montgomery form that is
    // hi·R^2 + lo·R = Mont(hi, R^3) + Mont(lo, R^2).
    const std::size_t lo_len = std::min(be.size(), octets());
    const std::size_t hi_len = std::min(be.size() - lo_len, octets());
    CtFe lo, hi, t;
    limbsFromBigEndian(lo.w.data(), be.last(lo_len), n_);
    limbsFromBigEndian(hi.w.data(), be.subspan(be.size() - lo_len - hi_len, hi_len), n_);
    montMul(t.w.data(), lo.w.data(), r2_.w.data());
    montMul(out.w.data(), hi.w.data(), r3_.w.data());
    add(out, out, t);
    ctWipe(lo);
    ctWipe(hi);
    ctWipe(t);
}

void CtField::store(MutableByteView out, const CtFe& a) const {
    CtFe plain;
    CtFe unit;
    unit.w[0] = 1;
    montMul(plain.w.data(), a.w.data(), unit.w.data());
    const std::size_t len = out.size();
    for (std::size_t i = 0; i < len; ++i) {
        out[len - 1 - i] =
            i < octets() ? static_cast<std::uint8_t>(plain.w[i / 8] >> (8 * (i % 8))) : 0;
    }
    ctWipe(plain);
}

bool CtField::fromBn(CtFe& out, const BIGNUM* public_value) const {
    CtFe v;
    if (!limbsOf(v.w.data(), public_value, n_)) {
        return false;
    }
    montMul(out.w.data(), v.w.data(), r2_.w.data());
    return true;
}

void CtField::zero(CtFe& out) const {
    out = CtFe{};
}

void CtField::one(CtFe& out) const {
    out = one_;
}

void CtField::add(CtFe& out, const CtFe& a, const CtFe& b) const {
    CtLimb s[kCtMaxLimbs];
    CtLimb carry = 0;
    for (std::size_t j = 0; j < n_; ++j) {
        CtWide v = static_cast<CtWide>(a.w[j]) + b.w[j] + carry;
        s[j] = static_cast<CtLimb>(v);
        carry = hi64(v);
    }
    CtLimb d[kCtMaxLimbs];
    const CtLimb borrow = subLimbs(d, s, m_.w.data(), n_);
    const CtLimb keep_s = ctBarrier(0 - underflows(carry, borrow));
    selectLimbs(out.w.data(), keep_s, s, d, n_);
}

void CtField::sub(CtFe& out, const CtFe& a, const CtFe& b) const {
    CtLimb d[kCtMaxLimbs];
    const CtLimb negative = ctBarrier(0 - subLimbs(d, a.w.data(), b.w.data(), n_));
    CtLimb carry = 0;
    for (std::size_t j = 0; j < n_; ++j) {
        CtWide v = static_cast<CtWide>(d[j]) + (m_.w[j] & negative) + carry;
        out.w[j] = static_cast<CtLimb>(v);
        carry = hi64(v);
    }
}

void CtField::mul(CtFe& out, const CtFe& a, const CtFe& b) const {
    montMul(out.w.data(), a.w.data(), b.w.data());
}

void CtField::powPublic(CtFe& out, const CtFe& a, const BIGNUM* e) const {
    CtFe base = a;
    CtFe acc = one_;
    for (int i = BN_num_bits(e) - 1; i >= 0; --i) {
        mul(acc, acc, acc);
        if (BN_is_bit_set(e, i)) {  // e is public
            mul(acc, acc, base);
        }
    }
    out = acc;
    ctWipe(base);
    ctWipe(acc);
}

void CtField::inv(CtFe& out, const CtFe& a) const {
    powPublic(out, a, m_minus_2_.get());
}

CtLimb CtField::isZero(const CtFe& a) const {
    CtLimb acc = 0;
    for (std::size_t j = 0; j < n_; ++j) {
        acc |= a.w[j];
    }
    return ctMaskIsZero(acc);
}

CtLimb CtField::equal(const CtFe& a, const CtFe& b) const {
    CtLimb acc = 0;
    for (std::size_t j = 0; j < n_; ++j) {
        acc |= a.w[j] ^ b.w[j];
    }
    return ctMaskIsZero(acc);
}

void CtField::select(CtFe& out, CtLimb mask, const CtFe& a, const CtFe& b) const {
    selectLimbs(out.w.data(), mask, a.w.data(), b.w.data(), n_);
}

void CtField::cswap(CtLimb mask, CtFe& a, CtFe& b) const {
    for (std::size_t j = 0; j < n_; ++j) {
        const CtLimb x = (a.w[j] ^ b.w[j]) & mask;
        a.w[j] ^= x;
        b.w[j] ^= x;
    }
}

}  // namespace iwf::mc::security
