// The end of a run: last memory sample and stop iwfd, stop the capture once it holds
// everything, scan iwfd's log and the capture, write the report.
#include <fstream>

#include "harness/report/report.hpp"
#include "harness/runner/lab.hpp"

namespace iwf::harness {

using nlohmann::json;

// Final memory scan while iwfd still runs, then stop iwfd and the MC simulator.
void stepStopIwfd(Lab& lab, StepLog& log) {
    auto t = Clock::now();
    auto took = [&t] {
        const auto ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
        t = Clock::now();
        return std::to_string(ms) + " ms";
    };
    lab.scanner_stop = true;
    lab.scanner_cv.notify_all();
    if (lab.scanner.joinable()) {
        lab.scanner.join();
    }
    log.note("memory scanner stopped: " + took());
    lab.scanMemoryOnce();
    log.note("final memory sample: " + took());
    if (!lab.iwfd.running()) {
        log.fail("iwfd exited during the scenario");
    }
    lab.iwfd.stop();
    log.note("iwfd stopped (SIGTERM): " + took());
    lab.mc->stop();
    std::lock_guard lock(lab.needles_mu);
    lab.mc->addNeedles(lab.needles);  // the MC clients' canaries, for the file scans
}

// dumpcap writes its file in batches: a marker datagram sent now must be in the file before
// the capture stops, so everything sent before it is there too.
void stepStopCapture(Lab& lab, StepLog& log) {
    if (!lab.capturing) {
        lab.capture.stop();
        return;
    }
    const auto t = Clock::now();
    const bool flushed = captureHolds(lab, markerBytes("iwf-harness-capture-end:"),
                                      Clock::now() + std::chrono::seconds(10));
    lab.capture.stop();
    if (!flushed) {
        log.fail("the end marker did not reach the capture file within 10 s");
        return;
    }
    log.note("end marker in the capture after " +
             std::to_string(
                 std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count()) +
             " ms");
}

json opacityFileRow(const NeedleSet& needles, const std::string& source, const std::string& path,
                    StepLog& log, std::uint64_t& canaries, std::uint64_t& keys) {
    auto r = scanFile(needles, path);
    if (!r.ok()) {
        log.fail("cannot scan " + source + " (" + path + ")");
        return nullptr;
    }
    std::uint64_t c = 0;
    std::uint64_t k = 0;
    for (std::size_t i = 0; i < needles.size(); ++i) {
        (needles[i].label.rfind("key:", 0) == 0 ? k : c) += r->hits[i];
    }
    canaries += c;
    keys += k;
    if (c + k > 0) {
        log.fail(source + ": " + std::to_string(c) + " canary and " + std::to_string(k) +
                 " key occurrences");
    }
    return {{"source", source},
            {"bytes", r->bytes_scanned},
            {"canary_hits", c},
            {"key_hits", k},
            {"found", r->found(needles)}};
}

void stepOpacity(Lab& lab, StepLog& log) {
    json opacity = json::array();
    opacity.push_back({{"source", "iwfd memory (" + std::to_string(lab.mem.samples) + " samples)"},
                       {"bytes", lab.mem.bytes},
                       {"canary_hits", lab.mem.canary},
                       {"key_hits", lab.mem.key},
                       {"found", lab.mem.found}});
    if (lab.mem.samples == 0) {
        log.fail("iwfd memory was never scanned");
    }
    std::uint64_t total_canary = lab.mem.canary;
    std::uint64_t total_key = lab.mem.key;
    const NeedleSet& needles = lab.needles;
    auto fileScan = [&](const std::string& source, const std::string& path) {
        if (auto row = opacityFileRow(needles, source, path, log, total_canary, total_key);
            !row.is_null()) {
            opacity.push_back(row);
        }
    };
    fileScan("iwfd log", lab.iwfd_log);
    if (lab.capturing) {
        fileScan("loopback capture", lab.pcap);
        auto w = scanFile(lab.witnesses, lab.pcap);
        lab.report["capture_witnesses"] = {{"sent", lab.witnesses.size()},
                                           {"found", w.ok() ? w->found(lab.witnesses).size() : 0}};
        if (lab.witnesses.size() > 0 && (!w.ok() || w->total() == 0)) {
            log.fail(
                "the capture holds none of the datagrams the radios sent: a 0 count from it "
                "proves nothing");
        }
    }
    if (lab.mem.canary + lab.mem.key > 0) {
        log.fail("iwfd memory: " + std::to_string(lab.mem.canary) + " canary and " +
                 std::to_string(lab.mem.key) + " key occurrences");
    }
    lab.report["needles"] = needles.size();
    lab.report["opacity"] = opacity;
    lab.report["canary_count"] = total_canary;
    lab.report["key_count"] = total_key;
}

namespace {

json callsJson(const std::vector<CallRecord>& calls) {
    json jcalls = json::array();
    for (const auto& c : calls) {
        json rx = json::object();
        for (const auto& [n, t] : c.receivers) {
            rx[n] = {{"expected", t.expected},
                     {"received", t.received},
                     {"decrypted_ok", t.decrypted_ok}};
        }
        jcalls.push_back({{"step", c.step},
                          {"who", c.who},
                          {"action", c.action},
                          {"expected", c.expected},
                          {"outcome", c.outcome},
                          {"start_ms", c.start_ms},
                          {"end_ms", c.end_ms},
                          {"sent", c.sent},
                          {"dropped_by_harness", c.dropped_by_harness},
                          {"receivers", rx},
                          {"events", c.events},
                          {"pass", c.pass}});
    }
    return jcalls;
}

}  // namespace

int writeReport(Lab& lab) {
    json& report = lab.report;
    report["calls"] = callsJson(lab.calls);
    if (lab.mc) {
        for (const auto& e : lab.mc->events()) {
            report["mc_events"].push_back(
                {{"t_ms", static_cast<double>(e.t_ns - lab.t0_ns) / 1e6},
                 {"what", e.who + " " + e.what + (e.detail.empty() ? "" : ": " + e.detail)}});
        }
    }
    std::vector<double> lat;
    for (const auto& l : lab.latency) {
        lat.push_back(l.get<double>());
    }
    const LatencySummary ls = summarize(lat);
    report["latency_us"] = lab.latency;
    report["latency"] = {{"count", ls.count},
                         {"p50_us", ls.p50_us},
                         {"p99_us", ls.p99_us},
                         {"max_us", ls.max_us},
                         {"what",
                          "sender send time to receiver receive time per frame, "
                          "harness steady clock (radio -> iwfd -> MC client, MC "
                          "client -> iwfd -> radio)"}};
    report["iwfd_engine_latency_us"] = {
        {"p50_upper_bound",
         std::to_string(metricSum(lab.metrics_after, "iwf_engine_frame_latency_p50_seconds") *
                        1e6)},
        {"p99_upper_bound",
         std::to_string(metricSum(lab.metrics_after, "iwf_engine_frame_latency_p99_seconds") *
                        1e6)}};
    report["steps"] = json::array();
    for (const auto& log : lab.logs) {
        report["steps"].push_back(log.toJson());
    }
    const std::vector<std::string> failures = failuresOf(lab);
    report["wall_ms"] = lab.wallMs();
    report["failures"] = failures;
    report["result"] = failures.empty() ? "pass" : "fail";
    std::ofstream(lab.dir + "/report.json") << report.dump(2) << "\n";
    (void)renderReportDir(lab.dir);
    lab.out << lab.sc.name << ": " << (failures.empty() ? "PASS" : "FAIL") << " (report " << lab.dir
            << "/report.html) canaries " << report.value("canary_count", 0) << " keys "
            << report.value("key_count", 0) << " latency p50 " << ls.p50_us << " us p99 "
            << ls.p99_us << " us (" << ls.count << " frames)\n";
    for (const auto& f : failures) {
        lab.out << "  - " << f << "\n";
    }
    return failures.empty() ? 0 : 1;
}

}  // namespace iwf::harness
