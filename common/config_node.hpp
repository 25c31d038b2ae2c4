#pragma once
// YAML configuration access that names the file, line and field of every error.
//
//   ConfigNode root = ConfigNode::loadFile("configs/iwfd.yaml");
//   root.expectKeys({"admin", "log"});                       // unknown key -> error
//   ConfigNode admin = root.child("admin");
//   auto port = admin.getInt("port", 1, 65535, 8080);         // optional with default
//   auto addr = admin.getString("address");                   // required
//
// Errors throw ConfigError (control plane: exceptions are allowed there); what() reads
//   configs/iwfd.yaml:12:9: field 'admin.port': expected an integer in [1, 65535], got "http"

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "common/yaml_doc.hpp"

namespace iwf {

class ConfigError : public std::runtime_error {
  public:
    ConfigError(std::string file, int line, int column, std::string field, std::string message);
    const std::string& file() const { return file_; }
    int line() const { return line_; }  // 1-based; 0 if unknown
    int column() const { return column_; }
    const std::string& field() const { return field_; }
    const std::string& message() const { return message_; }

  private:
    std::string file_;
    int line_;
    int column_;
    std::string field_;
    std::string message_;
};

class ConfigNode {
  public:
    ConfigNode(std::shared_ptr<const yaml::Document> doc, const yaml::Node* node, std::string path);

    static ConfigNode loadFile(const std::string& path);
    static ConfigNode loadString(const std::string& text, const std::string& file_name);

    const std::string& file() const { return doc_->name(); }
    const std::string& path() const { return path_; }  // "admin.port", "links[2].name"
    int line() const;                                  // 1-based
    int column() const;
    const yaml::Node& yaml() const { return *node_; }

    bool isMap() const { return node_->isMap(); }
    bool isNull() const { return node_->isNull(); }
    bool has(std::string_view key) const;

    // Every key of this map must be one of `allowed` (catches typos), and appear once.
    void expectKeys(std::initializer_list<std::string_view> allowed) const;
    void expectKeys(const std::vector<std::string>& allowed) const;
    std::vector<std::string> keys() const;

    ConfigNode child(std::string_view key) const;  // required map
    std::optional<ConfigNode> optionalChild(std::string_view key) const;
    std::vector<ConfigNode> list(std::string_view key) const;          // required sequence
    std::vector<ConfigNode> optionalList(std::string_view key) const;  // absent -> empty

    std::string getString(std::string_view key) const;
    std::string getString(std::string_view key, const std::string& dflt) const;
    // A string that must be an IPv4 or IPv6 address ("127.0.0.1", "::1"; no host names).
    std::string getIpAddress(std::string_view key) const;
    std::string getIpAddress(std::string_view key, const std::string& dflt) const;
    std::int64_t getInt(std::string_view key, std::int64_t min, std::int64_t max) const;
    std::int64_t getInt(std::string_view key, std::int64_t min, std::int64_t max,
                        std::int64_t dflt) const;
    bool getBool(std::string_view key) const;
    bool getBool(std::string_view key, bool dflt) const;
    // Milliseconds from an integer or a string with unit: 250, "250ms", "2s", "1m".
    std::chrono::milliseconds getDuration(std::string_view key) const;
    std::chrono::milliseconds getDuration(std::string_view key,
                                          std::chrono::milliseconds dflt) const;
    // One of `choices`.
    std::string getEnum(std::string_view key,
                        std::initializer_list<std::string_view> choices) const;
    std::string getEnum(std::string_view key, std::initializer_list<std::string_view> choices,
                        const std::string& dflt) const;

    // This node's own scalar value (for list items).
    std::string asString() const;
    std::int64_t asInt(std::int64_t min, std::int64_t max) const;

    // Throws a ConfigError about `key` of this node (or this node itself when key is empty).
    [[noreturn]] void fail(std::string_view key, const std::string& message) const;

  private:
    ConfigNode at(std::string_view key) const;  // requires presence
    std::string childPath(std::string_view key) const;

    std::shared_ptr<const yaml::Document> doc_;  // keeps node_ alive
    const yaml::Node* node_;                     // never null
    std::string path_;
};

}  // namespace iwf
