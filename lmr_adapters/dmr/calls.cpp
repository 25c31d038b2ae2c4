#include "lmr_adapters/dmr/calls.hpp"

namespace iwf::lmr::dmr {

Result<BurstInfo> inspectBurst(const DmrdPacket& p) {
    BurstInfo info;
    info.sync = identifySync(syncField(p.burst));
    if (p.frame_type == FrameType::VoiceSync) {
        return info;  // burst A: sync in the middle, nothing else to decode
    }
    if (p.frame_type == FrameType::Voice) {
        auto emb = decodeEmb(p.burst);
        if (!emb) {
            return emb.error();
        }
        info.emb = *emb;
        info.corrected = emb->corrected;
        return info;
    }
    auto d = decodeDataBurst(p.burst);
    if (!d) {
        return d.error();
    }
    info.slot_type = d->slot_type;
    info.corrected = d->corrected;
    if (d->slot_type.data_type != p.dtype_vseq) {
        return Error{"data_type_mismatch", d->slot_type.data_type};
    }
    if (d->slot_type.data_type == static_cast<std::uint8_t>(DataType::PiHeader)) {
        auto pi = decodePiHeader(*d);
        if (!pi) {
            return pi.error();
        }
        info.pi = *pi;
    } else if (d->slot_type.data_type == static_cast<std::uint8_t>(DataType::VoiceLcHeader) ||
               d->slot_type.data_type == static_cast<std::uint8_t>(DataType::TerminatorWithLc)) {
        auto lc = decodeFullLc(*d);
        if (!lc) {
            return lc.error();
        }
        info.lc = *lc;
    }
    return info;
}

// ------------------------------------------------------------------ decoder

CryptoSync CallDecoder::cryptoOf(const Stream& s) const {
    if (s.pi) {
        CryptoSync c;
        c.family = LmrFamily::Dmr;
        c.encrypted = true;
        c.algid = s.pi->algid;
        c.key_id = s.pi->key_id;
        c.vendor = s.pi->fid;
        c.mi.assign(s.pi->iv);
        return c;
    }
    if (s.privacy) {
        // Encrypted (LC privacy bit) but no PI header seen: algorithm and IV unknown (late
        // entry). Nothing is invented: the MI stays empty.
        return CryptoSync::lateEntry(LmrFamily::Dmr);
    }
    return CryptoSync::clear(LmrFamily::Dmr);
}

std::optional<std::uint64_t> CallDecoder::placeVoice(const Stream& s, std::uint8_t seq,
                                                     std::uint8_t idx) const {
    if (s.last_voice < 0) {
        return idx;  // the first voice frame is in superframe 0, at its own burst index
    }
    // Voice packets sent since the last one: the DMRD sequence number counts every packet
    // the peer wrote (MMDVMHost DMRSlot.cpp writeNetworkRF(): m_rfSeqNo++ per packet), so
    // a gap of g means g - 1 packets lost in between. Data bursts of the stream in between
    // took sequence numbers too. A jump back or one over half the range is reordering or
    // a restart: the frame is placed at the next slot with its burst index.
    const auto gap = static_cast<std::uint8_t>(seq - s.last_voice_seq);
    if (gap == 0 && idx == s.last_voice) {
        return std::nullopt;
    }
    std::uint64_t at_least = s.last_slot + 1;
    if (gap < 128 && gap > s.data_since_voice + 1) {
        at_least = s.last_slot + gap - s.data_since_voice;
    }
    // The burst index is authoritative for the position within the superframe. It runs
    // ahead of the sequence number when the peer itself skipped bursts it never received:
    // MMDVMHost's writeModem() drops every burst after a missing one until the next sync
    // (m_rfN != m_lastrfN + 1) and numbers only what it writes.
    return at_least + (idx + 6 - at_least % 6) % 6;
}

void CallDecoder::emitSetup(Stream& s, std::vector<Event>& out) {
    CallSetup cs;
    cs.call = s.ref;
    cs.caller.id = DmrUnit{s.src};
    if (s.unit_call) {
        cs.callee = DmrUnit{s.dst};
        cs.kind = CallKind::Private;
    } else {
        cs.callee = DmrGroup{s.dst};
        cs.kind = CallKind::Group;
    }
    if (s.lc) {
        cs.priority = s.lc->emergency() ? CallPriority::Emergency : CallPriority::Normal;
        cs.broadcast = (s.lc->service_options & kSvcBroadcast) != 0;
    }
    if (s.pi || s.lc || s.privacy) {
        cs.crypto = cryptoOf(s);
    }
    if (auto it = aliases_.find(s.src); it != aliases_.end()) {
        cs.caller.alias = it->second;  // learned from an earlier transmission of this radio
    }
    cs.codec = VoiceCodec::DmrAmbe;
    out.emplace_back(std::move(cs));
    s.setup_sent = true;
}

void CallDecoder::flushPending(Stream& s, std::vector<Event>& out) {
    // A stream that carried nothing valid (only damaged bursts) is not reported as a call.
    // The EMB PI bit alone is enough: a stream joined at burst B..F of an encrypted call
    // (no header, no LC yet) is a call too, set up before its first frame (before, its
    // frames went out ahead of any CallSetup until the embedded LC completed).
    if (!s.setup_sent && (s.pending || s.lc || s.pi || s.privacy)) {
        emitSetup(s, out);
    }
    if (s.pending) {
        s.pending->frame.crypto = cryptoOf(s);
        out.emplace_back(std::move(*s.pending));
        s.pending.reset();
    }
}

Status CallDecoder::onPacket(const DmrdPacket& p, std::int64_t now_ns, std::vector<Event>& out) {
    const Key key{p.peer_id, p.slot};
    const bool is_data = p.frame_type == FrameType::DataSync;
    const auto dt = static_cast<DataType>(p.dtype_vseq);
    const bool starts_call = !is_data || dt == DataType::VoiceLcHeader || dt == DataType::PiHeader;

    auto it = streams_.find(key);
    if (it != streams_.end() && it->second.stream_id != p.stream_id) {
        flushPending(it->second, out);
        if (it->second.setup_sent) {
            out.emplace_back(CallEnd{it->second.ref, EndReason::Normal, "new_stream"});
        }
        streams_.erase(it);
        it = streams_.end();
    }
    if (it == streams_.end()) {
        if (!starts_call) {
            // Terminator / data / CSBK outside a voice stream: not a call (data bursts are
            // not reported yet; see docs/protocols/dmr-hbp.md).
            auto info = inspectBurst(p);
            return info ? Status{} : Status{info.error()};
        }
        Stream s;
        s.ref = next_ref_++;
        s.stream_id = p.stream_id;
        s.src = p.src;
        s.dst = p.dst;
        s.unit_call = p.unit_call;
        it = streams_.emplace(key, std::move(s)).first;
    }
    Stream& s = it->second;
    const auto idx =
        static_cast<std::uint8_t>(p.frame_type == FrameType::VoiceSync ? 0 : p.dtype_vseq);
    std::optional<std::uint64_t> slot;
    if (!is_data) {
        slot = placeVoice(s, p.seq, idx);
        if (!slot) {
            // Dropped and counted by the caller; MMDVMHost drops it too (DMRSlot.cpp
            // insertSilence(): "Do not send duplicate").
            ++stats_.duplicates;
            return Error{"duplicate", p.seq};
        }
    }
    if (s.have_seq) {
        const auto gap = static_cast<std::uint8_t>(p.seq - s.last_seq);
        if (gap > 1 && gap < 128) {
            stats_.lost_packets += gap - 1u;
        }
    }
    s.have_seq = true;
    s.last_seq = p.seq;
    s.last_rx_ns = now_ns;

    auto info = inspectBurst(p);
    if (!is_data) {
        if (info && info->emb) {
            s.privacy = s.privacy || info->emb->pi;
            if (auto lc = s.emb_lc.feed(*info->emb, embeddedFragment(p.burst)); lc && lc->ok()) {
                const FullLc& l = lc->value();
                if (l.flco == kFlcoGroup || l.flco == kFlcoUnitToUnit) {
                    // Only a voice LC has service options: byte 2 of a talker alias or GPS LC
                    // is text or position, never the privacy bit.
                    s.privacy = s.privacy || l.privacy();
                    if (!s.lc) {
                        s.lc = l;
                    }
                } else if (auto alias = s.alias.feedLc(s.emb_lc.lastLc())) {
                    learnAlias(s.src, std::move(*alias));
                }
            }
        }
        if (s.last_voice < 0) {
            s.first_slot = *slot;
        } else {
            stats_.lost_frames += *slot - s.last_slot - 1;
        }
        s.last_slot = *slot;
        s.last_voice = idx;
        s.last_voice_seq = p.seq;
        s.data_since_voice = 0;
        const bool known = s.lc || s.pi || s.privacy;
        const VoiceParts parts = splitVoiceBurst(p.burst);
        Voice v;
        v.call = s.ref;
        v.frame.codec = VoiceCodec::DmrAmbe;
        v.frame.pos = FramePosition{static_cast<std::uint32_t>(*slot / 6), idx};
        v.frame.crypto = cryptoOf(s);
        v.frame.payload.assign(parts.ambe);
        v.frame.side.assign(parts.middle);
        // Lost voice frames show as a jump in Voice.seq (the engine counts them).
        v.frame.seq = static_cast<std::uint32_t>(*slot - s.first_slot);
        v.frame.rx_ns = now_ns;
        if (!s.setup_sent && !known && !s.pending) {
            // Late entry on burst A: encryption state unknown until the EMB of burst B.
            // Hold this one frame rather than report a call whose crypto is not known.
            s.pending = std::move(v);
            return info ? Status{} : Status{info.error()};
        }
        flushPending(s, out);
        out.emplace_back(std::move(v));
        // The voice payload is opaque and was forwarded; a damaged EMB is still reported.
        return info ? Status{} : Status{info.error()};
    }
    if (s.last_voice >= 0) {
        ++s.data_since_voice;
    }
    if (!info) {
        return info.error();
    }
    switch (dt) {
        case DataType::VoiceLcHeader:
            s.lc = info->lc;
            s.privacy = s.privacy || info->lc->privacy();
            break;
        case DataType::PiHeader:
            s.pi = info->pi;
            break;
        case DataType::TerminatorWithLc:
            flushPending(s, out);
            if (s.setup_sent) {
                out.emplace_back(CallEnd{s.ref, EndReason::Normal, ""});
            }
            streams_.erase(it);
            break;
        default:
            break;
    }
    return {};
}

void CallDecoder::expire(std::int64_t now_ns, std::int64_t timeout_ns, std::vector<Event>& out) {
    for (auto it = streams_.begin(); it != streams_.end();) {
        if (now_ns - it->second.last_rx_ns > timeout_ns) {
            flushPending(it->second, out);
            if (it->second.setup_sent) {
                out.emplace_back(CallEnd{it->second.ref, EndReason::Timeout, "stream_silent"});
            }
            it = streams_.erase(it);
        } else {
            ++it;
        }
    }
}

void CallDecoder::endAll(std::optional<std::uint32_t> peer_id, EndReason reason,
                         std::vector<Event>& out) {
    for (auto it = streams_.begin(); it != streams_.end();) {
        if (!peer_id || std::get<0>(it->first) == *peer_id) {
            flushPending(it->second, out);
            if (it->second.setup_sent) {
                out.emplace_back(CallEnd{it->second.ref, reason, ""});
            }
            it = streams_.erase(it);
        } else {
            ++it;
        }
    }
}

void CallDecoder::learnAlias(std::uint32_t src, std::string alias) {
    ++stats_.aliases;
    if (aliases_.size() >= kMaxAliases && aliases_.count(src) == 0) {
        aliases_.clear();
    }
    aliases_[src] = std::move(alias);
}

void CallDecoder::onTalkerAliasBlock(std::uint32_t src, std::uint8_t block, ByteView bytes7) {
    if (dmra_.size() >= kMaxAliases && dmra_.count(src) == 0) {
        dmra_.clear();
    }
    if (auto alias = dmra_[src].feed(block, bytes7)) {
        learnAlias(src, std::move(*alias));
    }
}

std::optional<std::string> CallDecoder::aliasOf(std::uint32_t src) const {
    auto it = aliases_.find(src);
    if (it == aliases_.end()) {
        return std::nullopt;
    }
    return it->second;
}

// ------------------------------------------------------------------ encoder

CallEncoder::CallEncoder(EncoderConfig cfg, std::uint64_t seed)
    : cfg_(cfg), rng_(static_cast<std::mt19937::result_type>(seed)) {}

DmrdPacket CallEncoder::base(Call& c, FrameType ft, std::uint8_t dv) {
    DmrdPacket p;
    p.seq = c.seq++;
    p.src = c.lc.src;
    p.dst = c.lc.dst;
    p.peer_id = cfg_.repeater_id;
    p.slot = cfg_.slot;
    p.unit_call = c.unit_call;
    p.frame_type = ft;
    p.dtype_vseq = dv;
    p.stream_id = c.stream_id;
    return p;
}

Result<std::vector<DmrdPacket>> CallEncoder::onEvent(const Event& e) {
    std::vector<DmrdPacket> out;
    if (const auto* cs = std::get_if<CallSetup>(&e)) {
        if (calls_.count(cs->call)) {
            return Error{"duplicate_call", static_cast<std::int64_t>(cs->call)};
        }
        const auto* caller = std::get_if<DmrUnit>(&cs->caller.id);
        if (caller == nullptr || !valid(*caller)) {
            return Error{"bad_caller_address", 0};
        }
        Call c;
        if (const auto* g = std::get_if<DmrGroup>(&cs->callee); g != nullptr && valid(*g)) {
            c.lc.flco = kFlcoGroup;
            c.lc.dst = g->id;
        } else if (const auto* u = std::get_if<DmrUnit>(&cs->callee); u != nullptr && valid(*u)) {
            c.lc.flco = kFlcoUnitToUnit;
            c.lc.dst = u->id;
            c.unit_call = true;
        } else {
            return Error{"bad_callee_address", 0};
        }
        c.lc.src = caller->id;
        if (cs->priority == CallPriority::Emergency) {
            c.lc.service_options |= kSvcEmergency;
        }
        if (cs->broadcast) {
            c.lc.service_options |= kSvcBroadcast;
        }
        if (cs->crypto && cs->crypto->encrypted) {
            if (cs->crypto->family != LmrFamily::Dmr) {
                // Another family's crypto cannot ride a DMR stream (never transcoded).
                return Error{"crypto_family_mismatch",
                             static_cast<std::int64_t>(cs->crypto->family)};
            }
            c.lc.service_options |= kSvcPrivacy;
            c.crypto = cs->crypto;
        }
        do {
            c.stream_id = static_cast<std::uint32_t>(rng_());
        } while (c.stream_id == 0);
        c.emb = encodeEmbeddedLc(serializeFullLc(c.lc));
        for (unsigned i = 0; i < cfg_.lc_headers; ++i) {
            DmrdPacket p =
                base(c, FrameType::DataSync, static_cast<std::uint8_t>(DataType::VoiceLcHeader));
            p.burst = buildFullLcBurst(c.lc, DataType::VoiceLcHeader, cfg_.color_code,
                                       SyncPattern::BsData);
            out.push_back(p);
        }
        if (c.crypto && c.crypto->mi.size() == 4) {
            PiHeader pi;
            pi.group = !c.unit_call;
            pi.algid = static_cast<std::uint8_t>(c.crypto->algid & 0x07);
            pi.key_id = static_cast<std::uint8_t>(c.crypto->key_id);
            pi.fid = c.crypto->vendor;
            std::copy(c.crypto->mi.data(), c.crypto->mi.data() + 4, pi.iv.begin());
            pi.dst = c.lc.dst;
            DmrdPacket p =
                base(c, FrameType::DataSync, static_cast<std::uint8_t>(DataType::PiHeader));
            p.burst = buildPiHeaderBurst(pi, cfg_.color_code, SyncPattern::BsData);
            out.push_back(p);
        }
        calls_.emplace(cs->call, std::move(c));
        return out;
    }
    if (const auto* v = std::get_if<Voice>(&e)) {
        auto it = calls_.find(v->call);
        if (it == calls_.end()) {
            return Error{"unknown_call", static_cast<std::int64_t>(v->call)};
        }
        Call& c = it->second;
        const VoiceFrame& f = v->frame;
        if (f.codec != VoiceCodec::DmrAmbe) {
            return Error{"bad_codec", static_cast<std::int64_t>(f.codec)};
        }
        if (f.payload.size() != 27) {
            return Error{"bad_payload_size", static_cast<std::int64_t>(f.payload.size())};
        }
        const std::uint8_t idx = f.pos.index;
        if (idx > 5) {
            return Error{"bad_position", idx};
        }
        DmrdPacket p = idx == 0 ? base(c, FrameType::VoiceSync, 0) : base(c, FrameType::Voice, idx);
        if (f.side.size() == 6) {
            // The middle field exactly as received (sync or EMB + embedded signalling).
            p.burst = joinVoiceBurst(f.payload.view(), f.side.view());
        } else if (f.side.empty()) {
            const std::array<std::uint8_t, 6> zero{};
            p.burst = joinVoiceBurst(f.payload.view(), zero);
            if (idx == 0) {
                setSync(p.burst, SyncPattern::BsVoice);
            } else {
                Emb emb;
                emb.color_code = cfg_.color_code;
                emb.pi = c.lc.privacy();
                emb.lcss = idx == 1   ? static_cast<std::uint8_t>(Lcss::First)
                           : idx == 4 ? static_cast<std::uint8_t>(Lcss::Last)
                           : idx == 5 ? static_cast<std::uint8_t>(Lcss::Single)
                                      : static_cast<std::uint8_t>(Lcss::Continuation);
                encodeEmb(p.burst, emb);
                setEmbeddedFragment(p.burst,
                                    idx <= 4 ? c.emb[idx - 1] : std::array<std::uint8_t, 4>{});
            }
        } else {
            return Error{"bad_side_size", static_cast<std::int64_t>(f.side.size())};
        }
        out.push_back(p);
        return out;
    }
    if (const auto* end = std::get_if<CallEnd>(&e)) {
        auto it = calls_.find(end->call);
        if (it == calls_.end()) {
            return Error{"unknown_call", static_cast<std::int64_t>(end->call)};
        }
        Call& c = it->second;
        DmrdPacket p =
            base(c, FrameType::DataSync, static_cast<std::uint8_t>(DataType::TerminatorWithLc));
        p.burst = buildFullLcBurst(c.lc, DataType::TerminatorWithLc, cfg_.color_code,
                                   SyncPattern::BsData);
        out.push_back(p);
        calls_.erase(it);
        return out;
    }
    return Error{"unsupported_event", 0};
}

}  // namespace iwf::lmr::dmr
