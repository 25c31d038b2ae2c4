#pragma once
// The real iwfd and the simulated MC system for the peer interop tests: iwfd runs as a child
// process on 127.0.0.1 with the configuration and keymap the interop harness derives from a
// scenario (harness/runner keymapYaml / iwfdConfigYaml: a p25-records link, a dmr-hbp-master
// link, an mcptt-iwf1 link toward the MC system; ports bound to 0 and read back from its
// log); the MC system is the harness's (SIP UA,
// X-IWF-LMR RTP, floor, clients that decrypt with their own keys).

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "harness/runner/runner.hpp"
#include "harness/scenario/scenario.hpp"
#include "harness/sim/mc_system.hpp"
#include "tests/integration/support/iwfd_process.hpp"

namespace iwf::test::peers {

class PeersEnv {
  public:
    // Imports the scenario's keymap, starts the MC system and iwfd; false (with the reason in
    // error()) when something could not start. `edit` may change iwfd's generated
    // configuration first (e.g. add a link the harness does not generate).
    bool start(const harness::Scenario& sc,
               const std::function<std::string(std::string)>& edit = {});
    ~PeersEnv();

    std::uint16_t p25Port() const { return ports_.p25_records; }
    std::uint16_t dmrPort() const { return ports_.dmr_master; }
    harness::McSystem& mc() { return *mc_; }
    IwfdProcess& iwfd() { return iwfd_; }
    // Sum of every series of `name` whose labels contain all of `needles` (0 when none).
    double metric(const std::string& name, const std::vector<std::string>& needles = {});
    const std::string& error() const { return error_; }

  private:
    TempDir dir_;
    IwfdProcess iwfd_;
    harness::IwfdPorts ports_;
    std::unique_ptr<harness::McSystem> mc_;
    std::string error_;
};

// Drives `step` (the fakes' clock) every few milliseconds until `done` or the deadline.
bool runUntil(const std::function<void(std::int64_t)>& step, const std::function<bool()>& done,
              std::chrono::milliseconds timeout);

// A scenario with one key per family and the groups, radios and clients the tests use:
//   fire-ops  P25 TG 100, LMR-homed, secure, AES-256 (0x84) key 0x0101 ("fire-k1")
//   city-ops  DMR TG 91,  LMR-homed, clear
//   radios:   p25 unit 1001, dmr unit 3120097; clients alice and bob in both groups.
harness::Scenario peersScenario();

}  // namespace iwf::test::peers
