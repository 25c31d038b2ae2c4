#include "mc_adapters/security/key_file.hpp"

#include <fstream>
#include <optional>
#include <sstream>
#include <sys/stat.h>

#include "common/text.hpp"
#include "mc_adapters/security/ossl.hpp"

namespace iwf::mc::security {

namespace {

constexpr std::string_view kSecretBlanks = " \t\r\n";

bool hexKey(const std::string& s, std::size_t octets, Bytes& out) {
    if (s.size() != 2 * octets) {
        return false;
    }
    auto b = fromHex(s);
    if (!b) {
        return false;
    }
    out = std::move(*b);
    return true;
}

bool hexId(const std::string& s, std::uint32_t& out) {
    Bytes b;
    if (!hexKey(s, 4, b)) {
        return false;
    }
    out = (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) | (std::uint32_t{b[2]} << 8) |
          b[3];
    return true;
}

bool profileOf(const std::string& s, DistributedKey& k) {
    if (s.empty() || s == "gcm-rcc") {
        k.profile = SrtpProfile::AeadAes128Gcm;
        k.roc_in_packet = true;
    } else if (s == "gcm") {
        k.profile = SrtpProfile::AeadAes128Gcm;
        k.roc_in_packet = false;
    } else if (s == "aes-cm") {
        k.profile = SrtpProfile::AesCm128HmacSha1_80;
        k.roc_in_packet = false;
    } else {
        return false;
    }
    return true;
}

// A file of secrets: a regular file only its owner may read or write.
std::optional<KeyFileError> checkSecretMode(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        return KeyFileError{0, "cannot read " + path};
    }
    if (!S_ISREG(st.st_mode)) {
        return KeyFileError{0, path + " is not a regular file"};
    }
    if ((st.st_mode & 077) != 0) {
        return KeyFileError{0, path +
                                   " holds keys: its group / other permission bits must be "
                                   "0 (chmod 600)"};
    }
    return std::nullopt;
}

}  // namespace

std::variant<std::string, KeyFileError> loadSecretFile(const std::string& path) {
    if (auto e = checkSecretMode(path)) {
        return *e;
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return KeyFileError{0, "cannot read " + path};
    }
    std::string s(4097, '\0');
    in.read(s.data(), static_cast<std::streamsize>(s.size()));
    s.resize(static_cast<std::size_t>(in.gcount()));
    if (s.size() > 4096) {
        cleanse(MutableByteView(reinterpret_cast<std::uint8_t*>(s.data()), s.size()));
        return KeyFileError{0, path + " is longer than 4096 octets"};
    }
    std::string out(text::trimChars(s, kSecretBlanks));
    cleanse(MutableByteView(reinterpret_cast<std::uint8_t*>(s.data()), s.size()));
    if (out.empty()) {
        return KeyFileError{0, path + " is empty"};
    }
    if (out.find_first_of(kSecretBlanks) != std::string::npos) {
        cleanse(MutableByteView(reinterpret_cast<std::uint8_t*>(out.data()), out.size()));
        return KeyFileError{0, path + " must hold one token on one line"};
    }
    return out;
}

std::variant<ProvisionedKeys, KeyFileError> loadKeyFile(const std::string& path) {
    if (auto e = checkSecretMode(path)) {
        return *e;
    }
    std::ifstream in(path);
    if (!in) {
        return KeyFileError{0, "cannot read " + path};
    }
    ProvisionedKeys out;
    std::string text;
    int n = 0;
    while (std::getline(in, text)) {
        ++n;
        if (auto hash = text.find('#'); hash != std::string::npos) {
            text.erase(hash);
        }
        std::istringstream ls(text);
        std::vector<std::string> f;
        for (std::string w; ls >> w;) {
            f.push_back(std::move(w));
        }
        cleanse(MutableByteView(reinterpret_cast<std::uint8_t*>(text.data()), text.size()));
        if (f.empty()) {
            continue;
        }
        DistributedKey k;
        const bool gmk = f[0] == "gmk";
        if (!gmk && f[0] != "csk") {
            return KeyFileError{n, "expected gmk or csk, got \"" + f[0] + "\""};
        }
        const std::size_t fixed = gmk ? 6 : 4;
        if (f.size() != fixed && f.size() != fixed + 1) {
            return KeyFileError{n, gmk ? "expected: gmk <group> <key> <gmk-id> <guk-id> <rand> "
                                         "[profile]"
                                       : "expected: csk <key> <csk-id> <rand> [profile]"};
        }
        const std::size_t at = gmk ? 2 : 1;
        k.purpose = gmk ? KeyPurpose::Gmk : KeyPurpose::Csk;
        if (!hexKey(f[at], 16, k.key)) {
            return KeyFileError{n, "key: 32 hex digits expected"};
        }
        if (!hexId(f[at + 1], k.key_id) || purposeOf(k.key_id) != k.purpose) {
            return KeyFileError{n, gmk ? "gmk-id: 8 hex digits with purpose tag 0 (0xxxxxxx)"
                                       : "csk-id: 8 hex digits with purpose tag 2 (2xxxxxxx)"};
        }
        std::size_t next = at + 2;
        if (gmk) {
            if (!hexId(f[next], k.csb_id) || purposeOf(k.csb_id) != KeyPurpose::Gmk) {
                return KeyFileError{n, "guk-id: 8 hex digits with purpose tag 0"};
            }
            ++next;
        } else {
            k.csb_id = k.key_id;
        }
        if (!hexKey(f[next], 16, k.rand)) {
            return KeyFileError{n, "rand: 32 hex digits expected"};
        }
        if (!profileOf(f.size() > next + 1 ? f[next + 1] : "", k)) {
            return KeyFileError{n, "profile: gcm-rcc, gcm or aes-cm"};
        }
        if (gmk) {
            if (f[1].rfind("sip:", 0) != 0 && f[1].rfind("sips:", 0) != 0) {
                return KeyFileError{n, "group: a sip: URI expected"};
            }
            out.gmks.emplace_back(f[1], std::move(k));
        } else {
            k.roc_in_packet = false;  // RCCm3 is for SRTP only; SRTCP carries its own index
            out.csk = std::move(k);
        }
        for (std::string& w : f) {
            cleanse(MutableByteView(reinterpret_cast<std::uint8_t*>(w.data()), w.size()));
        }
    }
    return out;
}

}  // namespace iwf::mc::security
