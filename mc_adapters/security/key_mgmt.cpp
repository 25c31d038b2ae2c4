#include "mc_adapters/security/key_mgmt.hpp"

#include <openssl/evp.h>

namespace iwf::mc::security {

namespace {

bool isBase64Char(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
}

}  // namespace

std::string base64Encode(ByteView v) {
    std::string out(4 * ((v.size() + 2) / 3), '\0');
    if (!v.empty()) {
        // EVP_EncodeBlock writes 4 characters per 3 octets (padded) and a NUL.
        std::string buf(out.size() + 1, '\0');
        const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(buf.data()), v.data(),
                                      static_cast<int>(v.size()));
        out.assign(buf.data(), static_cast<std::size_t>(n));
    }
    return out;
}

Result<Bytes> base64Decode(std::string_view s) {
    // RFC 4648 §4: groups of 4 characters, at most two '=' and only at the end.
    if (s.size() % 4 != 0) {
        return Error{"key_mgmt_bad_base64"};
    }
    std::size_t pad = 0;
    while (pad < 2 && pad < s.size() && s[s.size() - 1 - pad] == '=') {
        ++pad;
    }
    for (std::size_t i = 0; i + pad < s.size(); ++i) {
        if (!isBase64Char(s[i])) {
            return Error{"key_mgmt_bad_base64"};
        }
    }
    if (s.empty()) {
        return Bytes{};
    }
    Bytes out(s.size() / 4 * 3);
    const int n = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(s.data()),
                                  static_cast<int>(s.size()));
    if (n < 0 || static_cast<std::size_t>(n) != out.size()) {
        return Error{"key_mgmt_bad_base64"};
    }
    // EVP_DecodeBlock decodes the padding as zero octets: drop them.
    out.resize(out.size() - pad);
    return out;
}

std::string formatKeyMgmt(ByteView mikey_message) {
    return "mikey " + base64Encode(mikey_message);
}

Result<Bytes> parseKeyMgmt(std::string_view value) {
    const auto sp = value.find(' ');
    if (sp == std::string_view::npos || value.substr(0, sp) != "mikey") {
        return Error{"key_mgmt_not_mikey"};
    }
    std::string_view data = value.substr(sp + 1);
    while (!data.empty() && (data.back() == ' ' || data.back() == '\r')) {
        data.remove_suffix(1);
    }
    auto msg = base64Decode(data);
    if (!msg) {
        return msg.error();
    }
    if (msg->empty()) {
        return Error{"key_mgmt_empty"};
    }
    return msg;
}

}  // namespace iwf::mc::security
