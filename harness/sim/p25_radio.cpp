#include "harness/sim/p25_radio.hpp"

#include <algorithm>

#include "common/events.hpp"
#include "lmr_adapters/p25/side_fields.hpp"

namespace iwf::harness {

Imbe11 p25Canary(std::uint8_t tag, std::uint16_t nonce, std::uint32_t superframe,
                 std::uint8_t index) {
    return Imbe11{'C',
                  'N',
                  'Y',
                  tag,
                  static_cast<std::uint8_t>(superframe >> 24),
                  static_cast<std::uint8_t>(superframe >> 16),
                  static_cast<std::uint8_t>(superframe >> 8),
                  static_cast<std::uint8_t>(superframe),
                  index,
                  static_cast<std::uint8_t>(nonce >> 8),
                  static_cast<std::uint8_t>(nonce)};
}

P25Radio::P25Radio(P25RadioConfig cfg) : cfg_(cfg), cipher_(cfg.key, cfg.first_mi) {}

Bytes P25Radio::poll() const {
    InlineBytes<lmr::p25::kMaxRecordLen> out;
    (void)lmr::p25::encodeRecord(lmr::p25::makePoll(cfg_.callsign), out);
    return Bytes(out.view().begin(), out.view().end());
}

Bytes P25Radio::end() const {
    InlineBytes<lmr::p25::kMaxRecordLen> out;
    lmr::p25::EndRecord e;
    std::array<std::uint8_t, lmr::p25::kEndRecordLen - 1> zeros{};
    e.rest.assign(zeros);
    (void)lmr::p25::encodeRecord(e, out);
    return Bytes(out.view().begin(), out.view().end());
}

CryptoSync P25Radio::cryptoOf(std::uint32_t sf) const {
    if (!cfg_.encrypted) {
        return CryptoSync::clear(LmrFamily::P25);
    }
    CryptoSync c;
    c.family = LmrFamily::P25;
    c.encrypted = true;
    c.algid = kP25AlgidAes256;
    c.key_id = cfg_.key_id;
    const auto mi = cipher_.miOf(sf);
    c.mi.assign(mi);
    return c;
}

Result<std::vector<Bytes>> P25Radio::superframe(std::uint32_t sf) {
    // MMDVMHost's records (g4klx/MMDVMHost P25Network.cpp writeLDU1 / writeLDU2): LCF, MFID,
    // TG, source and the LDU2 ES (next superframe's MI, ALGID, KID); no header, service
    // options byte 0, so nothing before frame 15 says "encrypted". An emergency is put in the
    // service options byte as a DFSI peer does (MMDVMHost has no way to send one).
    lmr::p25::MmdvmLc lc;
    lc.dst = cfg_.tgid;
    lc.src = cfg_.unit;
    lmr::p25::MmdvmEs es;
    if (cfg_.encrypted) {
        const CryptoSync next = cryptoOf(sf + 1);
        std::copy_n(next.mi.data(), std::min<std::size_t>(next.mi.size(), es.mi.size()),
                    es.mi.begin());
        es.algid = static_cast<std::uint8_t>(next.algid);
        es.kid = static_cast<std::uint16_t>(next.key_id);
    }
    std::vector<Bytes> out;
    for (std::uint8_t idx = 0; idx < 18; ++idx) {
        lmr::p25::VoiceRecord rec;
        rec.tag = lmr::p25::tagOfFrameIndex(idx);
        const Imbe11 plain = p25Canary(cfg_.tag, cfg_.nonce, sf, idx);
        sent_[{sf, idx}] = plain;
        rec.imbe = plain;
        rec.side = lmr::p25::mmdvmRecordSide(idx, lc, es, {0, 0});
        if (idx == 2 && (cfg_.emergency || cfg_.service_options)) {
            std::array<std::uint8_t, lmr::p25::kMaxSideBytes> s{};
            std::copy(rec.side.view().begin(), rec.side.view().end(), s.begin());
            s[2] = static_cast<std::uint8_t>((cfg_.emergency ? 0x80 : 0x00) |
                                             (cfg_.encrypted && cfg_.service_options ? 0x40 : 0));
            rec.side.assign(ByteView(s.data(), rec.side.size()));
        }
        if (cfg_.encrypted) {
            IWF_TRY_STATUS(cipher_.applyImbe(sf, idx, rec.imbe));
            if ((idx == 8 || idx == 17) && rec.side.size() >= 2) {
                std::array<std::uint8_t, 2> lsd{cfg_.tag, idx};  // plaintext LSD
                IWF_TRY_STATUS(cipher_.applyLsd(sf, idx == 17, lsd));
                std::array<std::uint8_t, lmr::p25::kMaxSideBytes> s{};
                std::copy(rec.side.view().begin(), rec.side.view().end(), s.begin());
                s[0] = lsd[0];
                s[1] = lsd[1];
                rec.side.assign(ByteView(s.data(), rec.side.size()));
            }
        }
        InlineBytes<lmr::p25::kMaxRecordLen> buf;
        IWF_TRY_STATUS(lmr::p25::encodeRecord(rec, buf));
        out.emplace_back(buf.view().begin(), buf.view().end());
    }
    return out;
}

void P25Radio::addNeedles(NeedleSet& set) const {
    if (!cfg_.encrypted) {
        return;  // clear voice is expected in the clear: only E2EE content is a secret
    }
    for (const auto& [pos, plain] : sent_) {
        set.add("canary:" + cfg_.name + ":sf" + std::to_string(pos.first) + ":f" +
                    std::to_string(pos.second),
                Bytes(plain.begin(), plain.end()));
    }
    if (cfg_.encrypted) {
        set.add("key:" + cfg_.name + ":kid" + std::to_string(cfg_.key_id),
                Bytes(cfg_.key.begin(), cfg_.key.end()));
    }
}

Result<Imbe11> P25Decryptor::decrypt(const VoiceFrame& f) {
    if (f.crypto.family != LmrFamily::P25) {
        return Error{"not_p25"};
    }
    if (f.payload.size() != 11) {
        return Error{"bad_length", static_cast<std::int64_t>(f.payload.size())};
    }
    Imbe11 out{};
    std::copy_n(f.payload.data(), 11, out.begin());
    if (!f.crypto.encrypted) {
        return out;
    }
    if (f.crypto.mi.size() != lmr::p25::kMiBytes) {
        return Error{"no_mi"};
    }
    const auto kid = static_cast<std::uint16_t>(f.crypto.key_id);
    auto k = keys_.find(kid);
    if (k == keys_.end()) {
        return Error{"unknown_key", kid};
    }
    lmr::p25::Mi mi{};
    std::copy_n(f.crypto.mi.data(), lmr::p25::kMiBytes, mi.begin());
    auto [it, inserted] = ciphers_.try_emplace(kid, k->second, mi);
    (void)inserted;
    IWF_TRY_STATUS(it->second.applyImbeWithMi(mi, f.pos.index, out));
    return out;
}

}  // namespace iwf::harness
