#pragma once
// TS 33.180 media protection of one endpoint (voice: SRTP; floor control: SRTCP), keyed by the
// call's owner from the keys MIKEY-SAKKE delivered (mc_adapters/security/media_keys.hpp).
//
// Three states, chosen by the owner per call:
//  - off (default, nothing set): packets pass as plain RTP / RTCP, exactly as without a guard;
//  - keyed (set()): every packet sent is protected, every packet received must authenticate
//    under one of the call's keys, else it is refused with a fixed reason (srtp_auth_fail,
//    srtp_replay, srtp_no_key, srtp_bad_packet: SrtpSession's bounded set) and its
//    plaintext never reaches the handler;
//  - required without a key (require()): nothing is sent and nothing received ("srtp_no_key"),
//    so a group that requires protection never carries plain RTP.
//
// An idle endpoint holds one pointer for this (idle-call memory, docs/perf/mc-path.md).

#include <memory>

#include "common/bytes.hpp"
#include "common/result.hpp"
#include "mc_adapters/security/media_keys.hpp"

namespace iwf::mc::rtp {

class SrtpGuard {
  public:
    enum class Kind : std::uint8_t { Rtp, Rtcp };

    explicit SrtpGuard(Kind kind) : kind_(kind) {}

    void set(security::SrtpPair pair);
    void require();
    // Rekeys the sessions set() gave (GMK rollover); "srtp_no_key" if there are none.
    Status rekey(const security::CallKeying& k);
    bool active() const { return state_ != nullptr; }
    bool keyed() const { return state_ != nullptr && state_->pair.tx != nullptr; }

    // Protects the packet in buf[0, buf.size()) in place (buf grows by the SRTP trailer).
    // Off: does nothing. Required without a key: "srtp_no_key" and buf is cleared.
    Status protect(Bytes& buf);
    // Authenticates and decrypts a received datagram; the result views a per-thread buffer
    // that stays valid until the next unprotect() on this thread. Off: `data` itself.
    Result<ByteView> unprotect(ByteView data);

  private:
    struct State {
        security::SrtpPair pair;
    };
    std::unique_ptr<State> state_;
    Kind kind_;
};

}  // namespace iwf::mc::rtp
