#include "common/yaml_doc.hpp"

#include <cstring>
#include <map>
#include <new>
#include <yaml.h>

#include "common/config_node.hpp"

namespace iwf::yaml {

namespace {

constexpr std::size_t kBlockSize = 64 * 1024;
// A document may expand (aliases walked as copies) to this many times the nodes written, or
// to kMinExpansionLimit nodes, whichever is more.
constexpr std::uint64_t kExpansionFactor = 8;
constexpr std::uint64_t kMinExpansionLimit = 1'000'000;

bool plainNull(std::string_view s) {
    return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL";
}

// Owns one libyaml event until the next one is parsed (or an exception leaves the loop).
struct Event {
    yaml_event_t ev{};
    bool live = false;
    ~Event() { reset(); }
    void reset() {
        if (live) {
            yaml_event_delete(&ev);
            live = false;
        }
    }
};

struct Parser {
    yaml_parser_t p{};
    Parser() {
        if (yaml_parser_initialize(&p) == 0) {
            throw std::bad_alloc();
        }
    }
    ~Parser() { yaml_parser_delete(&p); }
    Parser(const Parser&) = delete;
    Parser& operator=(const Parser&) = delete;
};

}  // namespace

const Node* Node::find(std::string_view name) const {
    if (kind != Kind::Map) {
        return nullptr;
    }
    for (std::uint32_t i = 0; i < count; ++i) {
        if (key(i).isScalar() && key(i).text == name) {
            return &value(i);
        }
    }
    return nullptr;
}

bool sameValue(const Node& a, const Node& b) {
    if (a.kind != b.kind) {
        return false;
    }
    switch (a.kind) {
        case Kind::Null:
            return true;
        case Kind::Scalar:
            return a.text == b.text;
        case Kind::Seq:
            if (a.count != b.count) {
                return false;
            }
            for (std::uint32_t i = 0; i < a.count; ++i) {
                if (!sameValue(a.item(i), b.item(i))) {
                    return false;
                }
            }
            return true;
        case Kind::Map:
            if (a.count != b.count) {
                return false;
            }
            for (std::uint32_t i = 0; i < a.count; ++i) {
                const Node* other = b.find(a.keyName(i));
                if (other == nullptr || !sameValue(a.value(i), *other)) {
                    return false;
                }
            }
            return true;
    }
    return false;
}

Document::Document(std::string name) : name_(std::move(name)) {}
Document::~Document() = default;

void* Document::allocate(std::size_t bytes, std::size_t align) {
    std::size_t pad = (align - reinterpret_cast<std::uintptr_t>(next_) % align) % align;
    if (next_ == nullptr || pad + bytes > left_) {
        const std::size_t size = bytes + align > kBlockSize ? bytes + align : kBlockSize;
        blocks_.push_back(std::make_unique<std::byte[]>(size));
        next_ = blocks_.back().get();
        left_ = size;
        pad = (align - reinterpret_cast<std::uintptr_t>(next_) % align) % align;
    }
    std::byte* p = next_ + pad;
    next_ = p + bytes;
    left_ -= pad + bytes;
    return p;
}

Node* Document::newNode() {
    return new (allocate(sizeof(Node), alignof(Node))) Node();
}

std::string_view Document::copyText(const char* data, std::size_t size) {
    if (size == 0) {
        return {};
    }
    char* p = static_cast<char*>(allocate(size, 1));
    std::memcpy(p, data, size);
    return {p, size};
}

// Turns the event stream of the first document into nodes. Containers being read keep their
// children on one shared stack (`pending_`); a container's children are copied into the
// arena as one array when it ends.
class Document::Builder {
  public:
    explicit Builder(Document& doc) : doc_(doc) {}

    void run(std::string_view text) {
        Parser parser;
        yaml_parser_set_input_string(&parser.p, reinterpret_cast<const unsigned char*>(text.data()),
                                     text.size());
        Event e;
        for (;;) {
            e.reset();
            if (yaml_parser_parse(&parser.p, &e.ev) == 0) {
                syntaxError(parser.p);
            }
            e.live = true;
            if (!handle(e.ev)) {
                return;
            }
        }
    }

  private:
    struct Open {
        Node* node;
        std::size_t first;  // its first child in pending_
    };

    [[noreturn]] void syntaxError(const yaml_parser_t& p) const {
        std::string what = p.problem != nullptr ? p.problem : "invalid YAML";
        if (p.context != nullptr) {
            what += std::string(" ") + p.context;
        }
        throw ConfigError(doc_.name_, static_cast<int>(p.problem_mark.line) + 1,
                          static_cast<int>(p.problem_mark.column) + 1, "(syntax)", what);
    }

    Node* start(Kind kind, const yaml_mark_t& mark, const yaml_char_t* anchor) {
        Node* n = doc_.newNode();
        ++created_;
        n->kind = kind;
        n->line = static_cast<std::uint32_t>(mark.line) + 1;
        n->column = static_cast<std::uint32_t>(mark.column) + 1;
        if (anchor != nullptr) {
            anchors_[reinterpret_cast<const char*>(anchor)] = n;
        }
        return n;
    }

    // Adds a finished node to the container being read, or makes it the root.
    void add(const Node* n) {
        if (open_.empty()) {
            doc_.root_ = n;
        } else {
            pending_.push_back(n);
        }
    }

    void close() {
        Open o = open_.back();
        open_.pop_back();
        const std::size_t n = pending_.size() - o.first;
        auto** items =
            static_cast<const Node**>(doc_.allocate(n * sizeof(const Node*), alignof(const Node*)));
        std::copy(pending_.begin() + static_cast<std::ptrdiff_t>(o.first), pending_.end(), items);
        pending_.resize(o.first);
        o.node->items = items;
        o.node->count = static_cast<std::uint32_t>(o.node->kind == Kind::Map ? n / 2 : n);
        std::uint64_t weight = 1;
        for (std::size_t i = 0; i < n; ++i) {
            weight += items[i]->weight;
        }
        o.node->weight = weight;
        if (weight > kMinExpansionLimit && weight > kExpansionFactor * created_) {
            throw ConfigError(doc_.name_, static_cast<int>(o.node->line),
                              static_cast<int>(o.node->column), "(syntax)",
                              "aliases expand this node to " + std::to_string(weight) +
                                  " nodes, more than " + std::to_string(kExpansionFactor) +
                                  " times the " + std::to_string(created_) + " written");
        }
        add(o.node);
    }

    // False when the first document is complete.
    bool handle(const yaml_event_t& ev) {
        switch (ev.type) {
            case YAML_STREAM_START_EVENT:
            case YAML_DOCUMENT_START_EVENT:
            case YAML_NO_EVENT:
                return true;
            case YAML_DOCUMENT_END_EVENT:
            case YAML_STREAM_END_EVENT:
                return false;
            case YAML_MAPPING_START_EVENT:
                open_.push_back({start(Kind::Map, ev.start_mark, ev.data.mapping_start.anchor),
                                 pending_.size()});
                return true;
            case YAML_SEQUENCE_START_EVENT:
                open_.push_back({start(Kind::Seq, ev.start_mark, ev.data.sequence_start.anchor),
                                 pending_.size()});
                return true;
            case YAML_MAPPING_END_EVENT:
            case YAML_SEQUENCE_END_EVENT:
                close();
                return true;
            case YAML_SCALAR_EVENT:
                scalar(ev);
                return true;
            case YAML_ALIAS_EVENT:
                alias(ev);
                return true;
        }
        return true;
    }

    void scalar(const yaml_event_t& ev) {
        const auto& s = ev.data.scalar;
        Node* n = start(Kind::Scalar, ev.start_mark, s.anchor);
        n->text = doc_.copyText(reinterpret_cast<const char*>(s.value), s.length);
        const bool untagged = s.tag == nullptr ||
                              std::strcmp(reinterpret_cast<const char*>(s.tag), YAML_NULL_TAG) == 0;
        if (s.style == YAML_PLAIN_SCALAR_STYLE && untagged && plainNull(n->text)) {
            n->kind = Kind::Null;
        }
        add(n);
    }

    void alias(const yaml_event_t& ev) {
        const char* name = reinterpret_cast<const char*>(ev.data.alias.anchor);
        auto it = anchors_.find(name);
        if (it == anchors_.end()) {
            throw ConfigError(doc_.name_, static_cast<int>(ev.start_mark.line) + 1,
                              static_cast<int>(ev.start_mark.column) + 1, "(syntax)",
                              std::string("the alias *") + name + " names no anchor before it");
        }
        const Node* target = it->second;
        if ((target->isMap() || target->isSeq()) && target->items == nullptr) {
            throw ConfigError(doc_.name_, static_cast<int>(ev.start_mark.line) + 1,
                              static_cast<int>(ev.start_mark.column) + 1, "(syntax)",
                              std::string("the alias *") + name + " is inside its own anchor");
        }
        add(target);
    }

    Document& doc_;
    std::uint64_t created_ = 0;
    std::vector<Open> open_;
    std::vector<const Node*> pending_;
    std::map<std::string, const Node*, std::less<>> anchors_;
};

std::shared_ptr<const Document> Document::parse(std::string_view text, std::string name) {
    std::shared_ptr<Document> doc(new Document(std::move(name)));
    Builder(*doc).run(text);
    if (doc->root_ == nullptr) {
        Node* empty = doc->newNode();
        empty->line = 1;
        empty->column = 1;
        doc->root_ = empty;
    }
    return doc;
}

}  // namespace iwf::yaml
