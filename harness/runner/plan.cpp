// The plan runner and what every step shares (lab.hpp).
#include <sstream>

#include "harness/runner/admin_client.hpp"
#include "harness/runner/cluster.hpp"
#include "harness/runner/lab.hpp"
#include "harness/sim/p25_radio.hpp"
#include "lmr_adapters/dmr/hbp.hpp"

namespace iwf::harness {

bool waitUntil(Clock::time_point deadline, std::chrono::milliseconds poll,
               const std::function<bool()>& done) {
    for (;;) {
        if (done()) {
            return true;
        }
        const auto now = Clock::now();
        if (now >= deadline) {
            return false;
        }
        std::this_thread::sleep_for(std::min<Clock::duration>(poll, deadline - now));
    }
}

nlohmann::json StepLog::toJson() const {
    nlohmann::json j = {{"name", name},
                        {"start_ms", start_ms},
                        {"end_ms", end_ms},
                        {"result", !abort.empty()     ? "could not run"
                                   : failures.empty() ? "pass"
                                                      : "fail"},
                        {"notes", notes},
                        {"failures", failures}};
    if (!abort.empty()) {
        j["abort"] = abort;
    }
    for (const auto& c : children) {
        j["steps"].push_back(c.toJson());
    }
    return j;
}

Lab::Lab(const RunOptions& o, std::ostream& out_stream, Scenario s, std::string out_dir)
    : opt(o), out(out_stream), sc(std::move(s)), dir(std::move(out_dir)) {
    report["scenario"] = sc.name;
    report["description"] = sc.description;
    report["file"] = sc.file;
    runs.resize(sc.steps.size());
    for (std::size_t i = 0; i < runs.size(); ++i) {
        runs[i].log.name = scenarioStepName(sc, i);
    }
    for (const auto& k : sc.keys) {
        needles.add("key:" + k.name, Bytes(k.key.begin(), k.key.end()));
    }
}

Lab::~Lab() {
    scanner_stop = true;
    scanner_cv.notify_all();
    if (scanner.joinable()) {
        scanner.join();
    }
    iwfd.stop();
    if (mc) {
        mc->stop();
    }
    capture.stop();
}

NeedleSet Lab::needleSnapshot() {
    NeedleSet snap;
    {
        std::lock_guard lock(needles_mu);
        snap = needles;
    }
    mc->addNeedles(snap);
    return snap;
}

void scanInto(MemoryScan& into, std::mutex& mu, const NeedleSet& snap, int pid,
              const std::atomic<bool>* cancel) {
    auto r = scanProcessMemory(snap, pid, cancel);
    if (!r.ok()) {
        return;
    }
    std::lock_guard lock(mu);
    ++into.samples;
    into.bytes += r->bytes_scanned;
    for (std::size_t i = 0; i < snap.size(); ++i) {
        if (r->hits[i] > 0) {
            (snap[i].label.rfind("key:", 0) == 0 ? into.key : into.canary) += r->hits[i];
            into.found.push_back(snap[i].label);
        }
    }
}

void Lab::scanMemoryOnce(const std::atomic<bool>* cancel) {
    const NeedleSet snap = needleSnapshot();
    if (snap.size() == 0) {
        return;
    }
    scanInto(mem, mem_mu, snap, iwfd.pid(), cancel);
    if (cluster) {
        scanClusterMembers(*this, snap, cancel);  // the instance(s) other than `iwfd`
    }
}

std::string Lab::keymapStore() const {
    return links.keymap_store.empty() ? "sqlite:" + dir + "/keymap.db" : links.keymap_store;
}

std::uint32_t Lab::clientUnit(const std::string& name) const {
    std::uint32_t u = kHarnessClientUnitBase;
    for (const auto& c : sc.clients) {
        if (c.groups.empty() || sc.group(c.groups.front()) == nullptr) {
            continue;
        }
        if (c.name == name) {
            return u;
        }
        ++u;
    }
    return 0;
}

bool Lab::dmrLogin(const ScenarioRadio& radio, RadioPort& port) {
    using namespace lmr::dmr;
    const std::uint32_t repeater_id = 310000 + radio.unit;
    auto isType = [](HbpType t) {
        return [t](const Bytes& b) {
            auto m = decodeHbp(b);
            return m.ok() && m->type == t;
        };
    };
    std::size_t m0 = port.mark();
    port.send(ports.dmr_master, encodeHbp(hbpSimple(HbpType::Rptl, repeater_id)));
    auto salt = port.waitFor(m0, isType(HbpType::Rptack), std::chrono::seconds(3));
    if (!salt) {
        return false;
    }
    auto m = decodeHbp(*salt);
    HbpMessage k2 = hbpSimple(HbpType::Rptk, repeater_id);
    k2.key = hbpLoginKey(m->ack, kHarnessHbpPassword);
    m0 = port.mark();
    port.send(ports.dmr_master, encodeHbp(k2));
    if (!port.waitFor(m0, isType(HbpType::Rptack), std::chrono::seconds(3))) {
        return false;
    }
    HbpMessage c = hbpSimple(HbpType::Rptc, repeater_id);
    c.config.callsign = "HARNESS";
    c.config.color_code = "01";
    c.config.slots = "3";
    c.config.software_id = "iwf-harness";
    c.config.package_id = "openiwf";
    m0 = port.mark();
    port.send(ports.dmr_master, encodeHbp(c));
    return port.waitFor(m0, isType(HbpType::Rptack), std::chrono::seconds(3)).has_value();
}

std::string runPlan(Lab& lab, const std::vector<PlanStep>& plan) {
    for (const auto& step : plan) {
        StepLog log;
        log.name = step.name;
        log.start_ms = lab.wallMs();
        step.run(lab, log);
        log.end_ms = lab.wallMs();
        const std::string abort = log.abort;
        lab.logs.push_back(std::move(log));
        if (!abort.empty()) {
            return step.name + ": " + abort;
        }
    }
    return {};
}

std::vector<std::string> failuresOf(const Lab& lab) {
    std::vector<std::string> out;
    std::function<void(const StepLog&)> add = [&](const StepLog& log) {
        for (const auto& c : log.children) {
            add(c);
        }
        for (const auto& f : log.failures) {
            out.push_back(log.name + ": " + f);
        }
    };
    for (const auto& log : lab.logs) {
        add(log);
    }
    return out;
}

double metricSum(const std::string& text, const std::string& name,
                 const std::vector<std::string>& needles) {
    return metricTotal(text, name, needles).value_or(0.0);
}

std::vector<std::string> metricLabels(const std::string& text, const std::string& name,
                                      const std::string& label) {
    std::vector<std::string> out;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind(name + "{", 0) != 0) {
            continue;
        }
        const auto sp = line.rfind(' ');
        if (sp == std::string::npos || line.substr(sp + 1) == "0") {
            continue;
        }
        const auto p = line.find(label + "=\"");
        if (p == std::string::npos) {
            continue;
        }
        const auto s = p + label.size() + 2;
        out.push_back(line.substr(s, line.find('"', s) - s));
    }
    return out;
}

}  // namespace iwf::harness
