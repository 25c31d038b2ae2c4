#pragma once
// Replay protection of received MIKEY I_MESSAGEs (RFC 3830 §5.4): a message's timestamp (the
// T payload, NTP-UTC as 33.180 E.1.1 requires) must lie within the allowed clock skew of our
// clock, and a message already accepted within that window is refused. RFC 3830 §5.4 lets the
// responder keep "the received messages (or identifying information)" for as long as their
// timestamps are acceptable; entries older than the window are dropped, since the timestamp
// check refuses those messages anyway.
//
// A message is identified by the SHA-256 of its signed octets (HDR up to and including the
// SIGN payload's type / length, RFC 3830 §5.2), not of the whole message: an ECCSI signature
// (r, s, PVT) also verifies as (r, q − s, PVT) — [−s]X has the x coordinate of [s]X (RFC 6507
// §5.2.2 compares x coordinates only) — so a replay with a re-encoded signature is the same
// message here.
//
// Use: check() before the message is verified (cheap: a parse and a hash, so a replay costs
// no ECCSI / SAKKE work), accept() once receiveIMessage has verified and decrypted it (only a
// message signed by a KMS-issued key can take a cache entry).
//
// Errors (fixed strings, counter labels): "mikey_replay", "mikey_timestamp_outside_window",
// "mikey_timestamp_not_ntp" (a COUNTER timestamp: 33.180 uses NTP-UTC only),
// "mikey_replay_cache_full", and mikey::parse's reasons.

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>

#include "common/bytes.hpp"
#include "common/result.hpp"

namespace iwf::mc::security {

struct ReplayGuardConfig {
    // Allowed difference between the message's timestamp and our clock, either way (RFC 3830
    // §5.4 "allowable clock skew"; §9.3 advises keeping it small). Also how long an accepted
    // message is remembered.
    std::uint64_t window_seconds = 300;
    // Accepted messages remembered at most; beyond it new messages are refused until entries
    // age out of the window (a bound on memory: ~100 octets an entry).
    std::size_t max_entries = 65536;
};

// What check() found out about a message, for accept().
struct ReplayTicket {
    std::array<std::uint8_t, 32> digest{};
    std::uint64_t timestamp_seconds = 0;  // NTP seconds of the T payload
};

class MikeyReplayGuard {
  public:
    explicit MikeyReplayGuard(ReplayGuardConfig cfg = {}) : cfg_(cfg) {}

    // The timestamp window and the replay cache, at `now_ntp_seconds` (seconds since 1900).
    Result<ReplayTicket> check(ByteView i_message, std::uint64_t now_ntp_seconds);
    // Remembers a verified message until its timestamp leaves the window.
    void accept(const ReplayTicket& t);

    std::size_t size() const { return seen_.size(); }
    const ReplayGuardConfig& config() const { return cfg_; }

  private:
    void expire(std::uint64_t now_ntp_seconds);
    ReplayGuardConfig cfg_;
    // digest -> the NTP second after which the entry may go; and that order for expiry.
    std::map<std::array<std::uint8_t, 32>, std::uint64_t> seen_;
    std::multimap<std::uint64_t, std::array<std::uint8_t, 32>> by_expiry_;
};

}  // namespace iwf::mc::security
