// The failover of a cluster run (cluster.hpp): the `failover` scenario step (SIGKILL of the
// active instance, the standby's takeover, the radios and the MC system re-aimed at it), the
// time from the kill to the first frame of the next call, and the opacity of the first
// instance (its memory samples and its log).
#include <signal.h>

#include "harness/runner/cluster.hpp"

namespace iwf::harness {

namespace cluster_failover {

double msSince(std::int64_t from_ns, std::int64_t to_ns) {
    return static_cast<double>(to_ns - from_ns) / 1e6;
}

// The `epoch` of a /v1/status cluster object (null for a standby): 0 when there is none.
long epochOf(const nlohmann::json& status) {
    const auto it = status.find("epoch");
    return it != status.end() && it->is_number_integer() ? it->get<long>() : 0;
}

std::string msText(double ms) {
    return std::to_string(static_cast<long>(ms)) + " ms";
}

// The first transmission of a radio after step `after` (the call the takeover is timed by).
std::optional<std::size_t> firstRadioCallAfter(const Lab& lab, std::size_t after) {
    for (std::size_t j = after + 1; j < lab.runs.size(); ++j) {
        if (lab.runs[j].tx && lab.runs[j].tx->from_radio) {
            return j;
        }
    }
    return std::nullopt;
}

// When the first frame of `tx` that decrypted to one of its canaries reached an MC client.
std::optional<std::int64_t> firstMcFrame(const std::vector<McRxRecord>& mc_rx,
                                         const Transmission& tx) {
    std::optional<std::int64_t> first;
    for (const auto& r : mc_rx) {
        if (r.decrypted && canaryPosition(r.plaintext, tx.tag, tx.nonce) &&
            (!first || r.rx_ns < *first)) {
            first = r.rx_ns;
        }
    }
    return first;
}

}  // namespace cluster_failover

void scanClusterMembers(Lab& lab, const NeedleSet& snap, const std::atomic<bool>* cancel) {
    ClusterMember& m = lab.cluster->first;
    std::lock_guard lock(m.alive_mu);
    if (m.alive) {
        scanInto(m.mem, m.mem_mu, snap, m.proc.pid(), cancel);
    }
}

// SIGKILL of the active instance (its memory sampled once more just before), then: the standby
// reports `active` with a newer epoch, its links' ports appear in its log (bound at the
// takeover: port 0), and every radio links to it (a P25 peer polls, a DMR repeater logs in
// again with RPTL) on its own socket, as a peer given the second master's address would; the
// MC system sends its next INVITE there. Steps that overlap a failover see the old owner's
// ports until the re-aim.
void failover(Lab& lab, std::size_t si) {
    using cluster_failover::msSince;
    using cluster_failover::msText;
    const ScenarioStep& st = lab.sc.steps[si];
    StepRun& run = lab.runs[si];
    if (!lab.cluster) {  // `iwf-harness demo` runs one iwfd
        run.log.fail("a failover needs the cluster plan of `iwf-harness run`");
        return;
    }
    ClusterRun& c = *lab.cluster;
    auto event = [&](const std::string& what) {
        run.rec.events.push_back({{"t_ms", lab.ms()}, {"what", what}});
    };
    c.failover_step = si;
    run.rec.outcome = "no takeover";
    const nlohmann::json before = clusterStatus(c.first.admin_port);
    if (clusterField(before, "role") != "active") {
        run.log.fail("iwfd " + c.first.name + " is not active before the failover (status " +
                     before.dump() + ")");
        return;
    }
    c.epoch_before = cluster_failover::epochOf(before);
    scanClusterMembers(lab, lab.needleSnapshot(), nullptr);
    {
        std::lock_guard lock(c.first.alive_mu);
        c.kill_ns = steadyNs();
        ::kill(c.first.proc.pid(), SIGKILL);  // our own child
        c.first.alive = false;
    }
    (void)c.first.proc.wait(std::chrono::seconds(5));
    event("SIGKILL to iwfd " + c.first.name + " (pid " + std::to_string(c.first.proc.pid()) +
          ", epoch " + std::to_string(c.epoch_before) + ")");
    nlohmann::json now;
    const bool took = waitUntil(Clock::now() + st.timeout, std::chrono::milliseconds(10), [&] {
        now = clusterStatus(c.second_admin);
        return clusterField(now, "role") == "active";
    });
    if (!took) {
        run.log.fail("the standby " + c.second + " did not take over within " +
                     std::to_string(st.timeout.count()) + " ms (status " + now.dump() + ")");
        return;
    }
    c.takeover_ns = steadyNs();
    c.epoch_after = cluster_failover::epochOf(now);
    event(c.second + " active, epoch " + std::to_string(c.epoch_after) + ", " +
          msText(msSince(c.kill_ns, c.takeover_ns)) + " after the kill");
    if (c.epoch_after <= c.epoch_before) {
        run.log.fail("the new owner's epoch " + std::to_string(c.epoch_after) +
                     " is not newer than " + std::to_string(c.epoch_before));
    }
    IwfdPorts p;
    if (!waitUntil(Clock::now() + std::chrono::seconds(5), std::chrono::milliseconds(10), [&] {
            p = iwfdPortsFromLog(clusterLogText(lab.iwfd_log));
            return complete(p, lab.links);
        })) {
        run.log.fail("the new owner's links' ports are not in its log 5 s after the takeover");
        return;
    }
    c.links_ns = steadyNs();
    lab.ports = p;
    lab.admin_port = c.second_admin;
    lab.mc->setIwfSipPort(p.mc_sip);
    lab.mc->setIwfMcdataPort(p.mcdata_sip);
    for (const auto& r : lab.sc.radios) {
        if (const std::string why = linkRadio(lab, r); !why.empty()) {
            run.log.fail("after the takeover: " + why);
        }
    }
    c.relinked_ns = steadyNs();
    c.taken_over = true;
    event("links of " + c.second + " up " + msText(msSince(c.kill_ns, c.links_ns)) +
          ", radios linked to it " + msText(msSince(c.kill_ns, c.relinked_ns)) + " after the kill");
    run.rec.outcome = "taken over by " + c.second;
    run.rec.pass = run.log.failures.empty();
}

// report.json "failover": who was killed, the epochs, and from the kill: the takeover, the
// links, the radios linked, and the first frame of the next radio call at an MC client.
void stepCheckFailover(Lab& lab, StepLog& log) {
    using cluster_failover::msSince;
    ClusterRun& c = *lab.cluster;
    const ScenarioCluster& sc = *lab.sc.cluster;
    nlohmann::json f = {{"cluster", c.name},
                        {"instances", sc.instances},
                        {"lease_ms",
                         {{"renew_period", sc.renew_period.count()},
                          {"lease_expiry", sc.lease_expiry.count()},
                          {"safety_margin", sc.safety_margin.count()}}},
                        {"taken_over", c.taken_over}};
    if (!c.failover_step) {
        log.note("no failover step");
        lab.report["failover"] = f;
        return;
    }
    f["killed"] = c.first.name;
    f["new_owner"] = c.second;
    f["epoch_before"] = c.epoch_before;
    f["epoch_after"] = c.epoch_after;
    f["kill_t_ms"] = msSince(lab.t0_ns, c.kill_ns);
    if (c.taken_over) {
        f["kill_to_active_ms"] = msSince(c.kill_ns, c.takeover_ns);
        f["kill_to_links_ms"] = msSince(c.kill_ns, c.links_ns);
        f["kill_to_radios_linked_ms"] = msSince(c.kill_ns, c.relinked_ns);
    }
    const auto j = cluster_failover::firstRadioCallAfter(lab, *c.failover_step);
    if (j) {
        const std::string name = scenarioStepName(lab.sc, *j);
        f["first_call"] = name;
        const auto first = cluster_failover::firstMcFrame(lab.mc->records(), *lab.runs[*j].tx);
        if (first) {
            f["kill_to_first_frame_ms"] = msSince(c.kill_ns, *first);
            log.note("kill -> first frame of " + name +
                     " at an MC client: " + cluster_failover::msText(msSince(c.kill_ns, *first)));
        } else {
            log.fail("no frame of " + name +
                     " (the first call after the failover) reached an MC "
                     "client");
        }
    } else {
        log.note("no radio call after the failover: kill -> first frame not measured");
    }
    lab.out << "failover: " << f.dump() << "\n";
    lab.report["failover"] = f;
}

// After "opacity" (the second instance's memory and log, the capture): the first instance's
// memory samples and its log; the rows of the second are named after it, the totals include
// both.
void stepClusterOpacity(Lab& lab, StepLog& log) {
    ClusterRun& c = *lab.cluster;
    nlohmann::json& rows = lab.report["opacity"];
    for (auto& r : rows) {
        const std::string s = r.value("source", "");
        if (s.rfind("iwfd ", 0) == 0) {
            r["source"] = "iwfd " + c.second + s.substr(4);
        }
    }
    const MemoryScan& m = c.first.mem;
    rows.push_back(
        {{"source", "iwfd " + c.first.name + " memory (" + std::to_string(m.samples) + " samples)"},
         {"bytes", m.bytes},
         {"canary_hits", m.canary},
         {"key_hits", m.key},
         {"found", m.found}});
    if (m.samples == 0) {
        log.fail("iwfd " + c.first.name + "'s memory was never scanned");
    }
    if (m.canary + m.key > 0) {
        log.fail("iwfd " + c.first.name + " memory: " + std::to_string(m.canary) + " canary and " +
                 std::to_string(m.key) + " key occurrences");
    }
    std::uint64_t canaries = lab.report.value("canary_count", std::uint64_t{0}) + m.canary;
    std::uint64_t keys = lab.report.value("key_count", std::uint64_t{0}) + m.key;
    if (auto row = opacityFileRow(lab.needles, "iwfd " + c.first.name + " log", c.first.log, log,
                                  canaries, keys);
        !row.is_null()) {
        rows.push_back(row);
    }
    lab.report["canary_count"] = canaries;
    lab.report["key_count"] = keys;
}

}  // namespace iwf::harness
