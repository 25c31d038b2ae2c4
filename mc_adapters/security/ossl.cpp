#include "mc_adapters/security/ossl.hpp"

#include <openssl/crypto.h>

namespace iwf::mc::security {

BnPtr newBn() {
    return BnPtr(BN_new());
}

BnPtr secretBn() {
    BnPtr b(BN_secure_new());
    if (b) {
        BN_set_flags(b.get(), BN_FLG_CONSTTIME);
    }
    return b;
}

BnCtxPtr newCtx() {
    return BnCtxPtr(BN_CTX_new());
}

EcPointPtr newPoint(const EC_GROUP* g) {
    return EcPointPtr(EC_POINT_new(g));
}

BnPtr bnFromBytes(ByteView v, bool secret) {
    BnPtr b = secret ? secretBn() : newBn();
    if (!b || BN_bin2bn(v.data(), static_cast<int>(v.size()), b.get()) == nullptr) {
        return nullptr;
    }
    return b;
}

BnPtr bnFromHex(const char* hex) {
    BIGNUM* b = nullptr;
    if (BN_hex2bn(&b, hex) == 0) {
        return nullptr;
    }
    return BnPtr(b);
}

Result<Bytes> bnToBytes(const BIGNUM* b, std::size_t width) {
    Bytes out(width);
    if (BN_bn2binpad(b, out.data(), static_cast<int>(width)) < 0) {
        return Error{"bignum_too_wide", static_cast<std::int64_t>(width)};
    }
    return out;
}

Status bnToBytesInto(const BIGNUM* b, MutableByteView out) {
    if (BN_bn2binpad(b, out.data(), static_cast<int>(out.size())) < 0) {
        return Error{"bignum_too_wide", static_cast<std::int64_t>(out.size())};
    }
    return Status::success();
}

Result<Bytes> pointToBytes(const EC_GROUP* g, const EC_POINT* p, std::size_t width, BN_CTX* ctx) {
    BnPtr x = newBn();
    BnPtr y = newBn();
    if (!x || !y || EC_POINT_get_affine_coordinates(g, p, x.get(), y.get(), ctx) != 1) {
        return Error{"point_at_infinity"};
    }
    Bytes out(1 + 2 * width);
    out[0] = 0x04;
    if (BN_bn2binpad(x.get(), out.data() + 1, static_cast<int>(width)) < 0 ||
        BN_bn2binpad(y.get(), out.data() + 1 + width, static_cast<int>(width)) < 0) {
        return Error{"bignum_too_wide"};
    }
    return out;
}

Result<EcPointPtr> pointFromBytes(const EC_GROUP* g, ByteView v, std::size_t width, BN_CTX* ctx) {
    if (v.size() != 1 + 2 * width || v[0] != 0x04) {
        return Error{"bad_point_encoding", static_cast<std::int64_t>(v.size())};
    }
    BnPtr x = bnFromBytes(v.subspan(1, width));
    BnPtr y = bnFromBytes(v.subspan(1 + width, width));
    EcPointPtr p = newPoint(g);
    if (!x || !y || !p) {
        return Error{"crypto_alloc"};
    }
    // Coordinates must be field elements (< p): EC_POINT_set_affine_coordinates would reduce
    // them silently. It refuses coordinates that do not satisfy the curve equation.
    BnPtr field = newBn();
    if (!field || EC_GROUP_get_curve(g, field.get(), nullptr, nullptr, ctx) != 1) {
        return Error{"crypto_alloc"};
    }
    if (BN_cmp(x.get(), field.get()) >= 0 || BN_cmp(y.get(), field.get()) >= 0) {
        return Error{"point_not_on_curve"};
    }
    if (EC_POINT_set_affine_coordinates(g, p.get(), x.get(), y.get(), ctx) != 1 ||
        EC_POINT_is_on_curve(g, p.get(), ctx) != 1) {
        return Error{"point_not_on_curve"};
    }
    return p;
}

bool equalConstTime(ByteView a, ByteView b) {
    return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

void cleanse(MutableByteView v) {
    OPENSSL_cleanse(v.data(), v.size());
}

}  // namespace iwf::mc::security
