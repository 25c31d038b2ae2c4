// An MC client talks (McSystem::talk): floor request on the call that is up or a new INVITE
// with an implicit request, wait for the decision, encrypted X-IWF-LMR frames paced in real
// time (one per 20 ms P25, 60 ms DMR), then Floor Release / Floor Idle.
#include "harness/sim/dmr_radio.hpp"
#include "harness/sim/mc_system_impl.hpp"
#include "harness/sim/p25_radio.hpp"
#include "lmr_adapters/dmr/burst.hpp"
#include "lmr_adapters/p25/mi_lfsr.hpp"

namespace iwf::harness {

using mcsim::nowNs;
using mcsim::priorityRank;

namespace {

// The talker's cipher state: its own CryptoSync (P25: random MI, LFSR per superframe; DMR:
// random IV), or clear.
struct TalkCipher {
    TalkCipher(const ScenarioKey* key, bool p25) : k(key) {
        std::random_device rd;
        lmr::p25::Mi first_mi{};
        for (std::size_t i = 0; i < 8; ++i) {
            first_mi[i] = static_cast<std::uint8_t>(rd());
        }
        first_iv = rd();
        if (k != nullptr && p25) {
            p25c.emplace(k->key, first_mi);
        } else if (k != nullptr) {
            dmrc.emplace(k->key, first_iv);
        }
    }
    const ScenarioKey* k;
    std::uint32_t first_iv = 0;
    std::optional<P25VoiceCipher> p25c;
    std::optional<DmrVoiceCipher> dmrc;
};

// Frame (sf, idx) of the talk: the canary (kept in `plain`), encrypted when there is a key.
VoiceFrame p25Frame(TalkCipher& tc, const McTalkRequest& req, std::uint32_t sf, std::uint8_t idx,
                    Bytes& plain) {
    VoiceFrame f;
    f.pos = {sf, idx};
    f.codec = VoiceCodec::ImbeFullRate;
    const Imbe11 c = p25Canary(req.tag, req.nonce, sf, idx);
    plain.assign(c.begin(), c.end());
    Imbe11 w = c;
    if (tc.p25c) {
        f.crypto.family = LmrFamily::P25;
        f.crypto.encrypted = true;
        f.crypto.algid = tc.k->algid;
        f.crypto.key_id = tc.k->key_id;
        const auto mi = tc.p25c->miOf(sf);
        f.crypto.mi.assign(mi);
        (void)tc.p25c->applyImbe(sf, idx, w);
    } else {
        f.crypto = CryptoSync::clear(LmrFamily::P25);
    }
    f.payload.assign(w);
    return f;
}

VoiceFrame dmrFrame(TalkCipher& tc, const McTalkRequest& req, std::uint32_t sf, std::uint8_t idx,
                    Bytes& plain) {
    VoiceFrame f;
    f.pos = {sf, idx};
    f.codec = VoiceCodec::DmrAmbe;
    const Ambe27 c = dmrCanary(req.tag, req.nonce, sf, idx);
    plain.assign(c.begin(), c.end());
    const std::array<std::uint8_t, 6> middle{};  // the DMR link sets EMB / sync
    lmr::dmr::Burst b =
        lmr::dmr::joinVoiceBurst(ByteView(c.data(), c.size()), ByteView(middle.data(), 6));
    if (tc.dmrc) {
        f.crypto.family = LmrFamily::Dmr;
        f.crypto.encrypted = true;
        f.crypto.algid = tc.k->algid;
        f.crypto.key_id = tc.k->key_id;
        const std::uint8_t iv[4] = {static_cast<std::uint8_t>(tc.first_iv >> 24),
                                    static_cast<std::uint8_t>(tc.first_iv >> 16),
                                    static_cast<std::uint8_t>(tc.first_iv >> 8),
                                    static_cast<std::uint8_t>(tc.first_iv)};
        f.crypto.mi.assign(ByteView(iv, 4));
        (void)tc.dmrc->applyBurst(sf, idx, b);
    } else {
        f.crypto = CryptoSync::clear(LmrFamily::Dmr);
    }
    // No side field: an MC client has no sync, EMB or embedded LC to offer, and six zero bytes
    // would be taken as "the middle field exactly as received" by the DMR link, which then sent
    // bursts with no sync and an EMB of PI 0 on an encrypted call (seen with the HBP
    // dissector). Without one, the link builds sync, EMB (colour code, PI) and embedded LC.
    const auto parts = lmr::dmr::splitVoiceBurst(b);
    f.payload.assign(ByteView(parts.ambe.data(), parts.ambe.size()));
    return f;
}

}  // namespace

std::optional<std::uint64_t> McSystem::Impl::askForFloor(const McTalkRequest& req,
                                                         const std::shared_ptr<Talk>& talk,
                                                         const ScenarioGroup& g) {
    auto call_id = std::make_shared<std::promise<std::uint64_t>>();
    auto call_fut = call_id->get_future();
    const bool home_mc = g.home == "mc";
    asio::post(io, [this, req, talk, home_mc, call_id] {
        if (Call* c = callFor(req.group, req.client); c != nullptr) {
            c->talk = talk;
            c->clients.insert(req.client);
            clientRequestsFloor(*c, talk, home_mc);
            call_id->set_value(c->id);
            return;
        }
        // No call up: INVITE with an implicit floor request (the answer may carry mc_granted
        // before `talk` is attached: kept as the call's early decision).
        originate(req.client, req.group, false, !home_mc, talk->priority,
                  [this, talk, home_mc, call_id](std::uint64_t id, std::string why) {
                      if (id == 0) {
                          std::lock_guard lock(mu);
                          talk->outcome = "denied";
                          talk->reason = why;
                          cv.notify_all();
                          call_id->set_value(0);
                          return;
                      }
                      Call& nc = *calls[id];
                      nc.talk = talk;
                      if (!nc.early_outcome.empty()) {
                          decide(nc, nc.early_outcome, nc.early_reason);
                      }
                      if (home_mc) {
                          nc.holder = talk->client;
                          nc.holder_priority = talk->priority;
                          sendFloorEvent(nc, FloorTaken{id, Talker{McId{talk->mc_id}, {}, {}}});
                          decide(nc, "granted", "");
                      }
                      call_id->set_value(id);
                  });
    });
    if (call_fut.wait_for(std::chrono::seconds(5)) != std::future_status::ready) {
        return std::nullopt;
    }
    return call_fut.get();
}

void McSystem::Impl::awaitDecision(const std::shared_ptr<Talk>& talk, std::uint64_t cid,
                                   McTalkResult& res) {
    std::unique_lock lock(mu);
    cv.wait_for(lock, std::chrono::seconds(3),
                [&] { return !talk->outcome.empty() && talk->outcome != "queued"; });
    if (talk->outcome.empty() && cid != 0) {
        // A new call answered with mc_granted before `talk` was attached to it.
        for (const auto& e : events) {
            if (e.call == cid && e.what == "invite_answered" && e.detail == "mc_granted") {
                talk->outcome = "granted";
                talk->granted = true;
            }
        }
    }
    res.outcome = talk->outcome.empty() ? "no answer" : talk->outcome;
    res.reason = talk->reason;
    if (talk->was_queued) {
        // The first decision counts (the loser of a contention is queued); whether the
        // queue later granted the floor is reported with it.
        res.outcome = "queued";
        res.reason = talk->granted
                         ? "then granted after " +
                               std::to_string((nowNs() - talk->queued_ns) / 1'000'000) + " ms"
                         : "still queued";
    }
}

void McSystem::Impl::sendFrames(const McTalkRequest& req, const std::shared_ptr<Talk>& talk,
                                const ScenarioGroup& g, std::uint64_t cid, McTalkResult& res) {
    const bool p25 = g.family == LmrFamily::P25;
    TalkCipher tc(req.encrypted ? req.key : nullptr, p25);
    auto next = std::chrono::steady_clock::now();
    const auto period = std::chrono::milliseconds(p25 ? 20 : 60);  // real-time pacing
    const std::uint8_t per_sf = p25 ? 18 : 6;
    bool first = true;
    for (std::uint32_t sf = 0; sf < req.superframes; ++sf) {
        for (std::uint8_t idx = 0; idx < per_sf; ++idx) {
            {
                std::lock_guard lock(mu);
                if (talk->revoked) {
                    res.outcome = "preempted";
                    res.reason = talk->reason;
                    return;
                }
            }
            next += period;
            std::this_thread::sleep_until(next);
            Bytes plain;
            VoiceFrame f =
                p25 ? p25Frame(tc, req, sf, idx, plain) : dmrFrame(tc, req, sf, idx, plain);
            const std::int64_t tx = nowNs();
            f.rx_ns = tx;
            res.plaintext[{sf, idx}] = plain;
            res.crypto[{sf, idx}] = f.crypto;
            res.tx_ns[{sf, idx}] = tx;
            if (tc.k != nullptr) {
                std::lock_guard lock(mu);
                needles.emplace_back("canary:" + req.client + ":sf" + std::to_string(sf) + ":f" +
                                         std::to_string(idx),
                                     plain);
            }
            const bool marker = first;
            first = false;
            asio::post(io, [this, cid, f, marker, req] {
                sendTalkFrame(cid, f, marker, req.client, req.group);
            });
            ++res.sent;
        }
    }
}

McTalkResult McSystem::talk(const McTalkRequest& req) {
    McTalkResult res;
    const ScenarioClient* client = impl_->client(req.client);
    const ScenarioGroup* g = impl_->group(req.group);
    if (client == nullptr || g == nullptr) {
        res.outcome = "not run";
        res.reason = "unknown client or group";
        return res;
    }
    auto talk = std::make_shared<Impl::Talk>();
    talk->client = req.client;
    talk->priority = priorityRank(req.priority);
    talk->mc_id = client->mc_id;
    // 1. Ask for the floor: on a call that is up, or with a new INVITE (implicit request).
    const std::optional<std::uint64_t> cid = impl_->askForFloor(req, talk, *g);
    if (!cid) {
        res.outcome = "no answer";
        res.reason = "INVITE to iwfd not answered";
        return res;
    }
    // 2. Wait for the decision (granted / denied / queued).
    impl_->awaitDecision(talk, *cid, res);
    if (!talk->granted) {
        return res;
    }
    // 3. Talk: encrypted frames paced in real time, each also fanned out to the other clients.
    impl_->sendFrames(req, talk, *g, *cid, res);
    // 4. Release.
    const bool home_mc = g->home == "mc";
    asio::post(impl_->io,
               [this, c = *cid, talk, home_mc] { impl_->clientReleasesFloor(c, talk, home_mc); });
    return res;
}

}  // namespace iwf::harness
