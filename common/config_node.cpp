#include "common/config_node.hpp"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>

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

ConfigNode::ConfigNode(std::shared_ptr<const yaml::Document> doc, const yaml::Node* node,
                       std::string path)
    : doc_(std::move(doc)), node_(node), path_(std::move(path)) {}

namespace {
ConfigNode fromText(std::string_view text, const std::string& name) {
    auto doc = yaml::Document::parse(text, name);
    const yaml::Node& n = doc->root();
    if (n.isNull()) {
        throw ConfigError(name, 1, 1, "(document)", "the file is empty");
    }
    if (!n.isMap()) {
        throw ConfigError(name, static_cast<int>(n.line), static_cast<int>(n.column), "(document)",
                          "the top level must be a mapping of sections");
    }
    return ConfigNode(doc, &n, "");
}

std::string scalarText(const yaml::Node& n) {
    if (n.isScalar()) {
        return std::string(n.text);
    }
    if (n.isMap()) {
        return "a mapping";
    }
    if (n.isSeq()) {
        return "a list";
    }
    return "nothing";
}
}  // namespace

ConfigNode ConfigNode::loadFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw ConfigError(path, 0, 0, "(file)", "cannot read the file");
    }
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) {
        throw ConfigError(path, 0, 0, "(file)", "cannot read the file");
    }
    return fromText(text.str(), path);
}

ConfigNode ConfigNode::loadString(const std::string& text, const std::string& file_name) {
    return fromText(text, file_name);
}

int ConfigNode::line() const {
    return static_cast<int>(node_->line);
}
int ConfigNode::column() const {
    return static_cast<int>(node_->column);
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
    if (!key.empty() && node_->isMap()) {
        // Point at the key's value when it exists (at the key itself for an empty value).
        for (std::uint32_t i = 0; i < node_->count; ++i) {
            if (node_->keyName(i) == key) {
                const yaml::Node& v = node_->value(i);
                const yaml::Node& at = v.isNull() && v.text.empty() ? node_->key(i) : v;
                throw ConfigError(file(), static_cast<int>(at.line), static_cast<int>(at.column),
                                  childPath(key), message);
            }
        }
    }
    throw ConfigError(file(), line(), column(),
                      key.empty() ? (path_.empty() ? "(document)" : path_) : childPath(key),
                      message);
}

bool ConfigNode::has(std::string_view key) const {
    return node_->find(key) != nullptr;
}

std::vector<std::string> ConfigNode::keys() const {
    std::vector<std::string> out;
    if (node_->isMap()) {
        out.reserve(node_->count);
        for (std::uint32_t i = 0; i < node_->count; ++i) {
            out.emplace_back(node_->keyName(i));
        }
    }
    return out;
}

void ConfigNode::expectKeys(std::initializer_list<std::string_view> allowed) const {
    std::vector<std::string> v(allowed.begin(), allowed.end());
    expectKeys(v);
}

void ConfigNode::expectKeys(const std::vector<std::string>& allowed) const {
    if (!node_->isMap()) {
        fail("", "expected a mapping");
    }
    for (std::uint32_t i = 0; i < node_->count; ++i) {
        const std::string_view k = node_->keyName(i);
        const yaml::Node& key = node_->key(i);
        for (std::uint32_t j = 0; j < i; ++j) {
            if (node_->keyName(j) == k) {
                throw ConfigError(file(), static_cast<int>(key.line), static_cast<int>(key.column),
                                  childPath(k),
                                  "duplicate field (it appears twice in this mapping)");
            }
        }
        if (std::find(allowed.begin(), allowed.end(), k) == allowed.end()) {
            std::string list;
            for (const auto& a : allowed) {
                list += list.empty() ? a : ", " + a;
            }
            throw ConfigError(file(), static_cast<int>(key.line), static_cast<int>(key.column),
                              childPath(k), fmt::format("unknown field (allowed here: {})", list));
        }
    }
}

ConfigNode ConfigNode::at(std::string_view key) const {
    if (!node_->isMap()) {
        fail("", "expected a mapping");
    }
    if (const yaml::Node* v = node_->find(key)) {
        return ConfigNode(doc_, v, childPath(key));
    }
    fail(key, "required field is missing");
}

ConfigNode ConfigNode::child(std::string_view key) const {
    ConfigNode c = at(key);
    if (!c.node_->isMap()) {
        fail(key, "expected a mapping, got " + scalarText(*c.node_));
    }
    return c;
}

std::optional<ConfigNode> ConfigNode::optionalChild(std::string_view key) const {
    if (!has(key)) {
        return std::nullopt;
    }
    ConfigNode c = at(key);
    if (c.node_->isNull()) {
        return std::nullopt;
    }
    if (!c.node_->isMap()) {
        fail(key, "expected a mapping, got " + scalarText(*c.node_));
    }
    return c;
}

std::vector<ConfigNode> ConfigNode::list(std::string_view key) const {
    ConfigNode c = at(key);
    if (!c.node_->isSeq()) {
        fail(key, "expected a list, got " + scalarText(*c.node_));
    }
    std::vector<ConfigNode> out;
    out.reserve(c.node_->count);
    for (std::uint32_t i = 0; i < c.node_->count; ++i) {
        out.emplace_back(doc_, &c.node_->item(i), fmt::format("{}[{}]", c.path_, i));
    }
    return out;
}

std::vector<ConfigNode> ConfigNode::optionalList(std::string_view key) const {
    if (!has(key) || at(key).node_->isNull()) {
        return {};
    }
    return list(key);
}

std::string ConfigNode::asString() const {
    if (!node_->isScalar()) {
        fail("", "expected a string, got " + scalarText(*node_));
    }
    return std::string(node_->text);
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
    if (!c.node_->isScalar()) {
        fail(key, "expected a string, got " + scalarText(*c.node_));
    }
    return std::string(c.node_->text);
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
    if (!c.node_->isScalar()) {
        fail(key, fmt::format("expected an integer in [{}, {}], got {}", min, max,
                              scalarText(*c.node_)));
    }
    return c.asInt(min, max);
}

std::int64_t ConfigNode::getInt(std::string_view key, std::int64_t min, std::int64_t max,
                                std::int64_t dflt) const {
    return has(key) ? getInt(key, min, max) : dflt;
}

bool ConfigNode::getBool(std::string_view key) const {
    ConfigNode c = at(key);
    if (c.node_->isScalar()) {
        const std::string_view s = c.node_->text;
        if (s == "true" || s == "yes" || s == "on") {
            return true;
        }
        if (s == "false" || s == "no" || s == "off") {
            return false;
        }
    }
    fail(key, "expected true or false, got \"" + scalarText(*c.node_) + "\"");
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
