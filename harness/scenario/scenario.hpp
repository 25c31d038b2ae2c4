#pragma once
// Scenario files (tests/interop/scenarios/*.yaml): who talks, when, in which group, with
// which keys, and the expected outcome. Format reference: docs/harness.md "Scenario format".
// Key material lives ONLY here: the runner derives iwfd's config and keymap from the
// parameters (ALGID, key ID, modes) and never writes a key into either.
//
// Parsing is control plane: errors are ConfigError naming file, line and field.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/bytes.hpp"
#include "common/config_node.hpp"
#include "common/ids.hpp"
#include "harness/crypto/p25_crypto.hpp"

namespace iwf::harness {

struct ScenarioKey {
    std::string name;
    LmrFamily family = LmrFamily::P25;
    std::uint16_t algid = 0x84;
    std::uint32_t key_id = 0;
    Aes256Key key{};
};

struct ScenarioGroup {
    std::string mc_group;  // sip:...
    LmrFamily family = LmrFamily::P25;
    std::uint32_t lmr_group = 0;  // P25 TGID / DMR talkgroup
    std::string home = "lmr";     // lmr | mc (where the group is homed: arbitration)
    std::string mode = "secure";  // secure | clear | mixed
    std::string key;              // ScenarioKey name (secure / mixed); empty for clear
};

struct ScenarioRadio {
    std::string name;
    LmrFamily family = LmrFamily::P25;
    std::uint32_t unit = 0;
    std::string mc_id;  // the MC identity iwfd presents for this radio
};

struct ScenarioClient {
    std::string name;
    std::string mc_id;
    std::vector<std::string> groups;
    std::vector<std::string> keys;
};

// Failover: SIGKILL the active iwfd of the scenario's cluster; the standby must take over
// (harness/runner/cluster_steps.cpp).
// Gmk: the GMS gives iwfd a GMK (a GKTP in a group document) and the MC system its GMKs
// (harness/runner/srtp_steps.cpp, docs/harness.md "SRTP").
enum class StepAction { Talk, Press, Sds, Kmm, KeymapUpdate, WaitFor, Failover, Gmk };

struct ScenarioExpect {
    std::string outcome = "granted";  // granted | denied | queued | preempted | delivered
    std::string reason;               // expected deny/refusal reason (substring)
    std::vector<std::string> receivers;
    std::optional<std::string> call_state;  // encrypted | clear (mixed groups)
    bool report_wait = false;               // late entry: the wait must be reported
    bool report_loss = false;               // loss must be reported, nothing altered
};

struct ScenarioStep {
    std::chrono::milliseconds at{0};   // from the start of the time line, or from `after`'s end
    std::optional<std::size_t> after;  // start `at` after the end of this (earlier) step
    std::string who;                   // radio or client name ("" for keymap_update)
    StepAction action = StepAction::Talk;
    std::string group;  // mc_group
    std::string to;     // sds/kmm destination (client or radio name)
    bool encrypted = true;
    std::string key;  // ScenarioKey name used for this transmission
    std::uint32_t superframes = 3;
    std::string priority = "normal";  // normal | emergency | imminent_peril
    double loss = 0.0;                // LMR-side random loss (0..0.5)
    std::uint64_t loss_seed = 1;
    std::string text;                        // sds text (a canary is appended)
    std::string new_key;                     // keymap_update: the key the group switches to
    std::chrono::milliseconds join_late{0};  // a client joining this long after the start
    std::string late_client;
    // wait_for: iwfd's /metrics family `metric` (summed over the label sets containing every
    // `labels` text) must reach >= at_least / <= at_most within `timeout`.
    std::string metric;
    std::vector<std::string> labels;
    std::optional<double> at_least;
    std::optional<double> at_most;
    std::chrono::milliseconds timeout{10000};
    // gmk: `key` names the GMK the GMS sends iwfd, `mc_keys` the GMKs the MC system holds from
    // then on (oldest first; default: `key`), `activation` delays the GMK's activation time
    // (E.6) from the moment it is sent.
    std::vector<std::string> mc_keys;
    std::chrono::milliseconds activation{0};
    ScenarioExpect expect;
};

// `media_protection` (docs/harness.md "SRTP"): TS 33.180 SRTP on IWF-1. The runner starts the
// KMS simulator, iwfd's mcptt-iwf1 link fetches its identity there and requires SRTP for
// `required` groups; the GMKs (purpose tag 0 in gmk_id) are sent by `gmk` steps.
struct ScenarioGmk {
    std::string name;
    Bytes key;  // 16 octets
    std::uint32_t gmk_id = 0;
};

struct ScenarioMediaProtection {
    std::vector<std::string> required;  // mc_groups
    std::vector<ScenarioGmk> gmks;
    const ScenarioGmk* gmk(const std::string& n) const;
};

// `cluster:` (docs/harness.md "Failover"): two iwfd instances in one cluster sharing a
// PostgreSQL store; the first is started first and becomes the active one. The lease timings
// are iwfd's `cluster:` settings (short ones keep a run to seconds).
struct ScenarioCluster {
    std::vector<std::string> instances;  // exactly two `instance` names
    std::chrono::milliseconds renew_period{200};
    std::chrono::milliseconds lease_expiry{1500};
    std::chrono::milliseconds safety_margin{300};
};

struct Scenario {
    std::string name;
    std::string description;
    std::string file;
    std::vector<ScenarioKey> keys;
    std::vector<ScenarioGroup> groups;
    std::vector<ScenarioRadio> radios;
    std::vector<ScenarioClient> clients;
    std::vector<ScenarioStep> steps;
    std::optional<ScenarioCluster> cluster;
    std::optional<ScenarioMediaProtection> media_protection;

    const ScenarioKey* key(const std::string& n) const;
    const ScenarioGroup* group(const std::string& mc_group) const;
    const ScenarioRadio* radio(const std::string& n) const;
    const ScenarioClient* client(const std::string& n) const;
};

// Throws ConfigError (file, line, field) on any error, including cross references
// (unknown key, group, radio or client; a key whose family does not match its group).
Scenario parseScenario(const ConfigNode& root);
Scenario loadScenario(const std::string& path);
// The `cluster` section of `root` (scenario_cluster.cpp); nullopt when there is none.
std::optional<ScenarioCluster> parseScenarioCluster(const ConfigNode& root);
// The `media_protection` section (scenario_srtp.cpp); nullopt when there is none.
std::optional<ScenarioMediaProtection> parseScenarioMediaProtection(const ConfigNode& root,
                                                                    const Scenario& s);
// A `gmk` step's fields (scenario_srtp.cpp): its keys named in `media_protection`.
void parseGmkStep(const ConfigNode& st, const Scenario& s, ScenarioStep& step);

std::string toString(StepAction a);

}  // namespace iwf::harness
