#include "mc_adapters/security/sakke_arith.hpp"

namespace iwf::mc::security::sakke_detail {
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

}  // namespace

Params::Params() : p(bnFromHex(kP)), q(bnFromHex(kQ)), g(bnFromHex(kG)), q_minus_1(bnFromHex(kQ)) {
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
    // The generator with its order and cofactor: EC_POINT_mul of the KMS-side functions.
    if (!gen ||
        EC_POINT_set_affine_coordinates(group.get(), gen.get(), px.get(), py.get(), ctx.get()) !=
            1 ||
        EC_GROUP_set_generator(group.get(), gen.get(), q.get(), h.get()) != 1) {
        return;
    }
    fq = std::make_unique<PrimeField>(q.get());
    fp_ct = std::make_unique<CtField>(p.get());
    fq_ct = std::make_unique<CtField>(q.get());
    ok = fq->valid() && fp_ct->valid() && fq_ct->valid() && fp_ct->fromBn(curve_a, a.get()) &&
         fp_ct->fromBn(g_ct, g.get());
}

const Params& params() {
    static const Params p;
    return p;
}

void fp2Mul(Fp2& out, const Fp2& x, const Fp2& y) {
    // (a + bi)(c + di) = (ac - bd) + ((a + b)(c + d) - ac - bd) i
    const CtField& f = *params().fp_ct;
    CtFe ac, bd, s, t;
    f.mul(ac, x.a, y.a);
    f.mul(bd, x.b, y.b);
    f.add(s, x.a, x.b);
    f.add(t, y.a, y.b);
    f.mul(s, s, t);
    f.sub(s, s, ac);
    f.sub(out.b, s, bd);
    f.sub(out.a, ac, bd);
    ctWipe(ac);
    ctWipe(bd);
    ctWipe(s);
    ctWipe(t);
}

void fp2Sqr(Fp2& out, const Fp2& x) {
    // (a + bi)^2 = (a + b)(a - b) + 2ab i
    const CtField& f = *params().fp_ct;
    CtFe s, d, ab;
    f.add(s, x.a, x.b);
    f.sub(d, x.a, x.b);
    f.mul(ab, x.a, x.b);
    f.mul(out.a, s, d);
    f.add(out.b, ab, ab);
    ctWipe(s);
    ctWipe(d);
    ctWipe(ab);
}

void fp2Wipe(Fp2& x) {
    ctWipe(x.a);
    ctWipe(x.b);
}

void ctPointWipe(CtPoint& p) {
    ctWipe(p.x);
    ctWipe(p.y);
    ctWipe(p.z);
}

CtLimb ctDecodePoint(CtPoint& out, ByteView v) {
    const CtField& f = *params().fp_ct;
    // Format checked by the caller (size and 0x04 are public).
    const CtLimb x_ok = f.load(out.x, v.subspan(1, kFieldLen));
    const CtLimb y_ok = f.load(out.y, v.subspan(1 + kFieldLen, kFieldLen));
    f.one(out.z);
    // y^2 = x^3 + a x (b = 0)
    CtFe lhs, rhs, t;
    f.sqr(lhs, out.y);
    f.sqr(t, out.x);
    f.add(t, t, params().curve_a);
    f.mul(rhs, t, out.x);
    const CtLimb on_curve = f.equal(lhs, rhs);
    ctWipe(lhs);
    ctWipe(rhs);
    ctWipe(t);
    return x_ok & y_ok & on_curve;
}

bool ctPointOf(CtPoint& out, const EC_POINT* p, BN_CTX* ctx) {
    const Params& pr = params();
    BnPtr x = newBn();
    BnPtr y = newBn();
    if (!x || !y ||
        EC_POINT_get_affine_coordinates(pr.group.get(), p, x.get(), y.get(), ctx) != 1) {
        return false;
    }
    pr.fp_ct->one(out.z);
    return pr.fp_ct->fromBn(out.x, x.get()) && pr.fp_ct->fromBn(out.y, y.get());
}

namespace {

// out = a·t for the curve's a = -3: -(t + t + t), additions instead of a product.
void mulByA(const CtField& f, CtFe& out, const CtFe& t) {
    CtFe t3, zero;
    f.add(t3, t, t);
    f.add(t3, t3, t);
    f.zero(zero);
    f.sub(out, zero, t3);
    ctWipe(t3);
}

}  // namespace

void ctPointAdd(CtPoint& out, const CtPoint& p1, const CtPoint& p2) {
    // Renes-Costello-Batina 2016, Algorithm 1, step by step, with b = 0 (so b3·t2 and b3·t4
    // are 0 and drop out, marked "b3 = 0") and a = -3 (mulByA).
    const CtField& f = *params().fp_ct;
    CtFe t0, t1, t2, t3, t4, t5, x3, y3, z3;
    f.mul(t0, p1.x, p2.x);
    f.mul(t1, p1.y, p2.y);
    f.mul(t2, p1.z, p2.z);
    f.add(t3, p1.x, p1.y);
    f.add(t4, p2.x, p2.y);
    f.mul(t3, t3, t4);
    f.add(t4, t0, t1);
    f.sub(t3, t3, t4);
    f.add(t4, p1.x, p1.z);
    f.add(t5, p2.x, p2.z);
    f.mul(t4, t4, t5);
    f.add(t5, t0, t2);
    f.sub(t4, t4, t5);
    f.add(t5, p1.y, p1.z);
    f.add(x3, p2.y, p2.z);
    f.mul(t5, t5, x3);
    f.add(x3, t1, t2);
    f.sub(t5, t5, x3);
    mulByA(f, z3, t4);  // Z3 = a·t4; X3 = b3·t2 = 0; Z3 = X3 + Z3 (b3 = 0)
    f.sub(x3, t1, z3);
    f.add(z3, t1, z3);
    f.mul(y3, x3, z3);
    f.add(t1, t0, t0);
    f.add(t1, t1, t0);
    mulByA(f, t2, t2);
    f.add(t1, t1, t2);  // (t4 = b3·t4 = 0, b3 = 0)
    f.sub(t2, t0, t2);
    mulByA(f, t4, t2);  // t2 = a·t2; t4 = t4 + t2 = t2 (b3 = 0)
    f.mul(t0, t1, t4);
    f.add(y3, y3, t0);
    f.mul(t0, t5, t4);
    f.mul(x3, t3, x3);
    f.sub(x3, x3, t0);
    f.mul(t0, t3, t1);
    f.mul(z3, t5, z3);
    f.add(z3, z3, t0);
    out.x = x3;
    out.y = y3;
    out.z = z3;
    for (CtFe* t : {&t0, &t1, &t2, &t3, &t4, &t5, &x3, &y3, &z3}) {
        ctWipe(*t);
    }
}

CtLimb ctBitMask(ByteView k, std::size_t i) {
    return ~ctMaskIsZero((k[i / 8] >> (7 - i % 8)) & 1u);
}

void ctScalarMul(CtPoint& out, const CtPoint& base, ByteView k) {
    const CtField& f = *params().fp_ct;
    CtPoint acc, sum;
    f.zero(acc.x);
    f.one(acc.y);
    f.zero(acc.z);
    for (std::size_t i = 0; i < 8 * k.size(); ++i) {
        const CtLimb mask = ctBitMask(k, i);
        ctPointAdd(acc, acc, acc);
        ctPointAdd(sum, acc, base);
        f.select(acc.x, mask, sum.x, acc.x);
        f.select(acc.y, mask, sum.y, acc.y);
        f.select(acc.z, mask, sum.z, acc.z);
    }
    out = acc;
    ctPointWipe(acc);
    ctPointWipe(sum);
}

CtLimb ctPointEqualsAffine(const CtPoint& a, const CtFe& x, const CtFe& y) {
    // (X : Y : Z) = (x, y) iff X = x Z, Y = y Z and Z != 0.
    const CtField& f = *params().fp_ct;
    CtFe xz, yz;
    f.mul(xz, x, a.z);
    f.mul(yz, y, a.z);
    const CtLimb eq = f.equal(xz, a.x) & f.equal(yz, a.y) & ~f.isZero(a.z);
    ctWipe(xz);
    ctWipe(yz);
    return eq;
}

void ctPointEncode(MutableByteView out, const CtPoint& a) {
    const CtField& f = *params().fp_ct;
    CtFe zinv, t;
    f.inv(zinv, a.z);
    out[0] = 0x04;
    f.mul(t, a.x, zinv);
    f.store(out.subspan(1, kFieldLen), t);
    f.mul(t, a.y, zinv);
    f.store(out.subspan(1 + kFieldLen, kFieldLen), t);
    ctWipe(zinv);
    ctWipe(t);
}

}  // namespace iwf::mc::security::sakke_detail
