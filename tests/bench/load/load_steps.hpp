#pragma once
// The steps of iwf_load, one N (stream count) each; every one returns its JSON row and throws
// std::runtime_error when it cannot run.
#include <nlohmann/json.hpp>

#include "tests/bench/load/load_common.hpp"

namespace iwf::bench {

// step_relay.cpp: relaying through iwf_relay or iwfd's reflector path (P25 / DMR / mix).
nlohmann::json runStep(const Options& o, unsigned n, const fs::path& workdir);
// step_relay.cpp: --protocol dmr --target relay --dmr-peers K.
nlohmann::json runDmrRelayStep(const Options& o, unsigned n, const fs::path& workdir);
// step_mc.cpp: --mc (and --mc --idle-calls): P25 LMR -> MC through the engine.
nlohmann::json runMcStep(const Options& o, unsigned n, const fs::path& workdir);
// step_mc.cpp: --protocol dmr --target iwfd --mc.
nlohmann::json runDmrMcStep(const Options& o, unsigned n, const fs::path& workdir);
// step_mc_talk.cpp: --mc-talk (MC -> LMR; --target iwfd or relay, --protocol p25 or dmr).
nlohmann::json runMcTalkStep(const Options& o, unsigned n, const fs::path& workdir);
// step_idle.cpp: --idle-calls.
nlohmann::json runIdleStep(const Options& o, unsigned n, const fs::path& workdir);

}  // namespace iwf::bench
