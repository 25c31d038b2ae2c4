#include "mc_adapters/security/srtp_session_gcm.hpp"

#include <cstdint>
#include <new>
#include <srtp2/srtp.h>

#include <openssl/evp.h>

namespace iwf::mc::security {
namespace {

// What one libsrtp cipher instance (one direction of one stream) holds.
struct OsslGcmState {
    EVP_CIPHER_CTX* ctx = nullptr;
    int tag_len = 16;
};

extern const srtp_cipher_type_t kOsslGcm128;

srtp_err_status_t osslGcmAlloc(srtp_cipher_pointer_t* cp, int key_len, int tag_len) {
    if (key_len != SRTP_AES_GCM_128_KEY_LEN_WSALT || (tag_len != 16 && tag_len != 8)) {
        return srtp_err_status_bad_param;
    }
    auto* c = new (std::nothrow) srtp_cipher_t{};
    auto* s = new (std::nothrow) OsslGcmState{};
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    if (c == nullptr || s == nullptr || ctx == nullptr) {
        EVP_CIPHER_CTX_free(ctx);
        delete s;
        delete c;
        return srtp_err_status_alloc_fail;
    }
    s->ctx = ctx;
    s->tag_len = tag_len;
    c->type = &kOsslGcm128;
    c->state = s;
    c->key_len = key_len;
    c->algorithm = SRTP_AES_GCM_128;
    *cp = c;
    return srtp_err_status_ok;
}

srtp_err_status_t osslGcmDealloc(srtp_cipher_pointer_t c) {
    auto* s = static_cast<OsslGcmState*>(c->state);
    EVP_CIPHER_CTX_free(s->ctx);  // clears the key schedule
    delete s;
    delete c;
    return srtp_err_status_ok;
}

// `key` is the session key (16 octets) followed by the salt, which libsrtp applies itself.
srtp_err_status_t osslGcmInit(void* state, const std::uint8_t* key) {
    auto* s = static_cast<OsslGcmState*>(state);
    if (EVP_CipherInit_ex(s->ctx, EVP_aes_128_gcm(), nullptr, key, nullptr, 1) != 1) {
        return srtp_err_status_init_fail;
    }
    return srtp_err_status_ok;
}

srtp_err_status_t osslGcmSetIv(void* state, std::uint8_t* iv, srtp_cipher_direction_t dir) {
    auto* s = static_cast<OsslGcmState*>(state);
    if (dir != srtp_direction_encrypt && dir != srtp_direction_decrypt) {
        return srtp_err_status_bad_param;
    }
    // 12-octet IV (the EVP default for GCM); the key schedule from init() stays.
    if (EVP_CipherInit_ex(s->ctx, nullptr, nullptr, nullptr, iv,
                          dir == srtp_direction_encrypt ? 1 : 0) != 1) {
        return srtp_err_status_init_fail;
    }
    return srtp_err_status_ok;
}

srtp_err_status_t osslGcmSetAad(void* state, const std::uint8_t* aad, std::uint32_t aad_len) {
    auto* s = static_cast<OsslGcmState*>(state);
    int out = 0;
    if (EVP_CipherUpdate(s->ctx, nullptr, &out, aad, static_cast<int>(aad_len)) != 1) {
        return srtp_err_status_algo_fail;
    }
    return srtp_err_status_ok;
}

srtp_err_status_t osslGcmEncrypt(void* state, std::uint8_t* buf, unsigned int* len) {
    auto* s = static_cast<OsslGcmState*>(state);
    int out = 0;
    if (EVP_CipherUpdate(s->ctx, buf, &out, buf, static_cast<int>(*len)) != 1) {
        return srtp_err_status_algo_fail;
    }
    return srtp_err_status_ok;
}

srtp_err_status_t osslGcmGetTag(void* state, std::uint8_t* tag, std::uint32_t* len) {
    auto* s = static_cast<OsslGcmState*>(state);
    int out = 0;
    if (EVP_CipherFinal_ex(s->ctx, tag, &out) != 1 ||
        EVP_CIPHER_CTX_ctrl(s->ctx, EVP_CTRL_GCM_GET_TAG, s->tag_len, tag) != 1) {
        return srtp_err_status_algo_fail;
    }
    *len = static_cast<std::uint32_t>(s->tag_len);
    return srtp_err_status_ok;
}

// `buf` holds the ciphertext and then the tag; on success *len loses the tag.
srtp_err_status_t osslGcmDecrypt(void* state, std::uint8_t* buf, unsigned int* len) {
    auto* s = static_cast<OsslGcmState*>(state);
    const auto tag_len = static_cast<unsigned int>(s->tag_len);
    if (*len < tag_len) {
        return srtp_err_status_bad_param;
    }
    const unsigned int n = *len - tag_len;
    int out = 0;
    if (EVP_CIPHER_CTX_ctrl(s->ctx, EVP_CTRL_GCM_SET_TAG, s->tag_len, buf + n) != 1 ||
        EVP_CipherUpdate(s->ctx, buf, &out, buf, static_cast<int>(n)) != 1) {
        return srtp_err_status_algo_fail;
    }
    if (EVP_CipherFinal_ex(s->ctx, buf + n, &out) != 1) {
        return srtp_err_status_auth_fail;
    }
    *len = n;
    return srtp_err_status_ok;
}

// GCM spec test case 4 (AES-128): key, IV, plaintext, AAD, ciphertext || tag. The key is
// followed by the 12 salt octets libsrtp's key length counts (unused by the cipher).
const std::uint8_t kTc4Key[SRTP_AES_GCM_128_KEY_LEN_WSALT] = {
    0xfe, 0xff, 0xe9, 0x92, 0x86, 0x65, 0x73, 0x1c, 0x6d, 0x6a, 0x8f, 0x94, 0x67, 0x30,
    0x83, 0x08, 0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0};
std::uint8_t kTc4Iv[12] = {0xca, 0xfe, 0xba, 0xbe, 0xfa, 0xce, 0xdb, 0xad, 0xde, 0xca, 0xf8, 0x88};
const std::uint8_t kTc4Plain[60] = {
    0xd9, 0x31, 0x32, 0x25, 0xf8, 0x84, 0x06, 0xe5, 0xa5, 0x59, 0x09, 0xc5, 0xaf, 0xf5, 0x26,
    0x9a, 0x86, 0xa7, 0xa9, 0x53, 0x15, 0x34, 0xf7, 0xda, 0x2e, 0x4c, 0x30, 0x3d, 0x8a, 0x31,
    0x8a, 0x72, 0x1c, 0x3c, 0x0c, 0x95, 0x95, 0x68, 0x09, 0x53, 0x2f, 0xcf, 0x0e, 0x24, 0x49,
    0xa6, 0xb5, 0x25, 0xb1, 0x6a, 0xed, 0xf5, 0xaa, 0x0d, 0xe6, 0x57, 0xba, 0x63, 0x7b, 0x39};
const std::uint8_t kTc4Aad[20] = {0xfe, 0xed, 0xfa, 0xce, 0xde, 0xad, 0xbe, 0xef, 0xfe, 0xed,
                                  0xfa, 0xce, 0xde, 0xad, 0xbe, 0xef, 0xab, 0xad, 0xda, 0xd2};
const std::uint8_t kTc4Cipher[76] = {
    0x42, 0x83, 0x1e, 0xc2, 0x21, 0x77, 0x74, 0x24, 0x4b, 0x72, 0x21, 0xb7, 0x84, 0xd0, 0xd4, 0x9c,
    0xe3, 0xaa, 0x21, 0x2f, 0x2c, 0x02, 0xa4, 0xe0, 0x35, 0xc1, 0x7e, 0x23, 0x29, 0xac, 0xa1, 0x2e,
    0x21, 0xd5, 0x14, 0xb2, 0x54, 0x66, 0x93, 0x1c, 0x7d, 0x8f, 0x6a, 0x5a, 0xac, 0x84, 0xaa, 0x05,
    0x1b, 0xa3, 0x0b, 0x39, 0x6a, 0x0a, 0xac, 0x97, 0x3d, 0x58, 0xe0, 0x91,
    // tag
    0x5b, 0xc9, 0x4f, 0xbc, 0x32, 0x21, 0xa5, 0xdb, 0x94, 0xfa, 0xe9, 0x5a, 0xe7, 0x12, 0x1a, 0x47};

const srtp_cipher_test_case_t kTc4 = {SRTP_AES_GCM_128_KEY_LEN_WSALT,
                                      kTc4Key,
                                      kTc4Iv,
                                      sizeof kTc4Plain,
                                      kTc4Plain,
                                      sizeof kTc4Cipher,
                                      kTc4Cipher,
                                      sizeof kTc4Aad,
                                      kTc4Aad,
                                      16,
                                      nullptr};

const srtp_cipher_type_t kOsslGcm128 = {osslGcmAlloc,  osslGcmDealloc,  osslGcmInit,
                                        osslGcmSetAad, osslGcmEncrypt,  osslGcmDecrypt,
                                        osslGcmSetIv,  osslGcmGetTag,   "AES-128 GCM (OpenSSL EVP)",
                                        &kTc4,         SRTP_AES_GCM_128};

}  // namespace

const srtp_cipher_type_t& osslAesGcm128CipherType() {
    return kOsslGcm128;
}

bool installOsslAesGcm128() {
    return srtp_replace_cipher_type(&kOsslGcm128, SRTP_AES_GCM_128) == srtp_err_status_ok;
}

}  // namespace iwf::mc::security
