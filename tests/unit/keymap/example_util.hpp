#pragma once
// Helpers: the committed example keymap and text edits of it (each test breaks one rule).
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "keymap/yaml_import.hpp"

namespace iwf::keymap::test {

inline std::string examplePath() {
    return std::string(IWF_SOURCE_ROOT) + "/configs/keymap.example.yaml";
}

inline std::string exampleText() {
    std::ifstream in(examplePath());
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// Replaces the first occurrence of `from` (which must exist) with `to`.
inline std::string edit(std::string text, const std::string& from, const std::string& to) {
    auto pos = text.find(from);
    EXPECT_NE(pos, std::string::npos) << "not in the example: " << from;
    if (pos != std::string::npos) {
        text.replace(pos, from.size(), to);
    }
    return text;
}

// 1-based line of the first occurrence of `needle`.
inline int lineOf(const std::string& text, const std::string& needle) {
    auto pos = text.find(needle);
    if (pos == std::string::npos) {
        return -1;
    }
    int line = 1;
    for (std::size_t i = 0; i < pos; ++i) {
        line += text[i] == '\n' ? 1 : 0;
    }
    return line;
}

inline Keymap exampleKeymap() {
    return parseKeymapYaml(exampleText(), "keymap.example.yaml");
}

}  // namespace iwf::keymap::test
