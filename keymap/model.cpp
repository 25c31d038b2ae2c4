#include "keymap/model.hpp"

#include <stdexcept>

#include <nlohmann/json.hpp>

namespace iwf::keymap {

using nlohmann::json;

std::string_view toString(EncryptionMode m) {
    switch (m) {
        case EncryptionMode::Clear:
            return "clear";
        case EncryptionMode::Secure:
            return "secure";
        case EncryptionMode::Mixed:
            return "mixed";
    }
    return "clear";
}

std::string_view toString(HomeSide h) {
    return h == HomeSide::Lmr ? "lmr" : "mc";
}

std::string_view toString(AdhocScope s) {
    return s == AdhocScope::Talkgroup ? "talkgroup" : "unit";
}

std::string_view codecName(VoiceCodec c) {
    return iwf::toString(c);  // the names of common/voice.cpp are the keymap's
}

bool parseEncryptionMode(std::string_view s, EncryptionMode& out) {
    for (auto m : {EncryptionMode::Clear, EncryptionMode::Secure, EncryptionMode::Mixed}) {
        if (s == toString(m)) {
            out = m;
            return true;
        }
    }
    return false;
}

std::string_view toString(MediaProtection m) {
    switch (m) {
        case MediaProtection::Off:
            return "off";
        case MediaProtection::Optional:
            return "optional";
        case MediaProtection::Required:
            return "required";
    }
    return "required";
}

bool parseMediaProtection(std::string_view s, MediaProtection& out) {
    for (auto m : {MediaProtection::Off, MediaProtection::Optional, MediaProtection::Required}) {
        if (s == toString(m)) {
            out = m;
            return true;
        }
    }
    return false;
}

bool parseHomeSide(std::string_view s, HomeSide& out) {
    for (auto h : {HomeSide::Lmr, HomeSide::Mc}) {
        if (s == toString(h)) {
            out = h;
            return true;
        }
    }
    return false;
}

bool parseAdhocScope(std::string_view s, AdhocScope& out) {
    for (auto a : {AdhocScope::Talkgroup, AdhocScope::Unit}) {
        if (s == toString(a)) {
            out = a;
            return true;
        }
    }
    return false;
}

bool parseFamily(std::string_view s, LmrFamily& out) {
    for (auto f : {LmrFamily::P25, LmrFamily::Dmr, LmrFamily::Tetra, LmrFamily::Analog}) {
        if (s == familyName(f)) {
            out = f;
            return true;
        }
    }
    return false;
}

bool parseCodec(std::string_view s, VoiceCodec& out) {
    for (auto c : {VoiceCodec::ImbeFullRate, VoiceCodec::AmbePlus2HalfRate, VoiceCodec::DmrAmbe,
                   VoiceCodec::TetraAcelp, VoiceCodec::Pcm}) {
        if (s == codecName(c)) {
            out = c;
            return true;
        }
    }
    return false;
}

VoiceCodec defaultCodec(LmrFamily f) {
    switch (f) {
        case LmrFamily::P25:
            return VoiceCodec::ImbeFullRate;
        case LmrFamily::Dmr:
            return VoiceCodec::DmrAmbe;
        case LmrFamily::Tetra:
            return VoiceCodec::TetraAcelp;
        case LmrFamily::Analog:
            return VoiceCodec::Pcm;
    }
    return VoiceCodec::Pcm;
}

bool isLmrCodecOf(LmrFamily f, VoiceCodec c) {
    switch (f) {
        case LmrFamily::P25:
            return c == VoiceCodec::ImbeFullRate || c == VoiceCodec::AmbePlus2HalfRate;
        case LmrFamily::Dmr:
            return c == VoiceCodec::DmrAmbe;
        case LmrFamily::Tetra:
            return c == VoiceCodec::TetraAcelp;
        case LmrFamily::Analog:
            return false;
    }
    return false;
}

bool isKnownCipherAlgid(LmrFamily f, std::uint16_t a) {
    switch (f) {
        case LmrFamily::P25:
            // lmr.md §1.2: Type-1 0x00-0x05 and 0x41; DES-OFB 0x81; 3DES 0x82/0x83; AES-256
            // 0x84; AES-128 0x85; 0x88/0x89; Motorola 0x9F-0xA3, ADP 0xAA, 0xAB, 0xAF, 0xB0.
            return a <= 0x05 || a == 0x41 || (a >= 0x81 && a <= 0x85) || a == 0x88 || a == 0x89 ||
                   (a >= 0x9F && a <= 0xA3) || a == 0xAA || a == 0xAB || a == 0xAF || a == 0xB0;
        case LmrFamily::Dmr:
            // lmr.md §2.3: PI header ALGID (3 bits) 1 ARC4/EP, 2 DES, 4 AES-128, 5 AES-256.
            return a == 1 || a == 2 || a == 4 || a == 5;
        case LmrFamily::Tetra:
            // lmr.md §3.2-3.3: 10-bit ALGID, the E2EE framework lets operators add their own
            // algorithms, so any non-zero 10-bit value is accepted.
            return a != 0 && a < 1024;
        case LmrFamily::Analog:
            return false;  // TS 23.283 §10.13.1: no E2EE on analogue
    }
    return false;
}

VoiceCodec effectiveCodec(const Group& g, LmrFamily family) {
    return g.codec ? *g.codec : defaultCodec(family);
}

json toJson(const LmrSystem& s) {
    json j = {{"id", s.id}, {"type", familyName(s.family)}};
    switch (s.family) {
        case LmrFamily::P25:
            j["wacn"] = s.p25.wacn;
            j["system_id"] = s.p25.system;
            break;
        case LmrFamily::Dmr:
            j["network_id"] = s.dmr_network;
            break;
        case LmrFamily::Tetra:
            j["mcc"] = s.tetra_mcc;
            j["mnc"] = s.tetra_mnc;
            break;
        case LmrFamily::Analog:
            break;
    }
    if (!s.description.empty()) {
        j["description"] = s.description;
    }
    return j;
}

json toJson(const User& u) {
    json auth = json::array();
    for (const auto& k : u.authorised) {
        auth.push_back({{"type", familyName(k.family)}, {"algid", k.algid}, {"key_id", k.key_id}});
    }
    json j = {{"mc_id", u.mc_id.uri},
              {"system", u.system},
              {"unit", u.unit},
              {"e2ee", u.e2ee},
              {"authorised", auth}};
    if (!u.display_name.empty()) {
        j["name"] = u.display_name;
    }
    if (!u.kmf_uri.empty()) {
        j["kmf_uri"] = u.kmf_uri;
    }
    return j;
}

json toJson(const Group& g) {
    json members = json::array();
    for (const auto& m : g.members) {
        members.push_back(m.uri);
    }
    json j = {{"mc_group", g.mc_group.uri},
              {"system", g.system},
              {"tgid", g.tgid},
              {"home", toString(g.home)},
              {"mode", toString(g.mode)},
              {"media_protection", toString(g.media_protection)},
              {"floor_protection", g.floor_protection},
              {"members", members}};
    if (!g.display_name.empty()) {
        j["name"] = g.display_name;
    }
    if (g.algid) {
        j["algid"] = *g.algid;
    }
    if (g.key_id) {
        j["key_id"] = *g.key_id;
    }
    if (g.codec) {
        j["codec"] = codecName(*g.codec);
    }
    return j;
}

json toJson(const AdhocRule& r) {
    return {{"id", r.id},       {"system", r.system}, {"scope", toString(r.scope)},
            {"first", r.first}, {"last", r.last},     {"lender", r.lender.uri}};
}

json toJson(const Kmf& f) {
    json j = {{"uri", f.uri}, {"system", f.system}, {"unit", f.unit}};
    if (!f.display_name.empty()) {
        j["name"] = f.display_name;
    }
    return j;
}

json toJson(const Keymap& k) {
    json j;
    j["format"] = 1;
    j["unknown_talker"] = k.unknown_talker.uri;
    json sys = json::array();
    for (const auto& s : k.systems) {
        sys.push_back(toJson(s));
    }
    json users = json::array();
    for (const auto& u : k.users) {
        users.push_back(toJson(u));
    }
    json groups = json::array();
    for (const auto& g : k.groups) {
        groups.push_back(toJson(g));
    }
    json rules = json::array();
    for (const auto& r : k.adhoc_rules) {
        rules.push_back(toJson(r));
    }
    j["systems"] = sys;
    j["users"] = users;
    j["groups"] = groups;
    j["adhoc"] = {{"default", k.adhoc_default.uri}, {"rules", rules}};
    // Only when present, so that revisions stored before KMF entries existed keep their
    // canonical text.
    if (!k.kmfs.empty()) {
        json kmfs = json::array();
        for (const auto& f : k.kmfs) {
            kmfs.push_back(toJson(f));
        }
        j["kmfs"] = kmfs;
    }
    return j;
}

namespace {

[[noreturn]] void bad(const std::string& where, const std::string& what) {
    throw std::runtime_error("stored keymap: " + where + ": " + what);
}

template <typename T>
T get(const json& j, const char* key, const std::string& where) {
    auto it = j.find(key);
    if (it == j.end()) {
        bad(where, std::string("missing '") + key + "'");
    }
    try {
        return it->get<T>();
    } catch (const json::exception& e) {
        bad(where, std::string("field '") + key + "': " + e.what());
    }
}

template <typename T>
T getOr(const json& j, const char* key, T dflt, const std::string& where) {
    return j.contains(key) ? get<T>(j, key, where) : dflt;
}

LmrFamily getFamily(const json& j, const std::string& where) {
    LmrFamily f{};
    if (!parseFamily(get<std::string>(j, "type", where), f)) {
        bad(where, "bad type");
    }
    return f;
}

}  // namespace

Keymap keymapFromJson(const json& j) {
    if (!j.is_object()) {
        bad("root", "not an object");
    }
    Keymap k;
    k.unknown_talker.uri = get<std::string>(j, "unknown_talker", "root");
    for (const auto& s : get<json>(j, "systems", "root")) {
        LmrSystem x;
        x.id = get<std::string>(s, "id", "systems");
        std::string w = "system " + x.id;
        x.family = getFamily(s, w);
        x.p25.wacn = getOr<std::uint32_t>(s, "wacn", 0, w);
        x.p25.system = getOr<std::uint16_t>(s, "system_id", 0, w);
        x.dmr_network = getOr<std::uint32_t>(s, "network_id", 0, w);
        x.tetra_mcc = getOr<std::uint16_t>(s, "mcc", 0, w);
        x.tetra_mnc = getOr<std::uint16_t>(s, "mnc", 0, w);
        x.description = getOr<std::string>(s, "description", "", w);
        k.systems.push_back(std::move(x));
    }
    for (const auto& u : get<json>(j, "users", "root")) {
        User x;
        x.mc_id.uri = get<std::string>(u, "mc_id", "users");
        std::string w = "user " + x.mc_id.uri;
        x.system = get<std::string>(u, "system", w);
        x.unit = get<std::uint32_t>(u, "unit", w);
        x.e2ee = get<bool>(u, "e2ee", w);
        x.display_name = getOr<std::string>(u, "name", "", w);
        x.kmf_uri = getOr<std::string>(u, "kmf_uri", "", w);
        for (const auto& a : get<json>(u, "authorised", w)) {
            KeyRef r;
            r.family = getFamily(a, w);
            r.algid = get<std::uint16_t>(a, "algid", w);
            r.key_id = get<std::uint32_t>(a, "key_id", w);
            x.authorised.push_back(r);
        }
        k.users.push_back(std::move(x));
    }
    for (const auto& g : get<json>(j, "groups", "root")) {
        Group x;
        x.mc_group.uri = get<std::string>(g, "mc_group", "groups");
        std::string w = "group " + x.mc_group.uri;
        x.system = get<std::string>(g, "system", w);
        x.tgid = get<std::uint32_t>(g, "tgid", w);
        x.display_name = getOr<std::string>(g, "name", "", w);
        if (!parseHomeSide(get<std::string>(g, "home", w), x.home)) {
            bad(w, "bad home");
        }
        if (!parseEncryptionMode(get<std::string>(g, "mode", w), x.mode)) {
            bad(w, "bad mode");
        }
        if (g.contains("algid")) {
            x.algid = get<std::uint16_t>(g, "algid", w);
        }
        if (g.contains("key_id")) {
            x.key_id = get<std::uint32_t>(g, "key_id", w);
        }
        if (g.contains("codec")) {
            VoiceCodec c{};
            if (!parseCodec(get<std::string>(g, "codec", w), c)) {
                bad(w, "bad codec");
            }
            x.codec = c;
        }
        // A store written before the tri-state holds a boolean: true was "required".
        if (g.contains("media_protection") && g.at("media_protection").is_boolean()) {
            x.media_protection = get<bool>(g, "media_protection", w) ? MediaProtection::Required
                                                                     : MediaProtection::Off;
        } else if (!parseMediaProtection(get<std::string>(g, "media_protection", w),
                                         x.media_protection)) {
            bad(w, "bad media_protection");
        }
        x.floor_protection = get<bool>(g, "floor_protection", w);
        for (const auto& m : get<json>(g, "members", w)) {
            x.members.push_back(McId{m.get<std::string>()});
        }
        k.groups.push_back(std::move(x));
    }
    const json adhoc = get<json>(j, "adhoc", "root");
    k.adhoc_default.uri = getOr<std::string>(adhoc, "default", "", "adhoc");
    for (const auto& r : get<json>(adhoc, "rules", "adhoc")) {
        AdhocRule x;
        x.id = get<std::string>(r, "id", "adhoc.rules");
        std::string w = "adhoc rule " + x.id;
        x.system = get<std::string>(r, "system", w);
        if (!parseAdhocScope(get<std::string>(r, "scope", w), x.scope)) {
            bad(w, "bad scope");
        }
        x.first = get<std::uint32_t>(r, "first", w);
        x.last = get<std::uint32_t>(r, "last", w);
        x.lender.uri = get<std::string>(r, "lender", w);
        k.adhoc_rules.push_back(std::move(x));
    }
    if (j.contains("kmfs")) {
        for (const auto& f : get<json>(j, "kmfs", "root")) {
            Kmf x;
            x.uri = get<std::string>(f, "uri", "kmfs");
            std::string w = "kmf " + x.uri;
            x.system = get<std::string>(f, "system", w);
            x.unit = get<std::uint32_t>(f, "unit", w);
            x.display_name = getOr<std::string>(f, "name", "", w);
            k.kmfs.push_back(std::move(x));
        }
    }
    return k;
}

std::string toCanonicalString(const Keymap& k) {
    return toJson(k).dump();
}

Keymap keymapFromString(const std::string& canonical) {
    json j;
    try {
        j = json::parse(canonical);
    } catch (const json::exception& e) {
        throw std::runtime_error(std::string("stored keymap: not JSON: ") + e.what());
    }
    return keymapFromJson(j);
}

}  // namespace iwf::keymap
