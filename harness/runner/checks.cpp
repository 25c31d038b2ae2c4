#include "harness/runner/checks.hpp"

#include <algorithm>

#include "harness/sim/dmr_radio.hpp"
#include "harness/sim/p25_radio.hpp"

namespace iwf::harness {

namespace {

std::string keyText(const FrameKey& k) {
    return "sf" + std::to_string(k.first) + "/f" + std::to_string(k.second);
}

bool sameSync(const CryptoSync& a, const CryptoSync& b) {
    if (a.encrypted != b.encrypted || a.family != b.family) {
        return false;
    }
    if (!a.encrypted) {
        return true;
    }
    return a.algid == b.algid && a.key_id == b.key_id && a.mi == b.mi;
}

}  // namespace

std::optional<std::pair<std::uint8_t, std::uint16_t>> canaryOwner(ByteView p) {
    if (p.size() == 11 && p[0] == 'C' && p[1] == 'N' && p[2] == 'Y') {
        return std::make_pair(p[3], static_cast<std::uint16_t>((p[9] << 8) | p[10]));
    }
    if (p.size() == kDmrVoiceBytes && p[0] == 'C' && p[1] == 'N' && p[2] == 'Y' && p[3] == 'D') {
        return std::make_pair(p[4], static_cast<std::uint16_t>((p[10] << 8) | p[11]));
    }
    return std::nullopt;
}

std::optional<FrameKey> canaryPosition(ByteView p, std::uint8_t tag, std::uint16_t nonce) {
    const auto owner = canaryOwner(p);
    if (!owner || owner->first != tag || owner->second != nonce) {
        return std::nullopt;
    }
    if (p.size() == 11) {
        const std::uint32_t sf = (std::uint32_t{p[4]} << 24) | (std::uint32_t{p[5]} << 16) |
                                 (std::uint32_t{p[6]} << 8) | p[7];
        const FrameKey k{sf, p[8]};
        const Imbe11 expect = p25Canary(tag, nonce, k.first, k.second);
        if (!std::equal(expect.begin(), expect.end(), p.begin())) {
            return std::nullopt;
        }
        return k;
    }
    const std::uint32_t sf = (std::uint32_t{p[5]} << 24) | (std::uint32_t{p[6]} << 16) |
                             (std::uint32_t{p[7]} << 8) | p[8];
    const FrameKey k{sf, p[9]};
    const Ambe27 expect = dmrCanary(tag, nonce, k.first, k.second);
    if (!std::equal(expect.begin(), expect.end(), p.begin())) {
        return std::nullopt;
    }
    return k;
}

ReceiverCheck checkReceiver(const std::map<FrameKey, SentFrame>& sent,
                            const std::vector<RxFrame>& rx, const CheckOptions& opt) {
    ReceiverCheck r;
    std::set<FrameKey> seen;
    auto problem = [&](std::string p) {
        ++r.bad;
        if (r.problems.size() < 8) {
            r.problems.push_back(std::move(p));
        }
    };
    for (const auto& f : rx) {
        ++r.received;
        FrameKey k{f.pos.superframe, f.pos.index};
        if (!f.decrypted) {
            if (f.error == "no_mi") {
                ++r.before_sync;  // late entry: refused to decrypt, nothing garbled
                continue;
            }
            problem(keyText(k) + ": not decodable (" + f.error + ")");
            continue;
        }
        if (opt.relative_superframe) {
            const auto c = canaryPosition(f.plaintext, opt.tag, opt.nonce);
            if (!c || c->second != f.pos.index) {
                problem(keyText(k) + ": decrypted plaintext is not the sender's frame");
                continue;
            }
            k = *c;
        }
        auto it = sent.find(k);
        if (it == sent.end()) {
            problem(keyText(k) + ": position never sent");
            continue;
        }
        if (!seen.insert(k).second) {
            problem(keyText(k) + ": received twice");
            continue;
        }
        if (f.plaintext != it->second.plaintext) {
            problem(keyText(k) + ": decrypted plaintext differs from what was sent");
            continue;
        }
        if (!sameSync(f.crypto, it->second.crypto)) {
            problem(keyText(k) + ": CryptoSync differs (ALGID/key ID/MI not bit-exact)");
            continue;
        }
        ++r.decrypted_ok;
        if (!r.first_ok) {
            r.first_ok = k;
            r.first_ok_rx_ns = f.rx_ns;
        }
        if (it->second.tx_ns != 0 && f.rx_ns >= it->second.tx_ns) {
            r.latency_us.push_back(static_cast<double>(f.rx_ns - it->second.tx_ns) / 1000.0);
        }
    }
    for (const auto& [k, s] : sent) {
        (void)s;
        if (k.first < opt.sync_superframe || opt.dropped_by_harness.count(k) != 0) {
            continue;
        }
        if (opt.late_joiner && (!r.first_ok || k < *r.first_ok)) {
            continue;
        }
        ++r.expected;
        if (seen.count(k) == 0) {
            ++r.missing;
            if (r.problems.size() < 8) {
                r.problems.push_back(keyText(k) + ": missing");
            }
        }
    }
    return r;
}

}  // namespace iwf::harness
