#pragma once
// The SRTP / SRTCP sessions of one IWF-1 call, keyed from the keys MIKEY-SAKKE delivered
// (TS 33.180 §7.4, Annex K: toward the MC system the IWF is an MC client):
//
//  - group call media (§7.4.2): TGK = GMK, CSB ID = GUK-ID, CS-ID 4 (Table E.1.3-1), RAND of the
//    GMK's I_MESSAGE; one master key for every sender of the group (the SSRCs keep their key
//    streams apart), so the outbound and inbound sessions use the same master key and salt;
//    MKI = GMK-ID || GUK-ID (8 octets). A rollover (a new GMK for the group while a call goes
//    on) adds the new key to both sessions and sends with it; the older key stays for packets
//    still in flight (at most kMaxKeysPerCall, oldest dropped first).
//  - private call media (§7.4.1): TGK = PCK, CSB ID = PCK-ID; the initiator's media with CS-ID
//    0 and the receiver's with CS-ID 1, so our outbound session uses the CS-ID of our role and
//    the inbound one the other; MKI = PCK-ID (4 octets).
//  - floor control (SRTCP on the floor port): keyed from the CSK with CS-ID 6 ("CSK SRTCP for
//    MCPTT", Table E.1.3-1), MKI = CSK-ID — the floor messages of an on-network call run
//    between the IWF and the controlling MC server, the pair the CSK belongs to (§9.4.6 / §7.5
//    [I: the clause text that binds the CSK to floor SRTCP was read through 36.579-1's table
//    of CS-IDs, not in 33.180 itself]).
//
// The profile and RCCm3 come from the key's SP payload (DistributedKey::profile /
// roc_in_packet, mikey_sakke.cpp); the master key is 16 octets and the salt 12 (AEAD-GCM)
// or 14 (AES-CM) octets, as the profile needs.

#include <memory>
#include <vector>

#include "common/result.hpp"
#include "mc_adapters/security/mikey_sakke.hpp"
#include "mc_adapters/security/srtp_session.hpp"

namespace iwf::mc::security {

inline constexpr std::size_t kMaxKeysPerCall = 4;

// The SRTP master key, salt and MKI one distributed key gives for crypto session `cs`.
Result<SrtpKey> srtpKeyFor(const DistributedKey& k, CsId cs);

// An outbound and an inbound SRTP session (or SRTCP, for floor control) of one endpoint.
struct SrtpPair {
    std::unique_ptr<SrtpSession> tx;
    std::unique_ptr<SrtpSession> rx;
};

// What the keys of one crypto session are: the keys (oldest first; the newest sends) and the
// CS-IDs of the two directions.
struct CallKeying {
    std::vector<DistributedKey> keys;
    CsId tx_cs = CsId::McpttGroup;
    CsId rx_cs = CsId::McpttGroup;
};

// §7.4.2: group media from the group's GMK(s), oldest first, the last one sending.
CallKeying groupMediaKeying(std::vector<DistributedKey> gmks);
// §7.4.1: private call media from the PCK; `we_initiated` = the IWF sent the INVITE.
CallKeying privateMediaKeying(DistributedKey pck, bool we_initiated);
// Floor control SRTCP from the CSK (CS-ID 6, both directions).
CallKeying floorKeying(DistributedKey csk);

// Builds the two sessions. "srtp_no_key" when `k.keys` is empty, "srtp_mixed_profiles" when the
// keys ask for different profiles (one libsrtp session has one policy), else SrtpSession's errors.
Result<SrtpPair> makeSrtpPair(const CallKeying& k);
// Rekeys both sessions of `p` to `k` (stream state kept) and sends with its newest key.
Status rekeySrtpPair(SrtpPair& p, const CallKeying& k);

}  // namespace iwf::mc::security
