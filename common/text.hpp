#pragma once
// ASCII text helpers for the protocol parsers (SDP, SIP header values, YAML keys): no locale,
// byte for byte, so a parser reads the same on every machine.

#include <algorithm>
#include <string>
#include <string_view>

namespace iwf::text {

// `s` in ASCII lower case (bytes outside A-Z unchanged).
inline std::string lowerAscii(std::string_view s) {
    std::string out(s);
    for (auto& c : out) {
        if (c >= 'A' && c <= 'Z') {
            c = static_cast<char>(c - 'A' + 'a');
        }
    }
    return out;
}

// Equal ignoring ASCII case.
inline bool iequalsAscii(std::string_view a, std::string_view b) {
    const auto fold = [](char c) {
        return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
    };
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                              [&](char x, char y) { return fold(x) == fold(y); });
}

// `s` without the characters of `chars` at either end.
inline std::string_view trimChars(std::string_view s, std::string_view chars) {
    while (!s.empty() && chars.find(s.front()) != std::string_view::npos) {
        s.remove_prefix(1);
    }
    while (!s.empty() && chars.find(s.back()) != std::string_view::npos) {
        s.remove_suffix(1);
    }
    return s;
}

}  // namespace iwf::text
