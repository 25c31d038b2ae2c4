#include "keymap/yaml_import.hpp"

#include <cctype>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

namespace iwf::keymap {

namespace {

std::string lower(std::string_view s) {
    std::string r(s);
    for (char& c : r) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return r;
}

// Walks the whole tree before the structured parse: a key-like field name with a value is
// refused wherever it is (even in a place the structured parse would call "unknown key").
void scanFieldNames(const yaml::Node& node, const std::string& file, const std::string& path) {
    if (node.isMap()) {
        for (std::uint32_t i = 0; i < node.count; ++i) {
            const yaml::Node& key = node.key(i);
            const yaml::Node& v = node.value(i);
            const std::string name = key.isScalar() ? std::string(key.text) : std::string("?");
            const bool has_value = !v.isNull() && !(v.isScalar() && v.text.empty());
            if (has_value && looksLikeKeyFieldName(name)) {
                const std::string p = path.empty() ? name : path + "." + name;
                throw ConfigError(file, static_cast<int>(key.line), static_cast<int>(key.column), p,
                                  "looks like key material (field name '" + name +
                                      "'): the keymap stores E2EE parameters, never keys");
            }
            if (v.isMap() || v.isSeq()) {
                scanFieldNames(v, file, path.empty() ? name : path + "." + name);
            }
        }
    } else if (node.isSeq()) {
        for (std::uint32_t i = 0; i < node.count; ++i) {
            const yaml::Node& item = node.item(i);
            if (item.isMap() || item.isSeq()) {
                scanFieldNames(item, file, path + "[" + std::to_string(i) + "]");
            }
        }
    }
}

std::string readFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw ConfigError(path, 0, 0, "", "cannot read file");
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

class Parser {
  public:
    explicit Parser(const ConfigNode& root) : root_(root) {}

    Keymap run() {
        root_.expectKeys(
            {"format", "unknown_talker", "systems", "users", "groups", "adhoc", "kmfs"});
        if (root_.has("format")) {
            root_.getInt("format", 1, 1);
        }
        Keymap k;
        k.source = root_.file();
        k.unknown_talker.uri = root_.getString("unknown_talker");
        k.unknown_talker_line = static_cast<int>(root_.yaml().find("unknown_talker")->line);
        for (const auto& s : root_.list("systems")) {
            k.systems.push_back(system(s));
            families_[k.systems.back().id] = k.systems.back().family;
        }
        for (const auto& u : root_.optionalList("users")) {
            k.users.push_back(user(u));
        }
        for (const auto& g : root_.optionalList("groups")) {
            k.groups.push_back(group(g));
        }
        if (auto a = root_.optionalChild("adhoc")) {
            a->expectKeys({"default", "rules"});
            k.adhoc_default.uri = a->getString("default", "");
            if (a->has("default")) {
                k.adhoc_default_line = static_cast<int>(a->yaml().find("default")->line);
            }
            for (const auto& r : a->optionalList("rules")) {
                k.adhoc_rules.push_back(rule(r));
            }
        }
        for (const auto& f : root_.optionalList("kmfs")) {
            k.kmfs.push_back(kmf(f));
        }
        return k;
    }

  private:
    static void notEmpty(const ConfigNode& n, std::string_view key, const std::string& v) {
        if (v.empty()) {
            n.fail(key, "must not be empty");
        }
    }

    static void sipUri(const ConfigNode& n, std::string_view key, const std::string& v) {
        if (v.rfind("sip:", 0) != 0 && v.rfind("sips:", 0) != 0) {
            n.fail(key, "expected a SIP URI (sip:...), got \"" + v + "\"");
        }
        if (v.find('@') == std::string::npos) {
            n.fail(key, "expected a SIP URI with a user part (sip:user@domain), got \"" + v + "\"");
        }
    }

    LmrSystem system(const ConfigNode& n) {
        n.expectKeys(
            {"id", "type", "wacn", "system_id", "network_id", "mcc", "mnc", "description"});
        LmrSystem s;
        s.line = n.line();
        s.id = n.getString("id");
        notEmpty(n, "id", s.id);
        std::string type = n.getEnum("type", {"p25", "dmr", "tetra", "analog"});
        parseFamily(type, s.family);
        switch (s.family) {
            case LmrFamily::P25:
                s.p25.wacn = static_cast<std::uint32_t>(n.getInt("wacn", 0, 0xFFFFF));
                s.p25.system = static_cast<std::uint16_t>(n.getInt("system_id", 0, 0xFFF));
                break;
            case LmrFamily::Dmr:
                s.dmr_network = static_cast<std::uint32_t>(n.getInt("network_id", 0, 0xFFFFFFFF));
                break;
            case LmrFamily::Tetra:
                s.tetra_mcc = static_cast<std::uint16_t>(n.getInt("mcc", 0, 1023));
                s.tetra_mnc = static_cast<std::uint16_t>(n.getInt("mnc", 0, 16383));
                break;
            case LmrFamily::Analog:
                break;
        }
        const char* foreign[] = {"wacn", "system_id", "network_id", "mcc", "mnc"};
        for (const char* f : foreign) {
            bool mine = (s.family == LmrFamily::P25 &&
                         (std::string_view(f) == "wacn" || std::string_view(f) == "system_id")) ||
                        (s.family == LmrFamily::Dmr && std::string_view(f) == "network_id") ||
                        (s.family == LmrFamily::Tetra &&
                         (std::string_view(f) == "mcc" || std::string_view(f) == "mnc"));
            if (!mine && n.has(f)) {
                n.fail(f, "not a field of a " + type + " system");
            }
        }
        s.description = n.getString("description", "");
        return s;
    }

    User user(const ConfigNode& n) {
        n.expectKeys({"mc_id", "system", "unit", "name", "kmf_uri", "e2ee", "authorised"});
        User u;
        u.line = n.line();
        u.mc_id.uri = n.getString("mc_id");
        sipUri(n, "mc_id", u.mc_id.uri);
        u.system = n.getString("system");
        u.unit = static_cast<std::uint32_t>(n.getInt("unit", 0, 0xFFFFFF));
        u.display_name = n.getString("name", "");
        u.kmf_uri = n.getString("kmf_uri", "");
        u.e2ee = n.getBool("e2ee", false);
        auto fam = families_.find(u.system);
        for (const auto& a : n.optionalList("authorised")) {
            a.expectKeys({"type", "algid", "key_id"});
            KeyRef r;
            r.family = fam != families_.end() ? fam->second : LmrFamily::P25;
            if (a.has("type")) {
                parseFamily(a.getEnum("type", {"p25", "dmr", "tetra"}), r.family);
            }
            r.algid = static_cast<std::uint16_t>(a.getInt("algid", 0, 0xFFFF));
            r.key_id = static_cast<std::uint32_t>(a.getInt("key_id", 0, 0xFFFFFFFF));
            u.authorised.push_back(r);
        }
        return u;
    }

    Group group(const ConfigNode& n) {
        n.expectKeys({"mc_group", "system", "tgid", "name", "home", "mode", "algid", "key_id",
                      "codec", "media_protection", "floor_protection", "members"});
        Group g;
        g.line = n.line();
        g.mc_group.uri = n.getString("mc_group");
        sipUri(n, "mc_group", g.mc_group.uri);
        g.system = n.getString("system");
        g.tgid = static_cast<std::uint32_t>(n.getInt("tgid", 0, 0xFFFFFF));
        g.display_name = n.getString("name", "");
        parseHomeSide(n.getEnum("home", {"lmr", "mc"}, "lmr"), g.home);
        parseEncryptionMode(n.getEnum("mode", {"clear", "secure", "mixed"}), g.mode);
        if (n.has("algid")) {
            g.algid = static_cast<std::uint16_t>(n.getInt("algid", 0, 0xFFFF));
        }
        if (n.has("key_id")) {
            g.key_id = static_cast<std::uint32_t>(n.getInt("key_id", 0, 0xFFFFFFFF));
        }
        if (n.has("codec")) {
            VoiceCodec c{};
            parseCodec(n.getEnum("codec", {"imbe", "ambe2-half", "dmr-ambe", "tetra-acelp", "pcm"}),
                       c);
            g.codec = c;
        }
        // off | optional | required; true / false (the keymap's older boolean) mean required /
        // off. Anything else refuses the whole file, naming file, line and field.
        const std::string mp = n.getEnum(
            "media_protection", {"off", "optional", "required", "true", "false"}, "required");
        if (mp == "true" || mp == "false") {
            g.media_protection = mp == "true" ? MediaProtection::Required : MediaProtection::Off;
        } else {
            (void)parseMediaProtection(mp, g.media_protection);
        }
        g.floor_protection = n.getBool("floor_protection", true);
        for (const auto& item : n.optionalList("members")) {
            std::string uri = item.asString();
            sipUri(item, "", uri);
            g.members.push_back(McId{uri});
        }
        return g;
    }

    AdhocRule rule(const ConfigNode& n) {
        n.expectKeys({"id", "system", "scope", "first", "last", "lender"});
        AdhocRule r;
        r.line = n.line();
        r.id = n.getString("id");
        notEmpty(n, "id", r.id);
        r.system = n.getString("system");
        parseAdhocScope(n.getEnum("scope", {"talkgroup", "unit"}), r.scope);
        r.first = static_cast<std::uint32_t>(n.getInt("first", 0, 0xFFFFFF));
        r.last = static_cast<std::uint32_t>(n.getInt("last", 0, 0xFFFFFF));
        if (r.last < r.first) {
            n.fail("last", fmt::format("range end {} is below its start {}", r.last, r.first));
        }
        r.lender.uri = n.getString("lender");
        sipUri(n, "lender", r.lender.uri);
        return r;
    }

    Kmf kmf(const ConfigNode& n) {
        n.expectKeys({"uri", "system", "unit", "name"});
        Kmf f;
        f.line = n.line();
        f.uri = n.getString("uri");
        notEmpty(n, "uri", f.uri);
        f.system = n.getString("system");
        f.unit = static_cast<std::uint32_t>(n.getInt("unit", 0, 0xFFFFFF));
        f.display_name = n.getString("name", "");
        return f;
    }

    const ConfigNode& root_;
    std::map<std::string, LmrFamily> families_;
};

}  // namespace

bool looksLikeKeyFieldName(std::string_view name) {
    std::string n = lower(name);
    if (n == "key_id" || n == "kid" || n == "key-id" || n == "keyid") {
        return false;
    }
    static const std::set<std::string> kWords = {
        "key",     "keys",     "tek",        "teks",        "kek",       "keks",   "secret",
        "secrets", "password", "passwd",     "passphrase",  "psk",       "keymat", "keystream",
        "gmk",     "pck",      "privatekey", "private_key", "traffickey"};
    std::string word;
    auto flush = [&]() {
        bool hit = kWords.count(word) > 0;
        word.clear();
        return hit;
    };
    for (char c : n) {
        if (std::isalnum(static_cast<unsigned char>(c)) != 0) {
            word += c;
        } else if (flush()) {
            return true;
        }
    }
    if (flush()) {
        return true;
    }
    // Compound words without separators ("aeskey", "tekvalue", "userpassword").
    for (const char* w : {"password", "passwd", "secret", "passphrase"}) {
        if (n.find(w) != std::string::npos) {
            return true;
        }
    }
    return n.size() > 3 && (n.ends_with("key") || n.ends_with("keys"));
}

namespace {
// Offset of the first byte that is not valid UTF-8, or npos (the stores keep JSON, which
// must be UTF-8; found by fuzz_keymap_yaml).
std::size_t firstInvalidUtf8(const std::string& t) {
    std::size_t i = 0;
    while (i < t.size()) {
        const auto c = static_cast<unsigned char>(t[i]);
        std::size_t n = 0;
        std::uint32_t cp = 0;
        if (c < 0x80) {
            ++i;
            continue;
        }
        if ((c & 0xe0) == 0xc0) {
            n = 1;
            cp = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            n = 2;
            cp = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            n = 3;
            cp = c & 0x07;
        } else {
            return i;
        }
        if (i + n >= t.size()) {
            return i;  // truncated sequence at the end
        }
        for (std::size_t k = 1; k <= n; ++k) {
            const auto cc = static_cast<unsigned char>(t[i + k]);
            if ((cc & 0xc0) != 0x80) {
                return i;
            }
            cp = (cp << 6) | (cc & 0x3f);
        }
        const bool overlong =
            (n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000);
        if (overlong || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
            return i;
        }
        i += n + 1;
    }
    return std::string::npos;
}
}  // namespace

Keymap parseKeymapYaml(const std::string& text, const std::string& file_name) {
    if (auto bad = firstInvalidUtf8(text); bad != std::string::npos) {
        int line = 1;
        int col = 1;
        for (std::size_t i = 0; i < bad; ++i) {
            if (text[i] == '\n') {
                ++line;
                col = 1;
            } else {
                ++col;
            }
        }
        throw ConfigError(file_name, line, col, "(encoding)",
                          "the file is not valid UTF-8 (byte " + std::to_string(bad) + ")");
    }
    if (auto f = scanForKeyMaterial(text)) {  // keymap/key_material.hpp
        throw ConfigError(file_name, f->line, f->column, "",
                          f->what + ": the keymap stores E2EE parameters, never keys");
    }
    ConfigNode root = ConfigNode::loadString(text, file_name);
    if (!root.isMap()) {
        root.fail("", "expected a map at the top of the keymap file");
    }
    scanFieldNames(root.yaml(), file_name, "");
    Parser p(root);
    return p.run();
}

Keymap loadKeymapYaml(const std::string& path) {
    return parseKeymapYaml(readFile(path), path);
}

namespace {

std::string hex(std::uint64_t v, int width) {
    return fmt::format("0x{:0{}X}", v, width);
}

}  // namespace

std::string exportKeymapYaml(const Keymap& k) {
    YAML::Emitter e;
    e << YAML::BeginMap;
    e << YAML::Key << "format" << YAML::Value << 1;
    e << YAML::Key << "unknown_talker" << YAML::Value << k.unknown_talker.uri;
    e << YAML::Key << "systems" << YAML::Value << YAML::BeginSeq;
    for (const auto& s : k.systems) {
        e << YAML::BeginMap << YAML::Key << "id" << YAML::Value << s.id;
        e << YAML::Key << "type" << YAML::Value << std::string(familyName(s.family));
        switch (s.family) {
            case LmrFamily::P25:
                e << YAML::Key << "wacn" << YAML::Value << hex(s.p25.wacn, 5);
                e << YAML::Key << "system_id" << YAML::Value << hex(s.p25.system, 3);
                break;
            case LmrFamily::Dmr:
                e << YAML::Key << "network_id" << YAML::Value << s.dmr_network;
                break;
            case LmrFamily::Tetra:
                e << YAML::Key << "mcc" << YAML::Value << s.tetra_mcc;
                e << YAML::Key << "mnc" << YAML::Value << s.tetra_mnc;
                break;
            case LmrFamily::Analog:
                break;
        }
        if (!s.description.empty()) {
            e << YAML::Key << "description" << YAML::Value << YAML::DoubleQuoted << s.description;
        }
        e << YAML::EndMap;
    }
    e << YAML::EndSeq;
    e << YAML::Key << "users" << YAML::Value << YAML::BeginSeq;
    for (const auto& u : k.users) {
        e << YAML::BeginMap;
        e << YAML::Key << "mc_id" << YAML::Value << u.mc_id.uri;
        e << YAML::Key << "system" << YAML::Value << u.system;
        e << YAML::Key << "unit" << YAML::Value << u.unit;
        if (!u.display_name.empty()) {
            e << YAML::Key << "name" << YAML::Value << YAML::DoubleQuoted << u.display_name;
        }
        if (!u.kmf_uri.empty()) {
            e << YAML::Key << "kmf_uri" << YAML::Value << u.kmf_uri;
        }
        e << YAML::Key << "e2ee" << YAML::Value << u.e2ee;
        if (!u.authorised.empty()) {
            e << YAML::Key << "authorised" << YAML::Value << YAML::BeginSeq;
            for (const auto& a : u.authorised) {
                e << YAML::Flow << YAML::BeginMap;
                e << YAML::Key << "type" << YAML::Value << std::string(familyName(a.family));
                e << YAML::Key << "algid" << YAML::Value << hex(a.algid, 2);
                e << YAML::Key << "key_id" << YAML::Value << hex(a.key_id, 4);
                e << YAML::EndMap;
            }
            e << YAML::EndSeq;
        }
        e << YAML::EndMap;
    }
    e << YAML::EndSeq;
    e << YAML::Key << "groups" << YAML::Value << YAML::BeginSeq;
    for (const auto& g : k.groups) {
        e << YAML::BeginMap;
        e << YAML::Key << "mc_group" << YAML::Value << g.mc_group.uri;
        e << YAML::Key << "system" << YAML::Value << g.system;
        e << YAML::Key << "tgid" << YAML::Value << g.tgid;
        if (!g.display_name.empty()) {
            e << YAML::Key << "name" << YAML::Value << YAML::DoubleQuoted << g.display_name;
        }
        e << YAML::Key << "home" << YAML::Value << std::string(toString(g.home));
        e << YAML::Key << "mode" << YAML::Value << std::string(toString(g.mode));
        if (g.algid) {
            e << YAML::Key << "algid" << YAML::Value << hex(*g.algid, 2);
        }
        if (g.key_id) {
            e << YAML::Key << "key_id" << YAML::Value << hex(*g.key_id, 4);
        }
        if (g.codec) {
            e << YAML::Key << "codec" << YAML::Value << std::string(codecName(*g.codec));
        }
        e << YAML::Key << "media_protection" << YAML::Value
          << std::string(toString(g.media_protection));
        e << YAML::Key << "floor_protection" << YAML::Value << g.floor_protection;
        e << YAML::Key << "members" << YAML::Value << YAML::BeginSeq;
        for (const auto& m : g.members) {
            e << m.uri;
        }
        e << YAML::EndSeq;
        e << YAML::EndMap;
    }
    e << YAML::EndSeq;
    e << YAML::Key << "adhoc" << YAML::Value << YAML::BeginMap;
    if (!k.adhoc_default.uri.empty()) {
        e << YAML::Key << "default" << YAML::Value << k.adhoc_default.uri;
    }
    e << YAML::Key << "rules" << YAML::Value << YAML::BeginSeq;
    for (const auto& r : k.adhoc_rules) {
        e << YAML::BeginMap;
        e << YAML::Key << "id" << YAML::Value << r.id;
        e << YAML::Key << "system" << YAML::Value << r.system;
        e << YAML::Key << "scope" << YAML::Value << std::string(toString(r.scope));
        e << YAML::Key << "first" << YAML::Value << r.first;
        e << YAML::Key << "last" << YAML::Value << r.last;
        e << YAML::Key << "lender" << YAML::Value << r.lender.uri;
        e << YAML::EndMap;
    }
    e << YAML::EndSeq << YAML::EndMap;
    if (!k.kmfs.empty()) {
        e << YAML::Key << "kmfs" << YAML::Value << YAML::BeginSeq;
        for (const auto& f : k.kmfs) {
            e << YAML::BeginMap;
            e << YAML::Key << "uri" << YAML::Value << f.uri;
            e << YAML::Key << "system" << YAML::Value << f.system;
            e << YAML::Key << "unit" << YAML::Value << f.unit;
            if (!f.display_name.empty()) {
                e << YAML::Key << "name" << YAML::Value << YAML::DoubleQuoted << f.display_name;
            }
            e << YAML::EndMap;
        }
        e << YAML::EndSeq;
    }
    e << YAML::EndMap;
    return std::string(e.c_str()) + "\n";
}

}  // namespace iwf::keymap
