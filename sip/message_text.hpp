#pragma once
// Text helpers the SIP message code shares (sip/message.cpp, sip/message_parse.cpp); internal
// to sip/, not part of the message API.

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace iwf::sip::detail {

inline std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return out;
}

inline bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

inline std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
        s.remove_suffix(1);
    }
    return s;
}

inline bool isToken(std::string_view s) {
    if (s.empty()) {
        return false;
    }
    return std::all_of(s.begin(), s.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) ||
               std::string_view("-.!%*_+`'~").find(c) != std::string_view::npos;
    });
}

inline std::optional<std::uint32_t> toU32(std::string_view s) {
    std::uint32_t v = 0;
    s = trim(s);
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size() || s.empty()) {
        return std::nullopt;
    }
    return v;
}

// Value of ";name=value" among the parameters of a header value (outside <> and quotes).
inline std::string paramOf(std::string_view value, std::string_view name) {
    bool in_quotes = false;
    int angle = 0;
    std::size_t i = 0;
    while (i < value.size()) {
        char c = value[i];
        if (c == '"') {
            in_quotes = !in_quotes;
        } else if (!in_quotes && c == '<') {
            ++angle;
        } else if (!in_quotes && c == '>') {
            --angle;
        } else if (!in_quotes && angle == 0 && c == ';') {
            auto end = value.find(';', i + 1);
            std::string_view p = value.substr(
                i + 1, end == std::string_view::npos ? std::string_view::npos : end - i - 1);
            auto eq = p.find('=');
            std::string_view n = trim(p.substr(0, eq));
            if (iequals(n, name)) {
                return eq == std::string_view::npos ? std::string()
                                                    : std::string(trim(p.substr(eq + 1)));
            }
        }
        ++i;
    }
    return {};
}

}  // namespace iwf::sip::detail
