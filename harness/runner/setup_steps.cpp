// Setup steps of a run: scanner self-test, MC simulator, keymap, capture, iwfd, memory
// scanner, radios linked (docs/harness.md "How a run is composed").
#include <filesystem>
#include <fstream>
#include <random>

#include "harness/runner/lab.hpp"
#include "harness/runner/process.hpp"
#include "harness/sim/p25_radio.hpp"

namespace iwf::harness {

namespace {

std::string readText(const std::string& path) {
    std::ifstream f(path);
    return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

}  // namespace

Bytes markerBytes(const std::string& what) {
    Bytes b(what.begin(), what.end());
    std::random_device rd;
    for (int i = 0; i < 16; ++i) {
        b.push_back(static_cast<std::uint8_t>(rd()));
    }
    return b;
}

bool captureHolds(Lab& lab, const Bytes& marker, Clock::time_point deadline) {
    NeedleSet set;
    set.add("marker", marker);
    RadioPort sender;
    auto next_send = Clock::now();
    return waitUntil(deadline, std::chrono::milliseconds(50), [&] {
        if (!lab.capture.running()) {
            return false;
        }
        if (Clock::now() >= next_send) {
            sender.send(9, marker);  // discard port: nobody listens, dumpcap sees it
            next_send = Clock::now() + std::chrono::milliseconds(200);
        }
        auto r = scanFile(set, lab.pcap);
        return r.ok() && r->total() > 0;
    });
}

void stepScannerSelfTest(Lab& lab, StepLog& log) {
    // The scanner must be able to find a planted canary, or a 0 count proves nothing.
    const Status self = scannerSelfTest();
    lab.report["scanner_self_test"] = self.ok() ? "ok" : self.error().toString();
    if (!self.ok()) {
        log.fail("opacity scanner self-test failed: " + self.error().toString());
    }
}

void stepStartMcSystem(Lab& lab, StepLog& log) {
    McSystemConfig mcc;
    mcc.clients = lab.sc.clients;
    mcc.keys = lab.sc.keys;
    mcc.groups = lab.sc.groups;
    for (const auto& st : lab.sc.steps) {
        if (!st.late_client.empty()) {
            mcc.late_clients.insert(st.late_client);
        }
        // MC links: mcptt-iwf1 when the scenario has voice steps, mcdata-iwf2 when it has
        // short data / KMM steps. The engine sends every MC-bound event to the first MC link
        // when the keymap names none (docs/engine.md), so a scenario mixing both would see its
        // data offered to the MCPTT link (refused there): docs/harness.md "What is missing".
        lab.links.mcptt = lab.links.mcptt || st.action == StepAction::Talk ||
                          st.action == StepAction::Press || !st.late_client.empty() ||
                          st.action == StepAction::Gmk;
        lab.links.mcdata =
            lab.links.mcdata || st.action == StepAction::Sds || st.action == StepAction::Kmm;
    }
    lab.mc = std::make_unique<McSystem>(mcc);
    if (auto st = lab.mc->start(); !st.ok()) {
        log.abort = "cannot start the MC system simulator: " + st.error().toString();
        return;
    }
    lab.links.mc_peer = lab.mc->sipPort();
    log.note("SIP on 127.0.0.1:" + std::to_string(lab.mc->sipPort()));
}

void stepImportKeymap(Lab& lab, StepLog& log) {
    std::error_code ec;
    { std::ofstream(lab.dir + "/keymap.yaml") << keymapYaml(lab.sc); }
    std::filesystem::remove(lab.dir + "/keymap.db", ec);
    const int imp = runToCompletion({lab.opt.iwfctl, "keymap", "--store", lab.keymapStore(),
                                     "import", lab.dir + "/keymap.yaml"},
                                    lab.dir + "/iwfctl.log");
    if (imp != 0) {
        const std::string how = imp == kRunTimedOut ? "did not finish within 60 s"
                                : imp == kRunFailed ? "could not start or died of a signal"
                                                    : "exit " + std::to_string(imp);
        log.abort = "iwfctl keymap import failed (" + how + "), see " + lab.dir + "/iwfctl.log";
    }
}

// Every UDP datagram on loopback (the MC side's RTP/floor ports are chosen per call, so the
// filter cannot name them in advance). The capture counts as started once a marker datagram
// sent after the start is in the file.
void stepStartCapture(Lab& lab, StepLog& log) {
    std::error_code ec;
    lab.pcap = lab.dir + "/capture.pcapng";
    std::filesystem::remove(lab.pcap, ec);
    lab.capturing = lab.capture.start(
        {lab.opt.dumpcap, "-q", "-i", "lo", "-B", "32", "-f", "udp", "-w", lab.pcap},
        lab.dir + "/dumpcap.log");
    const auto t = Clock::now();
    lab.capturing = lab.capturing && captureHolds(lab, markerBytes("iwf-harness-capture-start:"),
                                                  Clock::now() + std::chrono::seconds(15));
    if (!lab.capturing) {
        log.fail("loopback capture did not start (dumpcap), see dumpcap.log");
        return;
    }
    log.note("capture live after " +
             std::to_string(
                 std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count()) +
             " ms (start marker found in the file)");
}

// iwfd with every link on port 0: the ports it bound are read from its log, the admin port
// from its port file.
void stepStartIwfd(Lab& lab, StepLog& log) {
    std::error_code ec;
    lab.iwfd_log = lab.dir + "/iwfd.log";
    std::filesystem::remove(lab.iwfd_log, ec);
    std::filesystem::remove(lab.dir + "/admin.port", ec);
    { std::ofstream(lab.dir + "/iwfd.yaml") << iwfdConfigYaml(lab.sc, lab.links, lab.dir); }
    if (!lab.iwfd.start({lab.opt.iwfd, "--config", lab.dir + "/iwfd.yaml"}, lab.iwfd_log)) {
        log.abort = "cannot start " + lab.opt.iwfd;
        return;
    }
    const auto t = Clock::now();
    const bool up =
        waitUntil(Clock::now() + std::chrono::seconds(20), std::chrono::milliseconds(20), [&] {
            if (!lab.iwfd.running()) {
                return true;
            }
            std::ifstream pf(lab.dir + "/admin.port");
            int p = 0;
            if (lab.admin_port == 0 && pf >> p && p > 0) {
                lab.admin_port = static_cast<std::uint16_t>(p);
            }
            lab.ports = iwfdPortsFromLog(readText(lab.iwfd_log));
            return lab.admin_port != 0 && complete(lab.ports, lab.links);
        });
    if (!up || !lab.iwfd.running() || lab.admin_port == 0 || !complete(lab.ports, lab.links)) {
        log.abort =
            "iwfd did not start (admin port and every link's port in its log within "
            "20 s), see " +
            lab.iwfd_log;
        return;
    }
    lab.mc->setIwfSipPort(lab.ports.mc_sip);
    lab.mc->setIwfMcdataPort(lab.ports.mcdata_sip);
    log.note("up after " +
             std::to_string(
                 std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count()) +
             " ms: admin " + std::to_string(lab.admin_port) + ", p25-records " +
             std::to_string(lab.ports.p25_records) + ", dmr-hbp-master " +
             std::to_string(lab.ports.dmr_master) + ", mcptt-iwf1 " +
             std::to_string(lab.ports.mc_sip) + ", mcdata-iwf2 " +
             std::to_string(lab.ports.mcdata_sip));
}

// A background thread samples iwfd's memory about once a second for every canary sent so far
// and every key (the final sample is taken by stepStopIwfd while iwfd still runs).
void stepStartMemoryScanner(Lab& lab, StepLog& log) {
    lab.scanner = std::thread([&lab] {
        while (!lab.scanner_stop.load()) {
            lab.scanMemoryOnce(&lab.scanner_stop);  // gives way to the final sample
            std::unique_lock lock(lab.scanner_mu);
            lab.scanner_cv.wait_for(lock, std::chrono::seconds(1),
                                    [&] { return lab.scanner_stop.load(); });
        }
    });
    log.note("iwfd pid " + std::to_string(lab.iwfd.pid()) + " sampled about once a second");
}

std::string linkRadio(Lab& lab, const ScenarioRadio& r) {
    RadioPort& port = *lab.radio_ports[r.name];
    if (r.family == LmrFamily::P25) {
        P25RadioConfig rc;
        rc.name = r.name;
        const std::size_t m0 = port.mark();
        port.send(lab.ports.p25_records, P25Radio(rc).poll());
        if (!port.waitFor(
                m0, [](const Bytes& b) { return !b.empty() && b[0] == 0xF0; },
                std::chrono::seconds(3))) {
            return r.name + ": no poll answer from iwfd";
        }
        return {};
    }
    std::lock_guard lock(lab.login_mu);
    const bool ok = lab.dmrLogin(r, port);
    lab.dmr_logged_in[r.name] = ok;
    return ok ? "" : r.name + ": HBP login to iwfd failed";
}

// Radios are linked before the time line starts (a P25 peer polls, a DMR repeater logs in),
// so they receive what iwfd originates toward the LMR side from the start of the run.
void stepLinkRadios(Lab& lab, StepLog& log) {
    for (const auto& r : lab.sc.radios) {
        lab.radio_ports[r.name] = std::make_unique<RadioPort>();
    }
    for (const auto& r : lab.sc.radios) {
        if (const std::string why = linkRadio(lab, r); !why.empty()) {
            log.fail(why);
        }
    }
    log.note(std::to_string(lab.sc.radios.size()) + " radios linked");
}

}  // namespace iwf::harness
