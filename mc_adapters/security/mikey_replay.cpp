#include "mc_adapters/security/mikey_replay.hpp"

#include <openssl/sha.h>

#include "mc_adapters/security/mikey.hpp"

namespace iwf::mc::security {

void MikeyReplayGuard::expire(std::uint64_t now_ntp_seconds) {
    while (!by_expiry_.empty() && by_expiry_.begin()->first < now_ntp_seconds) {
        auto it = by_expiry_.begin();
        auto s = seen_.find(it->second);
        if (s != seen_.end() && s->second == it->first) {
            seen_.erase(s);
        }
        by_expiry_.erase(it);
    }
}

Result<ReplayTicket> MikeyReplayGuard::check(ByteView i_message, std::uint64_t now_ntp_seconds) {
    auto m = mikey::parse(i_message);
    if (!m) {
        return m.error();
    }
    const mikey::Timestamp* ts = m->timestamp();
    if (ts == nullptr) {
        return Error{"mikey_missing_payload"};
    }
    if (ts->type != mikey::kTsNtpUtc && ts->type != mikey::kTsNtp) {
        return Error{"mikey_timestamp_not_ntp"};
    }
    ReplayTicket t;
    t.timestamp_seconds = ts->value >> 32;
    const std::uint64_t skew = t.timestamp_seconds > now_ntp_seconds
                                   ? t.timestamp_seconds - now_ntp_seconds
                                   : now_ntp_seconds - t.timestamp_seconds;
    if (skew > cfg_.window_seconds) {
        return Error{"mikey_timestamp_outside_window"};
    }
    if (m->signed_length > i_message.size()) {
        return Error{"mikey_truncated"};
    }
    SHA256(i_message.data(), m->signed_length, t.digest.data());
    expire(now_ntp_seconds);
    if (seen_.count(t.digest) != 0) {
        return Error{"mikey_replay"};
    }
    if (seen_.size() >= cfg_.max_entries) {
        return Error{"mikey_replay_cache_full"};
    }
    return t;
}

void MikeyReplayGuard::accept(const ReplayTicket& t) {
    // Refused by the timestamp check once now > timestamp + window: kept until then.
    const std::uint64_t until = t.timestamp_seconds + cfg_.window_seconds;
    auto [it, inserted] = seen_.emplace(t.digest, until);
    if (!inserted) {
        return;
    }
    by_expiry_.emplace(until, t.digest);
}

}  // namespace iwf::mc::security
