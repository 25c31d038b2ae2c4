#pragma once
// One `iwf-harness run` as a plan of named steps (docs/harness.md "How a run is composed").
//
//  - `Lab` is what the steps share: the scenario, the processes (iwfd, dumpcap), the MC
//    simulator, the radios' sockets, the opacity needles, and what the timeline recorded.
//  - `StepLog` is one step's record in the report: its name, when it ran, what it noted and
//    its failures. Every failure is reported as "<step name>: <why>", so a failed run names
//    the step that found the problem.
//  - A step either completes (with or without failures: the run goes on and fails at the
//    end) or cannot run (`StepLog::abort`: iwfd did not start, ...): the plan stops there,
//    and the run exits 2 naming the step.
//  - Waits are on an event or a counter with a deadline (`waitUntil`), never a fixed sleep;
//    the only sleeps are the scenario's own time line (a step's `at`) and real-time pacing
//    (one P25 record per 20 ms, one DMR burst per 60 ms).
//
// The steps themselves: setup_steps.cpp, timeline_steps.cpp, data_step.cpp, check_steps.cpp,
// finish_steps.cpp; runner.cpp composes them.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/opacity/scanner.hpp"
#include "harness/runner/checks.hpp"
#include "harness/runner/process.hpp"
#include "harness/runner/radio_port.hpp"
#include "harness/runner/runner.hpp"
#include "harness/scenario/scenario.hpp"
#include "harness/sim/kms_sim.hpp"
#include "harness/sim/mc_system.hpp"

namespace iwf::harness {

struct ClusterRun;  // a scenario's two iwfd instances and their store (cluster.hpp)

using Clock = std::chrono::steady_clock;

// Polls `done` every `poll` until it is true (returns true) or `deadline` passes (false).
bool waitUntil(Clock::time_point deadline, std::chrono::milliseconds poll,
               const std::function<bool()>& done);

// One step's record (report.json "steps[]").
struct StepLog {
    std::string name;
    double start_ms = 0;  // from the start of the run
    double end_ms = 0;
    std::vector<std::string> notes;     // what it did or observed (waits: how long, why)
    std::vector<std::string> failures;  // each becomes "<name>: <failure>" in the run's list
    std::string abort;                  // could not run: the plan stops here
    std::vector<StepLog> children;      // the timeline's scenario steps
    void note(std::string s) { notes.push_back(std::move(s)); }
    void fail(std::string s) { failures.push_back(std::move(s)); }
    nlohmann::json toJson() const;
};

struct ReceiverTally {
    std::size_t expected = 0;
    std::size_t received = 0;
    std::size_t decrypted_ok = 0;
};

// One scenario step's row in the report's call table.
struct CallRecord {
    std::size_t step = 0;
    std::string who;
    std::string action;
    std::string expected;
    std::string outcome = "not observed";
    double start_ms = 0;
    double end_ms = 0;
    std::size_t sent = 0;
    std::size_t dropped_by_harness = 0;
    std::map<std::string, ReceiverTally> receivers;
    nlohmann::json events = nlohmann::json::array();
    bool pass = false;
};

// One transmission (a radio's or an MC client's): what it sent, for the far-end checks.
struct Transmission {
    std::size_t step = 0;
    std::string sender;
    LmrFamily family = LmrFamily::P25;
    bool from_radio = true;
    std::uint8_t tag = 0;
    std::uint16_t nonce = 0;
    std::map<FrameKey, SentFrame> sent;
    std::set<FrameKey> dropped;
    std::int64_t start_ns = 0;
    std::int64_t end_ns = 0;
};

// What a scenario step did on the time line (filled by its timeline step, read by its check).
struct StepRun {
    StepLog log;  // "step N (action who)"
    CallRecord rec;
    std::optional<Transmission> tx;
    std::int64_t join_ns = 0;  // late client: when it joined
    std::string join_result;
    std::string mc_outcome;
    std::string mc_reason;
    bool done = false;  // the step has ended (a later step may start `after` it)
};

// iwfd's memory, sampled while it runs.
struct MemoryScan {
    std::uint64_t canary = 0;
    std::uint64_t key = 0;
    std::uint64_t bytes = 0;
    std::uint64_t samples = 0;
    std::vector<std::string> found;
};

struct Lab {
    Lab(const RunOptions& o, std::ostream& out_stream, Scenario s, std::string out_dir);
    ~Lab();  // stops whatever is still running (scanner thread, iwfd, MC simulator, dumpcap)
    Lab(const Lab&) = delete;
    Lab& operator=(const Lab&) = delete;

    const RunOptions& opt;
    std::ostream& out;
    const Scenario sc;
    const std::string dir;
    const Clock::time_point wall_start = Clock::now();
    nlohmann::json report;
    std::vector<StepLog> logs;  // the plan's steps, in order, once each has ended

    // setup
    std::unique_ptr<McSystem> mc;
    IwfdLinks links;
    IwfdPorts ports;
    ChildProcess capture;
    bool capturing = false;
    std::string pcap;
    ChildProcess iwfd;
    std::string iwfd_log;
    std::uint16_t admin_port = 0;
    std::map<std::string, std::unique_ptr<RadioPort>> radio_ports;
    std::map<std::string, bool> dmr_logged_in;
    std::mutex login_mu;
    // Scenarios with a `cluster` section: `iwfd` above is the standby that takes over, the
    // active instance that the failover kills and the PostgreSQL store are here.
    std::unique_ptr<ClusterRun> cluster;
    // Scenarios with `media_protection` (srtp_steps.cpp): the KMS iwfd and the GMS share, and
    // the RAND of each GMK (one per GMK name for the run: iwfd's and the MC side's copies of a
    // GMK must derive the same SRTP keys).
    std::unique_ptr<KmsSimulator> kms;
    KmsSimConfig kms_cfg;
    std::map<std::string, Bytes> gmk_rand;
    std::mutex gmk_mu;

    // opacity
    NeedleSet needles;  // keys, and canaries as the senders transmit them
    std::mutex needles_mu;
    NeedleSet witnesses;  // datagrams the radios sent: the capture must hold them
    std::mutex witness_mu;
    MemoryScan mem;
    std::mutex mem_mu;
    std::thread scanner;
    std::atomic<bool> scanner_stop{false};
    std::mutex scanner_mu;
    std::condition_variable scanner_cv;

    // the time line
    Clock::time_point t0 = Clock::now();  // reset once the radios are linked
    std::int64_t t0_ns = 0;
    std::atomic<std::uint16_t> nonce{0};
    std::atomic<std::uint8_t> next_tag{1};
    std::vector<StepRun> runs;
    std::mutex runs_mu;  // StepRun::done
    std::condition_variable runs_cv;

    // after the time line
    std::string metrics_after;
    nlohmann::json latency = nlohmann::json::array();
    std::vector<CallRecord> calls;

    // Milliseconds since the time line started (call records, events) / since the run started
    // (step logs).
    double ms() const {
        return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    }
    double wallMs() const {
        return std::chrono::duration<double, std::milli>(Clock::now() - wall_start).count();
    }
    // The needles so far plus the MC side's canaries.
    NeedleSet needleSnapshot();
    // One sample of iwfd's memory for every needle so far; a sample that `cancel` interrupts
    // is not counted.
    void scanMemoryOnce(const std::atomic<bool>* cancel = nullptr);
    // The keymap store iwfd and `iwfctl keymap import` use: sqlite:DIR/keymap.db, or the
    // cluster's PostgreSQL.
    std::string keymapStore() const;
    // LMR unit of a client in the generated keymap (same order as keymapYaml).
    std::uint32_t clientUnit(const std::string& name) const;
    // A DMR radio (repeater) logs in to iwfd's HBP master: RPTL, salt, RPTK, RPTC.
    bool dmrLogin(const ScenarioRadio& radio, RadioPort& port);
};

// A named step of the plan.
struct PlanStep {
    std::string name;
    std::function<void(Lab&, StepLog&)> run;
};

// Runs the steps in order, each recorded in lab.logs; stops at the first that aborts.
// Returns the abort message ("<step>: <why>"), empty when every step ran.
std::string runPlan(Lab& lab, const std::vector<PlanStep>& plan);
// Every failure of every step so far, as "<step name>: <failure>", in plan order.
std::vector<std::string> failuresOf(const Lab& lab);

// ---- the steps (the plan runner.cpp composes from the scenario) --------------------------

// setup_steps.cpp
void stepScannerSelfTest(Lab& lab, StepLog& log);
void stepStartMcSystem(Lab& lab, StepLog& log);
void stepImportKeymap(Lab& lab, StepLog& log);
void stepStartCapture(Lab& lab, StepLog& log);
void stepStartIwfd(Lab& lab, StepLog& log);
void stepStartMemoryScanner(Lab& lab, StepLog& log);
void stepLinkRadios(Lab& lab, StepLog& log);
// srtp_steps.cpp: the KMS simulator (HTTPS on 127.0.0.1, a certificate generated for the run)
// before iwfd starts; a `gmk` step (GKTP to iwfd, GMKs to the MC system).
void stepStartKms(Lab& lab, StepLog& log);
void gmkStep(Lab& lab, std::size_t si);
// A radio links to iwfd's current ports (a P25 peer polls, a DMR repeater logs in) on its own
// socket; empty when it did, else why not.
std::string linkRadio(Lab& lab, const ScenarioRadio& radio);
// `what` and 16 random bytes: a marker datagram no scenario sends.
Bytes markerBytes(const std::string& what);
// Sends `marker` to a loopback port every 200 ms until the capture file holds it (dumpcap
// writes its file in batches, about every 0.5 s) or `deadline` passes.
bool captureHolds(Lab& lab, const Bytes& marker, Clock::time_point deadline);

// timeline_steps.cpp: every scenario step on its own thread, each at its `at` (or `at` after
// the end of the step it runs `after`); steps overlap.
void stepTimeline(Lab& lab, StepLog& log);
// The name of scenario step i in failures and in the report: "step 3 (talk radio-1)".
std::string scenarioStepName(const Scenario& sc, std::size_t i);
void radioTalk(Lab& lab, std::size_t si);
void clientTalk(Lab& lab, std::size_t si);
void keymapUpdate(Lab& lab, std::size_t si);
void waitForMetric(Lab& lab, std::size_t si);
// data_step.cpp: SDS / KMM through iwfd, either way.
void dataMessage(Lab& lab, std::size_t si);

// check_steps.cpp
// What each expected receiver got of scenario step si's transmission.
std::map<std::string, std::vector<RxFrame>> framesOf(Lab& lab, std::size_t si,
                                                     const std::vector<McRxRecord>& mc_rx);
// True when every expected receiver of every transmission has every frame it should have and
// every counter expectation holds in `metrics` (what "wait-for delivery" waits for).
bool everythingDelivered(Lab& lab, const std::string& metrics);
void stepWaitForDelivery(Lab& lab, StepLog& log);
void stepCollectMetrics(Lab& lab, StepLog& log);
// What an MC system of another vendor would refuse in iwfd's requests (schemas, service
// headers: harness/conformance): each violation fails the run.
void stepMcConformance(Lab& lab, StepLog& log);
void checkScenarioStep(Lab& lab, std::size_t si, StepLog& log);

// finish_steps.cpp
void stepStopIwfd(Lab& lab, StepLog& log);
void stepStopCapture(Lab& lab, StepLog& log);
void stepOpacity(Lab& lab, StepLog& log);
// One row of report.json "opacity" for a file scanned for every needle (null when it cannot be
// read: a failure in `log`); its hits are added to the totals, and any hit fails `log`.
nlohmann::json opacityFileRow(const NeedleSet& needles, const std::string& source,
                              const std::string& path, StepLog& log, std::uint64_t& canaries,
                              std::uint64_t& keys);
// Writes report.json / report.html and the summary on lab.out; returns the exit code.
int writeReport(Lab& lab);

// One memory sample of process `pid` for `snap`, added to `into` (under `mu`); a sample that
// fails (the process is gone) or that `cancel` interrupts is not counted.
void scanInto(MemoryScan& into, std::mutex& mu, const NeedleSet& snap, int pid,
              const std::atomic<bool>* cancel);

// Prometheus text helpers on top of metricTotal (admin_client.hpp).
double metricSum(const std::string& text, const std::string& name,
                 const std::vector<std::string>& needles = {});
std::vector<std::string> metricLabels(const std::string& text, const std::string& name,
                                      const std::string& label);

}  // namespace iwf::harness
