#pragma once
// Thin RAII owners and conversions for the OpenSSL 3 bignum and EC primitives that ECCSI
// (RFC 6507) and SAKKE (RFC 6508) are built on. Nothing here throws: allocation failures come
// back as null owners and the callers turn them into Error{"crypto_alloc"}.
//
// Secrets (an SSK, an RSK, the SAKKE SSV and the ephemeral ECCSI j) live in BIGNUMs created
// by secretBn(): BN_FLG_CONSTTIME is set so OpenSSL takes its constant-time paths for
// exponentiation and inversion, and BN_clear_free wipes them on release.

#include <memory>
#include <string_view>

#include <openssl/bn.h>
#include <openssl/ec.h>

#include "common/bytes.hpp"
#include "common/result.hpp"

namespace iwf::mc::security {

struct BnDeleter {
    void operator()(BIGNUM* b) const { BN_clear_free(b); }
};
struct BnCtxDeleter {
    void operator()(BN_CTX* c) const { BN_CTX_free(c); }
};
struct EcGroupDeleter {
    void operator()(EC_GROUP* g) const { EC_GROUP_free(g); }
};
struct EcPointDeleter {
    void operator()(EC_POINT* p) const { EC_POINT_clear_free(p); }
};
using BnPtr = std::unique_ptr<BIGNUM, BnDeleter>;
using BnCtxPtr = std::unique_ptr<BN_CTX, BnCtxDeleter>;
using EcGroupPtr = std::unique_ptr<EC_GROUP, EcGroupDeleter>;
using EcPointPtr = std::unique_ptr<EC_POINT, EcPointDeleter>;

BnPtr newBn();
// A BIGNUM flagged BN_FLG_CONSTTIME, for secret values.
BnPtr secretBn();
BnCtxPtr newCtx();
EcPointPtr newPoint(const EC_GROUP* g);

// Big-endian unsigned octets -> BIGNUM (null on allocation failure).
BnPtr bnFromBytes(ByteView v, bool secret = false);
// Hex constant (a parameter set value) -> BIGNUM; only for compile-time constants.
BnPtr bnFromHex(const char* hex);
// BIGNUM -> exactly `width` big-endian octets (left-padded); fails if it does not fit.
Result<Bytes> bnToBytes(const BIGNUM* b, std::size_t width);
// Constant-time variant for secrets: BN_bn2binpad does not branch on the value's length.
Status bnToBytesInto(const BIGNUM* b, MutableByteView out);

// Uncompressed point encoding 0x04 || x || y with coordinates of `width` octets (RFC 6507 §3.3
// and RFC 6508 §4: "octet string ... of the form 0x04 || x || y").
Result<Bytes> pointToBytes(const EC_GROUP* g, const EC_POINT* p, std::size_t width, BN_CTX* ctx);
// Parses 0x04 || x || y (x, y each `width` octets), checks the point is on the curve and is
// not the point at infinity. "bad_point_encoding" / "point_not_on_curve".
Result<EcPointPtr> pointFromBytes(const EC_GROUP* g, ByteView v, std::size_t width, BN_CTX* ctx);

// Constant-time comparison of equal-length byte strings (CRYPTO_memcmp).
bool equalConstTime(ByteView a, ByteView b);
// Wipes a buffer in a way the compiler keeps (OPENSSL_cleanse).
void cleanse(MutableByteView v);

}  // namespace iwf::mc::security
