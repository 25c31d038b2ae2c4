#pragma once
// MIKEY-SAKKE I_MESSAGE processing as TS 33.180 profiles it for MC key distribution: the GMK
// from a group management server (§5.7, E.2), the PCK of a private call (§5.6, E.3), the CSK
// toward / from the MC server (§5.4, E.4). The IWF holds an MC identity of its own (Annex K:
// it terminates 3GPP media security toward the MC system), so it receives GMKs and PCKs and
// sends PCKs for the private calls it originates.
//
// Receiving (receiveIMessage) checks, in this order, and stops at the first failure:
//   1. the message parses, is a SAKKE message (data type 26) signed with ECCSI (S type 2);
//   2. the initiator and its KMS are known (IDRi / IDRkmsi, or the UID of E.7);
//   3. the ECCSI signature over the message verifies with the initiator's UID (F.2.1, for
//      the key period of the T payload) and its KMS's KPAK — before any secret is touched;
//   4. the message is addressed to us (IDRr or our UID, IDRkmsr = our KMS);
//   5. SAKKE decapsulation with our RSK gives the key (RFC 6508 §6.2.2 step 5 checked);
//   6. the key ID: GMK-ID = GUK-ID XOR user salt (§5.2.3, F.1.3) for a GMK, the CSB ID for
//      PCK/CSK; the purpose tag must be GMK, PCK or CSK;
//   7. the "3GPP key parameters" extension, when present, opens with the key and is honoured:
//      a revoked or expired key is refused; an activation time in the future is returned
//      so the caller keeps the key until then.
// Each refusal is an Error whose reason is a fixed string (a counter label).

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "common/bytes.hpp"
#include "common/result.hpp"
#include "mc_adapters/security/eccsi.hpp"
#include "mc_adapters/security/key_derivation.hpp"
#include "mc_adapters/security/key_params.hpp"
#include "mc_adapters/security/srtp_session.hpp"

namespace iwf::mc::security {

// The public part of a KMS (33.180 D.3, "KmsCertificate").
struct KmsCertificate {
    std::string kms_uri;
    Bytes z;                                  // PubEncKey: SAKKE KMS public key Z (257 octets)
    Bytes kpak;                               // PubAuthKey: ECCSI KPAK (65 octets)
    std::uint64_t user_key_period = 2592000;  // UserKeyPeriod, seconds
    std::uint64_t user_key_offset = 0;        // UserKeyOffset, seconds
};

// One user's key set for one key period (33.180 D.3, "KmsKeySet"); secret.
struct UserKeySet {
    std::string user_uri;
    Bytes uid;  // UserID, the F.2.1 UID of the period
    std::uint64_t key_period_no = 0;
    Bytes rsk;                // UserDecryptKey (SAKKE RSK)
    EccsiSigningKey signing;  // UserSigningKeySSK + UserPubTokenPVT
};

// Who we are when an I_MESSAGE arrives or leaves.
struct MikeyIdentity {
    std::string user_uri;  // our MC service user ID (the IWF's identity on the link)
    KmsCertificate kms;    // our KMS
    UserKeySet keys;       // our keys for the current period
};

using KmsDirectory = std::map<std::string, KmsCertificate, std::less<>>;

struct DistributedKey {
    KeyPurpose purpose = KeyPurpose::Gmk;
    Bytes key;                        // GMK / PCK / CSK, 16 octets
    std::uint32_t key_id = 0;         // GMK-ID / PCK-ID / CSK-ID
    std::uint32_t csb_id = 0;         // GUK-ID for a GMK, the key ID otherwise
    Bytes rand;                       // RAND payload (an input of the SRTP key derivation)
    std::uint64_t timestamp_ntp = 0;  // T payload (64-bit NTP)
    std::string initiator;            // IDRi URI, or the UID in hex when hidden (E.7)
    std::optional<KeyParameters> params;
    SrtpProfile profile = SrtpProfile::AeadAes128Gcm;
    bool roc_in_packet = false;

    // 33.180 §7.4.2: GMK-ID || GUK-ID for a GMK; §7.4.1: the 4-octet key ID otherwise.
    Bytes mki() const;
    // Seconds since 1900 from which the key may be used (0 = now).
    std::uint64_t activationTime() const { return params ? params->activation_time : 0; }
};

// Receives an I_MESSAGE. `now_ntp_seconds` is the current time (seconds since 1900).
Result<DistributedKey> receiveIMessage(ByteView msg, const MikeyIdentity& me,
                                       const KmsDirectory& kms, std::uint64_t now_ntp_seconds);

// What to send (an IWF-originated PCK, or a GMK / CSK from the harness's simulators).
struct KeyToSend {
    KeyPurpose purpose = KeyPurpose::Pck;
    Bytes key;                 // 16 octets
    std::uint32_t key_id = 0;  // with its purpose tag
    Bytes rand;                // 16 octets; random when empty
    std::uint64_t timestamp_ntp = 0;
    std::optional<KeyParameters> params;
    bool include_cs_map = true;  // GENERIC-ID map with the MKI as SPI (as MC peers send)
    bool include_sp = true;      // the default SRTP profile spelled out in an SP payload
};

// Builds and signs an I_MESSAGE from `from` to `to_uri` (whose KMS is `to_kms`). For a GMK
// the CSB ID is the GUK-ID of the recipient (§5.2.3).
Result<Bytes> buildIMessage(const MikeyIdentity& from, std::string_view to_uri,
                            const KmsCertificate& to_kms, const KeyToSend& k);

// The UID of `uri` under `kms` for the period that contains `ntp_seconds` (F.2.1).
Bytes uidFor(std::string_view uri, const KmsCertificate& kms, std::uint64_t ntp_seconds);

// Seconds since 1900 of a Unix time, and back.
inline constexpr std::uint64_t kNtpUnixOffset = 2208988800ULL;

}  // namespace iwf::mc::security
