#pragma once
// Entry-level difference between two keymaps (what a revision changed).

#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "keymap/model.hpp"

namespace iwf::keymap {

struct Change {
    enum class Kind { Added, Removed, Changed };
    Kind kind = Kind::Changed;
    std::string entity;  // "system", "user", "group", "adhoc_rule", "setting"
    std::string id;      // system id, MC ID, MC group ID, rule id, setting name
    // For Changed: one "field: old -> new" per changed field.
    std::vector<std::string> fields;
};

std::vector<Change> diff(const Keymap& from, const Keymap& to);
// One line per change: "+ user sip:a@x", "- group sip:g@x", "~ group sip:g@x: mode: ...".
std::string renderDiff(const std::vector<Change>& changes);
nlohmann::json diffToJson(const std::vector<Change>& changes);
// "2 added, 1 changed, 0 removed"
std::string diffSummary(const std::vector<Change>& changes);

}  // namespace iwf::keymap
