// The cluster of a failover run (cluster.hpp): the PostgreSQL store, the two iwfd instances,
// their stop, and the plan that runs them.
#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "harness/runner/admin_client.hpp"
#include "harness/runner/cluster.hpp"

namespace iwf::harness {

namespace cluster_setup {

std::string elapsedMs(Clock::time_point since) {
    return std::to_string(
               std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - since)
                   .count()) +
           " ms";
}

// Writes DIR/<name>/iwfd.yaml, starts iwfd with it (output to DIR/<name>/iwfd.log) and waits
// for its admin port file. Empty when it is up, else why not.
std::string launch(Lab& lab, ChildProcess& proc, const std::string& name, std::string& dir,
                   std::string& log_path, std::uint16_t& admin) {
    std::error_code ec;
    dir = lab.dir + "/" + name;
    std::filesystem::create_directories(dir, ec);
    log_path = dir + "/iwfd.log";
    std::filesystem::remove(log_path, ec);
    std::filesystem::remove(dir + "/admin.port", ec);
    {
        std::ofstream(dir + "/iwfd.yaml")
            << clusterConfigYaml(lab.sc, lab.links, name, dir, lab.cluster->store);
    }
    if (!proc.start({lab.opt.iwfd, "--config", dir + "/iwfd.yaml"}, log_path)) {
        return "cannot start " + lab.opt.iwfd;
    }
    waitUntil(Clock::now() + std::chrono::seconds(20), std::chrono::milliseconds(20), [&] {
        std::ifstream pf(dir + "/admin.port");
        int p = 0;
        if (pf >> p && p > 0) {
            admin = static_cast<std::uint16_t>(p);
        }
        return admin != 0 || !proc.running();
    });
    if (admin == 0 || !proc.running()) {
        return "iwfd " + name + " did not start (no admin port within 20 s), see " + log_path;
    }
    return {};
}

std::string portsText(const IwfdPorts& p) {
    return "p25-records " + std::to_string(p.p25_records) + ", dmr-hbp-master " +
           std::to_string(p.dmr_master) + ", mcptt-iwf1 " + std::to_string(p.mc_sip) +
           ", mcdata-iwf2 " + std::to_string(p.mcdata_sip);
}

}  // namespace cluster_setup

ClusterRun::~ClusterRun() {
    first.proc.stop();
    if (!pg_dir.empty()) {
        (void)runToCompletion({"bash", pg_sh, "stop", pg_dir}, pg_log);
    }
}

nlohmann::json clusterStatus(std::uint16_t admin_port) {
    const auto j = nlohmann::json::parse(adminGet(admin_port, "/v1/status"), nullptr, false);
    if (!j.is_object() || !j.contains("cluster") || !j["cluster"].is_object()) {
        return nlohmann::json::object();
    }
    return j["cluster"];
}

std::string clusterField(const nlohmann::json& status, const char* key) {
    const auto it = status.find(key);
    return it != status.end() && it->is_string() ? it->get<std::string>() : "";
}

std::string clusterLogText(const std::string& path) {
    std::ifstream f(path);
    return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

std::string clusterConfigYaml(const Scenario& s, IwfdLinks links, const std::string& instance,
                              const std::string& dir, const std::string& store) {
    const ScenarioCluster& c = *s.cluster;
    links.instance = instance;
    links.keymap_store = store;
    return iwfdConfigYaml(s, links, dir) + "messages: {store: \"" + store +
           "\"}\ncluster:\n  name: harness-" + s.name + "\n  store: \"" + store +
           "\"\n  renew_period: " + std::to_string(c.renew_period.count()) +
           "ms\n  lease_expiry: " + std::to_string(c.lease_expiry.count()) +
           "ms\n  safety_margin: " + std::to_string(c.safety_margin.count()) + "ms\n";
}

// The store: the operator's (--postgres URL) or a throw-away server (tests/support/postgres.sh:
// initdb, a free 127.0.0.1 port, fsync off), stopped and removed by "stop: cluster". Its data
// directory is a fresh one in the system's temporary directory, not in DIR: when the harness
// runs as root the server runs as the `postgres` user, which must reach the directory, and
// DIR's parents may be private to root (a checkout in a 0700 mktemp directory: initdb was
// refused "Permission denied" there).
void stepStartPostgres(Lab& lab, StepLog& log) {
    lab.cluster = std::make_unique<ClusterRun>();
    ClusterRun& c = *lab.cluster;
    c.name = "harness-" + lab.sc.name;
    c.pg_sh = lab.opt.postgres_sh;
    if (!lab.opt.postgres.empty()) {
        c.store = lab.opt.postgres;
        log.note("PostgreSQL given with --postgres");
    } else {
        const auto t = Clock::now();
        std::string dir =
            (std::filesystem::temp_directory_path() / "iwf-harness-pg-XXXXXX").string();
        if (::mkdtemp(dir.data()) == nullptr) {
            log.abort = "cannot create a directory for the throw-away PostgreSQL in " +
                        std::filesystem::temp_directory_path().string() + ": " +
                        std::strerror(errno);
            return;
        }
        c.pg_dir = dir;
        c.pg_log = lab.dir + "/postgres.log";
        const std::string& plog = c.pg_log;
        std::error_code ec;
        std::filesystem::remove(plog, ec);
        const int rc =
            runToCompletion({"bash", c.pg_sh, "start", c.pg_dir}, plog, std::chrono::seconds(120));
        std::istringstream in(clusterLogText(plog));
        for (std::string line; std::getline(in, line);) {
            if (line.rfind("postgresql://", 0) == 0) {
                c.store = line;
            }
        }
        if (rc != 0 || c.store.empty()) {
            log.abort = "could not start a throw-away PostgreSQL with " + c.pg_sh + " (exit " +
                        std::to_string(rc) + "), see " + plog;
            return;
        }
        log.note("throw-away server " + c.store + " in " + c.pg_dir + " after " +
                 cluster_setup::elapsedMs(t));
    }
    lab.links.keymap_store = c.store;
}

// The first instance starts and must become active with its links' ports in its log; then
// the second (Lab::iwfd) must report standby with the first as the lease holder and must not
// have started its links.
void stepStartCluster(Lab& lab, StepLog& log) {
    ClusterRun& c = *lab.cluster;
    c.first.name = lab.sc.cluster->instances[0];
    c.second = lab.sc.cluster->instances[1];
    auto t = Clock::now();
    std::string why = cluster_setup::launch(lab, c.first.proc, c.first.name, c.first.dir,
                                            c.first.log, c.first.admin_port);
    if (!why.empty()) {
        log.abort = why;
        return;
    }
    {
        std::lock_guard lock(c.first.alive_mu);
        c.first.alive = true;
    }
    const bool active =
        waitUntil(Clock::now() + std::chrono::seconds(20), std::chrono::milliseconds(20), [&] {
            c.first.ports = iwfdPortsFromLog(clusterLogText(c.first.log));
            return !c.first.proc.running() ||
                   (complete(c.first.ports, lab.links) &&
                    clusterField(clusterStatus(c.first.admin_port), "role") == "active");
        });
    if (!active || !c.first.proc.running()) {
        log.abort = "iwfd " + c.first.name +
                    " did not become active with every link's port in its log within 20 s, see " +
                    c.first.log;
        return;
    }
    log.note("iwfd " + c.first.name + " (pid " + std::to_string(c.first.proc.pid()) +
             ") active after " + cluster_setup::elapsedMs(t) + ": admin " +
             std::to_string(c.first.admin_port) + ", " + cluster_setup::portsText(c.first.ports));
    t = Clock::now();
    why =
        cluster_setup::launch(lab, lab.iwfd, c.second, c.second_dir, lab.iwfd_log, c.second_admin);
    if (!why.empty()) {
        log.abort = why;
        return;
    }
    nlohmann::json st;
    const bool standby =
        waitUntil(Clock::now() + std::chrono::seconds(20), std::chrono::milliseconds(20), [&] {
            st = clusterStatus(c.second_admin);
            return !lab.iwfd.running() || (clusterField(st, "role") == "standby" &&
                                           clusterField(st, "holder") == c.first.name);
        });
    if (!standby || !lab.iwfd.running()) {
        log.abort = "iwfd " + c.second + " did not report standby with " + c.first.name +
                    " holding the lease within 20 s (status " + st.dump() + "), see " +
                    lab.iwfd_log;
        return;
    }
    if (iwfdPortsFromLog(clusterLogText(lab.iwfd_log)).p25_records != 0) {
        log.fail("the standby " + c.second + " started its links");
    }
    log.note("iwfd " + c.second + " (pid " + std::to_string(lab.iwfd.pid()) + ") standby after " +
             cluster_setup::elapsedMs(t) + ", holder " + c.first.name + ", epoch " +
             st.value("epoch", nlohmann::json()).dump() + "; its links are not started");
    lab.admin_port = c.first.admin_port;
    lab.ports = c.first.ports;
    lab.mc->setIwfSipPort(lab.ports.mc_sip);
    lab.mc->setIwfMcdataPort(lab.ports.mcdata_sip);
}

// After "stop: iwfd" (the second instance): the first one, killed by the failover or stopped
// now (a run without a failover step: last memory sample first), and the throw-away server.
void stepStopCluster(Lab& lab, StepLog& log) {
    ClusterRun& c = *lab.cluster;
    if (c.first.proc.running()) {
        scanClusterMembers(lab, lab.needleSnapshot(), nullptr);
        {
            std::lock_guard lock(c.first.alive_mu);
            c.first.alive = false;
        }
        c.first.proc.stop();
        log.note("iwfd " + c.first.name + " stopped (SIGTERM)");
    } else if (!c.failover_step) {
        log.fail("iwfd " + c.first.name + " exited during the scenario");
    }
    if (!c.pg_dir.empty()) {
        const int rc = runToCompletion({"bash", c.pg_sh, "stop", c.pg_dir}, c.pg_log);
        log.note("throw-away PostgreSQL stopped and removed (exit " + std::to_string(rc) + ")");
        c.pg_dir.clear();
    }
}

void adaptPlanForCluster(std::vector<PlanStep>& plan) {
    auto at = [&plan](const std::string& name) {
        return std::find_if(plan.begin(), plan.end(),
                            [&name](const PlanStep& s) { return s.name == name; });
    };
    plan.insert(at("setup: keymap"), {"setup: PostgreSQL", stepStartPostgres});
    *at("setup: iwfd") = {"setup: iwfd cluster", stepStartCluster};
    plan.insert(at("stop: iwfd"), {"check: failover", stepCheckFailover});
    plan.insert(at("stop: iwfd") + 1, {"stop: cluster", stepStopCluster});
    plan.insert(at("opacity") + 1, {"opacity: cluster", stepClusterOpacity});
}

}  // namespace iwf::harness
