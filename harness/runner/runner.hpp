#pragma once
// `iwf-harness run SCENARIO.yaml --out DIR`: generates iwfd's config and keymap from the
// scenario (parameters only: ALGID, key ID, modes; never a key), imports the keymap with
// `iwfctl keymap import` into DIR/keymap.db, starts a loopback capture (dumpcap) and iwfd,
// drives the simulated radios and MC clients over real sockets on 127.0.0.1, scans iwfd's
// memory while it runs and its log and the capture afterwards for every canary and key, and
// writes DIR/report.json and DIR/report.html.
//
// A run is a plan of named steps (harness/runner/plan.hpp): setup steps, one timeline step per
// scenario step (talk, press, sds, kmm, keymap_update, wait_for), wait-for steps, one check
// step per scenario step, opacity and report. The scenario decides which of them run
// (docs/harness.md "How a run is composed"); every failure names the step that found it.
//
// Verdict: pass only when the scanner self-test passed, every opacity count is 0, the
// capture demonstrably saw the scenario's traffic, and every step's expectation held
// (frame-by-frame decryption at each expected receiver, outcome, reason).

#include <chrono>
#include <cstdint>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "harness/scenario/scenario.hpp"

namespace iwf::harness {

struct RunOptions {
    std::string scenario;
    std::string out_dir;
    std::string iwfd = "iwfd";
    std::string iwfctl = "iwfctl";
    std::string dumpcap = "dumpcap";
    // Scenarios with a `cluster` section: the PostgreSQL the instances share. Empty: a
    // throw-away server started in a fresh /tmp/iwf-harness-pg-* directory with
    // `postgres_sh start` (Debian's postgresql-15 binaries) and stopped at the end of the run.
    std::string postgres;
    std::string postgres_sh = "tests/support/postgres.sh";
};

// Which links iwfd gets, and where its MC links' peer (the MC simulator) listens. Every port
// iwfd binds is 0: the runner reads the ports back from iwfd's log (IwfdPorts below).
struct IwfdLinks {
    bool mcptt = false;          // a mcptt-iwf1 link (the scenario has voice steps)
    bool mcdata = false;         // a mcdata-iwf2 link (the scenario has sds / kmm steps)
    std::uint16_t mc_peer = 0;   // the simulated MC system's SIP port
    std::uint16_t admin = 0;     // iwfd's admin port (0: any; `iwf-harness demo` sets one)
    std::string instance{};      // iwfd's `instance` (empty: harness-<scenario>)
    std::string keymap_store{};  // iwfd's keymap store (empty: sqlite:<out_dir>/keymap.db)
    // `media_protection` scenarios: the KMS simulator iwfd's mcptt-iwf1 link fetches its
    // MIKEY-SAKKE identity from (https URL, its KmsUri, the CA file, the 0600 token file).
    std::string kms_url{};
    std::string kms_uri{};
    std::string kms_ca_file{};
    std::string kms_token_file{};
    std::string mc_key_file{};  // media_protection.key_file: the CSK of floor control (0600)
};

// The ports iwfd's links bound (port 0 in the config), as its log states them.
struct IwfdPorts {
    std::uint16_t p25_records = 0;
    std::uint16_t dmr_master = 0;
    std::uint16_t mc_sip = 0;      // mcptt-iwf1 SIP listener (0 = no such link)
    std::uint16_t mcdata_sip = 0;  // mcdata-iwf2 SIP listener (0 = no such link)
};

// The keymap (iwfctl keymap import format): systems, users for radios and clients, groups
// with mode / ALGID / key ID. `group_key` overrides a group's key (keymap_update).
std::string keymapYaml(const Scenario& s,
                       const std::vector<std::pair<std::string, std::string>>& group_key = {});
std::string iwfdConfigYaml(const Scenario& s, const IwfdLinks& links, const std::string& out_dir);
// The port of each link from iwfd's log text ("link=harness-p25 listening port=P",
// "link=harness-dmr role=master port=P", "stack=harness-mc listener=udp:127.0.0.1:P"); a
// port not (yet) in the log is 0.
IwfdPorts iwfdPortsFromLog(const std::string& log_text);
// True when every port `links` calls for is known.
bool complete(const IwfdPorts& p, const IwfdLinks& links);

inline constexpr char kHarnessHbpPassword[] = "harness-lab";
inline constexpr std::uint32_t kHarnessHbpMasterId = 9990;
// The P25 system of the simulated radios: the keymap's system and the p25-records link agree.
inline constexpr std::uint32_t kHarnessP25Wacn = 0xBEE00;
inline constexpr std::uint32_t kHarnessP25System = 0x001;
// LMR unit IDs given to the scenario's MC clients in the generated keymap (9901, 9902, ...).
inline constexpr std::uint32_t kHarnessClientUnitBase = 9901;

// 0 = pass, 1 = fail (report written), 2 = could not run (message on `err`).
int runScenario(const RunOptions& opt, std::ostream& out, std::ostream& err);

// `iwf-harness demo` (harness/runner/demo.cpp): iwfd with the simulated MC system and radios,
// the scenario's time line repeated in rounds until Ctrl-C / SIGTERM or `duration`, each round
// checked and scanned for its canaries. Exit codes as runScenario.
struct DemoOptions {
    RunOptions run;                    // scenario, out_dir, binaries
    std::uint16_t admin_port = 9100;   // iwfd's admin API (0: any, read from DIR/admin.port)
    std::chrono::seconds duration{0};  // 0: until Ctrl-C
    bool capture = false;              // dumpcap on loopback (DIR/capture.pcapng), scanned
};
int runDemo(const DemoOptions& opt, std::ostream& out, std::ostream& err);

}  // namespace iwf::harness
