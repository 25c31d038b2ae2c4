// Media: the E2EE policy gate of a transmission, voice relay, sequence tracking, late entry.
#include "common/metrics_histogram.hpp"
#include "gateway/engine/engine.hpp"
#include "gateway/engine/engine_detail.hpp"
#include "gateway/engine/policy.hpp"

namespace iwf::gateway::engine {

using namespace detail;

// ---------------------------------------------------------------------------------------------
// E2EE policy gate

void Engine::markCrypto(Call& c, const CryptoSync& crypto) {
    if (c.state_known && c.encrypted_marked != crypto.encrypted) {
        log_->info("call={} e2ee_state={} (changed)", c.name,
                   crypto.encrypted ? "encrypted" : "clear");
    }
    c.state_known = true;
    c.encrypted_marked = crypto.encrypted;
}

void Engine::evaluatePolicy(Call& c, int leg, const CryptoSync& crypto) {
    Leg& l = c.leg(leg);
    l.crypto = crypto;
    const PolicyVerdict v = verdict(c, crypto);
    if (v.outcome == PolicyOutcome::Wait) {
        // Late entry: encrypted, but ALGID, key ID and MI not known yet (a P25 records stream
        // before its first LDU2, CryptoSync::lateEntry()). Decided on the first frame that
        // states them; until then the frames wait in `pending` like any undecided stream (and
        // call_setup ends a call whose stream never states them).
        return;
    }
    if (v.refused()) {
        setPolicy(c, leg, PolicyGate::Refused, PolicyGateEvent::Refuse);
        refuse(c, leg, v.reason, kDenyOther, false);
        return;
    }
    setPolicy(c, leg, PolicyGate::Allowed, PolicyGateEvent::Allow);
    deps_.metrics
        .counter("iwf_engine_transmissions_total", "Transmissions accepted by E2EE state",
                 {{"e2ee", crypto.encrypted ? "encrypted" : "clear"}})
        .inc();
    afterPolicyAllowed(c, leg);
}

PolicyVerdict Engine::verdict(const Call& c, const CryptoSync& stream) const {
    return c.group ? checkGroupPolicy(*c.group, stream)
                   : checkPrivatePolicy(c.private_e2ee_allowed, stream);
}

void Engine::afterPolicyAllowed(Call& c, int leg) {
    Leg& l = c.leg(leg);
    if (l.policy_first && l.floor == FloorGate::Pending) {
        requestFloor(c, leg);
    } else {
        tryFlow(c, leg);
    }
}

// ---------------------------------------------------------------------------------------------
// Media

void Engine::trackSeq(Leg& leg, LinkEntry& le, const VoiceFrame& f) {
    if (!leg.seq_init) {
        leg.seq_init = true;
        leg.next_seq = f.seq + 1;
        return;
    }
    if (f.seq == leg.next_seq) {
        ++leg.next_seq;
        return;
    }
    auto gap = static_cast<std::int32_t>(f.seq - leg.next_seq);
    if (gap > 0) {
        leg.lost += static_cast<std::uint64_t>(gap);
        le.lost->inc(static_cast<std::uint64_t>(gap));
        leg.next_seq = f.seq + 1;
    } else {
        le.out_of_order->inc();  // relayed as it came; never reordered or dropped here
    }
}

void Engine::onVoice(std::uint16_t link, const Voice& v) {
    auto lr = find(link, v.call);
    LinkEntry& le = links_[link];
    le.frames_in->inc();
    if (!lr) {
        dropEvent(link, "unknown_call");
        return;
    }
    Call& c = *lr->call;
    int leg = lr->leg;
    Leg& l = c.leg(leg);
    ++l.frames_in;
    trackSeq(l, le, v.frame);
    if (l.floor == FloorGate::Refused || l.policy == PolicyGate::Refused) {
        if (l.refused_frames) {
            l.refused_frames->inc();
        }
        return;
    }
    if (l.floor == FloorGate::None) {
        dropEvent(link, "no_floor");
        return;
    }
    const CryptoSync& fc = v.frame.crypto;
    if (l.policy == PolicyGate::Allowed && !fc.sameParameters(l.crypto)) {
        // The stream's E2EE state changed mid-transmission: check it again. A stream whose
        // frames stop stating ALGID and key ID cannot be checked any more: refused too.
        crypto_changes_.inc();
        ++l.mi_resyncs;
        const PolicyVerdict pv = verdict(c, fc);
        if (!pv.allowed()) {
            setPolicy(c, leg, PolicyGate::Refused, PolicyGateEvent::Refuse);
            refuse(c, leg, pv.refused() ? pv.reason : "crypto_sync_lost", kDenyOther, l.flowing);
            l.refused_frames->inc();
            return;
        }
        l.crypto = fc;
        if (l.flowing) {
            markCrypto(c, fc);
        }
    }
    if (l.flowing) {
        IWF_ASSERT(l.floor == FloorGate::Granted && l.policy == PolicyGate::Allowed,
                   "a stream flows only through two open gates");
        forward(c, leg, v.frame);
        return;
    }
    if (l.pending.size() >= opts_.pending_frames_max) {
        refuse(c, leg, "pending_overflow", kDenyOther, false);
        l.refused_frames->inc();
        return;
    }
    l.pending.push_back(v.frame);
    if (l.policy == PolicyGate::Unknown) {
        evaluatePolicy(c, leg, fc);  // encryption state read from the stream itself
    }
}

void Engine::forward(Call& c, int src, const VoiceFrame& frame) {
    const Leg& s = c.leg(src);
    ++c.frames;
    if (s.side == Side::Lmr) {
        for (std::size_t i = 0; i < c.legs.size(); ++i) {
            if (c.legs[i].alive && c.legs[i].side == Side::Mc) {
                deliverFrame(c, src, static_cast<int>(i), frame);
            }
        }
        return;
    }
    for (std::size_t i = 0; i < c.legs.size(); ++i) {
        const Leg& d = c.legs[i];
        if (!d.alive || static_cast<int>(i) == src) {
            continue;
        }
        bool to_lmr = d.side == Side::Lmr &&
                      (c.kind == CallKind::Private || static_cast<int>(i) == c.lmr_out);
        // Groups homed in the IWF: the IWF distributes media to its MC participants too.
        bool to_mc = d.side == Side::Mc && c.local_floor && c.kind == CallKind::Group;
        if (to_lmr || to_mc) {
            deliverFrame(c, src, static_cast<int>(i), frame);
        }
    }
}

void Engine::deliverFrame(Call& c, int src, int dst, const VoiceFrame& frame) {
    Leg& d = c.leg(dst);
    if (!d.synced) {
        if (!isSyncPoint(frame.crypto, frame.pos.index)) {
            ++d.wait_frames;
            links_[d.link].late_wait_frames->inc();
            return;
        }
        d.synced = true;
        ++d.mi_resyncs;
        late_synced_.inc();
        std::int64_t waited = toNs(deps_.clock.now()) - d.wait_start_ns;
        log_->info(
            "call={} late_entry=synced link={} ref={} wait_frames={} wait_ms={} superframe={}",
            c.name, links_[d.link].id.name, d.ref, d.wait_frames, waited / 1'000'000,
            frame.pos.superframe);
    }
    Event ev{Voice{d.ref, frame}};
    send(d.link, ev);
    ++d.frames_out;
    links_[d.link].frames_out->inc();
    if (frame.rx_ns != 0) {
        const std::int64_t ns = toNs(deps_.clock.now()) - frame.rx_ns;
        latency_.record(ns);
        path_latency_[latencyPath(c.leg(src).side, d.side)]->observe(
            static_cast<double>(ns < 0 ? 0 : ns) / 1e9);
    }
}

}  // namespace iwf::gateway::engine
