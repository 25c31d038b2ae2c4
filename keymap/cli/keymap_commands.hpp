#pragma once
// iwfctl keymap ... (docs/keymap.md "iwfctl keymap"). Exit codes: 0 ok, 1 refused by
// validation, 2 usage or I/O error.

namespace CLI {
class App;
}

namespace iwf::keymap {

void addKeymapCommands(CLI::App& app);

}  // namespace iwf::keymap
