#include "harness/sim/dmr_radio.hpp"

namespace iwf::harness {

using namespace lmr::dmr;

Ambe27 dmrCanary(std::uint8_t tag, std::uint16_t nonce, std::uint32_t superframe,
                 std::uint8_t burst) {
    Ambe27 a{};
    a[0] = 'C';
    a[1] = 'N';
    a[2] = 'Y';
    a[3] = 'D';
    a[4] = tag;
    a[5] = static_cast<std::uint8_t>(superframe >> 24);
    a[6] = static_cast<std::uint8_t>(superframe >> 16);
    a[7] = static_cast<std::uint8_t>(superframe >> 8);
    a[8] = static_cast<std::uint8_t>(superframe);
    a[9] = burst;
    a[10] = static_cast<std::uint8_t>(nonce >> 8);
    a[11] = static_cast<std::uint8_t>(nonce);
    for (std::size_t i = 12; i < a.size(); ++i) {
        a[i] = static_cast<std::uint8_t>(i * 17 + tag * 29 + superframe * 3 + burst * 5 + nonce);
    }
    return a;
}

namespace {
DataConfig radioDataConfig(const DmrRadioConfig& cfg) {
    DataConfig d;
    d.out_sap = cfg.data_sap;
    d.kmm = KmmService{cfg.kmm_sap};
    return d;
}
}  // namespace

DmrRadio::DmrRadio(DmrRadioConfig cfg)
    : cfg_(cfg)
    , cipher_(cfg.key, cfg.first_iv)
    , data_rx_(radioDataConfig(cfg))
    , data_seed_(std::uint64_t{cfg.stream_id} * 0x9E3779B97F4A7C15ull + cfg.tag) {}

Result<std::vector<DmrdPacket>> DmrRadio::sendData(const Address& to, ByteView bytes, bool kmm) {
    DataSender tx(DataSenderConfig{cfg_.repeater_id, cfg_.slot, cfg_.color_code},
                  radioDataConfig(cfg_), data_seed_());
    const Address from = DmrUnit{cfg_.src};
    if (kmm) {
        SecurityMessage m;
        m.from = from;
        m.to = to;
        m.payload.assign(bytes.begin(), bytes.end());
        return tx.onEvent(m);
    }
    DataMessage m;
    m.from = from;
    m.to = to;
    m.payload.assign(bytes.begin(), bytes.end());
    return tx.onEvent(m);
}

std::vector<std::string_view> DmrRadio::receiveData(const DmrdPacket& p, std::int64_t now_ns) {
    std::vector<std::string_view> drops;
    if (!isDataPacket(p)) {
        return drops;
    }
    std::vector<Event> events;
    data_rx_.onPacket(p, now_ns, events, drops);
    data_rx_.expire(now_ns, drops);
    for (auto& e : events) {
        DmrDataReceived r;
        if (auto* d = std::get_if<DataMessage>(&e)) {
            r.from = d->from;
            r.to = d->to;
            r.payload = std::move(d->payload);
        } else if (auto* s = std::get_if<SecurityMessage>(&e)) {
            r.from = s->from;
            r.to = s->to;
            r.payload = std::move(s->payload);
            r.kmm = true;
        } else {
            continue;
        }
        if (on_data_) {
            on_data_(r);
        }
    }
    return drops;
}

FullLc DmrRadio::lc() const {
    FullLc l;
    l.flco = kFlcoGroup;
    l.fid = 0;
    l.service_options = static_cast<std::uint8_t>((cfg_.encrypted ? kSvcPrivacy : 0) |
                                                  (cfg_.emergency ? kSvcEmergency : 0));
    l.dst = cfg_.dst;
    l.src = cfg_.src;
    return l;
}

DmrdPacket DmrRadio::packet(FrameType ft, std::uint8_t dtype_vseq, const Burst& b) {
    DmrdPacket p;
    p.seq = seq_++;
    p.src = cfg_.src;
    p.dst = cfg_.dst;
    p.peer_id = cfg_.repeater_id;
    p.slot = cfg_.slot;
    p.unit_call = false;
    p.frame_type = ft;
    p.dtype_vseq = dtype_vseq;
    p.stream_id = cfg_.stream_id;
    p.burst = b;
    return p;
}

std::vector<DmrdPacket> DmrRadio::start() {
    std::vector<DmrdPacket> out;
    out.push_back(packet(
        FrameType::DataSync, static_cast<std::uint8_t>(DataType::VoiceLcHeader),
        buildFullLcBurst(lc(), DataType::VoiceLcHeader, cfg_.color_code, SyncPattern::BsData)));
    if (cfg_.encrypted) {
        PiHeader pi;
        pi.group = true;
        pi.algid = kDmrAlgidAes256;
        pi.fid = 0x10;
        pi.key_id = cfg_.key_id;
        pi.iv = idBytesOf(cfg_.first_iv);
        pi.dst = cfg_.dst;
        out.push_back(packet(FrameType::DataSync, static_cast<std::uint8_t>(DataType::PiHeader),
                             buildPiHeaderBurst(pi, cfg_.color_code, SyncPattern::BsData)));
    }
    return out;
}

std::array<std::uint8_t, 4> DmrRadio::idBytesOf(std::uint32_t v) {
    return {static_cast<std::uint8_t>(v >> 24), static_cast<std::uint8_t>(v >> 16),
            static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)};
}

Result<std::vector<DmrdPacket>> DmrRadio::superframe(std::uint32_t sf) {
    std::vector<DmrdPacket> out;
    // The middle field as MMDVMHost forwards it (DMRSlot.cpp writeModem(): CDMREmbeddedData
    // getData(data, n) then CDMREMB getData()): bursts B..E the four fragments of the voice
    // LC, LCSS first / continuation / continuation / last; F zeroed, LCSS single; the EMB
    // PI bit as the radio set it.
    const EmbeddedFragments emb_lc = encodeEmbeddedLc(serializeFullLc(lc()));
    for (std::uint8_t b = 0; b < 6; ++b) {
        const Ambe27 plain = dmrCanary(cfg_.tag, cfg_.nonce, sf, b);
        sent_[{sf, b}] = plain;
        std::array<std::uint8_t, 6> middle{};
        Burst burst = joinVoiceBurst(plain, middle);
        if (b == 0) {
            setSync(burst, SyncPattern::BsVoice);
        } else {
            Emb e;
            e.color_code = cfg_.color_code;
            e.pi = cfg_.encrypted;
            e.lcss = static_cast<std::uint8_t>(b == 1   ? Lcss::First
                                               : b == 4 ? Lcss::Last
                                               : b == 5 ? Lcss::Single
                                                        : Lcss::Continuation);
            encodeEmb(burst, e);
            if (b <= 4) {
                setEmbeddedFragment(burst, emb_lc[b - 1]);
            }
        }
        if (cfg_.encrypted) {
            IWF_TRY_STATUS(cipher_.applyBurst(sf, b, burst));
        }
        out.push_back(packet(b == 0 ? FrameType::VoiceSync : FrameType::Voice, b, burst));
    }
    return out;
}

DmrdPacket DmrRadio::terminator() {
    return packet(
        FrameType::DataSync, static_cast<std::uint8_t>(DataType::TerminatorWithLc),
        buildFullLcBurst(lc(), DataType::TerminatorWithLc, cfg_.color_code, SyncPattern::BsData));
}

CryptoSync DmrRadio::cryptoSync() const {
    if (!cfg_.encrypted) {
        return CryptoSync::clear(LmrFamily::Dmr);
    }
    CryptoSync c;
    c.family = LmrFamily::Dmr;
    c.encrypted = true;
    c.algid = kDmrAlgidAes256;
    c.key_id = cfg_.key_id;
    c.vendor = 0x10;
    const auto iv = idBytesOf(cfg_.first_iv);
    c.mi.assign(iv);
    return c;
}

void DmrRadio::addNeedles(NeedleSet& set) const {
    if (!cfg_.encrypted) {
        return;  // clear voice is expected in the clear: only E2EE content is a secret
    }
    for (const auto& [pos, plain] : sent_) {
        set.add("canary:" + cfg_.name + ":sf" + std::to_string(pos.first) + ":b" +
                    std::to_string(pos.second),
                Bytes(plain.begin(), plain.end()));
    }
    if (cfg_.encrypted) {
        set.add("key:" + cfg_.name + ":kid" + std::to_string(cfg_.key_id),
                Bytes(cfg_.key.begin(), cfg_.key.end()));
    }
}

Result<Ambe27> DmrDecryptor::decrypt(const VoiceFrame& f) {
    if (f.crypto.family != LmrFamily::Dmr) {
        return Error{"not_dmr"};
    }
    // The side field (sync or EMB + embedded signalling, 6 bytes) comes with frames that
    // crossed a DMR link; a frame from another MC client has none (the DMR link builds it).
    // The cipher covers the AMBE bits only, so a zero middle stands in for a missing one.
    if (f.payload.size() != kDmrVoiceBytes || (f.side.size() != 6 && !f.side.empty())) {
        return Error{"bad_length", static_cast<std::int64_t>(f.payload.size())};
    }
    const std::array<std::uint8_t, 6> no_side{};
    Burst b = joinVoiceBurst(f.payload.view(),
                             f.side.empty() ? ByteView(no_side.data(), 6) : f.side.view());
    if (f.crypto.encrypted) {
        if (f.crypto.mi.size() != 4) {
            return Error{"no_mi"};
        }
        auto k = keys_.find(static_cast<std::uint8_t>(f.crypto.key_id));
        if (k == keys_.end()) {
            return Error{"unknown_key", f.crypto.key_id};
        }
        const std::uint8_t* m = f.crypto.mi.data();
        const std::uint32_t iv = (std::uint32_t{m[0]} << 24) | (std::uint32_t{m[1]} << 16) |
                                 (std::uint32_t{m[2]} << 8) | m[3];
        DmrVoiceCipher c(k->second, iv);
        IWF_TRY_STATUS(c.applyBurst(f.pos.superframe, f.pos.index, b));
    }
    Ambe27 out{};
    const auto parts = splitVoiceBurst(b);
    std::copy(parts.ambe.begin(), parts.ambe.end(), out.begin());
    return out;
}

}  // namespace iwf::harness
