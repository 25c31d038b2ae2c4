#pragma once
// YAML import/export of the keymap (the operator's file; format in docs/keymap.md and
// configs/keymap.example.yaml).
//
// parseKeymapYaml() checks structure and field ranges and refuses anything that is or looks
// like key material; the semantic rules are validate()'s (validate.hpp). Both name the file,
// line and entry of what they refuse. Control plane: errors are ConfigError exceptions.

#include <optional>
#include <string>
#include <string_view>

#include "common/config_node.hpp"
#include "keymap/key_material.hpp"
#include "keymap/model.hpp"

namespace iwf::keymap {

// Throws ConfigError ("FILE:LINE:COL: field 'users[3].kmf_uri': ...").
Keymap parseKeymapYaml(const std::string& text, const std::string& file_name);
// Reads the file first; an unreadable file is a ConfigError with line 0.
Keymap loadKeymapYaml(const std::string& path);

// The same keymap as a YAML document parseKeymapYaml() reads back to an equal model.
std::string exportKeymapYaml(const Keymap& k);

// True if a field name reads like a key container ("key", "tek", "kek", "secret",
// "password", "psk", ... as a word of the name); "key_id" and "kid" are parameters, not keys.
bool looksLikeKeyFieldName(std::string_view name);

}  // namespace iwf::keymap
