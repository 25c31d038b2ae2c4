#include "mc_adapters/security/eccsi.hpp"

#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/rand.h>

#include "mc_adapters/security/ct_field.hpp"
#include "mc_adapters/security/modular.hpp"
#include "mc_adapters/security/ossl.hpp"

namespace iwf::mc::security {
namespace {

// NIST P-256 (RFC 6507 Appendix A uses it; RFC 6509 §3.3 mandates it for MIKEY-SAKKE).
struct Curve {
    EcGroupPtr group;
    BnPtr q;
    Bytes g_bytes;  // G encoded 0x04 || x || y, an input of HS
    std::unique_ptr<PrimeField> fq;
    std::unique_ptr<CtField> fq_ct;  // the signer's secrets modulo q
    bool ok = false;

    Curve() : group(EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1)), q(newBn()) {
        BnCtxPtr ctx = newCtx();
        if (!group || !q || !ctx || EC_GROUP_get_order(group.get(), q.get(), ctx.get()) != 1) {
            return;
        }
        auto g =
            pointToBytes(group.get(), EC_GROUP_get0_generator(group.get()), kEccsiN, ctx.get());
        if (!g) {
            return;
        }
        g_bytes = std::move(*g);
        fq = std::make_unique<PrimeField>(q.get());
        fq_ct = std::make_unique<CtField>(q.get());
        ok = fq->valid() && fq_ct->valid();
    }
};

const Curve& curve() {
    static const Curve c;
    return c;
}

Result<Bytes> sha256(std::initializer_list<ByteView> parts) {
    EVP_MD_CTX* md = EVP_MD_CTX_new();
    Bytes out(32);
    bool ok = md != nullptr && EVP_DigestInit_ex(md, EVP_sha256(), nullptr) == 1;
    for (ByteView p : parts) {
        ok = ok && EVP_DigestUpdate(md, p.data(), p.size()) == 1;
    }
    unsigned int len = 0;
    ok = ok && EVP_DigestFinal_ex(md, out.data(), &len) == 1 && len == 32;
    EVP_MD_CTX_free(md);
    if (!ok) {
        return Error{"crypto_alloc"};
    }
    return out;
}

// The signer's secret values, wiped when signing returns.
struct EccsiSecrets {
    CtFe ssk, j, t, s;
    EccsiSecrets() = default;
    EccsiSecrets(const EccsiSecrets&) = delete;
    EccsiSecrets& operator=(const EccsiSecrets&) = delete;
    ~EccsiSecrets() {
        for (CtFe* v : {&ssk, &j, &t, &s}) {
            ctWipe(*v);
        }
    }
};

// x mod q as a fresh bignum (HS and HE are 256-bit hashes, possibly >= q).
BnPtr reducedModQ(ByteView v, BN_CTX* ctx) {
    BnPtr b = bnFromBytes(v);
    if (!b || !curve().fq->reduce(b.get(), b.get(), ctx)) {
        return nullptr;
    }
    return b;
}

}  // namespace

Result<Bytes> eccsiHs(ByteView kpak, ByteView id, ByteView pvt) {
    if (!curve().ok) {
        return Error{"crypto_alloc"};
    }
    return sha256({curve().g_bytes, kpak, id, pvt});
}

Status eccsiValidateSigningKey(ByteView kpak, ByteView id, const EccsiSigningKey& key) {
    const Curve& c = curve();
    BnCtxPtr ctx = newCtx();
    if (!c.ok || !ctx) {
        return Error{"crypto_alloc"};
    }
    const EC_GROUP* g = c.group.get();
    auto kpak_pt = pointFromBytes(g, kpak, kEccsiN, ctx.get());
    auto pvt_pt = pointFromBytes(g, key.pvt, kEccsiN, ctx.get());
    if (!kpak_pt || !pvt_pt || key.ssk.size() != kEccsiN) {
        return Error{"eccsi_key_invalid"};
    }
    auto hs = eccsiHs(kpak, id, key.pvt);
    if (!hs) {
        return hs.error();
    }
    BnPtr hs_bn = reducedModQ(*hs, ctx.get());
    BnPtr ssk = bnFromBytes(key.ssk, true);
    EcPointPtr lhs = newPoint(g);
    EcPointPtr t = newPoint(g);
    if (!hs_bn || !ssk || !lhs || !t) {
        return Error{"crypto_alloc"};
    }
    if (BN_is_zero(ssk.get()) || BN_cmp(ssk.get(), c.q.get()) >= 0) {
        return Error{"eccsi_key_invalid"};
    }
    // RFC 6507 §5.1.2: KPAK = [SSK]G - [HS]PVT. [SSK]G alone (constant-time generator
    // multiplication), then the public [HS]PVT is subtracted.
    bool ok = EC_POINT_mul(g, lhs.get(), ssk.get(), nullptr, nullptr, ctx.get()) == 1 &&
              EC_POINT_mul(g, t.get(), nullptr, pvt_pt->get(), hs_bn.get(), ctx.get()) == 1 &&
              EC_POINT_invert(g, t.get(), ctx.get()) == 1 &&
              EC_POINT_add(g, lhs.get(), lhs.get(), t.get(), ctx.get()) == 1;
    if (!ok) {
        return Error{"crypto_alloc"};
    }
    if (EC_POINT_cmp(g, lhs.get(), kpak_pt->get(), ctx.get()) != 0) {
        return Error{"eccsi_key_invalid"};
    }
    return Status::success();
}

Result<Bytes> eccsiSign(ByteView kpak, ByteView id, const EccsiSigningKey& key, ByteView message,
                        std::optional<ByteView> j_for_test) {
    const Curve& c = curve();
    BnCtxPtr ctx = newCtx();
    if (!c.ok || !ctx) {
        return Error{"crypto_alloc"};
    }
    const EC_GROUP* g = c.group.get();
    const CtField& fq = *c.fq_ct;
    if (key.ssk.size() != kEccsiN || key.pvt.size() != kEccsiPointLen) {
        return Error{"eccsi_key_invalid"};
    }
    auto hs = eccsiHs(kpak, id, key.pvt);
    if (!hs) {
        return hs.error();
    }
    // The SSK, j, t and s' live on the constant-time field (ct_field.hpp); only j crosses to
    // a BIGNUM, for OpenSSL's constant-time P-256 generator multiplication.
    EccsiSecrets sec;
    fq.load(sec.ssk, key.ssk);  // an SSK >= q (eccsiValidateSigningKey refuses it) is reduced
    BnPtr j = secretBn();
    EcPointPtr jpt = newPoint(g);
    BnPtr jx = newBn();
    if (!j || !jpt || !jx) {
        return Error{"crypto_alloc"};
    }
    for (int attempt = 0; attempt < 8; ++attempt) {
        // Step 1: j random in F_q* (48 random octets reduced mod q: bias below 2^-128).
        std::uint8_t rnd[48];
        ByteView j_in = ByteView(rnd);
        if (j_for_test) {
            j_in = *j_for_test;
        } else if (RAND_priv_bytes(rnd, sizeof rnd) != 1) {
            return Error{"rng_failure"};
        }
        fq.reduce(sec.j, j_in);
        cleanse(rnd);
        std::uint8_t jb[kEccsiN];
        fq.store(jb, sec.j);
        const bool j_ok = BN_bin2bn(jb, sizeof jb, j.get()) != nullptr;
        cleanse(jb);
        if (!j_ok) {
            return Error{"crypto_alloc"};
        }
        BN_set_flags(j.get(), BN_FLG_CONSTTIME);
        if (ctDeclassify(fq.isZero(sec.j)) != 0) {  // public: the attempt is repeated
            continue;
        }
        // Step 2: J = [j]G, r = Jx (an N-octet integer).
        if (EC_POINT_mul(g, jpt.get(), j.get(), nullptr, nullptr, ctx.get()) != 1 ||
            EC_POINT_get_affine_coordinates(g, jpt.get(), jx.get(), nullptr, ctx.get()) != 1) {
            return Error{"crypto_alloc"};
        }
        auto r = bnToBytes(jx.get(), kEccsiN);
        if (!r) {
            return r.error();
        }
        // Step 3: HE = hash( HS || r || M ).
        auto he = sha256({*hs, *r, message});
        if (!he) {
            return he.error();
        }
        CtFe he_fe, r_fe;
        fq.reduce(he_fe, *he);
        fq.reduce(r_fe, *r);
        // Step 4: t = HE + r * SSK (mod q), must be non-zero.
        fq.mul(sec.t, r_fe, sec.ssk);
        fq.add(sec.t, sec.t, he_fe);
        if (ctDeclassify(fq.isZero(sec.t)) != 0) {
            continue;
        }
        // Step 5: s' = t^-1 * j (mod q).
        fq.inv(sec.t, sec.t);
        fq.mul(sec.s, sec.t, sec.j);
        // Step 6: s' always fits in N octets for P-256 (q < 2^256), so s = s'.
        Bytes sig;
        sig.reserve(kEccsiSignatureLen);
        sig.insert(sig.end(), r->begin(), r->end());
        sig.resize(2 * kEccsiN);
        fq.store(MutableByteView(sig).subspan(kEccsiN, kEccsiN), sec.s);
        // Step 7: Signature = r || s || PVT.
        sig.insert(sig.end(), key.pvt.begin(), key.pvt.end());
        BN_zero(j.get());
        return sig;
    }
    return Error{"eccsi_sign_retry_exhausted"};
}

Status eccsiVerify(ByteView kpak, ByteView id, ByteView message, ByteView signature) {
    const Curve& c = curve();
    BnCtxPtr ctx = newCtx();
    if (!c.ok || !ctx) {
        return Error{"crypto_alloc"};
    }
    if (signature.size() != kEccsiSignatureLen) {
        return Error{"eccsi_bad_format", static_cast<std::int64_t>(signature.size())};
    }
    const EC_GROUP* g = c.group.get();
    ByteView r = signature.subspan(0, kEccsiN);
    ByteView s = signature.subspan(kEccsiN, kEccsiN);
    ByteView pvt = signature.subspan(2 * kEccsiN);
    // Step 1: PVT must lie on E (pointFromBytes checks it), KPAK likewise.
    auto pvt_pt = pointFromBytes(g, pvt, kEccsiN, ctx.get());
    auto kpak_pt = pointFromBytes(g, kpak, kEccsiN, ctx.get());
    if (!pvt_pt || !kpak_pt) {
        return Error{"eccsi_bad_format"};
    }
    // Steps 2-3: HS = hash( G || KPAK || ID || PVT ), HE = hash( HS || r || M ).
    auto hs = eccsiHs(kpak, id, pvt);
    if (!hs) {
        return hs.error();
    }
    auto he = sha256({*hs, r, message});
    if (!he) {
        return he.error();
    }
    BnPtr hs_bn = reducedModQ(*hs, ctx.get());
    BnPtr he_bn = reducedModQ(*he, ctx.get());
    BnPtr r_bn = bnFromBytes(r);
    BnPtr r_mod_q = reducedModQ(r, ctx.get());
    BnPtr s_bn = bnFromBytes(s);
    EcPointPtr y = newPoint(g);
    EcPointPtr j = newPoint(g);
    BnPtr jx = newBn();
    if (!hs_bn || !he_bn || !r_bn || !r_mod_q || !s_bn || !y || !j || !jx) {
        return Error{"crypto_alloc"};
    }
    if (BN_is_zero(s_bn.get()) || BN_cmp(s_bn.get(), c.q.get()) >= 0 || BN_is_zero(r_bn.get())) {
        return Error{"eccsi_bad_signature"};
    }
    // Step 4: Y = [HS]PVT + KPAK.
    bool ok = EC_POINT_mul(g, y.get(), nullptr, pvt_pt->get(), hs_bn.get(), ctx.get()) == 1 &&
              EC_POINT_add(g, y.get(), y.get(), kpak_pt->get(), ctx.get()) == 1;
    // Step 5: J = [s]( [HE]G + [r]Y ).
    ok = ok && EC_POINT_mul(g, j.get(), he_bn.get(), y.get(), r_mod_q.get(), ctx.get()) == 1 &&
         EC_POINT_mul(g, j.get(), nullptr, j.get(), s_bn.get(), ctx.get()) == 1;
    if (!ok) {
        return Error{"crypto_alloc"};
    }
    // Step 6: Jx = r (mod p) and Jx non-zero; J at infinity fails the affine conversion.
    if (EC_POINT_get_affine_coordinates(g, j.get(), jx.get(), nullptr, ctx.get()) != 1 ||
        BN_is_zero(jx.get()) || BN_cmp(jx.get(), r_bn.get()) != 0) {
        return Error{"eccsi_bad_signature"};
    }
    return Status::success();
}

Result<Bytes> eccsiKpakFromKsak(ByteView ksak) {
    const Curve& c = curve();
    BnCtxPtr ctx = newCtx();
    BnPtr k = bnFromBytes(ksak, true);
    if (!c.ok || !ctx || !k) {
        return Error{"crypto_alloc"};
    }
    EcPointPtr kpak = newPoint(c.group.get());
    if (!kpak ||
        EC_POINT_mul(c.group.get(), kpak.get(), k.get(), nullptr, nullptr, ctx.get()) != 1) {
        return Error{"crypto_alloc"};
    }
    return pointToBytes(c.group.get(), kpak.get(), kEccsiN, ctx.get());
}

Result<EccsiSigningKey> eccsiIssueSigningKey(ByteView ksak, ByteView id, ByteView v) {
    const Curve& c = curve();
    BnCtxPtr ctx = newCtx();
    BnPtr k = bnFromBytes(ksak, true);
    BnPtr vb = bnFromBytes(v, true);
    EcPointPtr pvt = newPoint(c.group.get());
    if (!c.ok || !ctx || !k || !vb || !pvt) {
        return Error{"crypto_alloc"};
    }
    auto kpak = eccsiKpakFromKsak(ksak);
    if (!kpak) {
        return kpak.error();
    }
    // RFC 6507 §5.1.1: PVT = [v]G; HS = hash( G || KPAK || ID || PVT ); SSK = KSAK + HS * v.
    if (EC_POINT_mul(c.group.get(), pvt.get(), vb.get(), nullptr, nullptr, ctx.get()) != 1) {
        return Error{"crypto_alloc"};
    }
    auto pvt_bytes = pointToBytes(c.group.get(), pvt.get(), kEccsiN, ctx.get());
    if (!pvt_bytes) {
        return pvt_bytes.error();
    }
    auto hs = eccsiHs(*kpak, id, *pvt_bytes);
    if (!hs) {
        return hs.error();
    }
    BnPtr hs_bn = reducedModQ(*hs, ctx.get());
    BnPtr ssk = secretBn();
    if (!hs_bn || !ssk || !c.fq->reduce(vb.get(), vb.get(), ctx.get()) ||
        !c.fq->reduce(k.get(), k.get(), ctx.get()) ||
        !c.fq->mul(ssk.get(), hs_bn.get(), vb.get(), ctx.get()) ||
        !c.fq->add(ssk.get(), ssk.get(), k.get())) {
        return Error{"crypto_alloc"};
    }
    if (BN_is_zero(ssk.get()) || BN_is_zero(hs_bn.get())) {
        return Error{"eccsi_key_invalid"};  // §5.1.1 step 5: the KMS picks another v
    }
    EccsiSigningKey out;
    out.ssk.resize(kEccsiN);
    if (!bnToBytesInto(ssk.get(), out.ssk)) {
        return Error{"bignum_too_wide"};
    }
    out.pvt = std::move(*pvt_bytes);
    return out;
}

}  // namespace iwf::mc::security
