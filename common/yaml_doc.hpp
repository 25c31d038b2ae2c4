#pragma once
// A read-only YAML document tree built from libyaml's event parser (Debian libyaml-dev).
//
// Why not yaml-cpp's tree: importing a 100k-user / 10k-group keymap (25 MB) spent most of its
// 13.7 s CPU inside yaml-cpp (its regular-expression scanner and one heap node per value,
// docs/perf.md "Keymap import"). Here every node, child list and scalar of a document lives
// in one arena that the document owns; nodes are never modified after parsing.
//
//   auto doc = yaml::Document::parse(text, "keymap.yaml");  // ConfigError on a syntax error
//   const yaml::Node& root = doc->root();
//   if (const yaml::Node* port = root.find("port")) { ... port->text ... port->line ... }
//
// What it keeps of YAML 1.1 is what the configuration readers use: mappings, sequences,
// scalars as their text, null (an empty plain scalar or plain ~, null, Null, NULL: what
// yaml-cpp called null), anchors and aliases (an alias is the anchored node itself), and the
// 1-based line and column of every node. An alias to a node that contains it, or aliases
// that expand to more than 8 times the nodes written (a "billion laughs" document, whose
// walk would never end), are refused as syntax errors. Only the first document of a stream is read.
// Keys are kept in file order and duplicates are kept (ConfigNode::expectKeys refuses them with the
// line of the second one).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace iwf::yaml {

enum class Kind : std::uint8_t { Null, Scalar, Map, Seq };

struct Node {
    Kind kind = Kind::Null;
    std::uint32_t line = 0;    // 1-based
    std::uint32_t column = 0;  // 1-based
    std::uint32_t count = 0;   // Map: pairs; Seq: items
    // Nodes a walk of this one visits, aliases expanded (1 for a scalar or null).
    std::uint64_t weight = 1;
    std::string_view text;  // Scalar: its value; Null: what was written ("", "~", "null")
    // Map: key 0, value 0, key 1, value 1, ...; Seq: item 0, item 1, ...
    const Node* const* items = nullptr;

    bool isNull() const { return kind == Kind::Null; }
    bool isScalar() const { return kind == Kind::Scalar; }
    bool isMap() const { return kind == Kind::Map; }
    bool isSeq() const { return kind == Kind::Seq; }

    // Map: the i-th key and value (i < count).
    const Node& key(std::size_t i) const { return *items[2 * i]; }
    const Node& value(std::size_t i) const { return *items[2 * i + 1]; }
    // A key's name: its scalar text, "" for a key that is not a scalar.
    std::string_view keyName(std::size_t i) const {
        return key(i).isScalar() ? key(i).text : std::string_view();
    }
    // Seq: the i-th item.
    const Node& item(std::size_t i) const { return *items[i]; }

    // Map: the value of the first key named `name`, or nullptr (also for a non-map).
    const Node* find(std::string_view name) const;
};

// Semantic equality: mappings compare by key whatever their order, scalars by text, nulls
// equal each other.
bool sameValue(const Node& a, const Node& b);

class Document {
  public:
    // Throws ConfigError(name, line, column, "(syntax)", libyaml's problem) on a syntax error,
    // and "(document)" errors for an alias to an anchor that was never defined.
    static std::shared_ptr<const Document> parse(std::string_view text, std::string name);

    const std::string& name() const { return name_; }
    const Node& root() const { return *root_; }

    Document(const Document&) = delete;
    Document& operator=(const Document&) = delete;
    ~Document();

  private:
    class Builder;
    explicit Document(std::string name);

    void* allocate(std::size_t bytes, std::size_t align);
    Node* newNode();
    std::string_view copyText(const char* data, std::size_t size);

    std::string name_;
    const Node* root_ = nullptr;
    std::vector<std::unique_ptr<std::byte[]>> blocks_;
    std::byte* next_ = nullptr;
    std::size_t left_ = 0;
};

}  // namespace iwf::yaml
