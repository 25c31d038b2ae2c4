#include "common/bytes.hpp"

namespace iwf {

std::string toHex(ByteView v) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string s;
    s.reserve(v.size() * 2);
    for (std::uint8_t b : v) {
        s.push_back(kDigits[b >> 4]);
        s.push_back(kDigits[b & 0x0f]);
    }
    return s;
}

namespace {
int hexDigit(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}
}  // namespace

Result<Bytes> fromHex(std::string_view s) {
    if (s.size() >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        s.remove_prefix(2);
    }
    Bytes out;
    out.reserve(s.size() / 2);
    int hi = -1;
    for (std::size_t i = 0; i < s.size(); ++i) {
        char c = s[i];
        if (c == ' ' || c == ':' || c == '\n' || c == '\t' || c == '\r') {
            continue;
        }
        int d = hexDigit(c);
        if (d < 0) {
            return Error{"bad_hex_digit", static_cast<std::int64_t>(i)};
        }
        if (hi < 0) {
            hi = d;
        } else {
            out.push_back(static_cast<std::uint8_t>((hi << 4) | d));
            hi = -1;
        }
    }
    if (hi >= 0) {
        return Error{"odd_hex_length", static_cast<std::int64_t>(s.size())};
    }
    return out;
}

}  // namespace iwf
