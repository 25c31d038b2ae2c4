#pragma once
// A scenario with a `cluster` section (docs/harness.md "Failover"): two real iwfd instances in
// one cluster (iwfd's `cluster:` section, each its own `instance`) sharing one real PostgreSQL
// store (lease, keymap, message queue). The first instance starts active; the second starts
// as standby and is the run's `Lab::iwfd`, so every step after a takeover (metrics, the final
// memory sample, the stop) addresses the instance that survives. A `failover` step kills the
// active instance with SIGKILL, waits for the standby to take the lease over and start its
// links, and re-aims the radios and the MC system at it (its ports exist only from that moment:
// port 0, read from its log). The opacity checks cover both instances: memory samples of each
// while it runs (the first one last just before the kill), both logs, the capture.
//
// The plan: runner.cpp's, with "setup: PostgreSQL" before the keymap, "setup: iwfd cluster"
// instead of "setup: iwfd", "check: failover" (kill -> first frame of the next call) before
// "stop: iwfd", "stop: cluster" after it and "opacity: cluster" after "opacity".

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "harness/runner/lab.hpp"

namespace iwf::harness {

// The instance that starts active (and that the failover kills): the one iwfd of the cluster
// that Lab does not hold itself.
struct ClusterMember {
    std::string name;
    std::string dir;  // DIR/<name>: iwfd.yaml, admin.port, iwfd.log
    std::string log;
    ChildProcess proc;
    std::uint16_t admin_port = 0;
    IwfdPorts ports;
    MemoryScan mem;
    std::mutex mem_mu;
    std::mutex alive_mu;  // held while it is sampled and when it is killed
    bool alive = false;
};

struct ClusterRun {
    ClusterRun() = default;
    ~ClusterRun();  // stops what is still running: the first instance, the throw-away server
    ClusterRun(const ClusterRun&) = delete;
    ClusterRun& operator=(const ClusterRun&) = delete;

    std::string name;     // iwfd's cluster.name: harness-<scenario>
    std::string store;    // the PostgreSQL URL (lease, keymap, message queue)
    std::string pg_dir;   // the throw-away server's directory (empty: --postgres URL)
    std::string pg_log;   // what postgres.sh printed (DIR/postgres.log)
    std::string pg_sh;    // tests/support/postgres.sh
    ClusterMember first;  // starts active
    std::string second;   // Lab::iwfd's instance name (starts standby)
    std::string second_dir;
    std::uint16_t second_admin = 0;

    // The failover step.
    std::optional<std::size_t> failover_step;
    std::int64_t kill_ns = 0;
    std::int64_t takeover_ns = 0;  // the standby reports `active`
    std::int64_t links_ns = 0;     // its links' ports are in its log
    std::int64_t relinked_ns = 0;  // every radio polled / logged in to it
    long epoch_before = 0;
    long epoch_after = 0;
    bool taken_over = false;
};

// The `cluster` object of an instance's /v1/status (empty when it does not answer).
nlohmann::json clusterStatus(std::uint16_t admin_port);
// A text field of that object ("role", "holder"); "" when it is absent or null.
std::string clusterField(const nlohmann::json& status, const char* key);
// A text field of that object ("role", "holder"); "" when it is absent or null.
std::string clusterField(const nlohmann::json& status, const char* key);
// The text of an instance's log file.
std::string clusterLogText(const std::string& path);

// Turns runner.cpp's plan into the cluster's (above).
void adaptPlanForCluster(std::vector<PlanStep>& plan);
// One memory sample of the cluster's instance(s) other than Lab::iwfd, while alive.
void scanClusterMembers(Lab& lab, const NeedleSet& snap, const std::atomic<bool>* cancel);
// Scenario step `failover` (timeline_steps.cpp calls it on the step's thread).
void failover(Lab& lab, std::size_t si);
// The instances' config: runner.cpp's (iwfdConfigYaml) with the PostgreSQL keymap store, a
// shared message store and iwfd's `cluster:` section with the scenario's lease timings.
std::string clusterConfigYaml(const Scenario& s, IwfdLinks links, const std::string& instance,
                              const std::string& dir, const std::string& store);

void stepStartPostgres(Lab& lab, StepLog& log);
void stepStartCluster(Lab& lab, StepLog& log);
void stepCheckFailover(Lab& lab, StepLog& log);
void stepStopCluster(Lab& lab, StepLog& log);
void stepClusterOpacity(Lab& lab, StepLog& log);

}  // namespace iwf::harness
