#include "mc_adapters/security/sakke.hpp"

#include <openssl/evp.h>

#include "mc_adapters/security/sakke_arith.hpp"

namespace iwf::mc::security {
// The helpers share sakke_arith.hpp's namespace (not an anonymous one: in a unity batch a
// using-directive there would reach the other files).
namespace sakke_detail {

// Public affine point arithmetic for the Miller loop (the points are multiples of the public
// first argument; variable-time operations are fine on them).
struct Affine {
    BnPtr x = newBn();
    BnPtr y = newBn();
};

// One Miller step's line through C with slope lambda, evaluated at the distorted second
// argument (-Qx, i*Qy): lambda*(Qx + Cx) - Cy + Qy i. C and lambda are public, Q is secret.
bool lineAt(Fp2& out, const BIGNUM* lambda, const Affine& c, const CtPoint& q) {
    const CtField& f = *params().fp_ct;
    CtFe l, cx, cy;
    if (!f.fromBn(l, lambda) || !f.fromBn(cx, c.x.get()) || !f.fromBn(cy, c.y.get())) {
        return false;
    }
    f.add(out.a, q.x, cx);
    f.mul(out.a, out.a, l);
    f.sub(out.a, out.a, cy);
    out.b = q.y;
    return true;
}

// The slope of the tangent at C (r == nullptr) or of the chord through C and R.
bool slope(const Affine& c, const Affine* r, BIGNUM* lambda, BN_CTX* ctx) {
    const BIGNUM* p = params().p.get();
    BN_CTX_start(ctx);
    BIGNUM* num = BN_CTX_get(ctx);
    BIGNUM* den = BN_CTX_get(ctx);
    bool ok = den != nullptr;
    if (r == nullptr) {
        // lambda = (3 Cx^2 - 3) / (2 Cy)   (the curve's a = -3)
        ok = ok && BN_mod_sqr(num, c.x.get(), p, ctx) &&
             BN_mod_sub(num, num, BN_value_one(), p, ctx) && BN_mul_word(num, 3) &&
             BN_nnmod(num, num, p, ctx) && BN_mod_add(den, c.y.get(), c.y.get(), p, ctx);
    } else {
        // lambda = (Ry - Cy) / (Rx - Cx)
        ok = ok && BN_mod_sub(num, r->y.get(), c.y.get(), p, ctx) &&
             BN_mod_sub(den, r->x.get(), c.x.get(), p, ctx);
    }
    ok = ok && BN_mod_inverse(den, den, p, ctx) != nullptr && BN_mod_mul(lambda, num, den, p, ctx);
    BN_CTX_end(ctx);
    return ok;
}

// C := 2C (r == nullptr) or C := C + R with the slope from slope():
// x' = lambda^2 - Cx - (Cx or Rx), y' = lambda (Cx - x') - Cy.
bool advance(Affine& c, const Affine* r, const BIGNUM* lambda, BN_CTX* ctx) {
    const BIGNUM* p = params().p.get();
    BN_CTX_start(ctx);
    BIGNUM* nx = BN_CTX_get(ctx);
    BIGNUM* t = BN_CTX_get(ctx);
    bool ok = t != nullptr && BN_mod_sqr(nx, lambda, p, ctx) &&
              BN_mod_sub(nx, nx, c.x.get(), p, ctx) &&
              BN_mod_sub(nx, nx, r == nullptr ? c.x.get() : r->x.get(), p, ctx) &&
              BN_mod_sub(t, c.x.get(), nx, p, ctx) && BN_mod_mul(t, t, lambda, p, ctx) &&
              BN_mod_sub(c.y.get(), t, c.y.get(), p, ctx) && BN_copy(c.x.get(), nx) != nullptr;
    BN_CTX_end(ctx);
    return ok;
}

// Miller's loop of RFC 6508 §3.2 for < R, Q >: v = 1, C = R; for each bit of q - 1 below the
// top one, v = v^2 * l_(C,C)(Q'), C = 2C, and when the bit is set v = v * l_(C,R)(Q'),
// C = C + R. The vertical lines are left out: they lie in F_p and vanish in the final
// exponentiation. The loop's control flow depends on q and R only, never on Q; every
// operation on Q and v is a constant-time F_p operation.
bool millerLoop(Fp2& v, const Affine& r, const CtPoint& q, BN_CTX* ctx) {
    const Params& pr = params();
    Fp2 line;
    Affine c;
    BnPtr lambda = newBn();
    if (!c.x || !c.y || !lambda || !BN_copy(c.x.get(), r.x.get()) ||
        !BN_copy(c.y.get(), r.y.get())) {
        return false;
    }
    pr.fp_ct->one(v.a);
    pr.fp_ct->zero(v.b);
    const BIGNUM* n = pr.q_minus_1.get();
    bool ok = true;
    for (int i = BN_num_bits(n) - 2; i >= 0 && ok; --i) {
        ok = slope(c, nullptr, lambda.get(), ctx) && lineAt(line, lambda.get(), c, q) &&
             advance(c, nullptr, lambda.get(), ctx);
        fp2Sqr(v, v);
        fp2Mul(v, v, line);
        if (ok && BN_is_bit_set(n, i)) {
            ok = slope(c, &r, lambda.get(), ctx) && lineAt(line, lambda.get(), c, q) &&
                 advance(c, &r, lambda.get(), ctx);
            fp2Mul(v, v, line);
        }
    }
    fp2Wipe(line);
    return ok;
}

// The pairing's value lives in PF_p[q] (RFC 6508 §2.1, §3.2): elements of F_p^2 taken up to
// a factor in F_p*, a cyclic group of order p + 1. The Miller value is raised to
// c = (p + 1)/q = 4 there (two squarings). (Raising to (p^2 - 1)/q in F_p^2 instead, the
// textbook reduced Tate pairing, gives another bilinear map whose value for < P, P > is not
// the g of RFC 6509 Appendix A.)
void finalExponentiation(Fp2& v) {
    fp2Sqr(v, v);
    fp2Sqr(v, v);
}

// An element a + bi of F_p^2 (up to a factor in F_p*) is the point (a : b) of the projective
// line PF_p; RFC 6508 §2.1 represents it by the F_p element b/a. a = 0 (impossible for a
// pairing value) gives 0, which no check accepts.
void toPfp(CtFe& out, const Fp2& v) {
    const CtField& f = *params().fp_ct;
    CtFe inv;
    f.inv(inv, v.a);
    f.mul(out, v.b, inv);
    ctWipe(inv);
}

Result<Affine> affineOf(const EC_POINT* pt, BN_CTX* ctx) {
    Affine a;
    if (!a.x || !a.y ||
        EC_POINT_get_affine_coordinates(params().group.get(), pt, a.x.get(), a.y.get(), ctx) != 1) {
        return Error{"point_at_infinity"};
    }
    return a;
}

// < R, Q > as its F_p representation (Montgomery form of the constant-time field). R is
// public, Q (the RSK on the receiver) secret.
bool pairing(CtFe& out, const EC_POINT* r, const CtPoint& q, BN_CTX* ctx) {
    auto ra = affineOf(r, ctx);
    Fp2 v;
    const bool ok = ra && millerLoop(v, *ra, q, ctx);
    finalExponentiation(v);
    toPfp(out, v);
    fp2Wipe(v);
    return ok;
}

// g^r in PF_p[q] (RFC 6508 §6.2.1 step 3, "g^r" computed in PF_p): the representation x of
// g stands for 1 + x i; (1 + x i)^r is computed in F_p^2 with a Montgomery ladder over every
// bit of r (secret, big-endian octets) with masked swaps, then mapped back with toPfp.
void pfpExp(CtFe& out, const CtFe& x, ByteView r) {
    const CtField& f = *params().fp_ct;
    Fp2 r0, r1;
    f.one(r0.a);
    f.zero(r0.b);
    f.one(r1.a);
    r1.b = x;
    for (std::size_t i = 0; i < 8 * r.size(); ++i) {
        const CtLimb bit = ctBitMask(r, i);
        f.cswap(bit, r0.a, r1.a);
        f.cswap(bit, r0.b, r1.b);
        fp2Mul(r1, r0, r1);
        fp2Sqr(r0, r0);
        f.cswap(bit, r0.a, r1.a);
        f.cswap(bit, r0.b, r1.b);
    }
    toPfp(out, r0);
    fp2Wipe(r0);
    fp2Wipe(r1);
}

Result<EcPointPtr> decodePoint(ByteView v, BN_CTX* ctx) {
    return pointFromBytes(params().group.get(), v, kSakkeFieldLen, ctx);
}

// A secret point (the RSK): the length is public, the leading octet and the coordinates are
// checked (0x04, < p, on the curve) without a branch; only the outcome is made public.
Status decodeSecretPoint(CtPoint& out, ByteView v) {
    if (v.size() != kSakkePointLen) {
        return Error{"sakke_bad_rsk"};
    }
    const CtLimb form = ctMaskIsZero(static_cast<CtLimb>(v[0] ^ 0x04u));
    if (ctDeclassify(form & ctDecodePoint(out, v)) == 0) {
        return Error{"sakke_bad_rsk"};
    }
    return Status::success();
}

// [b]P + Z, the receiver's public key-establishment point (RFC 6508 §6.2.1 step 2).
Result<EcPointPtr> identityPoint(ByteView z_bytes, ByteView b, BN_CTX* ctx) {
    const Params& pr = params();
    auto z = decodePoint(z_bytes, ctx);
    if (!z) {
        return Error{"sakke_bad_kms_key"};
    }
    BnPtr bn = bnFromBytes(b);
    EcPointPtr out = newPoint(pr.group.get());
    if (!bn || !out || !pr.fq->reduce(bn.get(), bn.get(), ctx) ||
        EC_POINT_mul(pr.group.get(), out.get(), bn.get(), nullptr, nullptr, ctx) != 1 ||
        EC_POINT_add(pr.group.get(), out.get(), out.get(), z->get(), ctx) != 1) {
        return Error{"crypto_alloc"};
    }
    return out;
}

// v' of RFC 6508 §5.1 with SHA-256 (hashlen = 256 bits), l blocks:
//   A = hash(s); h_0 = 0^256; h_i = hash(h_(i-1)), v_i = hash(h_i || A) for i = 1..l;
//   v' = v_1 || ... || v_l. HashToIntegerRange is v' mod n; the callers reduce.
Result<Bytes> hashBlocks(ByteView s, int l) {
    std::uint8_t a[32];
    std::uint8_t h[32] = {};
    unsigned int len = 0;
    if (EVP_Digest(s.data(), s.size(), a, &len, EVP_sha256(), nullptr) != 1) {
        return Error{"crypto_alloc"};
    }
    Bytes vprime;
    for (int i = 1; i <= l; ++i) {
        std::uint8_t hi_a[64];
        if (EVP_Digest(h, sizeof h, h, &len, EVP_sha256(), nullptr) != 1) {
            return Error{"crypto_alloc"};
        }
        std::copy(h, h + 32, hi_a);
        std::copy(a, a + 32, hi_a + 32);
        std::uint8_t vi[32];
        if (EVP_Digest(hi_a, sizeof hi_a, vi, &len, EVP_sha256(), nullptr) != 1) {
            return Error{"crypto_alloc"};
        }
        vprime.insert(vprime.end(), vi, vi + 32);
        cleanse(vi);
    }
    cleanse(a);
    return vprime;
}

// HashToIntegerRange( s, n ) for a public n of any size (variable time in the result).
Result<Bytes> hashToRange(ByteView s, const BIGNUM* n, std::size_t width) {
    auto vprime = hashBlocks(s, (BN_num_bits(n) + 255) / 256);
    if (!vprime) {
        return vprime.error();
    }
    BnPtr v = bnFromBytes(*vprime, true);
    BnCtxPtr ctx = newCtx();
    cleanse(*vprime);
    if (!v || !ctx || BN_nnmod(v.get(), v.get(), n, ctx.get()) != 1) {
        return Error{"crypto_alloc"};
    }
    Bytes out(width);
    if (!bnToBytesInto(v.get(), out)) {
        return Error{"bignum_too_wide"};
    }
    return out;
}

// HashToIntegerRange( x, 2^n ) for n = 128: lg(2^n) / 256 rounds up to one block, and v' mod
// 2^128 is its last 16 octets (no arithmetic on the secret).
Result<Bytes> maskOf(ByteView x) {
    auto vprime = hashBlocks(x, 1);
    if (!vprime) {
        return vprime.error();
    }
    Bytes out(vprime->end() - kSakkeSsvLen, vprime->end());
    cleanse(*vprime);
    return out;
}

// r = HashToIntegerRange( SSV || b, q ) (RFC 6508 §6.2.1 step 1, §6.2.2 step 4) as 128
// big-endian octets: l = 4 blocks (q has 1022 bits), reduced by the constant-time field.
Result<Bytes> deriveR(ByteView ssv, ByteView b) {
    const Params& pr = params();
    Bytes in(ssv.begin(), ssv.end());
    in.insert(in.end(), b.begin(), b.end());
    auto vprime = hashBlocks(in, (BN_num_bits(pr.q.get()) + 255) / 256);
    cleanse(in);
    if (!vprime) {
        return vprime.error();
    }
    CtFe r;
    pr.fq_ct->reduce(r, *vprime);
    cleanse(*vprime);
    Bytes out(kSakkeFieldLen);
    pr.fq_ct->store(out, r);
    ctWipe(r);
    return out;
}

}  // namespace sakke_detail

Bytes sakkeG() {
    return bnToBytes(sakke_detail::params().g.get(), kSakkeFieldLen).value();
}

Result<Bytes> sakkeHashToIntegerRange(ByteView s, ByteView n, std::size_t width) {
    BnPtr nb = bnFromBytes(n);
    if (!nb || BN_is_zero(nb.get())) {
        return Error{"bad_range"};
    }
    return sakke_detail::hashToRange(s, nb.get(), width);
}

Result<Bytes> sakkePairing(ByteView r, ByteView q) {
    using namespace sakke_detail;
    BnCtxPtr ctx = newCtx();
    if (!params().ok || !ctx) {
        return Error{"crypto_alloc"};
    }
    auto rp = decodePoint(r, ctx.get());
    CtPoint qp;
    if (!rp || !decodeSecretPoint(qp, q)) {
        return Error{"sakke_bad_format"};
    }
    CtFe w;
    const bool ok = pairing(w, rp->get(), qp, ctx.get());
    ctPointWipe(qp);
    if (!ok) {
        return Error{"sakke_pairing_failed"};
    }
    Bytes out(kSakkeFieldLen);
    params().fp_ct->store(out, w);
    ctWipe(w);
    return out;
}

Result<Bytes> sakkeEncapsulate(ByteView kms_public_z, ByteView b, ByteView ssv) {
    using namespace sakke_detail;
    const Params& pr = params();
    BnCtxPtr ctx = newCtx();
    if (!pr.ok || !ctx) {
        return Error{"crypto_alloc"};
    }
    if (ssv.size() != kSakkeSsvLen) {
        return Error{"sakke_bad_ssv", static_cast<std::int64_t>(ssv.size())};
    }
    auto base = identityPoint(kms_public_z, b, ctx.get());
    CtPoint base_ct;
    if (!base) {
        return base.error();
    }
    if (!ctPointOf(base_ct, base->get(), ctx.get())) {
        return Error{"crypto_alloc"};
    }
    // Step 1: r = HashToIntegerRange( SSV || b, q ).
    auto r = deriveR(ssv, b);
    if (!r) {
        return r.error();
    }
    // Step 2: R_(b,S) = [r]([b]P + Z_S), r secret: the constant-time scalar multiplication.
    // [b]P + Z has order q and r < q, so the result is never at infinity.
    CtPoint rb;
    ctScalarMul(rb, base_ct, *r);
    Bytes out(kSakkePointLen);
    ctPointEncode(out, rb);
    ctPointWipe(rb);
    // Step 3: H = SSV XOR HashToIntegerRange( g^r, 2^n ).
    CtFe gr;
    pfpExp(gr, pr.g_ct, *r);
    cleanse(*r);
    Bytes gr_bytes(kSakkeFieldLen);
    pr.fp_ct->store(gr_bytes, gr);
    ctWipe(gr);
    auto mask = maskOf(gr_bytes);
    cleanse(gr_bytes);
    if (!mask) {
        return mask.error();
    }
    // Step 4: Encapsulated Data = R_(b,S) || H.
    for (std::size_t i = 0; i < kSakkeSsvLen; ++i) {
        out.push_back(static_cast<std::uint8_t>(ssv[i] ^ (*mask)[i]));
    }
    cleanse(*mask);
    return out;
}

Result<Bytes> sakkeDecapsulate(ByteView kms_public_z, ByteView b, ByteView rsk,
                               ByteView encapsulated) {
    using namespace sakke_detail;
    const Params& pr = params();
    BnCtxPtr ctx = newCtx();
    if (!pr.ok || !ctx) {
        return Error{"crypto_alloc"};
    }
    // Step 1: parse R_(b,S) || H; R must be a point of E. R and H are public.
    if (encapsulated.size() != kSakkeEncapsulatedLen) {
        return Error{"sakke_bad_format", static_cast<std::int64_t>(encapsulated.size())};
    }
    auto rb = decodePoint(encapsulated.first(kSakkePointLen), ctx.get());
    if (!rb) {
        return Error{"sakke_bad_format"};
    }
    CtPoint rb_ct;
    if (!ctPointOf(rb_ct, rb->get(), ctx.get())) {
        return Error{"crypto_alloc"};
    }
    CtPoint k;
    if (auto st = decodeSecretPoint(k, rsk); !st) {
        return st.error();
    }
    ByteView h = encapsulated.subspan(kSakkePointLen);
    // Step 2: w = < R_(b,S), K_(b,S) >.
    CtFe w;
    const bool paired = pairing(w, rb->get(), k, ctx.get());
    ctPointWipe(k);
    Bytes w_bytes(kSakkeFieldLen);
    pr.fp_ct->store(w_bytes, w);
    ctWipe(w);
    if (!paired) {
        cleanse(w_bytes);
        return Error{"sakke_pairing_failed"};
    }
    // Step 3: SSV = H XOR HashToIntegerRange( w, 2^n ).
    auto mask = maskOf(w_bytes);
    cleanse(w_bytes);
    if (!mask) {
        return mask.error();
    }
    Bytes ssv(kSakkeSsvLen);
    for (std::size_t i = 0; i < kSakkeSsvLen; ++i) {
        ssv[i] = static_cast<std::uint8_t>(h[i] ^ (*mask)[i]);
    }
    cleanse(*mask);
    // Steps 4-5: r = HashToIntegerRange( SSV || b, q ); [r]([b]P + Z_S) must equal R_(b,S).
    // Only the outcome of the comparison is made public.
    auto base = identityPoint(kms_public_z, b, ctx.get());
    CtPoint base_ct;
    if (!base || !ctPointOf(base_ct, base->get(), ctx.get())) {
        cleanse(ssv);
        return base ? Error{"crypto_alloc"} : base.error();
    }
    auto r = deriveR(ssv, b);
    if (!r) {
        cleanse(ssv);
        return r.error();
    }
    CtPoint test;
    ctScalarMul(test, base_ct, *r);
    cleanse(*r);
    const CtLimb same = ctDeclassify(ctPointEqualsAffine(test, rb_ct.x, rb_ct.y));
    ctPointWipe(test);
    if (same == 0) {
        cleanse(ssv);
        return Error{"sakke_check_failed"};
    }
    return ssv;
}

Status sakkeValidateRsk(ByteView kms_public_z, ByteView b, ByteView rsk) {
    using namespace sakke_detail;
    const Params& pr = params();
    BnCtxPtr ctx = newCtx();
    if (!pr.ok || !ctx) {
        return Error{"crypto_alloc"};
    }
    auto base = identityPoint(kms_public_z, b, ctx.get());
    if (!base) {
        return base.error();
    }
    CtPoint k;
    if (auto st = decodeSecretPoint(k, rsk); !st) {
        return st.error();
    }
    // RFC 6508 §6.1.2: < [b]P + Z, K_(b,S) > = g; only the outcome is made public.
    CtFe w;
    const bool paired = pairing(w, base->get(), k, ctx.get());
    ctPointWipe(k);
    const CtLimb valid = ctDeclassify(pr.fp_ct->equal(w, pr.g_ct));
    ctWipe(w);
    if (!paired) {
        return Error{"sakke_pairing_failed"};
    }
    if (valid == 0) {
        return Error{"sakke_rsk_invalid"};
    }
    return Status::success();
}

Result<Bytes> sakkeKmsPublicKey(ByteView z) {
    using namespace sakke_detail;
    const Params& pr = params();
    BnCtxPtr ctx = newCtx();
    BnPtr zb = bnFromBytes(z, true);
    EcPointPtr out = newPoint(pr.group.get());
    if (!pr.ok || !ctx || !zb || !out ||
        EC_POINT_mul(pr.group.get(), out.get(), zb.get(), nullptr, nullptr, ctx.get()) != 1) {
        return Error{"crypto_alloc"};
    }
    return pointToBytes(pr.group.get(), out.get(), kSakkeFieldLen, ctx.get());
}

Result<Bytes> sakkeIssueRsk(ByteView z, ByteView a) {
    using namespace sakke_detail;
    const Params& pr = params();
    BnCtxPtr ctx = newCtx();
    BnPtr zb = bnFromBytes(z, true);
    BnPtr ab = bnFromBytes(a);
    EcPointPtr out = newPoint(pr.group.get());
    if (!pr.ok || !ctx || !zb || !ab || !out || !pr.fq->reduce(ab.get(), ab.get(), ctx.get()) ||
        !pr.fq->reduce(zb.get(), zb.get(), ctx.get()) ||
        !pr.fq->add(ab.get(), ab.get(), zb.get())) {
        return Error{"crypto_alloc"};
    }
    // RFC 6508 §6.1.1: K_(a,T) = [(a + z_T)^-1]P; a + z_T = 0 (mod q) is refused.
    if (BN_is_zero(ab.get())) {
        return Error{"sakke_identifier_degenerate"};
    }
    if (!pr.fq->inv(ab.get(), ab.get(), ctx.get()) ||
        EC_POINT_mul(pr.group.get(), out.get(), ab.get(), nullptr, nullptr, ctx.get()) != 1) {
        return Error{"crypto_alloc"};
    }
    return pointToBytes(pr.group.get(), out.get(), kSakkeFieldLen, ctx.get());
}

}  // namespace iwf::mc::security
