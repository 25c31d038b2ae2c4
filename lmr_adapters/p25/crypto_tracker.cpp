#include "lmr_adapters/p25/crypto_tracker.hpp"

#include <algorithm>

namespace iwf::lmr::p25 {

void CryptoTracker::onHeader(const CryptoSync& header) {
    if (!ess_) {
        ess_ = header;
    }
}

CryptoSync CryptoTracker::essOf(std::uint8_t algid, std::uint16_t kid, const Mi& mi) {
    CryptoSync c = CryptoSync::clear(LmrFamily::P25);
    c.encrypted = algid != kP25AlgidClear;
    c.algid = algid;
    c.key_id = kid;
    c.mi.assign(ByteView(mi.data(), mi.size()));
    return c;
}

FramePosition CryptoTracker::onFrame(std::uint8_t index) {
    if (index >= kFramesPerSuperframe) {
        index = kFramesPerSuperframe - 1;
    }
    if (last_index_ >= 0 && static_cast<int>(index) <= last_index_) {
        rollOver();
    }
    last_index_ = index;
    return FramePosition{superframe_, index};
}

void CryptoTracker::rollOver() {
    ++superframe_;
    constexpr std::uint8_t kAll = 0x0F;
    if (next_parts_ == kAll) {
        ess_ = essOf(next_algid_, next_kid_, next_mi_);
    } else if (ess_) {
        // LDU2 (or part of it) lost: the next MI follows from the current one. ALGID/KID
        // stay those of the stream.
        ess_ = nextEss(*ess_);
        ++regenerated_;
    }
    // else: still late entry; never invent an MI.
    next_parts_ = 0;
}

CryptoSync CryptoTracker::nextEss(const CryptoSync& current) {
    CryptoSync e = current;
    if (current.algid != kP25AlgidClear && current.mi.size() == kMiBytes) {
        Mi mi{};
        std::copy_n(current.mi.data(), kMiBytes, mi.begin());
        const Mi next = nextMi(mi);
        e.mi.assign(ByteView(next.data(), next.size()));
    }
    return e;
}

void CryptoTracker::onEsFragment(std::uint8_t index, const std::array<std::uint8_t, 3>& b) {
    if (index >= 11 && index <= 13) {
        const std::size_t off = static_cast<std::size_t>(index - 11) * 3;
        next_mi_[off] = b[0];
        next_mi_[off + 1] = b[1];
        next_mi_[off + 2] = b[2];
        next_parts_ |= static_cast<std::uint8_t>(1U << (index - 11));
    } else if (index == 14) {
        next_algid_ = b[0];
        next_kid_ = static_cast<std::uint16_t>((b[1] << 8) | b[2]);
        next_parts_ |= 0x08;
        announced_ = std::make_pair(next_algid_, next_kid_);
    } else {
        return;
    }
    if (next_parts_ == 0x0F && !ess_) {
        // No header: the first complete LDU2 ES tells the next superframe's MI; the current
        // superframe's MI is the one before it in the LFSR sequence (same ALGID/KID: one
        // transmission has one key).
        ess_ = essOf(next_algid_, next_kid_,
                     next_algid_ != kP25AlgidClear ? prevMi(next_mi_) : next_mi_);
        ++backfilled_;
    }
}

CryptoSync CryptoTracker::cryptoOfSuperframe(std::uint32_t sf) const {
    CryptoSync c = current();
    if (!ess_ || sf >= superframe_ || !c.encrypted) {
        return c;
    }
    if (ess_->mi.size() != kMiBytes) {
        return c;
    }
    Mi mi{};
    std::copy_n(ess_->mi.data(), kMiBytes, mi.begin());
    for (std::uint32_t k = sf; k < superframe_; ++k) {
        mi = prevMi(mi);
    }
    c.mi.assign(ByteView(mi.data(), mi.size()));
    return c;
}

bool CryptoTracker::encrypted() const {
    if (ess_) {
        return ess_->algid != kP25AlgidClear;
    }
    if (announced_) {
        return announced_->first != kP25AlgidClear;
    }
    return service_options_ && (*service_options_ & kSvcEncrypted) != 0;
}

bool CryptoTracker::lateEntry() const {
    return !ess_ && encrypted();
}

CryptoSync CryptoTracker::current() const {
    if (ess_) {
        return *ess_;
    }
    if (announced_) {
        // ALGID/KID announced by frame 15 but the MI fragments were lost: the algorithm is
        // known, the MI is not (never invented).
        CryptoSync c = CryptoSync::clear(LmrFamily::P25);
        c.encrypted = announced_->first != kP25AlgidClear;
        c.algid = announced_->first;
        c.key_id = announced_->second;
        return c;
    }
    if (encrypted()) {
        // Late entry: encrypted, algorithm and MI unknown -> MI left empty on purpose.
        return CryptoSync::lateEntry(LmrFamily::P25);
    }
    return CryptoSync::clear(LmrFamily::P25);
}

}  // namespace iwf::lmr::p25
