#include "common/config_node.hpp"

#include <algorithm>
#include <charconv>
#include <functional>

#include <fmt/format.h>

#include "common/asio.hpp"

namespace iwf {

ConfigError::ConfigError(std::string file, int line, int column, std::string field,
                         std::string message)
    : std::runtime_error(
          fmt::format("{}:{}:{}: field '{}': {}", file, line, column, field, message))
    , file_(std::move(file))
    , line_(line)
    , column_(column)
    , field_(std::move(field))
    , message_(std::move(message)) {}

ConfigNode::ConfigNode(YAML::Node node, std::shared_ptr<const std::string> file, std::string path)
    : node_(std::move(node)), file_(std::move(file)), path_(std::move(path)) {}

namespace {
ConfigNode fromYaml(const std::string& name, const std::function<YAML::Node()>& load) {
    auto file = std::make_shared<const std::string>(name);
    try {
        YAML::Node n = load();
        if (!n || n.IsNull()) {
            throw ConfigError(name, 1, 1, "(document)", "the file is empty");
        }
        if (!n.IsMap()) {
            throw ConfigError(name, n.Mark().line + 1, n.Mark().column + 1, "(document)",
                              "the top level must be a mapping of sections");
        }
        return ConfigNode(n, file, "");
    } catch (const YAML::BadFile&) {
        throw ConfigError(name, 0, 0, "(file)", "cannot read the file");
    } catch (const YAML::ParserException& e) {
        throw ConfigError(name, e.mark.line + 1, e.mark.column + 1, "(syntax)", e.msg);
    }
}

std::string scalarText(const YAML::Node& n) {
    if (n.IsScalar()) {
        return n.Scalar();
    }
    if (n.IsMap()) {
        return "a mapping";
    }
    if (n.IsSequence()) {
        return "a list";
    }
    return "nothing";
}
}  // namespace

ConfigNode ConfigNode::loadFile(const std::string& path) {
    return fromYaml(path, [&] { return YAML::LoadFile(path); });
}

ConfigNode ConfigNode::loadString(const std::string& text, const std::string& file_name) {
    return fromYaml(file_name, [&] { return YAML::Load(text); });
}

int ConfigNode::line() const {
    return node_ ? node_.Mark().line + 1 : 0;
}
int ConfigNode::column() const {
    return node_ ? node_.Mark().column + 1 : 0;
}

std::string ConfigNode::childPath(std::string_view key) const {
    // An empty key ("": 1) still gets a printable name, so every error names a field.
    const std::string k = key.empty() ? std::string("\"\"") : std::string(key);
    if (path_.empty()) {
        return k;
    }
    return path_ + "." + k;
}

void ConfigNode::fail(std::string_view key, const std::string& message) const {
    if (!key.empty() && node_ && node_.IsMap()) {
        // Point at the key itself when it exists.
        for (auto it = node_.begin(); it != node_.end(); ++it) {
            if (it->first.Scalar() == key) {
                const YAML::Node v = it->second;  // a copy: it-> yields a temporary
                const YAML::Mark m = (v && v.Mark().line >= 0) ? v.Mark() : it->first.Mark();
                throw ConfigError(*file_, m.line + 1, m.column + 1, childPath(key), message);
            }
        }
    }
    throw ConfigError(*file_, line(), column(),
                      key.empty() ? (path_.empty() ? "(document)" : path_) : childPath(key),
                      message);
}

bool ConfigNode::has(std::string_view key) const {
    if (!node_ || !node_.IsMap()) {
        return false;
    }
    for (auto it = node_.begin(); it != node_.end(); ++it) {
        if (it->first.Scalar() == key) {
            return true;
        }
    }
    return false;
}

std::vector<std::string> ConfigNode::keys() const {
    std::vector<std::string> out;
    if (node_ && node_.IsMap()) {
        for (auto it = node_.begin(); it != node_.end(); ++it) {
            out.push_back(it->first.Scalar());
        }
    }
    return out;
}

void ConfigNode::expectKeys(std::initializer_list<std::string_view> allowed) const {
    std::vector<std::string> v(allowed.begin(), allowed.end());
    expectKeys(v);
}

void ConfigNode::expectKeys(const std::vector<std::string>& allowed) const {
    if (!node_ || !node_.IsMap()) {
        fail("", "expected a mapping");
    }
    std::vector<std::string> seen;
    for (auto it = node_.begin(); it != node_.end(); ++it) {
        const std::string& k = it->first.Scalar();
        if (std::find(seen.begin(), seen.end(), k) != seen.end()) {
            const YAML::Mark m = it->first.Mark();
            throw ConfigError(*file_, m.line + 1, m.column + 1, childPath(k),
                              "duplicate field (it appears twice in this mapping)");
        }
        seen.push_back(k);
        if (std::find(allowed.begin(), allowed.end(), k) == allowed.end()) {
            std::string list;
            for (const auto& a : allowed) {
                list += list.empty() ? a : ", " + a;
            }
            const YAML::Mark m = it->first.Mark();
            throw ConfigError(*file_, m.line + 1, m.column + 1, childPath(k),
                              fmt::format("unknown field (allowed here: {})", list));
        }
    }
}

ConfigNode ConfigNode::at(std::string_view key) const {
    if (!node_ || !node_.IsMap()) {
        fail("", "expected a mapping");
    }
    for (auto it = node_.begin(); it != node_.end(); ++it) {
        if (it->first.Scalar() == key) {
            return ConfigNode(it->second, file_, childPath(key));
        }
    }
    fail(key, "required field is missing");
}

ConfigNode ConfigNode::child(std::string_view key) const {
    ConfigNode c = at(key);
    if (!c.node_.IsMap()) {
        fail(key, "expected a mapping, got " + scalarText(c.node_));
    }
    return c;
}

std::optional<ConfigNode> ConfigNode::optionalChild(std::string_view key) const {
    if (!has(key)) {
        return std::nullopt;
    }
    ConfigNode c = at(key);
    if (c.node_.IsNull()) {
        return std::nullopt;
    }
    if (!c.node_.IsMap()) {
        fail(key, "expected a mapping, got " + scalarText(c.node_));
    }
    return c;
}

std::vector<ConfigNode> ConfigNode::list(std::string_view key) const {
    ConfigNode c = at(key);
    if (!c.node_.IsSequence()) {
        fail(key, "expected a list, got " + scalarText(c.node_));
    }
    std::vector<ConfigNode> out;
    std::size_t i = 0;
    for (const auto& item : c.node_) {
        out.emplace_back(item, file_, fmt::format("{}[{}]", c.path_, i++));
    }
    return out;
}

std::vector<ConfigNode> ConfigNode::optionalList(std::string_view key) const {
    if (!has(key) || at(key).node_.IsNull()) {
        return {};
    }
    return list(key);
}

std::string ConfigNode::asString() const {
    if (!node_ || !node_.IsScalar()) {
        fail("", "expected a string, got " + scalarText(node_));
    }
    return node_.Scalar();
}

std::int64_t ConfigNode::asInt(std::int64_t min, std::int64_t max) const {
    std::string s = asString();
    std::int64_t v = 0;
    const char* b = s.data();
    const char* e = s.data() + s.size();
    int base = 10;
    if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        b += 2;
        base = 16;
    }
    auto [p, ec] = std::from_chars(b, e, v, base);
    if (ec != std::errc() || p != e || s.empty()) {
        fail("", fmt::format("expected an integer in [{}, {}], got \"{}\"", min, max, s));
    }
    if (v < min || v > max) {
        fail("", fmt::format("expected an integer in [{}, {}], got {}", min, max, v));
    }
    return v;
}

std::string ConfigNode::getString(std::string_view key) const {
    ConfigNode c = at(key);
    if (!c.node_.IsScalar()) {
        fail(key, "expected a string, got " + scalarText(c.node_));
    }
    return c.node_.Scalar();
}

std::string ConfigNode::getString(std::string_view key, const std::string& dflt) const {
    return has(key) ? getString(key) : dflt;
}

std::string ConfigNode::getIpAddress(std::string_view key) const {
    std::string a = getString(key);
    boost::system::error_code ec;
    (void)asio::ip::make_address(a, ec);
    if (ec) {
        fail(key, "expected an IPv4 or IPv6 address, got \"" + a + "\"");
    }
    return a;
}

std::string ConfigNode::getIpAddress(std::string_view key, const std::string& dflt) const {
    return has(key) ? getIpAddress(key) : dflt;
}

std::int64_t ConfigNode::getInt(std::string_view key, std::int64_t min, std::int64_t max) const {
    ConfigNode c = at(key);
    if (!c.node_.IsScalar()) {
        fail(key,
             fmt::format("expected an integer in [{}, {}], got {}", min, max, scalarText(c.node_)));
    }
    return c.asInt(min, max);
}

std::int64_t ConfigNode::getInt(std::string_view key, std::int64_t min, std::int64_t max,
                                std::int64_t dflt) const {
    return has(key) ? getInt(key, min, max) : dflt;
}

bool ConfigNode::getBool(std::string_view key) const {
    ConfigNode c = at(key);
    if (c.node_.IsScalar()) {
        const std::string& s = c.node_.Scalar();
        if (s == "true" || s == "yes" || s == "on") {
            return true;
        }
        if (s == "false" || s == "no" || s == "off") {
            return false;
        }
    }
    fail(key, "expected true or false, got \"" + scalarText(c.node_) + "\"");
}

bool ConfigNode::getBool(std::string_view key, bool dflt) const {
    return has(key) ? getBool(key) : dflt;
}

std::chrono::milliseconds ConfigNode::getDuration(std::string_view key) const {
    std::string s = getString(key);
    std::size_t i = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
        ++i;
    }
    std::string unit = s.substr(i);
    if (i == 0 || i > 12) {
        fail(key, "expected a duration such as 250ms, 2s or 1m, got \"" + s + "\"");
    }
    std::int64_t n = std::stoll(s.substr(0, i));
    if (unit.empty() || unit == "ms") {
        return std::chrono::milliseconds(n);
    }
    if (unit == "s") {
        return std::chrono::seconds(n);
    }
    if (unit == "m" || unit == "min") {
        return std::chrono::minutes(n);
    }
    fail(key, "expected a duration such as 250ms, 2s or 1m, got \"" + s + "\"");
}

std::chrono::milliseconds ConfigNode::getDuration(std::string_view key,
                                                  std::chrono::milliseconds dflt) const {
    return has(key) ? getDuration(key) : dflt;
}

std::string ConfigNode::getEnum(std::string_view key,
                                std::initializer_list<std::string_view> choices) const {
    std::string s = getString(key);
    for (auto c : choices) {
        if (s == c) {
            return s;
        }
    }
    std::string list;
    for (auto c : choices) {
        list += list.empty() ? std::string(c) : ", " + std::string(c);
    }
    fail(key, fmt::format("expected one of {}, got \"{}\"", list, s));
}

std::string ConfigNode::getEnum(std::string_view key,
                                std::initializer_list<std::string_view> choices,
                                const std::string& dflt) const {
    return has(key) ? getEnum(key, choices) : dflt;
}

}  // namespace iwf
