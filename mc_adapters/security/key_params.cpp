#include "mc_adapters/security/key_params.hpp"

#include <openssl/evp.h>

#include "mc_adapters/security/key_derivation.hpp"
#include "mc_adapters/security/ossl.hpp"

namespace iwf::mc::security {
namespace {

constexpr std::size_t kIvLen = 16;
constexpr std::size_t kTagLen = 16;
constexpr std::size_t kHeaderLen = 12;       // type, date/time, payload ID, sequence, algorithm
constexpr std::uint8_t kMessageType = 0x43;  // the value the peer sends (see the header)
constexpr std::uint8_t kAlgAes128Gcm = 1;

std::uint64_t read40(ByteReader& r) {
    std::uint64_t hi = r.u8();
    return (hi << 32) | r.u32();
}
void write40(ByteWriter& w, std::uint64_t v) {
    w.u8(static_cast<std::uint8_t>(v >> 32));
    w.u32(static_cast<std::uint32_t>(v));
}

bool gcm(bool encrypt, ByteView key, ByteView iv, ByteView aad, ByteView in, MutableByteView out,
         MutableByteView tag) {
    EVP_CIPHER_CTX* c = EVP_CIPHER_CTX_new();
    int n = 0;
    bool ok =
        c != nullptr &&
        EVP_CipherInit_ex(c, EVP_aes_128_gcm(), nullptr, nullptr, nullptr, encrypt) == 1 &&
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(iv.size()), nullptr) == 1 &&
        EVP_CipherInit_ex(c, nullptr, nullptr, key.data(), iv.data(), encrypt) == 1 &&
        EVP_CipherUpdate(c, nullptr, &n, aad.data(), static_cast<int>(aad.size())) == 1 &&
        EVP_CipherUpdate(c, out.data(), &n, in.data(), static_cast<int>(in.size())) == 1;
    if (ok && !encrypt) {
        ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, static_cast<int>(tag.size()),
                                 tag.data()) == 1;
    }
    ok = ok && EVP_CipherFinal_ex(c, out.data() + n, &n) == 1;
    if (ok && encrypt) {
        ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, static_cast<int>(tag.size()),
                                 tag.data()) == 1;
    }
    EVP_CIPHER_CTX_free(c);
    return ok;
}

}  // namespace

Result<KeyParameters> decodeKeyParameters(ByteView content) {
    ByteReader r(content);
    KeyParameters p;
    p.key_type = r.u8();
    p.status = r.u32();
    p.activation_time = read40(r);
    p.expiry_time = read40(r);
    ByteView text = r.take(r.u16());
    if (!r.ok()) {
        return Error{"keyparams_bad_format", static_cast<std::int64_t>(content.size())};
    }
    p.text.assign(text.begin(), text.end());
    ByteView rest = r.rest();
    p.group_ids.assign(rest.begin(), rest.end());
    return p;
}

Bytes encodeKeyParameters(const KeyParameters& p) {
    Bytes out;
    ByteWriter w(out);
    w.u8(p.key_type);
    w.u32(p.status);
    write40(w, p.activation_time);
    write40(w, p.expiry_time);
    w.u16(static_cast<std::uint16_t>(p.text.size()));
    w.str(p.text);
    w.bytes(p.group_ids);
    return out;
}

Result<KeyParameters> openKeyParameters(ByteView ext_data, ByteView dppk, std::uint32_t dppk_id) {
    ByteReader r(ext_data);
    ByteView header = r.take(kHeaderLen);
    ByteView iv = r.take(kIvLen);
    const std::uint32_t id = r.u32();
    (void)r.u8();  // payload type
    const std::uint16_t len = r.u16();
    ByteView sealed = r.rest();
    if (!r.ok() || sealed.size() != len || len < kTagLen) {
        return Error{"keyparams_bad_format", static_cast<std::int64_t>(ext_data.size())};
    }
    if (header[11] != kAlgAes128Gcm) {
        return Error{"keyparams_bad_format", header[11]};
    }
    if (id != dppk_id) {
        return Error{"keyparams_wrong_key_id", static_cast<std::int64_t>(id)};
    }
    auto dpck = dpckFromDppk(dppk, dppk_id);
    if (!dpck) {
        return dpck.error();
    }
    Bytes aad(header.begin(), header.end());
    aad.insert(aad.end(), iv.begin(), iv.end());
    ByteWriter(aad).u32(id);
    Bytes tag(sealed.end() - kTagLen, sealed.end());
    Bytes plain(sealed.size() - kTagLen + 16);
    const bool ok = gcm(false, *dpck, iv, aad, sealed.first(sealed.size() - kTagLen), plain, tag);
    cleanse(*dpck);
    if (!ok) {
        cleanse(plain);
        return Error{"keyparams_auth_fail"};
    }
    plain.resize(sealed.size() - kTagLen);
    auto p = decodeKeyParameters(plain);
    cleanse(plain);
    return p;
}

Result<Bytes> sealKeyParameters(const KeyParameters& p, ByteView dppk, std::uint32_t dppk_id,
                                ByteView iv) {
    if (iv.size() != kIvLen) {
        return Error{"keyparams_bad_iv"};
    }
    auto dpck = dpckFromDppk(dppk, dppk_id);
    if (!dpck) {
        return dpck.error();
    }
    Bytes out;
    ByteWriter w(out);
    w.u8(kMessageType);
    write40(w, 1);  // date/time of the payload: the peer writes 1; nothing reads it
    w.u32(0);       // payload ID: 0 (E.6.1)
    w.u8(0);        // payload sequence number: 0 (E.6.1)
    w.u8(kAlgAes128Gcm);
    w.bytes(iv);
    w.u32(dppk_id);
    Bytes aad(out.begin(), out.end());
    const Bytes plain = encodeKeyParameters(p);
    Bytes sealed(plain.size() + kTagLen + 16);
    MutableByteView tag = MutableByteView(sealed).subspan(plain.size(), kTagLen);
    const bool ok = gcm(true, *dpck, iv, aad, plain, sealed, tag);
    cleanse(*dpck);
    if (!ok) {
        return Error{"crypto_alloc"};
    }
    sealed.resize(plain.size() + kTagLen);
    w.u8(0);  // payload type
    w.u16(static_cast<std::uint16_t>(sealed.size()));
    w.bytes(sealed);
    return out;
}

}  // namespace iwf::mc::security
