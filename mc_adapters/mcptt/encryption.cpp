#include "mc_adapters/mcptt/encryption.hpp"

#include <charconv>
#include <cstring>
#include <string>

#include "mc_adapters/mcptt/xml_names.hpp"

namespace iwf::mc::mcptt {

namespace {

pugi::xml_node child(pugi::xml_node n, std::string_view local) {
    for (auto c : n.children()) {
        if (c.type() == pugi::node_element && xmlLocalName(c.name()) == local) {
            return c;
        }
    }
    return {};
}

}  // namespace

EncryptionInfo encryptionFromCrypto(const std::optional<CryptoSync>& crypto, bool e2ee_policy) {
    EncryptionInfo e;
    if (crypto) {
        e.family = crypto->family;
        e.e2ee = crypto->encrypted;
        if (crypto->encrypted) {
            e.algorithm = crypto->algid;
        }
    } else {
        e.e2ee = e2ee_policy;
        e.algorithm_in_media = e2ee_policy;  // P25/DMR/TETRA carry ALGID in band
    }
    return e;
}

void appendEncryption(pugi::xml_node any_ext, const EncryptionInfo& info) {
    auto e = any_ext.append_child("lmr-encryption");
    e.append_attribute("xmlns") = std::string(kLmrEncryptionNs).c_str();
    e.append_child("mode").text() = info.e2ee ? "e2ee" : "clear";
    if (info.algorithm_in_media) {
        e.append_child("algorithm").text() = "media-stream";
    } else if (info.algorithm) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "0x%02X", static_cast<unsigned>(*info.algorithm));
        e.append_child("algorithm").text() = buf;
    }
    e.append_child("family").text() = std::string(familyName(info.family)).c_str();
}

std::optional<Result<EncryptionInfo>> readEncryption(pugi::xml_node any_ext) {
    pugi::xml_node e;
    for (auto c : any_ext.children()) {
        if (c.type() == pugi::node_element && xmlLocalName(c.name()) == "lmr-encryption" &&
            xmlNamespaceOf(c) == kLmrEncryptionNs) {
            e = c;
            break;
        }
    }
    if (!e) {
        return std::nullopt;
    }
    EncryptionInfo info;
    std::string_view mode = child(e, "mode").text().as_string();
    if (mode == "e2ee") {
        info.e2ee = true;
    } else if (mode == "clear") {
        info.e2ee = false;
    } else {
        return Result<EncryptionInfo>(Error{"bad_encryption_mode"});
    }
    if (auto a = child(e, "algorithm")) {
        std::string_view v = a.text().as_string();
        if (v == "media-stream") {
            info.algorithm_in_media = true;
        } else {
            if (v.size() > 2 && v[0] == '0' && (v[1] == 'x' || v[1] == 'X')) {
                v.remove_prefix(2);
            }
            unsigned value = 0;
            auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), value, 16);
            if (ec != std::errc() || p != v.data() + v.size() || v.empty() || value > 0xFFFF) {
                return Result<EncryptionInfo>(Error{"bad_encryption_algorithm"});
            }
            info.algorithm = static_cast<std::uint16_t>(value);
        }
    }
    if (auto f = child(e, "family")) {
        std::string_view v = f.text().as_string();
        if (v == "p25") {
            info.family = LmrFamily::P25;
        } else if (v == "dmr") {
            info.family = LmrFamily::Dmr;
        } else if (v == "tetra") {
            info.family = LmrFamily::Tetra;
        } else if (v == "analog") {
            info.family = LmrFamily::Analog;
        } else {
            return Result<EncryptionInfo>(Error{"bad_encryption_family"});
        }
    }
    return Result<EncryptionInfo>(info);
}

}  // namespace iwf::mc::mcptt
