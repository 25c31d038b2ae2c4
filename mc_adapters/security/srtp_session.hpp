#pragma once
// SRTP / SRTCP protection of IWF-1 media and floor control with libsrtp2 (Debian libsrtp2-dev),
// keyed as TS 33.180 §7.4 derives the master keys from a GMK, PCK or CSK.
//
// Profiles (the MIKEY SP payload of the I_MESSAGE selects one; 33.180 E.2.2 / E.3.2 give the
// default when there is none):
//  - AeadAes128Gcm: AEAD_AES_128_GCM of RFC 7714, 16-octet tag, 12-octet master salt — the
//    33.180 default for group (GMK) and private (PCK) media. With `roc_in_packet` the RCCm3
//    transform of RFC 4771 that the default profile names (authentication algorithm 4, ROC
//    transmission rate 1, SRTP authentication tag length 4) is applied on top of libsrtp,
//    which has no RCC: the sender appends its 4-octet ROC after the MKI, the receiver strips
//    it and resynchronises libsrtp's ROC before unprotecting (the AEAD tag authenticates the
//    packet; a forged ROC only makes the tag check fail).
//  - AesCm128HmacSha1_80: AES_CM_128_HMAC_SHA1_80 of RFC 3711 (14-octet salt, 10-octet tag).
//
// MKI (RFC 3711 §3.1): carried in every packet so the receiver can pick the master key;
// 33.180 §7.4.2 makes it GMK-ID || GUK-ID (8 octets) for group media, §7.4.1 the PCK-ID
// (4 octets) for private calls. A session holds several master keys (up to 16, libsrtp's
// limit) so a GMK rollover keeps the old key for packets still in flight.
//
// The payload inside is opaque here: protect() encrypts whatever the RTP packet carries (for
// the IWF, an LMR-encrypted voice frame) and unprotect() returns it bit for bit.

#include <cstdint>
#include <memory>
#include <vector>

#include "common/bytes.hpp"
#include "common/result.hpp"

namespace iwf::mc::security {

enum class SrtpProfile : std::uint8_t { AeadAes128Gcm, AesCm128HmacSha1_80 };

struct SrtpKey {
    Bytes master_key;   // 16 octets
    Bytes master_salt;  // 12 (GCM) or 14 (AES-CM) octets
    Bytes mki;          // empty = no MKI in the packets
};

struct SrtpConfig {
    SrtpProfile profile = SrtpProfile::AeadAes128Gcm;
    bool roc_in_packet = false;  // RCCm3 (33.180 default group profile)
    std::vector<SrtpKey> keys;   // [0] is the key protect() uses until useKey()
};

// Free octets a caller leaves after a packet for protect(): libsrtp's contract is that it may
// write SRTP_MAX_TRAILER_LEN (16-octet tag + 128-octet MKI) after the packet, plus the
// SRTCP index (4) and the RCC ROC (4).
inline constexpr std::size_t kSrtpMaxOverhead = 16 + 128 + 4 + 4;

class SrtpSession {
  public:
    enum class Direction { Outbound, Inbound };
    // Fails with "srtp_bad_key" / "srtp_init_failed".
    static Result<std::unique_ptr<SrtpSession>> create(const SrtpConfig& cfg, Direction dir);
    ~SrtpSession();
    SrtpSession(const SrtpSession&) = delete;
    SrtpSession& operator=(const SrtpSession&) = delete;

    // RTP in `packet` (len octets used, capacity >= len + kSrtpMaxOverhead) is protected in
    // place; returns the new length.
    Result<std::size_t> protect(MutableByteView packet, std::size_t len);
    // SRTP in `packet` is authenticated, decrypted in place; returns the RTP length.
    // "srtp_auth_fail", "srtp_replay", "srtp_no_key" (unknown MKI), "srtp_bad_packet".
    Result<std::size_t> unprotect(MutableByteView packet, std::size_t len);
    Result<std::size_t> protectRtcp(MutableByteView packet, std::size_t len);
    Result<std::size_t> unprotectRtcp(MutableByteView packet, std::size_t len);

    // Replaces the master key list (rollover); stream state (ROC, replay window) is kept.
    Status setKeys(const std::vector<SrtpKey>& keys);
    // protect() uses keys[index] (and its MKI) from now on.
    Status useKey(std::size_t index);
    std::size_t keyCount() const { return key_count_; }

  private:
    SrtpSession() = default;
    struct Impl;
    std::unique_ptr<Impl> impl_;
    std::size_t key_count_ = 0;
    std::size_t send_key_ = 0;
    std::size_t mki_len_ = 0;
    bool roc_in_packet_ = false;
    SrtpProfile profile_ = SrtpProfile::AeadAes128Gcm;
    Direction dir_ = Direction::Outbound;
};

}  // namespace iwf::mc::security
