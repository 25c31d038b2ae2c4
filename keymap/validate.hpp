#pragma once
// The keymap rules (docs/keymap.md "Validation"). A change that breaks any rule is refused
// as a whole; every finding names the file, line and entry and says why.

#include <string>
#include <vector>

#include "keymap/model.hpp"

namespace iwf::keymap {

struct Finding {
    std::string file;
    int line = 0;       // 0 when the model did not come from a file
    std::string entry;  // "group sip:fire@iwf.example", "user sip:u1@...", "system p25-north"
    std::string rule;   // short rule name: "algid", "key_id_width", "member_not_authorised", ...
    std::string message;
    std::string toString() const;  // "FILE:LINE: ENTRY: MESSAGE [RULE]"
};

// All findings, in file order (empty = valid).
std::vector<Finding> validate(const Keymap& k);

}  // namespace iwf::keymap
