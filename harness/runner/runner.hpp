#pragma once
// `iwf-harness run SCENARIO.yaml --out DIR`: generates iwfd's config and keymap from the
// scenario (parameters only: ALGID, key ID, modes; never a key), imports the keymap with
// `iwfctl keymap import` into DIR/keymap.db, starts a loopback capture (dumpcap, filtered
// on the scenario's ports) and iwfd, drives the simulated radios over real sockets on
// 127.0.0.1, scans iwfd's memory while it runs and its log and the capture afterwards for
// every canary and key, and writes DIR/report.json and DIR/report.html.
//
// Verdict: pass only when the scanner self-test passed, every opacity count is 0, the
// capture demonstrably saw the scenario's traffic, and every step's expectation held
// (frame-by-frame decryption at each expected receiver, outcome, reason).

#include <cstdint>
#include <ostream>
#include <string>

#include "harness/scenario/scenario.hpp"

namespace iwf::harness {

struct RunOptions {
    std::string scenario;
    std::string out_dir;
    std::string iwfd = "iwfd";
    std::string iwfctl = "iwfctl";
    std::string dumpcap = "dumpcap";
};

struct GeneratedPorts {
    std::uint16_t p25_records = 0;
    std::uint16_t dmr_master = 0;
    std::uint16_t mc_sip = 0;      // iwfd's mcptt-iwf1 listener (0 = no MC link)
    std::uint16_t mc_peer = 0;     // the simulated MC system's SIP port
    std::uint16_t mcdata_sip = 0;  // iwfd's mcdata-iwf2 listener (0 = no MCData link)
};

// The keymap (iwfctl keymap import format): systems, users for radios and clients, groups
// with mode / ALGID / key ID. `revision_keys` overrides a group's key (keymap_update).
std::string keymapYaml(const Scenario& s,
                       const std::vector<std::pair<std::string, std::string>>& group_key = {});
std::string iwfdConfigYaml(const Scenario& s, const GeneratedPorts& ports,
                           const std::string& out_dir);
inline constexpr char kHarnessHbpPassword[] = "harness-lab";
inline constexpr std::uint32_t kHarnessHbpMasterId = 9990;
// The P25 system of the simulated radios: the keymap's system and the p25-records link agree.
inline constexpr std::uint32_t kHarnessP25Wacn = 0xBEE00;
inline constexpr std::uint32_t kHarnessP25System = 0x001;
// LMR unit IDs given to the scenario's MC clients in the generated keymap (9901, 9902, ...).
inline constexpr std::uint32_t kHarnessClientUnitBase = 9901;

// 0 = pass, 1 = fail (report written), 2 = could not run (message on `err`).
int runScenario(const RunOptions& opt, std::ostream& out, std::ostream& err);

}  // namespace iwf::harness
