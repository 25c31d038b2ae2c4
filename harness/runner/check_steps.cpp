// After the time line: wait until everything sent has arrived (or a deadline), save iwfd's
// metrics, then one check step per scenario step: frame by frame at every expected receiver,
// the outcome, and iwfd's counters (docs/harness.md "Checks").
#include <fstream>
#include <optional>
#include <string>

#include "harness/runner/admin_client.hpp"
#include "harness/runner/lab.hpp"
#include "harness/sim/dmr_radio.hpp"
#include "harness/sim/p25_radio.hpp"
#include "lmr_adapters/dmr/burst.hpp"
#include "lmr_adapters/dmr/calls.hpp"
#include "lmr_adapters/dmr/hbp.hpp"
#include "lmr_adapters/p25/crypto_tracker.hpp"
#include "lmr_adapters/p25/records.hpp"

namespace iwf::harness {

namespace {

// A frame that cannot be attributed by its canary counts against a transmission when it
// arrives between its start and 2 s after its end.
constexpr std::int64_t kWindowAfterEndNs = 2'000'000'000;

template <typename Plain>
RxFrame rxOf(const VoiceFrame& f, const Result<Plain>& p, std::int64_t t) {
    return RxFrame{f.pos,
                   f.crypto,
                   p.ok(),
                   p.ok() ? "" : std::string(p.error().reason),
                   p.ok() ? Bytes(p->begin(), p->end()) : Bytes{},
                   t};
}

// The MC clients' frames of this transmission: its canaries, or undecodable in its window.
void mcFrames(const Transmission& tx, const std::vector<McRxRecord>& mc_rx,
              std::map<std::string, std::vector<RxFrame>>& got) {
    const std::int64_t win_end = tx.end_ns + kWindowAfterEndNs;
    for (const auto& r : mc_rx) {
        const auto owner = r.decrypted ? canaryOwner(r.plaintext) : std::nullopt;
        const bool mine = owner && owner->first == tx.tag && owner->second == tx.nonce;
        const bool in_window = r.rx_ns >= tx.start_ns && r.rx_ns <= win_end;
        const bool other = owner.has_value() && !mine;
        if (mine || (in_window && !other)) {
            got[r.client].push_back(
                RxFrame{r.frame.pos, r.frame.crypto, r.decrypted, r.error, r.plaintext, r.rx_ns});
        }
    }
}

// What a radio needs from a voice burst's middle field before it plays the burst: burst A
// carries the BS-sourced voice sync, 755FD7DF75F7 hex (ETSI TS 102 361-1 Table 9.2; MMDVMHost
// DMRDefines.h BS_SOURCED_AUDIO_SYNC holds the same 48 bits shifted by four), and bursts B-F an
// EMB (QR(16,7,6) checked) whose PI bit says whether the call is encrypted (Table 9.6). Six zero
// bytes from an MC client once went out as this field: no sync, PI 0 on an encrypted call.
std::optional<std::string> middleFieldProblem(const lmr::dmr::Burst& b, std::uint8_t index,
                                              bool encrypted) {
    constexpr std::uint64_t kBsSourcedVoiceSync = 0x755FD7DF75F7;
    if (index == 0) {
        if (lmr::dmr::syncField(b) != kBsSourcedVoiceSync) {
            return std::string("no_voice_sync");
        }
        return std::nullopt;
    }
    const auto emb = lmr::dmr::decodeEmb(b);
    if (!emb.ok()) {
        return std::string("bad_emb");
    }
    if (emb->pi != encrypted) {
        return std::string(encrypted ? "emb_pi_clear_on_encrypted_call"
                                     : "emb_pi_set_on_clear_call");
    }
    return std::nullopt;
}

// The repeater's side: DMRD packets from iwfd's HBP master, decoded by the DMR stream decoder
// (PI header -> ALGID / key ID / IV), their middle fields checked, then decrypted.
std::vector<RxFrame> dmrRadioFrames(Lab& lab, const std::string& name, const Transmission& tx) {
    std::vector<RxFrame> out;
    DmrDecryptor dec;
    for (const auto& k : lab.sc.keys) {
        if (k.family == LmrFamily::Dmr) {
            dec.addKey(static_cast<std::uint8_t>(k.key_id), k.key);
        }
    }
    lmr::dmr::CallDecoder decoder;
    for (const auto& [t, d] : lab.radio_ports[name]->received()) {
        if (t < tx.start_ns || t > tx.end_ns + kWindowAfterEndNs) {
            continue;
        }
        auto pk = lmr::dmr::decodeDmrd(d);
        if (!pk.ok()) {
            continue;
        }
        std::vector<Event> evs;
        (void)decoder.onPacket(*pk, t, evs);
        for (const auto& e : evs) {
            if (const auto* v = std::get_if<Voice>(&e); v != nullptr) {
                if (auto bad = middleFieldProblem(pk->burst, v->frame.pos.index,
                                                  v->frame.crypto.encrypted)) {
                    out.push_back(RxFrame{v->frame.pos, v->frame.crypto, false, *bad, {}, t});
                    continue;
                }
                out.push_back(rxOf(v->frame, dec.decrypt(v->frame), t));
            }
        }
    }
    return out;
}

// A P25 radio's side: the records iwfd sent it, the MI from the LDU2 ES (CryptoTracker).
std::vector<RxFrame> p25RadioFrames(Lab& lab, const std::string& name, const Transmission& tx) {
    std::vector<RxFrame> out;
    P25Decryptor dec;
    for (const auto& k : lab.sc.keys) {
        if (k.family == LmrFamily::P25) {
            dec.addKey(static_cast<std::uint16_t>(k.key_id), k.key);
        }
    }
    lmr::p25::CryptoTracker tracker;
    for (const auto& [t, d] : lab.radio_ports[name]->received()) {
        if (t < tx.start_ns || t > tx.end_ns + kWindowAfterEndNs) {
            continue;
        }
        auto recd = lmr::p25::decodeRecord(d);
        if (!recd.ok()) {
            continue;
        }
        if (std::holds_alternative<lmr::p25::EndRecord>(*recd)) {
            tracker = lmr::p25::CryptoTracker{};
            continue;
        }
        const auto* v = std::get_if<lmr::p25::VoiceRecord>(&*recd);
        if (v == nullptr) {
            continue;
        }
        VoiceFrame f;
        f.pos = tracker.onFrame(v->index());
        if (auto lc = lmr::p25::lcOf(*v)) {
            tracker.onLcf(lc->lcf);
            tracker.onServiceOptions(lc->service_options);
        }
        if (auto es = lmr::p25::esOf(*v)) {
            tracker.onEsFragment(v->index(), *es);
        }
        f.crypto = tracker.current();
        f.payload.assign(ByteView(v->imbe.data(), v->imbe.size()));
        if (tracker.lateEntry() || !tracker.essKnown()) {
            // Before the first LDU2 ES the radio knows neither the algorithm nor the MI: it
            // mutes (nothing garbled is played), as a real radio does.
            out.push_back(RxFrame{f.pos, f.crypto, false, "no_mi", {}, t});
            continue;
        }
        out.push_back(rxOf(f, dec.decrypt(f), t));
    }
    return out;
}

CheckOptions checkOptionsFor(const Lab& lab, const ScenarioStep& st, const Transmission& tx,
                             const std::string& name) {
    CheckOptions co;
    // P25 records carry no HDU: a radio learns the first MI from the LDU2 of superframe 0
    // (lmr.md 1.2), so superframe 1 is the first it can decrypt. iwfd holds a radio's call
    // until that LDU2 and recovers superframe 0's MI (inverse LFSR, docs/protocols/peers.md),
    // so an MC client decrypts from superframe 0. An MC client's own frames carry the MI in
    // every packet.
    const bool encrypted_tx = !tx.sent.empty() && tx.sent.begin()->second.crypto.encrypted;
    co.sync_superframe =
        tx.family == LmrFamily::P25 && encrypted_tx && lab.sc.radio(name) != nullptr ? 1 : 0;
    co.late_joiner = name == st.late_client;
    co.relative_superframe = lab.sc.radio(name) != nullptr;
    co.tag = tx.tag;
    co.nonce = tx.nonce;
    co.dropped_by_harness = tx.dropped;
    return co;
}

// Frames of the transmission that decrypted to one of its canaries, at any receiver.
std::size_t decodedAnywhere(const std::map<std::string, std::vector<RxFrame>>& got,
                            const Transmission& tx) {
    std::size_t n = 0;
    for (const auto& [name, frames] : got) {
        for (const auto& f : frames) {
            n += f.decrypted && canaryPosition(f.plaintext, tx.tag, tx.nonce) ? 1 : 0;
        }
    }
    return n;
}

// The counter expectations of a step (call_state, report_loss, report_wait): "" when they
// hold in `metrics`, else why not; `events` gets what was read.
std::string counterProblem(const Lab& lab, std::size_t si, const std::string& metrics,
                           nlohmann::json* events, double t_ms) {
    const ScenarioStep& st = lab.sc.steps[si];
    const StepRun& run = lab.runs[si];
    auto event = [&](const std::string& what) {
        if (events != nullptr) {
            events->push_back({{"t_ms", t_ms}, {"what", what}});
        }
    };
    if (st.expect.call_state) {
        // Mixed groups: iwfd counts each transmission by its E2EE state (read from the
        // stream) in iwf_engine_transmissions_total{e2ee}.
        const std::string want = *st.expect.call_state == "encrypted" ? "encrypted" : "clear";
        std::size_t earlier = 0;
        for (std::size_t j = 0; j < si; ++j) {
            earlier += lab.sc.steps[j].expect.call_state == st.expect.call_state ? 1 : 0;
        }
        const double n =
            metricSum(metrics, "iwf_engine_transmissions_total", {"e2ee=\"" + want + "\""});
        event("iwfd transmissions_total{e2ee=" + want + "} = " + std::to_string(long(n)));
        if (n < static_cast<double>(earlier + 1)) {
            return "iwfd did not report a " + want + " transmission";
        }
    }
    if (st.expect.report_loss && run.tx) {
        // Loss is the harness's own (datagrams it did not send). iwfd must have noticed: when
        // an LDU2 ES record (frames 11..14, the next MI) was among them, the P25 link must
        // have recomputed the MI with the LFSR (and every later frame must still decrypt).
        std::size_t es_lost = 0;
        for (const auto& k : run.tx->dropped) {
            es_lost += run.tx->family == LmrFamily::P25 && k.second >= 11 && k.second <= 14;
        }
        const double regen = metricSum(metrics, "iwf_p25_mi_regenerated_total");
        const double lost = metricSum(metrics, "iwf_engine_frames_lost_total");
        event("harness dropped " + std::to_string(run.rec.dropped_by_harness) + " datagrams (" +
              std::to_string(es_lost) + " LDU2 ES records); iwfd: MI regenerated " +
              std::to_string(long(regen)) + ", frames lost " + std::to_string(long(lost)));
        if (run.rec.dropped_by_harness == 0) {
            return "loss requested but the harness dropped nothing";
        }
        if (es_lost > 0 && regen <= 0) {
            return "LDU2 ES records were lost but iwfd recomputed no MI";
        }
        if (es_lost == 0 && regen + lost <= 0) {
            return "the harness dropped frames but iwfd reported no loss";
        }
    }
    if (st.expect.report_wait) {
        const double waits = metricSum(metrics, "iwf_engine_late_entries_total");
        event("iwfd late entries " + std::to_string(long(waits)));
        if (waits <= 0) {
            return "iwfd did not report the late entry";
        }
    }
    return {};
}

// The per-receiver checks of step si; false when one failed (its failure is in `log`).
bool checkReceivers(Lab& lab, std::size_t si, std::map<std::string, std::vector<RxFrame>>& got,
                    StepLog& log) {
    const ScenarioStep& st = lab.sc.steps[si];
    StepRun& run = lab.runs[si];
    CallRecord& rec = run.rec;
    const Transmission& tx = *run.tx;
    bool all_ok = true;
    for (const auto& name : st.expect.receivers) {
        const CheckOptions co = checkOptionsFor(lab, st, tx, name);
        const ReceiverCheck c = checkReceiver(tx.sent, got[name], co);
        rec.receivers[name] = ReceiverTally{c.expected, c.received, c.decrypted_ok};
        // Latency through iwfd only: an MC client's frames fanned out to other MC clients by
        // the simulated MC system never cross the gateway.
        if (tx.from_radio || lab.sc.radio(name) != nullptr) {
            for (double l : c.latency_us) {
                lab.latency.push_back(l);
            }
        }
        nlohmann::json detail = {{"before_sync", c.before_sync},
                                 {"bad", c.bad},
                                 {"missing", c.missing},
                                 {"problems", c.problems}};
        if (c.first_ok) {
            detail["first_ok"] =
                std::to_string(c.first_ok->first) + "/" + std::to_string(c.first_ok->second);
        }
        if (co.late_joiner) {
            const double wait_ms =
                c.first_ok ? static_cast<double>(c.first_ok_rx_ns - run.join_ns) / 1e6 : -1;
            detail["join"] = run.join_result;
            detail["wait_ms"] = wait_ms;
            rec.events.push_back({{"t_ms", static_cast<double>(run.join_ns - lab.t0_ns) / 1e6},
                                  {"what", name + " joins late: " + run.join_result}});
            if (c.first_ok) {
                rec.events.push_back(
                    {{"t_ms", static_cast<double>(c.first_ok_rx_ns - lab.t0_ns) / 1e6},
                     {"what", name + " first decoded frame sf" + std::to_string(c.first_ok->first) +
                                  "/f" + std::to_string(c.first_ok->second) + " after " +
                                  std::to_string(static_cast<long>(wait_ms)) + " ms"}});
            }
            if (run.join_result != "joined") {
                log.fail(name + " could not join: " + run.join_result);
                all_ok = false;
            }
        }
        rec.events.push_back({{"t_ms", rec.end_ms}, {"what", name + ": " + detail.dump()}});
        if (!c.ok()) {
            all_ok = false;
            std::string why = "receiver " + name + " decoded " + std::to_string(c.decrypted_ok) +
                              " of " + std::to_string(c.expected) + " expected frames correctly";
            if (!c.problems.empty()) {
                why += " (" + c.problems.front() + (c.problems.size() > 1 ? ", ..." : "") + ")";
            }
            log.fail(why);
        }
    }
    return all_ok;
}

// TS 33.180 SRTP: the MC side refused iwfd's packets (srtpRefused) and no frame of the
// transmission, decrypted or not, reached any client (docs/harness.md "SRTP").
bool mcRefusedAll(Lab& lab, const std::map<std::string, std::vector<RxFrame>>& got) {
    for (const auto& [name, frames] : got) {
        if (!frames.empty()) {
            return false;
        }
    }
    return lab.mc->srtpRefused() > 0;
}

// What really happened to step si's transmission against what was expected; false when it
// differs (the failure is in `log`).
bool checkOutcome(Lab& lab, std::size_t si, const std::map<std::string, std::vector<RxFrame>>& got,
                  StepLog& log) {
    const ScenarioStep& st = lab.sc.steps[si];
    StepRun& run = lab.runs[si];
    CallRecord& rec = run.rec;
    const Transmission& tx = *run.tx;
    const std::string& exp = st.expect.outcome;
    std::string reason_seen;
    if (tx.from_radio) {
        const std::size_t delivered = decodedAnywhere(got, tx);
        const auto refused = metricLabels(lab.metrics_after, "iwf_engine_refusals_total", "reason");
        if (delivered > 0) {
            rec.outcome = "granted";
        } else if (mcRefusedAll(lab, got)) {
            rec.outcome = "srtp_refused";
            reason_seen = std::to_string(lab.mc->srtpRefused()) + " SRTP packets refused";
        } else if (!refused.empty()) {
            rec.outcome = "denied";
            for (const auto& r : refused) {
                reason_seen += (reason_seen.empty() ? "" : ",") + r;
            }
        }
        // Nobody may decode this transmission's content when it was refused.
        if (exp == "denied" && delivered > 0) {
            log.fail(std::to_string(delivered) +
                     " frames of a refused transmission reached the MC side");
        }
    } else {
        rec.outcome = run.mc_outcome;
        reason_seen = run.mc_reason;
    }
    rec.events.push_back({{"t_ms", rec.end_ms},
                          {"what", "outcome " + rec.outcome +
                                       (reason_seen.empty() ? "" : " (" + reason_seen + ")")}});
    bool outcome_ok = rec.outcome == exp;
    if (outcome_ok && !st.expect.reason.empty() &&
        reason_seen.find(st.expect.reason) == std::string::npos) {
        outcome_ok = false;
    }
    if (!outcome_ok) {
        log.fail("expected " + rec.expected + ", observed " + rec.outcome +
                 (reason_seen.empty() ? "" : " (" + reason_seen + ")"));
    }
    return outcome_ok;
}

}  // namespace

std::map<std::string, std::vector<RxFrame>> framesOf(Lab& lab, std::size_t si,
                                                     const std::vector<McRxRecord>& mc_rx) {
    std::map<std::string, std::vector<RxFrame>> got;
    const Transmission& tx = *lab.runs[si].tx;
    mcFrames(tx, mc_rx, got);
    for (const auto& name : lab.sc.steps[si].expect.receivers) {
        if (const ScenarioRadio* r = lab.sc.radio(name); r != nullptr) {
            got[name] = r->family == LmrFamily::Dmr ? dmrRadioFrames(lab, name, tx)
                                                    : p25RadioFrames(lab, name, tx);
        }
    }
    return got;
}

bool everythingDelivered(Lab& lab, const std::string& metrics) {
    const std::vector<McRxRecord> mc_rx = lab.mc->records();
    for (std::size_t si = 0; si < lab.sc.steps.size(); ++si) {
        const ScenarioStep& st = lab.sc.steps[si];
        const StepRun& run = lab.runs[si];
        if (!counterProblem(lab, si, metrics, nullptr, 0).empty()) {
            return false;
        }
        if (!run.tx) {
            continue;
        }
        if (st.expect.outcome == "denied" && run.tx->from_radio &&
            metricLabels(metrics, "iwf_engine_refusals_total", "reason").empty()) {
            return false;
        }
        auto got = framesOf(lab, si, mc_rx);
        for (const auto& name : st.expect.receivers) {
            if (!checkReceiver(run.tx->sent, got[name], checkOptionsFor(lab, st, *run.tx, name))
                     .ok()) {
                return false;
            }
        }
    }
    return true;
}

// Waits until every frame each expected receiver should get has arrived and every counter
// the scenario expects has moved (deadline 5 s: a receiver that never gets its frames fails
// in its check step), then until nothing more arrives for 300 ms (deadline 3 s), so that a
// late duplicate or stray frame is still seen by the checks.
void stepWaitForDelivery(Lab& lab, StepLog& log) {
    auto t = Clock::now();
    const bool delivered =
        waitUntil(Clock::now() + std::chrono::seconds(5), std::chrono::milliseconds(200),
                  [&] { return everythingDelivered(lab, adminGet(lab.admin_port, "/metrics")); });
    auto since = [](Clock::time_point from) {
        return std::to_string(
            std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - from).count());
    };
    log.note(delivered ? "everything expected arrived after " + since(t) + " ms"
                       : "not everything expected arrived within 5 s (the checks say what)");
    t = Clock::now();
    auto arrived = [&] {
        std::size_t n = lab.mc->records().size() + lab.mc->events().size();
        for (const auto& [name, port] : lab.radio_ports) {
            n += port->mark();
        }
        return n;
    };
    std::size_t last = arrived();
    auto last_change = Clock::now();
    const bool quiet =
        waitUntil(Clock::now() + std::chrono::seconds(3), std::chrono::milliseconds(50), [&] {
            const std::size_t n = arrived();
            if (n != last) {
                last = n;
                last_change = Clock::now();
            }
            return Clock::now() - last_change >= std::chrono::milliseconds(300);
        });
    log.note(quiet ? "quiet (nothing new for 300 ms) after " + since(t) + " ms"
                   : "still receiving after 3 s");
}

void stepCollectMetrics(Lab& lab, StepLog& log) {
    lab.metrics_after = adminGet(lab.admin_port, "/metrics");
    const std::string calls_after = adminGet(lab.admin_port, "/v1/calls");
    { std::ofstream(lab.dir + "/metrics.txt") << lab.metrics_after; }
    { std::ofstream(lab.dir + "/calls.json") << calls_after; }
    if (lab.metrics_after.empty()) {
        log.fail("iwfd's /metrics could not be read");
    }
}

void stepMcConformance(Lab& lab, StepLog& log) {
    const std::vector<std::string> violations = lab.mc->conformanceViolations();
    for (const auto& v : violations) {
        log.fail("MC conformance: " + v);
    }
    log.note(violations.empty() ? "every request iwfd sent the MC system conforms"
                                : std::to_string(violations.size()) + " violation(s)");
}

void checkScenarioStep(Lab& lab, std::size_t si, StepLog& log) {
    const ScenarioStep& st = lab.sc.steps[si];
    StepRun& run = lab.runs[si];
    CallRecord& rec = run.rec;
    if (!run.tx) {
        if (st.action == StepAction::Sds || st.action == StepAction::Kmm) {
            rec.pass = rec.outcome == st.expect.outcome;
            if (!rec.pass) {
                log.fail("expected " + rec.expected + ", observed " + rec.outcome);
            }
        }
        lab.calls.push_back(rec);
        return;
    }
    auto got = framesOf(lab, si, lab.mc->records());
    const bool receivers_ok = checkReceivers(lab, si, got, log);
    const bool outcome_ok = checkOutcome(lab, si, got, log);
    const std::string counters =
        counterProblem(lab, si, lab.metrics_after, &rec.events, rec.end_ms);
    if (!counters.empty()) {
        log.fail(counters);
    }
    rec.pass = receivers_ok && outcome_ok && counters.empty();
    lab.calls.push_back(rec);
}

}  // namespace iwf::harness
