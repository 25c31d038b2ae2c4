#include "mc_adapters/security/sakke.hpp"

#include <openssl/evp.h>

#include "mc_adapters/security/modular.hpp"
#include "mc_adapters/security/ossl.hpp"

namespace iwf::mc::security {
namespace {

// RFC 6509 Appendix A, parameter set 1 (SAKKE parms registry value 1, RFC 6509 §7).
constexpr const char* kP =
    "997ABB1F0A563FDA65C61198DAD0657A416C0CE19CB48261BE9AE358B3E01A2E"
    "F40AAB27E2FC0F1B228730D531A59CB0E791B39FF7C88A19356D27F4A666A6D0"
    "E26C6487326B4CD4512AC5CD65681CE1B6AFF4A831852A82A7CF3C521C3C09AA"
    "9F94D6AF56971F1FFCE3E82389857DB080C5DF10AC7ACE87666D807AFEA85FEB";
constexpr const char* kQ =
    "265EAEC7C2958FF69971846636B4195E905B0338672D20986FA6B8D62CF8068B"
    "BD02AAC9F8BF03C6C8A1CC354C69672C39E46CE7FDF222864D5B49FD2999A9B4"
    "389B1921CC9AD335144AB173595A07386DABFD2A0C614AA0A9F3CF14870F026A"
    "A7E535ABD5A5C7C7FF38FA08E2615F6C203177C42B1EB3A1D99B601EBFAA17FB";
constexpr const char* kPx =
    "53FC09EE332C29AD0A7990053ED9B52A2B1A2FD60AEC69C698B2F204B6FF7CBF"
    "B5EDB6C0F6CE2308AB10DB9030B09E1043D5F22CDB9DFA55718BD9E7406CE890"
    "9760AF765DD5BCCB337C86548B72F2E1A702C3397A60DE74A7C1514DBA66910D"
    "D5CFB4CC80728D87EE9163A5B63F73EC80EC46C4967E0979880DC8ABEAE63895";
constexpr const char* kPy =
    "0A8249063F6009F1F9F1F0533634A135D3E82016029906963D778D821E141178"
    "F5EA69F4654EC2B9E7F7F5E5F0DE55F66B598CCF9A140B2E416CFF0CA9E032B9"
    "70DAE117AD547C6CCAD696B5B7652FE0AC6F1E80164AA989492D979FC5A4D5F2"
    "13515AD7E9CB99A980BDAD5AD5BB4636ADB9B5706A67DCDE75573FD71BEF16D7";
constexpr const char* kG =
    "66FC2A432B6EA392148F15867D623068C6A87BD1FB94C41E27FABE658E015A87"
    "371E94744C96FEDA449AE9563F8BC446CBFDA85D5D00EF577072DA8F541721BE"
    "EE0FAED1828EAB90B99DFB0138C7843355DF0460B4A9FD74B4F1A32BCAFA1FFA"
    "D682C033A7942BCCE3720F20B9B7B0403C8CAE87B7A0042ACDE0FAB36461EA46";

// Words reserved in every F_p^2 coordinate so BN_consttime_swap may exchange them (values
// are < p < 2^1024, 17 words leave the top word always zero).
constexpr int kSwapWords = 17;

struct Params {
    BnPtr p, q, g, q_minus_1;
    EcGroupPtr group;
    std::unique_ptr<PrimeField> fp;
    std::unique_ptr<PrimeField> fq;
    bool ok = false;

    Params() : p(bnFromHex(kP)), q(bnFromHex(kQ)), g(bnFromHex(kG)), q_minus_1(bnFromHex(kQ)) {
        BnCtxPtr ctx = newCtx();
        BnPtr a = newBn();
        BnPtr b = newBn();
        BnPtr px = bnFromHex(kPx);
        BnPtr py = bnFromHex(kPy);
        BnPtr h = newBn();
        if (!p || !q || !g || !q_minus_1 || !ctx || !a || !b || !px || !py || !h) {
            return;
        }
        // E: y^2 = x^3 - 3x (RFC 6508 §2.1), a = p - 3, b = 0; cofactor (p + 1)/q = 4.
        if (BN_sub(a.get(), p.get(), BN_value_one()) != 1 || BN_sub_word(a.get(), 2) != 1 ||
            BN_sub_word(q_minus_1.get(), 1) != 1 || BN_set_word(h.get(), 4) != 1) {
            return;
        }
        BN_zero(b.get());
        group.reset(EC_GROUP_new_curve_GFp(p.get(), a.get(), b.get(), ctx.get()));
        EcPointPtr gen = group ? newPoint(group.get()) : nullptr;
        // The generator with its order and cofactor makes EC_POINT_mul take OpenSSL's
        // constant-time Montgomery ladder for a secret scalar times an arbitrary point.
        if (!gen ||
            EC_POINT_set_affine_coordinates(group.get(), gen.get(), px.get(), py.get(),
                                            ctx.get()) != 1 ||
            EC_GROUP_set_generator(group.get(), gen.get(), q.get(), h.get()) != 1) {
            return;
        }
        fp = std::make_unique<PrimeField>(p.get());
        fq = std::make_unique<PrimeField>(q.get());
        ok = fp->valid() && fq->valid();
    }
};

const Params& params() {
    static const Params p;
    return p;
}

// An element a + b*i of F_p^2 = F_p[i]/(i^2 + 1) (-1 is a non-residue since p = 3 mod 4).
struct Fp2 {
    BnPtr a = secretBn();
    BnPtr b = secretBn();
    bool valid() const { return a && b; }
};

// F_p^2 arithmetic over the constant-time F_p operations. Results may alias inputs.
class Fp2Ops {
  public:
    Fp2Ops(const PrimeField& f, BN_CTX* ctx) : f_(f), ctx_(ctx) {}

    bool mul(Fp2& out, const Fp2& x, const Fp2& y) {
        // (a + bi)(c + di) = (ac - bd) + ((a + b)(c + d) - ac - bd) i
        return t1_.valid() && t2_.valid() && f_.mul(t1_.a.get(), x.a.get(), y.a.get(), ctx_) &&
               f_.mul(t1_.b.get(), x.b.get(), y.b.get(), ctx_) &&
               f_.add(t2_.a.get(), x.a.get(), x.b.get()) &&
               f_.add(t2_.b.get(), y.a.get(), y.b.get()) &&
               f_.mul(t2_.a.get(), t2_.a.get(), t2_.b.get(), ctx_) &&
               f_.sub(t2_.a.get(), t2_.a.get(), t1_.a.get()) &&
               f_.sub(out.b.get(), t2_.a.get(), t1_.b.get()) &&
               f_.sub(out.a.get(), t1_.a.get(), t1_.b.get());
    }
    bool sqr(Fp2& out, const Fp2& x) {
        // (a + bi)^2 = (a + b)(a - b) + 2ab i
        return t1_.valid() && f_.add(t1_.a.get(), x.a.get(), x.b.get()) &&
               f_.sub(t1_.b.get(), x.a.get(), x.b.get()) &&
               f_.mul(t2_.a.get(), x.a.get(), x.b.get(), ctx_) &&
               f_.mul(out.a.get(), t1_.a.get(), t1_.b.get(), ctx_) &&
               f_.add(out.b.get(), t2_.a.get(), t2_.a.get());
    }

  private:
    const PrimeField& f_;
    BN_CTX* ctx_;
    Fp2 t1_, t2_;
};

// Public affine point arithmetic for the Miller loop (the points are multiples of the public
// first argument; variable-time operations are fine on them).
struct Affine {
    BnPtr x = newBn();
    BnPtr y = newBn();
};

// One Miller step's line through C with slope lambda, evaluated at the distorted second
// argument (-Qx, i*Qy): lambda*(Qx + Cx) - Cy + Qy i.
bool lineAt(Fp2& out, const BIGNUM* lambda, const Affine& c, const BIGNUM* qx, const BIGNUM* qy,
            const PrimeField& fp, BN_CTX* ctx) {
    return fp.add(out.a.get(), qx, c.x.get()) && fp.mul(out.a.get(), out.a.get(), lambda, ctx) &&
           fp.sub(out.a.get(), out.a.get(), c.y.get()) && BN_copy(out.b.get(), qy) != nullptr;
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
// exponentiation. The loop's control flow depends on q and R only, never on Q.
bool millerLoop(Fp2& v, const Affine& r, const BIGNUM* qx, const BIGNUM* qy, BN_CTX* ctx) {
    const Params& pr = params();
    const PrimeField& fp = *pr.fp;
    Fp2Ops ops(fp, ctx);
    Fp2 line;
    Affine c;
    BnPtr lambda = newBn();
    if (!line.valid() || !c.x || !c.y || !lambda || !BN_copy(c.x.get(), r.x.get()) ||
        !BN_copy(c.y.get(), r.y.get()) || !BN_one(v.a.get())) {
        return false;
    }
    BN_zero(v.b.get());
    const BIGNUM* n = pr.q_minus_1.get();
    for (int i = BN_num_bits(n) - 2; i >= 0; --i) {
        if (!slope(c, nullptr, lambda.get(), ctx) ||
            !lineAt(line, lambda.get(), c, qx, qy, fp, ctx) || !ops.sqr(v, v) ||
            !ops.mul(v, v, line) || !advance(c, nullptr, lambda.get(), ctx)) {
            return false;
        }
        if (BN_is_bit_set(n, i)) {
            if (!slope(c, &r, lambda.get(), ctx) ||
                !lineAt(line, lambda.get(), c, qx, qy, fp, ctx) || !ops.mul(v, v, line) ||
                !advance(c, &r, lambda.get(), ctx)) {
                return false;
            }
        }
    }
    return true;
}

// The pairing's value lives in PF_p[q] (RFC 6508 §2.1, §3.2): elements of F_p^2 taken up to
// a factor in F_p*, a cyclic group of order p + 1. The Miller value is raised to
// c = (p + 1)/q = 4 there (two squarings). (Raising to (p^2 - 1)/q in F_p^2 instead, the
// textbook reduced Tate pairing, gives another bilinear map whose value for < P, P > is not
// the g of RFC 6509 Appendix A.)
bool finalExponentiation(Fp2& v, BN_CTX* ctx) {
    Fp2Ops ops(*params().fp, ctx);
    return ops.sqr(v, v) && ops.sqr(v, v);
}

// An element a + bi of F_p^2 (up to a factor in F_p*) is the point (a : b) of the projective
// line PF_p; RFC 6508 §2.1 represents it by the F_p element b/a.
bool toPfp(BIGNUM* out, const Fp2& v, BN_CTX* ctx) {
    const PrimeField& fp = *params().fp;
    BnPtr inv = secretBn();
    return inv && !BN_is_zero(v.a.get()) && fp.inv(inv.get(), v.a.get(), ctx) &&
           fp.mul(out, v.b.get(), inv.get(), ctx);
}

Result<Affine> affineOf(const EC_POINT* pt, BN_CTX* ctx) {
    Affine a;
    if (!a.x || !a.y ||
        EC_POINT_get_affine_coordinates(params().group.get(), pt, a.x.get(), a.y.get(), ctx) != 1) {
        return Error{"point_at_infinity"};
    }
    return a;
}

// < R, Q > as its F_p representation.
bool pairing(BIGNUM* out, const EC_POINT* r, const EC_POINT* q, BN_CTX* ctx) {
    auto ra = affineOf(r, ctx);
    BnPtr qx = secretBn();
    BnPtr qy = secretBn();
    Fp2 v;
    if (!ra || !qx || !qy || !v.valid() ||
        EC_POINT_get_affine_coordinates(params().group.get(), q, qx.get(), qy.get(), ctx) != 1) {
        return false;
    }
    return millerLoop(v, *ra, qx.get(), qy.get(), ctx) && finalExponentiation(v, ctx) &&
           toPfp(out, v, ctx);
}

// Constant-time conditional swap of two F_p^2 values.
void cswap(BN_ULONG bit, Fp2& x, Fp2& y) {
    BN_consttime_swap(bit, x.a.get(), y.a.get(), kSwapWords);
    BN_consttime_swap(bit, x.b.get(), y.b.get(), kSwapWords);
}

bool reserveWords(const Fp2& x) {
    // Setting and clearing a bit above every value's range makes dmax >= kSwapWords.
    const int top = kSwapWords * BN_BITS2 - 1;
    return BN_set_bit(x.a.get(), top) && BN_clear_bit(x.a.get(), top) &&
           BN_set_bit(x.b.get(), top) && BN_clear_bit(x.b.get(), top);
}

// g^r in PF_p[q] (RFC 6508 §6.2.1 step 3, "g^r" computed in PF_p): the representation x of
// g stands for 1 + x i; (1 + x i)^r is computed in F_p^2 with a Montgomery ladder over a
// fixed number of exponent bits (r is secret), then mapped back with toPfp.
bool pfpExp(BIGNUM* out, const BIGNUM* x, const BIGNUM* r, BN_CTX* ctx) {
    const Params& pr = params();
    Fp2Ops ops(*pr.fp, ctx);
    Fp2 r0, r1;
    std::uint8_t e[kSakkeFieldLen];
    if (!r0.valid() || !r1.valid() || !BN_one(r0.a.get()) || !BN_one(r1.a.get()) ||
        !BN_copy(r1.b.get(), x) || !reserveWords(r0) || !reserveWords(r1) ||
        BN_bn2binpad(r, e, sizeof e) < 0) {
        return false;
    }
    BN_zero(r0.b.get());
    bool ok = true;
    for (std::size_t i = 0; i < 8 * sizeof e && ok; ++i) {
        BN_ULONG bit = (e[i / 8] >> (7 - i % 8)) & 1u;
        cswap(bit, r0, r1);
        ok = ops.mul(r1, r0, r1) && ops.sqr(r0, r0) && reserveWords(r0) && reserveWords(r1);
        cswap(bit, r0, r1);
    }
    cleanse(e);
    return ok && toPfp(out, r0, ctx);
}

Result<EcPointPtr> decodePoint(ByteView v, BN_CTX* ctx) {
    return pointFromBytes(params().group.get(), v, kSakkeFieldLen, ctx);
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

Result<Bytes> hashToRange(ByteView s, const BIGNUM* n, std::size_t width) {
    // RFC 6508 §5.1 with SHA-256 (hashlen = 256 bits):
    //   A = hash(s); h_0 = 0^256; l = ceiling(lg(n)/256);
    //   h_i = hash(h_(i-1)), v_i = hash(h_i || A) for i = 1..l; v = (v_1 || ... || v_l) mod n.
    std::uint8_t a[32];
    std::uint8_t h[32] = {};
    unsigned int len = 0;
    if (EVP_Digest(s.data(), s.size(), a, &len, EVP_sha256(), nullptr) != 1) {
        return Error{"crypto_alloc"};
    }
    const int l = (BN_num_bits(n) + 255) / 256;
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
    }
    BnPtr v = bnFromBytes(vprime, true);
    BnCtxPtr ctx = newCtx();
    cleanse(vprime);
    if (!v || !ctx || BN_nnmod(v.get(), v.get(), n, ctx.get()) != 1) {
        return Error{"crypto_alloc"};
    }
    Bytes out(width);
    if (!bnToBytesInto(v.get(), out)) {
        return Error{"bignum_too_wide"};
    }
    return out;
}

// HashToIntegerRange( x, 2^n ) for n = 128.
Result<Bytes> maskOf(ByteView x) {
    BnPtr two_n = newBn();
    if (!two_n || BN_set_bit(two_n.get(), 8 * kSakkeSsvLen) != 1) {
        return Error{"crypto_alloc"};
    }
    return hashToRange(x, two_n.get(), kSakkeSsvLen);
}

// r = HashToIntegerRange( SSV || b, q ) (RFC 6508 §6.2.1 step 1, §6.2.2 step 4).
BnPtr deriveR(ByteView ssv, ByteView b) {
    Bytes in(ssv.begin(), ssv.end());
    in.insert(in.end(), b.begin(), b.end());
    auto r = hashToRange(in, params().q.get(), kSakkeFieldLen);
    cleanse(in);
    if (!r) {
        return nullptr;
    }
    BnPtr out = bnFromBytes(*r, true);
    cleanse(*r);
    return out;
}

}  // namespace

Bytes sakkeG() {
    return bnToBytes(params().g.get(), kSakkeFieldLen).value();
}

Result<Bytes> sakkeHashToIntegerRange(ByteView s, ByteView n, std::size_t width) {
    BnPtr nb = bnFromBytes(n);
    if (!nb || BN_is_zero(nb.get())) {
        return Error{"bad_range"};
    }
    return hashToRange(s, nb.get(), width);
}

Result<Bytes> sakkePairing(ByteView r, ByteView q) {
    BnCtxPtr ctx = newCtx();
    if (!params().ok || !ctx) {
        return Error{"crypto_alloc"};
    }
    auto rp = decodePoint(r, ctx.get());
    auto qp = decodePoint(q, ctx.get());
    if (!rp || !qp) {
        return Error{"sakke_bad_format"};
    }
    BnPtr w = secretBn();
    if (!w || !pairing(w.get(), rp->get(), qp->get(), ctx.get())) {
        return Error{"sakke_pairing_failed"};
    }
    Bytes out(kSakkeFieldLen);
    if (!bnToBytesInto(w.get(), out)) {
        return Error{"bignum_too_wide"};
    }
    return out;
}

Result<Bytes> sakkeEncapsulate(ByteView kms_public_z, ByteView b, ByteView ssv) {
    const Params& pr = params();
    BnCtxPtr ctx = newCtx();
    if (!pr.ok || !ctx) {
        return Error{"crypto_alloc"};
    }
    if (ssv.size() != kSakkeSsvLen) {
        return Error{"sakke_bad_ssv", static_cast<std::int64_t>(ssv.size())};
    }
    auto base = identityPoint(kms_public_z, b, ctx.get());
    if (!base) {
        return base.error();
    }
    // Step 1: r = HashToIntegerRange( SSV || b, q ).
    BnPtr r = deriveR(ssv, b);
    EcPointPtr rb = newPoint(pr.group.get());
    BnPtr gr = secretBn();
    if (!r || !rb || !gr) {
        return Error{"crypto_alloc"};
    }
    // Step 2: R_(b,S) = [r]([b]P + Z_S) (secret r: the ladder path of EC_POINT_mul).
    if (EC_POINT_mul(pr.group.get(), rb.get(), nullptr, base->get(), r.get(), ctx.get()) != 1) {
        return Error{"crypto_alloc"};
    }
    // Step 3: H = SSV XOR HashToIntegerRange( g^r, 2^n ).
    Bytes gr_bytes(kSakkeFieldLen);
    if (!pfpExp(gr.get(), pr.g.get(), r.get(), ctx.get()) || !bnToBytesInto(gr.get(), gr_bytes)) {
        return Error{"crypto_alloc"};
    }
    auto mask = maskOf(gr_bytes);
    cleanse(gr_bytes);
    if (!mask) {
        return mask.error();
    }
    // Step 4: Encapsulated Data = R_(b,S) || H.
    auto out = pointToBytes(pr.group.get(), rb.get(), kSakkeFieldLen, ctx.get());
    if (!out) {
        return out.error();
    }
    for (std::size_t i = 0; i < kSakkeSsvLen; ++i) {
        out->push_back(static_cast<std::uint8_t>(ssv[i] ^ (*mask)[i]));
    }
    cleanse(*mask);
    return out;
}

Result<Bytes> sakkeDecapsulate(ByteView kms_public_z, ByteView b, ByteView rsk,
                               ByteView encapsulated) {
    const Params& pr = params();
    BnCtxPtr ctx = newCtx();
    if (!pr.ok || !ctx) {
        return Error{"crypto_alloc"};
    }
    // Step 1: parse R_(b,S) || H; R must be a point of E.
    if (encapsulated.size() != kSakkeEncapsulatedLen) {
        return Error{"sakke_bad_format", static_cast<std::int64_t>(encapsulated.size())};
    }
    auto rb = decodePoint(encapsulated.first(kSakkePointLen), ctx.get());
    if (!rb) {
        return Error{"sakke_bad_format"};
    }
    auto k = decodePoint(rsk, ctx.get());
    if (!k) {
        return Error{"sakke_bad_rsk"};
    }
    ByteView h = encapsulated.subspan(kSakkePointLen);
    // Step 2: w = < R_(b,S), K_(b,S) >.
    BnPtr w = secretBn();
    Bytes w_bytes(kSakkeFieldLen);
    if (!w || !pairing(w.get(), rb->get(), k->get(), ctx.get()) ||
        !bnToBytesInto(w.get(), w_bytes)) {
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
    auto base = identityPoint(kms_public_z, b, ctx.get());
    if (!base) {
        cleanse(ssv);
        return base.error();
    }
    BnPtr r = deriveR(ssv, b);
    EcPointPtr test = newPoint(pr.group.get());
    if (!r || !test ||
        EC_POINT_mul(pr.group.get(), test.get(), nullptr, base->get(), r.get(), ctx.get()) != 1) {
        cleanse(ssv);
        return Error{"crypto_alloc"};
    }
    if (EC_POINT_cmp(pr.group.get(), test.get(), rb->get(), ctx.get()) != 0) {
        cleanse(ssv);
        return Error{"sakke_check_failed"};
    }
    return ssv;
}

Status sakkeValidateRsk(ByteView kms_public_z, ByteView b, ByteView rsk) {
    const Params& pr = params();
    BnCtxPtr ctx = newCtx();
    if (!pr.ok || !ctx) {
        return Error{"crypto_alloc"};
    }
    auto base = identityPoint(kms_public_z, b, ctx.get());
    auto k = decodePoint(rsk, ctx.get());
    if (!base) {
        return base.error();
    }
    if (!k) {
        return Error{"sakke_bad_rsk"};
    }
    BnPtr w = secretBn();
    if (!w || !pairing(w.get(), base->get(), k->get(), ctx.get())) {
        return Error{"sakke_pairing_failed"};
    }
    if (BN_cmp(w.get(), pr.g.get()) != 0) {
        return Error{"sakke_rsk_invalid"};
    }
    return Status::success();
}

Result<Bytes> sakkeKmsPublicKey(ByteView z) {
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
