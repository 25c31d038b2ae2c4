#pragma once
// iwfctl's live operations over iwfd's admin API (docs/operations.md): status, links, calls
// [--watch], call show ID, peers, refusals, reload. Human tables by default, --json for
// scripts; exit codes in admin_client.hpp and the README's "iwfctl exit codes" table.

namespace CLI {
class App;
}

namespace iwf::ops {

void addOpsCommands(CLI::App& app);

}  // namespace iwf::ops
