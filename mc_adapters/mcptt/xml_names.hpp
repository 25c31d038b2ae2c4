#pragma once
// Names of pugixml elements under XML namespaces (Namespaces in XML 1.0 §6): the local part
// of a qualified name, and the namespace URI its prefix (or the default namespace) is bound
// to on the element or an ancestor. Shared by the mcptt-info, LMR encryption and GKTP codecs.

#include <cstring>
#include <string>
#include <string_view>

#include <pugixml.hpp>

namespace iwf::mc::mcptt {

inline std::string_view xmlLocalName(const char* name) {
    const char* colon = std::strchr(name, ':');
    return colon == nullptr ? std::string_view(name) : std::string_view(colon + 1);
}

inline std::string_view xmlNamespaceOf(pugi::xml_node n) {
    std::string_view full = n.name();
    const auto colon = full.find(':');
    const std::string attr = colon == std::string_view::npos
                                 ? std::string("xmlns")
                                 : "xmlns:" + std::string(full.substr(0, colon));
    for (pugi::xml_node p = n; p; p = p.parent()) {
        if (auto a = p.attribute(attr.c_str())) {
            return a.value();
        }
    }
    return {};
}

// Whether `n` is the element {ns}local.
inline bool xmlIs(pugi::xml_node n, std::string_view ns, std::string_view local) {
    return n.type() == pugi::node_element && xmlLocalName(n.name()) == local &&
           xmlNamespaceOf(n) == ns;
}

}  // namespace iwf::mc::mcptt
