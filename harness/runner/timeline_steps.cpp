// The time line: every scenario step on its own thread, starting at its `at` (from the start
// of the time line, or from the end of the step named by `after`); steps overlap (scenarios
// 5, 7, 9, 10). What each step sent is kept in its StepRun for its check step.
#include <fstream>
#include <random>
#include <sstream>

#include "harness/runner/admin_client.hpp"
#include "harness/runner/cluster.hpp"
#include "harness/runner/lab.hpp"
#include "harness/sim/dmr_radio.hpp"
#include "harness/sim/p25_radio.hpp"
#include "lmr_adapters/dmr/hbp.hpp"

namespace iwf::harness {

std::string scenarioStepName(const Scenario& sc, std::size_t i) {
    const ScenarioStep& st = sc.steps[i];
    return "step " + std::to_string(i) + " (" + toString(st.action) +
           (st.who.empty() ? "" : " " + st.who) + ")";
}

namespace {

Transmission newTransmission(Lab& lab, std::size_t si, const std::string& sender, LmrFamily family,
                             bool from_radio) {
    Transmission tx;
    tx.step = si;
    tx.sender = sender;
    tx.family = family;
    tx.from_radio = from_radio;
    tx.tag = lab.next_tag++;
    tx.nonce = lab.nonce++;
    tx.start_ns = steadyNs();
    return tx;
}

// The harness's own loss on the LMR side (reproducible: seeded), for loss scenarios.
struct LossDice {
    explicit LossDice(const ScenarioStep& st) : rate(st.loss), rng(st.loss_seed) {}
    bool drop() { return rate > 0 && u(rng) < rate; }
    double rate;
    std::mt19937_64 rng;
    std::uniform_real_distribution<double> u{0, 1};
};

// A P25 radio: poll, then one voice record per 20 ms (18 a superframe), then the end record.
void p25Talk(Lab& lab, StepRun& run, const ScenarioStep& st, const ScenarioRadio& radio,
             const ScenarioGroup& g, const ScenarioKey* k, Transmission& tx) {
    RadioPort& port = *lab.radio_ports[radio.name];
    LossDice loss(st);
    P25RadioConfig rc;
    rc.name = radio.name;
    rc.tag = tx.tag;
    rc.unit = radio.unit;
    rc.tgid = static_cast<std::uint16_t>(g.lmr_group);
    rc.encrypted = k != nullptr;
    if (k != nullptr) {
        rc.key = k->key;
        rc.key_id = static_cast<std::uint16_t>(k->key_id);
    }
    std::random_device rd;
    for (std::size_t i = 0; i < 8; ++i) {
        rc.first_mi[i] = static_cast<std::uint8_t>(rd());
    }
    rc.emergency = st.priority == "emergency";
    rc.nonce = tx.nonce;
    P25Radio p(rc);
    const std::size_t m0 = port.mark();
    port.send(lab.ports.p25_records, p.poll());
    if (!port.waitFor(
            m0, [](const Bytes& b) { return !b.empty() && b[0] == 0xF0; },
            std::chrono::seconds(3))) {
        run.rec.events.push_back({{"t_ms", lab.ms()}, {"what", "no poll answer from iwfd"}});
    }
    auto next = Clock::now();
    for (std::uint32_t sf = 0; sf < st.superframes; ++sf) {
        auto frames = p.superframe(sf);
        if (!frames.ok()) {
            break;
        }
        const CryptoSync cs = p.cryptoOf(sf);
        for (std::size_t i = 0; i < frames->size(); ++i) {
            const FrameKey key{sf, static_cast<std::uint8_t>(i)};
            next += std::chrono::milliseconds(20);  // real-time pacing
            std::this_thread::sleep_until(next);
            const auto& plain = p.sent().at(key);
            tx.sent[key] = SentFrame{Bytes(plain.begin(), plain.end()), cs, steadyNs()};
            if (loss.drop()) {
                ++run.rec.dropped_by_harness;
                tx.dropped.insert(key);
                continue;
            }
            port.send(lab.ports.p25_records, (*frames)[i]);
            if (run.rec.sent++ % 20 == 5) {
                std::lock_guard lock(lab.witness_mu);
                lab.witnesses.add("p25-datagram:" + radio.name, (*frames)[i]);
            }
        }
        std::lock_guard lock(lab.needles_mu);
        p.addNeedles(lab.needles);
    }
    port.send(lab.ports.p25_records, p.end());
}

// A DMR repeater (logged in to the HBP master): voice LC header, one burst per 60 ms,
// terminator.
void dmrTalk(Lab& lab, StepRun& run, const ScenarioStep& st, const ScenarioRadio& radio,
             const ScenarioGroup& g, const ScenarioKey* k, Transmission& tx) {
    RadioPort& port = *lab.radio_ports[radio.name];
    LossDice loss(st);
    DmrRadioConfig rc;
    rc.name = radio.name;
    rc.tag = tx.tag;
    rc.src = radio.unit;
    rc.dst = g.lmr_group;
    rc.encrypted = k != nullptr;
    if (k != nullptr) {
        rc.key = k->key;
        rc.key_id = static_cast<std::uint8_t>(k->key_id);
    }
    rc.first_iv = static_cast<std::uint32_t>(std::random_device{}());
    rc.emergency = st.priority == "emergency";
    rc.nonce = tx.nonce;
    rc.repeater_id = 310000 + radio.unit;
    rc.stream_id = static_cast<std::uint32_t>(std::random_device{}());
    {
        std::lock_guard lock(lab.login_mu);
        if (!lab.dmr_logged_in[radio.name]) {
            const bool ok = lab.dmrLogin(radio, port);
            lab.dmr_logged_in[radio.name] = ok;
            run.rec.events.push_back(
                {{"t_ms", lab.ms()}, {"what", ok ? "HBP login ok" : "HBP login failed"}});
        }
    }
    DmrRadio d(rc);
    const CryptoSync cs = d.cryptoSync();
    auto next = Clock::now();
    auto sendPkt = [&](const lmr::dmr::DmrdPacket& pk, std::optional<FrameKey> key) {
        next += std::chrono::milliseconds(60);  // real-time pacing
        std::this_thread::sleep_until(next);
        if (key) {
            const auto& plain = d.sent().at(*key);
            tx.sent[*key] = SentFrame{Bytes(plain.begin(), plain.end()), cs, steadyNs()};
        }
        if (loss.drop()) {
            ++run.rec.dropped_by_harness;
            if (key) {
                tx.dropped.insert(*key);
            }
            return;
        }
        const Bytes raw = lmr::dmr::encodeDmrd(pk);
        port.send(lab.ports.dmr_master, raw);
        if (run.rec.sent++ % 8 == 3) {
            std::lock_guard lock(lab.witness_mu);
            lab.witnesses.add("dmrd:" + radio.name, raw);
        }
    };
    for (const auto& pk : d.start()) {
        sendPkt(pk, std::nullopt);
    }
    for (std::uint32_t sf = 0; sf < st.superframes; ++sf) {
        auto pk = d.superframe(sf);
        if (!pk.ok()) {
            break;
        }
        for (std::size_t i = 0; i < pk->size(); ++i) {
            sendPkt((*pk)[i], FrameKey{sf, static_cast<std::uint8_t>(i)});
        }
        std::lock_guard lock(lab.needles_mu);
        d.addNeedles(lab.needles);
    }
    sendPkt(d.terminator(), std::nullopt);
}

// When step si may start: `at` from the time line's start, or from the end of its `after`
// step (waiting for that step to end, without a deadline: it always ends).
Clock::time_point startOf(Lab& lab, std::size_t si) {
    const ScenarioStep& st = lab.sc.steps[si];
    if (!st.after) {
        return lab.t0 + st.at;
    }
    std::unique_lock lock(lab.runs_mu);
    lab.runs_cv.wait(lock, [&] { return lab.runs[*st.after].done; });
    return Clock::now() + st.at;
}

void runScenarioStep(Lab& lab, std::size_t si) {
    const ScenarioStep& st = lab.sc.steps[si];
    StepRun& run = lab.runs[si];
    CallRecord& rec = run.rec;
    const Clock::time_point start = startOf(lab, si);
    std::this_thread::sleep_until(start);  // the scenario's time line
    rec.step = si;
    rec.who = st.who;
    rec.action = toString(st.action);
    rec.expected =
        st.expect.outcome + (st.expect.reason.empty() ? "" : " (" + st.expect.reason + ")");
    rec.start_ms = lab.ms();
    run.log.start_ms = lab.wallMs();
    const double late = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    rec.events.push_back(
        {{"t_ms", rec.start_ms},
         {"what", "started (" + std::string(st.after ? "after step " : "at ") +
                      std::to_string(st.after.value_or(st.at.count())) + (st.after ? "" : " ms") +
                      ", actual start +" + std::to_string(static_cast<long>(late)) + " ms)"}});
    if (late > 1000) {  // reported always; a stalled start (loaded CI box) fails the run
        run.log.fail("started " + std::to_string(static_cast<long>(late)) + " ms late");
    }
    std::thread joiner;
    if (!st.late_client.empty()) {
        joiner = std::thread([&lab, &run, &st, start] {
            std::this_thread::sleep_until(start + st.join_late);
            run.join_ns = steadyNs();
            run.join_result =
                lab.mc->join(st.late_client, st.group, std::chrono::milliseconds(5000));
        });
    }
    const bool voice = st.action == StepAction::Talk || st.action == StepAction::Press;
    const bool data = st.action == StepAction::Sds || st.action == StepAction::Kmm;
    if (voice && lab.sc.radio(st.who) != nullptr && lab.sc.group(st.group) != nullptr) {
        radioTalk(lab, si);
    } else if (voice && lab.sc.client(st.who) != nullptr && lab.sc.group(st.group) != nullptr) {
        clientTalk(lab, si);
    } else if (data && (lab.sc.radio(st.who) != nullptr || lab.sc.client(st.who) != nullptr)) {
        dataMessage(lab, si);
    } else if (st.action == StepAction::KeymapUpdate) {
        keymapUpdate(lab, si);
    } else if (st.action == StepAction::WaitFor) {
        waitForMetric(lab, si);
    } else if (st.action == StepAction::Failover) {
        failover(lab, si);
    } else if (st.action == StepAction::Gmk) {
        gmkStep(lab, si);
    } else {
        rec.outcome = "not run";
        run.log.fail("not supported by the harness yet");
    }
    if (joiner.joinable()) {
        joiner.join();
    }
    rec.end_ms = lab.ms();
    run.log.end_ms = lab.wallMs();
    {
        std::lock_guard lock(lab.runs_mu);
        run.done = true;
    }
    lab.runs_cv.notify_all();
}

}  // namespace

void radioTalk(Lab& lab, std::size_t si) {
    const ScenarioStep& st = lab.sc.steps[si];
    StepRun& run = lab.runs[si];
    const ScenarioRadio& radio = *lab.sc.radio(st.who);
    const ScenarioGroup& g = *lab.sc.group(st.group);
    const ScenarioKey* k = st.encrypted ? lab.sc.key(st.key) : nullptr;
    Transmission tx = newTransmission(lab, si, radio.name, radio.family, true);
    if (radio.family == LmrFamily::P25) {
        p25Talk(lab, run, st, radio, g, k, tx);
    } else {
        dmrTalk(lab, run, st, radio, g, k, tx);
    }
    tx.end_ns = steadyNs();
    run.tx = std::move(tx);
}

// An MC client talks through the MC simulator (McSystem::talk: floor, frames, release).
void clientTalk(Lab& lab, std::size_t si) {
    const ScenarioStep& st = lab.sc.steps[si];
    StepRun& run = lab.runs[si];
    const ScenarioGroup& g = *lab.sc.group(st.group);
    Transmission tx = newTransmission(lab, si, st.who, g.family, false);
    McTalkRequest req;
    req.client = st.who;
    req.group = st.group;
    req.encrypted = st.encrypted;
    req.key = lab.sc.key(st.key);
    req.superframes = st.action == StepAction::Press ? 0 : st.superframes;
    req.priority = st.priority;
    req.tag = tx.tag;
    req.nonce = tx.nonce;
    McTalkResult r = lab.mc->talk(req);
    tx.end_ns = steadyNs();
    run.mc_outcome = r.outcome;
    run.mc_reason = r.reason;
    run.rec.sent = r.sent;
    for (const auto& [key, plain] : r.plaintext) {
        tx.sent[key] = SentFrame{plain, r.crypto[key], r.tx_ns[key]};
    }
    run.rec.events.push_back(
        {{"t_ms", lab.ms()}, {"what", "MC floor: " + r.outcome + " " + r.reason}});
    run.tx = std::move(tx);
}

// A new keymap revision with the group switched to `new_key`'s ID (iwfd polls the store).
void keymapUpdate(Lab& lab, std::size_t si) {
    const ScenarioStep& st = lab.sc.steps[si];
    StepRun& run = lab.runs[si];
    std::ofstream(lab.dir + "/keymap-update.yaml") << keymapYaml(lab.sc, {{st.group, st.new_key}});
    const int rc = runToCompletion({lab.opt.iwfctl, "keymap", "--store", lab.keymapStore(),
                                    "import", lab.dir + "/keymap-update.yaml"},
                                   lab.dir + "/iwfctl.log");
    run.rec.outcome = rc == 0 ? "keymap revision imported" : "keymap import failed";
    run.rec.pass = rc == 0;
    if (rc != 0) {
        run.log.fail("keymap update import failed");
    }
}

// Waits until a counter or gauge of iwfd's /metrics (summed over the label sets that contain
// every `labels` text) is >= at_least / <= at_most, polling every 100 ms up to `timeout`.
void waitForMetric(Lab& lab, std::size_t si) {
    const ScenarioStep& st = lab.sc.steps[si];
    StepRun& run = lab.runs[si];
    double v = 0;
    auto holds = [&] {
        v = metricSum(adminGet(lab.admin_port, "/metrics"), st.metric, st.labels);
        return (!st.at_least || v >= *st.at_least) && (!st.at_most || v <= *st.at_most);
    };
    const auto t = Clock::now();
    const bool ok = waitUntil(Clock::now() + st.timeout, std::chrono::milliseconds(100), holds);
    auto num = [](double x) {
        std::ostringstream o;
        o << x;
        return o.str();
    };
    const std::string want = st.metric + (st.at_least ? " >= " + num(*st.at_least) : "") +
                             (st.at_most ? " <= " + num(*st.at_most) : "");
    const auto waited =
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
    run.rec.outcome = ok ? "reached" : "timed out";
    run.rec.pass = ok;
    run.rec.events.push_back(
        {{"t_ms", lab.ms()},
         {"what", want + (ok ? " after " : " not reached in ") + std::to_string(waited) +
                      " ms (last value " + num(v) + ")"}});
    if (!ok) {
        run.log.fail(want + " not reached within " + std::to_string(st.timeout.count()) +
                     " ms (last value " + num(v) + ")");
    }
}

void stepTimeline(Lab& lab, StepLog& log) {
    lab.t0 = Clock::now();  // the scenario's time line starts once the radios are linked
    lab.t0_ns = steadyNs();
    lab.nonce = static_cast<std::uint16_t>(std::random_device{}());
    {
        std::vector<std::thread> threads;
        for (std::size_t i = 0; i < lab.sc.steps.size(); ++i) {
            threads.emplace_back([&lab, i] { runScenarioStep(lab, i); });
        }
        for (auto& t : threads) {
            t.join();
        }
    }
    for (auto& run : lab.runs) {
        log.children.push_back(run.log);
    }
    log.note(std::to_string(lab.sc.steps.size()) + " scenario steps, time line " +
             std::to_string(static_cast<long>(lab.ms())) + " ms");
}

}  // namespace iwf::harness
