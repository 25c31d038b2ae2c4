#include "harness/crypto/p25_crypto.hpp"

#include <memory>

#include <openssl/evp.h>

namespace iwf::harness {

namespace {

struct CtxFree {
    void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};

std::uint64_t mi64(const lmr::p25::Mi& mi) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < 8; ++i) {
        v = (v << 8) | mi[i];
    }
    return v;
}

void put64(std::uint64_t v, std::uint8_t* out) {
    for (int i = 7; i >= 0; --i) {
        out[i] = static_cast<std::uint8_t>(v & 0xFF);
        v >>= 8;
    }
}

}  // namespace

Result<Bytes> aes256OfbKeystream(const Aes256Key& key, const std::array<std::uint8_t, 16>& iv,
                                 std::size_t len) {
    std::unique_ptr<EVP_CIPHER_CTX, CtxFree> ctx(EVP_CIPHER_CTX_new());
    if (!ctx) {
        return Error{"openssl"};
    }
    if (EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_ofb(), nullptr, key.data(), iv.data()) != 1) {
        return Error{"openssl"};
    }
    // OFB keystream = encryption of zeros.
    Bytes zeros(len, 0);
    Bytes out(len + 16, 0);
    int n = 0;
    if (EVP_EncryptUpdate(ctx.get(), out.data(), &n, zeros.data(), static_cast<int>(len)) != 1) {
        return Error{"openssl"};
    }
    int fin = 0;
    if (EVP_EncryptFinal_ex(ctx.get(), out.data() + n, &fin) != 1) {
        return Error{"openssl"};
    }
    out.resize(static_cast<std::size_t>(n + fin));
    if (out.size() != len) {
        return Error{"openssl", static_cast<std::int64_t>(out.size())};
    }
    return out;
}

std::array<std::uint8_t, 16> p25AesIv(const lmr::p25::Mi& mi) {
    std::array<std::uint8_t, 16> iv{};
    const std::uint64_t m = mi64(mi);
    put64(m, iv.data());
    put64(lmr::p25::nextMi64(m), iv.data() + 8);
    return iv;
}

std::size_t p25ImbeOffset(std::uint8_t index) {
    const std::size_t ldu = index / 9;
    const std::size_t pos = index % 9;
    return 11 + ldu * 101 + pos * 11 + (pos < 8 ? 0 : 2);
}

std::size_t p25LsdOffset(bool ldu2) {
    return ldu2 ? 200 : 99;
}

void P25Keystream::applyImbe(std::uint8_t index, MutableByteView imbe11) const {
    if (index > 17 || imbe11.size() < 11) {
        return;
    }
    const std::size_t off = p25ImbeOffset(index);
    for (std::size_t i = 0; i < 11; ++i) {
        imbe11[i] ^= bytes[off + i];
    }
}

void P25Keystream::applyLsd(bool ldu2, MutableByteView lsd2) const {
    if (lsd2.size() < 2) {
        return;
    }
    const std::size_t off = p25LsdOffset(ldu2);
    lsd2[0] ^= bytes[off];
    lsd2[1] ^= bytes[off + 1];
}

Result<P25Keystream> p25Keystream(const Aes256Key& key, const lmr::p25::Mi& mi) {
    auto raw = aes256OfbKeystream(key, p25AesIv(mi), kP25KeystreamBytes);
    if (!raw.ok()) {
        return raw.error();
    }
    P25Keystream ks;
    std::copy_n(raw->begin() + kP25KeystreamDiscard, kP25SuperframeKeystream, ks.bytes.begin());
    return ks;
}

lmr::p25::Mi P25VoiceCipher::miOf(std::uint32_t superframe) const {
    lmr::p25::Mi mi = first_mi_;
    for (std::uint32_t i = 0; i < superframe; ++i) {
        mi = lmr::p25::nextMi(mi);
    }
    return mi;
}

Status P25VoiceCipher::load(const lmr::p25::Mi& mi) {
    if (cached_ && cached_mi_ == mi) {
        return Status::success();
    }
    auto ks = p25Keystream(key_, mi);
    if (!ks.ok()) {
        return ks.error();
    }
    ks_ = *ks;
    cached_mi_ = mi;
    cached_ = true;
    return Status::success();
}

Status P25VoiceCipher::applyImbe(std::uint32_t superframe, std::uint8_t index,
                                 MutableByteView imbe11) {
    return applyImbeWithMi(miOf(superframe), index, imbe11);
}

Status P25VoiceCipher::applyImbeWithMi(const lmr::p25::Mi& mi, std::uint8_t index,
                                       MutableByteView imbe11) {
    if (index > 17) {
        return Error{"bad_index", index};
    }
    if (imbe11.size() != 11) {
        return Error{"bad_length", static_cast<std::int64_t>(imbe11.size())};
    }
    IWF_TRY_STATUS(load(mi));
    ks_.applyImbe(index, imbe11);
    return Status::success();
}

Status P25VoiceCipher::applyLsd(std::uint32_t superframe, bool ldu2, MutableByteView lsd2) {
    if (lsd2.size() != 2) {
        return Error{"bad_length", static_cast<std::int64_t>(lsd2.size())};
    }
    IWF_TRY_STATUS(load(miOf(superframe)));
    ks_.applyLsd(ldu2, lsd2);
    return Status::success();
}

}  // namespace iwf::harness
