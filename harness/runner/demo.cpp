// `iwf-harness demo`: the first run that shows the point (docs/harness.md "Demo"). The setup
// steps of `iwf-harness run` (MC system, keymap, iwfd, memory scanner, linked radios; the
// loopback capture with --capture), then the scenario's time line again and again, each round
// checked like a run (frame by frame at each receiver, outcomes) and scanned for its canaries
// (iwfd's memory, its log, the capture), until Ctrl-C (SIGINT), SIGTERM or --duration.
//
// Between rounds the simulators forget what they received and the round's canaries are
// dropped from the needle set once scanned for, so a demo left running for hours does not
// grow; the keys stay needles for the whole run.
#include <csignal>
#include <filesystem>
#include <sstream>

#include "harness/runner/lab.hpp"

namespace iwf::harness {

namespace {

std::atomic<bool> g_stop{false};

extern "C" void onStopSignal(int sig) {
    if (g_stop.exchange(true)) {
        // Second Ctrl-C: give up on the orderly stop (the children get SIGTERM through
        // PR_SET_PDEATHSIG when this process dies).
        std::signal(sig, SIG_DFL);
        std::raise(sig);
    }
}

struct RoundOpacity {
    std::uint64_t canary = 0;  // memory sample + files
    std::uint64_t key = 0;
    std::uint64_t file_canary = 0;  // files only (the memory samples are in lab.mem)
    std::uint64_t file_key = 0;
    std::uint64_t needles = 0;
    std::vector<std::string> found;
};

// One synchronous memory sample of iwfd and a scan of its log (and the capture) for the
// round's needles (the canaries sent and received in this round, and the keys).
RoundOpacity scanRound(Lab& lab) {
    RoundOpacity r;
    std::uint64_t c0 = 0;
    std::uint64_t k0 = 0;
    {
        std::lock_guard lock(lab.mem_mu);  // the background sampler adds to lab.mem too
        c0 = lab.mem.canary;
        k0 = lab.mem.key;
    }
    lab.scanMemoryOnce();
    {
        std::lock_guard lock(lab.mem_mu);
        r.canary += lab.mem.canary - c0;
        r.key += lab.mem.key - k0;
    }
    const NeedleSet needles = lab.needleSnapshot();
    r.needles = needles.size();
    std::vector<std::string> files{lab.iwfd_log};
    if (lab.capturing) {
        files.push_back(lab.pcap);
    }
    for (const auto& f : files) {
        auto s = scanFile(needles, f);
        if (!s.ok()) {
            continue;
        }
        for (std::size_t i = 0; i < needles.size(); ++i) {
            (needles[i].label.rfind("key:", 0) == 0 ? r.file_key : r.file_canary) += s->hits[i];
        }
        for (auto& l : s->found(needles)) {
            r.found.push_back(f + ": " + l);
        }
    }
    r.canary += r.file_canary;
    r.key += r.file_key;
    return r;
}

// "radio-1 talk: granted, alice 126/126 bob 126/126" for one call record.
std::string roundLine(const CallRecord& c) {
    std::ostringstream o;
    o << c.who << " " << c.action << ": " << c.outcome;
    for (const auto& [name, t] : c.receivers) {
        o << ", " << name << " " << t.decrypted_ok << "/" << t.expected;
    }
    if (!c.pass) {
        o << " (FAIL)";
    }
    return o.str();
}

// Drops the round's canaries: the simulators' received frames and needles, the radios'
// received datagrams; the needle set goes back to the keys.
void forgetRound(Lab& lab) {
    lab.mc->forget();
    lab.latency = nlohmann::json::array();
    for (auto& [name, port] : lab.radio_ports) {
        port->forget();
    }
    std::lock_guard lock(lab.needles_mu);
    lab.needles = NeedleSet{};
    for (const auto& k : lab.sc.keys) {
        lab.needles.add("key:" + k.name, Bytes(k.key.begin(), k.key.end()));
    }
}

}  // namespace

int runDemo(const DemoOptions& opt, std::ostream& out, std::ostream& err) {
    Scenario sc;
    try {
        sc = loadScenario(opt.run.scenario);
    } catch (const ConfigError& e) {
        err << e.what() << "\n";
        return 2;
    }
    std::error_code ec;
    std::filesystem::create_directories(opt.run.out_dir, ec);
    if (ec) {
        err << "cannot create " << opt.run.out_dir << ": " << ec.message() << "\n";
        return 2;
    }
    Lab lab(opt.run, out, std::move(sc), std::filesystem::absolute(opt.run.out_dir).string());
    lab.links.admin = opt.admin_port;
    // Ctrl-C reaches the demo alone; it stops iwfd (and dumpcap) in order.
    lab.iwfd.setOwnProcessGroup(true);
    lab.capture.setOwnProcessGroup(true);
    g_stop = false;
    std::signal(SIGINT, onStopSignal);
    std::signal(SIGTERM, onStopSignal);

    std::vector<PlanStep> setup{
        {"setup: scanner self-test", stepScannerSelfTest},
        {"setup: MC system", stepStartMcSystem},
        {"setup: keymap", stepImportKeymap},
    };
    if (opt.capture) {
        setup.push_back({"setup: capture", stepStartCapture});
    }
    setup.push_back({"setup: iwfd", stepStartIwfd});
    setup.push_back({"setup: memory scanner", stepStartMemoryScanner});
    setup.push_back({"setup: link radios", stepLinkRadios});
    if (const std::string abort = runPlan(lab, setup); !abort.empty()) {
        err << abort << "\n";
        return 2;
    }
    const std::string admin = "http://127.0.0.1:" + std::to_string(lab.admin_port);
    out << "iwf-harness demo: iwfd is up (config " << lab.dir << "/iwfd.yaml, log " << lab.iwfd_log
        << ")\n"
        << "  admin API   " << admin << "  (/v1/calls, /v1/status, /metrics, /healthz)\n"
        << "  P25 records udp/127.0.0.1:" << lab.ports.p25_records
        << "  DMR HBP master udp/127.0.0.1:" << lab.ports.dmr_master
        << "  MCPTT SIP udp/127.0.0.1:" << lab.ports.mc_sip << "\n"
        << "  try: curl -s " << admin << "/v1/calls | python3 -m json.tool\n"
        << "       curl -s " << admin << "/metrics | grep -E 'iwf_engine_(calls|refusals)'\n"
        << "  scenario " << lab.sc.file << ": " << lab.sc.description << "\n"
        << "  rounds repeat until Ctrl-C"
        << (opt.duration.count() > 0
                ? " or " + std::to_string(opt.duration.count()) + " s have passed"
                : std::string())
        << "\n"
        << std::flush;

    const auto started = Clock::now();
    nlohmann::json rounds = nlohmann::json::array();
    std::uint64_t canary_total = 0;
    std::uint64_t key_total = 0;
    bool all_pass = true;
    for (std::size_t round = 1;; ++round) {
        lab.runs.assign(lab.sc.steps.size(), StepRun{});
        for (std::size_t i = 0; i < lab.runs.size(); ++i) {
            lab.runs[i].log.name = scenarioStepName(lab.sc, i);
        }
        lab.calls.clear();
        const std::size_t failures_before = failuresOf(lab).size();
        const std::string r = "round " + std::to_string(round);
        std::vector<PlanStep> plan{
            {r + ": timeline", stepTimeline},
            {r + ": wait-for: delivery", stepWaitForDelivery},
            {r + ": collect: iwfd metrics", stepCollectMetrics},
        };
        for (std::size_t i = 0; i < lab.sc.steps.size(); ++i) {
            plan.push_back({r + ": check " + scenarioStepName(lab.sc, i),
                            [i](Lab& l, StepLog& log) { checkScenarioStep(l, i, log); }});
        }
        if (const std::string abort = runPlan(lab, plan); !abort.empty()) {
            err << abort << "\n";
            return 2;
        }
        // The last round's canaries are scanned for by the final opacity step (memory sample,
        // log, capture) like a run's; earlier rounds' here, before they are forgotten.
        const bool last =
            g_stop || (opt.duration.count() > 0 && Clock::now() - started >= opt.duration);
        RoundOpacity op;
        if (!last) {
            op = scanRound(lab);
        }
        canary_total += op.file_canary;
        key_total += op.file_key;
        const bool pass = failuresOf(lab).size() == failures_before && op.canary + op.key == 0;
        all_pass = all_pass && pass;
        out << r << ": " << (pass ? "PASS" : "FAIL") << "  opacity: ";
        if (last) {
            out << "scanned at the stop (below)\n";
        } else {
            out << op.canary << " canaries, " << op.key << " keys (" << op.needles
                << " needles; iwfd memory, log" << (lab.capturing ? ", capture" : "") << ")\n";
        }
        nlohmann::json jr{{"round", round},
                          {"pass", pass},
                          {"canary_hits", op.canary},
                          {"key_hits", op.key},
                          {"needles", op.needles},
                          {"found", op.found},
                          {"calls", nlohmann::json::array()}};
        for (const auto& c : lab.calls) {
            out << "  " << roundLine(c) << "\n";
            jr["calls"].push_back(roundLine(c));
        }
        const auto failures = failuresOf(lab);
        for (std::size_t i = failures_before; i < failures.size(); ++i) {
            out << "  - " << failures[i] << "\n";
        }
        out << std::flush;
        rounds.push_back(jr);
        if (last) {
            break;
        }
        forgetRound(lab);
    }
    out << "iwf-harness demo: stopping (" << rounds.size() << " rounds)\n" << std::flush;
    if (const std::string abort = runPlan(lab, {{"stop: iwfd", stepStopIwfd},
                                                {"wait-for: capture", stepStopCapture},
                                                {"opacity", stepOpacity}});
        !abort.empty()) {
        err << abort << "\n";
        return 2;
    }
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
    // The final scan (stepOpacity: every memory sample of the run, the log and the capture)
    // looked for the keys and the last round's canaries; the earlier rounds' canaries were
    // looked for in the log and the capture at each round's end (added here).
    lab.report["rounds"] = rounds;
    lab.report["canary_count"] = lab.report.value("canary_count", std::uint64_t{0}) + canary_total;
    lab.report["key_count"] = lab.report.value("key_count", std::uint64_t{0}) + key_total;
    const int rc = writeReport(lab);
    return rc == 0 && all_pass ? 0 : 1;
}

}  // namespace iwf::harness
