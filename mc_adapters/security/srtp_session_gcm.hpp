#pragma once
// AEAD_AES_128_GCM for libsrtp2 on OpenSSL's EVP, installed in libsrtp's crypto kernel in place
// of the one it was built with (srtp_replace_cipher_type, libsrtp's public cipher API).
//
// Why: Debian's libsrtp2 (2.5.0) is built on NSS, whose AES-GCM goes through PK11_Encrypt: a
// PKCS#11 context created, keyed and destroyed for every packet (locks, mallocs, key
// schedule). On the P25 -> MC path that was ~15 % of iwfd's CPU samples with SRTP and ~70 % of
// what SRTP added (docs/perf.md, section "SRTP on IWF-1"), against < 1 % for the AES itself.
// Here the EVP context is created and keyed once per libsrtp stream (init), and a packet only
// sets its IV, the AAD, the payload and the tag. libsrtp keeps doing everything else (key
// derivation, IV = salt ^ SSRC/ROC/SEQ per RFC 7714 §8.1, replay window, MKI, layout).
//
// The type carries the GCM spec's test case 4 (McGrew & Viega, "The Galois/Counter Mode of
// Operation", AES-128, 60-octet plaintext, 20-octet AAD) that libsrtp's own self-test runs
// before it accepts the replacement.

#include <srtp2/cipher.h>

namespace iwf::mc::security {

const srtp_cipher_type_t& osslAesGcm128CipherType();

// Replaces libsrtp's SRTP_AES_GCM_128 with osslAesGcm128CipherType(); call after srtp_init()
// and before any session exists. False (libsrtp keeps its own) if libsrtp's self-test refuses.
bool installOsslAesGcm128();

}  // namespace iwf::mc::security
