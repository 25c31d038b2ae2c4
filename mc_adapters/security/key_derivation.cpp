#include "mc_adapters/security/key_derivation.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "mc_adapters/security/ossl.hpp"

namespace iwf::mc::security {
namespace {

constexpr std::size_t kHashLen = 32;

bool hmacSha256(ByteView key, std::initializer_list<ByteView> parts, std::uint8_t out[kHashLen]) {
    EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    EVP_MAC_CTX* ctx = mac != nullptr ? EVP_MAC_CTX_new(mac) : nullptr;
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", digest, 0),
                           OSSL_PARAM_construct_end()};
    bool ok = ctx != nullptr && EVP_MAC_init(ctx, key.data(), key.size(), params) == 1;
    for (ByteView p : parts) {
        ok = ok && EVP_MAC_update(ctx, p.data(), p.size()) == 1;
    }
    std::size_t len = 0;
    ok = ok && EVP_MAC_final(ctx, out, &len, kHashLen) == 1 && len == kHashLen;
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
    return ok;
}

// P(s, label, m) of RFC 3830 §4.1.2: HMAC(s, A_1 || label) || ... || HMAC(s, A_m || label),
// A_0 = label, A_i = HMAC(s, A_(i-1)).
bool pFunction(ByteView s, ByteView label, std::size_t m, Bytes& out) {
    std::uint8_t a[kHashLen];
    std::uint8_t block[kHashLen];
    out.clear();
    ByteView prev = label;
    for (std::size_t i = 0; i < m; ++i) {
        if (!hmacSha256(s, {prev}, a) || !hmacSha256(s, {ByteView(a, kHashLen), label}, block)) {
            return false;
        }
        out.insert(out.end(), block, block + kHashLen);
        prev = ByteView(a, kHashLen);
    }
    cleanse(block);
    return true;
}

}  // namespace

Result<Bytes> mikeyPrf(ByteView inkey, ByteView label, std::size_t out_len) {
    // inkey is cut into 256-bit pieces s_1..s_n (the last may be shorter); each gives
    // P(s_i, label, m), m = ceiling(out_len / 256 bits), and the PRF is their XOR.
    constexpr std::size_t kPiece = 32;
    const std::size_t m = (out_len + kHashLen - 1) / kHashLen;
    const std::size_t n = inkey.empty() ? 1 : (inkey.size() + kPiece - 1) / kPiece;
    Bytes acc(m * kHashLen, 0);
    Bytes p;
    for (std::size_t i = 0; i < n; ++i) {
        ByteView s = inkey.subspan(i * kPiece, std::min(kPiece, inkey.size() - i * kPiece));
        if (!pFunction(s, label, m, p)) {
            return Error{"crypto_alloc"};
        }
        for (std::size_t j = 0; j < acc.size(); ++j) {
            acc[j] ^= p[j];
        }
    }
    cleanse(p);
    acc.resize(out_len);
    return acc;
}

Bytes mikeyLabel(std::uint32_t constant, std::uint8_t cs_id, std::uint32_t csb_id, ByteView rand) {
    Bytes out;
    ByteWriter w(out);
    w.u32(constant);
    w.u8(cs_id);
    w.u32(csb_id);
    w.bytes(rand);
    return out;
}

Result<SrtpMasterKey> deriveSrtpMasterKey(ByteView tgk, CsId cs_id, std::uint32_t csb_id,
                                          ByteView rand, std::size_t key_len,
                                          std::size_t salt_len) {
    const auto id = static_cast<std::uint8_t>(cs_id);
    auto key = mikeyPrf(tgk, mikeyLabel(kMikeyConstTek, id, csb_id, rand), key_len);
    auto salt = mikeyPrf(tgk, mikeyLabel(kMikeyConstSalt, id, csb_id, rand), salt_len);
    if (!key) {
        return key.error();
    }
    if (!salt) {
        return salt.error();
    }
    return SrtpMasterKey{std::move(*key), std::move(*salt)};
}

Result<Bytes> kdf33220(ByteView key, std::uint8_t fc, std::initializer_list<ByteView> params) {
    Bytes s{fc};
    ByteWriter w(s);
    for (ByteView p : params) {
        if (p.size() > 0xffff) {
            return Error{"kdf_parameter_too_long"};
        }
        w.bytes(p);
        w.u16(static_cast<std::uint16_t>(p.size()));
    }
    Bytes out(kHashLen);
    if (!hmacSha256(key, {s}, out.data())) {
        return Error{"crypto_alloc"};
    }
    return out;
}

Result<std::uint32_t> gukIdSalt(ByteView gmk, std::string_view user_id) {
    auto k = kdf33220(gmk, 0x50, {asBytes(user_id)});
    if (!k) {
        return k.error();
    }
    ByteReader r(ByteView(*k).last(4));
    std::uint32_t salt = r.u32() & 0x0fffffffu;
    cleanse(*k);
    return salt;
}

Result<std::uint32_t> gukIdFromGmkId(ByteView gmk, std::string_view user_id, std::uint32_t gmk_id) {
    auto salt = gukIdSalt(gmk, user_id);
    if (!salt) {
        return salt.error();
    }
    return gmk_id ^ *salt;
}

Result<std::uint32_t> gmkIdFromGukId(ByteView gmk, std::string_view user_id, std::uint32_t guk_id) {
    return gukIdFromGmkId(gmk, user_id, guk_id);  // XOR with the same salt undoes it
}

Result<Bytes> dpckFromDppk(ByteView dppk, std::uint32_t dppk_id) {
    Bytes id;
    ByteWriter(id).u32(dppk_id);
    auto k = kdf33220(dppk, 0x53, {id});
    if (!k) {
        return k.error();
    }
    // "the n least significant bits" for an n-bit DPPK (n = 128 or 256).
    const std::size_t n = std::min(dppk.size(), k->size());
    Bytes out(k->end() - static_cast<std::ptrdiff_t>(n), k->end());
    cleanse(*k);
    return out;
}

Bytes encodeNonNegative(std::uint64_t v) {
    Bytes out;
    do {
        out.insert(out.begin(), static_cast<std::uint8_t>(v & 0xff));
        v >>= 8;
    } while (v != 0);
    return out;
}

Bytes mikeySakkeUid(std::string_view user_uri, std::string_view kms_uri, std::uint64_t key_period,
                    std::uint64_t key_period_offset, std::uint64_t period_no) {
    // S = FC || P0 || L0 || ... || P5 || L5 with FC = 0x00 (a dummy: no KDF is run) and
    // UID = SHA-256(S) (33.180 F.2.1).
    Bytes s{0x00};
    ByteWriter w(s);
    const Bytes p3 = encodeNonNegative(key_period);
    const Bytes p4 = encodeNonNegative(key_period_offset);
    const Bytes p5 = encodeNonNegative(period_no);
    for (ByteView p : {asBytes("MIKEY-SAKKE-UID"), asBytes(user_uri), asBytes(kms_uri),
                       ByteView(p3), ByteView(p4), ByteView(p5)}) {
        w.bytes(p);
        w.u16(static_cast<std::uint16_t>(p.size()));
    }
    Bytes out(kHashLen);
    unsigned int len = 0;
    EVP_Digest(s.data(), s.size(), out.data(), &len, EVP_sha256(), nullptr);
    return out;
}

std::uint64_t keyPeriodNo(std::uint64_t ntp_seconds, std::uint64_t key_period,
                          std::uint64_t key_period_offset) {
    if (key_period == 0 || ntp_seconds < key_period_offset) {
        return 0;
    }
    return (ntp_seconds - key_period_offset) / key_period;
}

}  // namespace iwf::mc::security
