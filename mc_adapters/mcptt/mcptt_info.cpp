#include "mc_adapters/mcptt/mcptt_info.hpp"

#include <cstring>
#include <sstream>

#include <pugixml.hpp>

#include "mc_adapters/mcptt/xml_names.hpp"

namespace iwf::mc::mcptt {

namespace {

void addUri(pugi::xml_node params, const char* name, const std::string& v,
            const char* kind = "mcpttURI") {
    if (v.empty()) {
        return;
    }
    auto e = params.append_child(name);
    e.append_attribute("type") = "Normal";
    e.append_child(kind).text() = v.c_str();
}

void addBool(pugi::xml_node params, const char* name, const std::optional<bool>& v) {
    if (!v) {
        return;
    }
    auto e = params.append_child(name);
    e.append_attribute("type") = "Normal";
    e.append_child("mcpttBoolean").text() = *v ? "true" : "false";
}

void addPlain(pugi::xml_node params, const char* name, const std::string& v) {
    if (!v.empty()) {
        params.append_child(name).text() = v.c_str();
    }
}

// Text of a contentType element (child mcpttURI/mcpttString/mcpttBoolean), or of a plain one.
struct Content {
    std::string text;
    bool encrypted = false;
};
Content contentOf(pugi::xml_node e) {
    Content c;
    if (std::string_view(e.attribute("type").as_string()) == "Encrypted") {
        c.encrypted = true;
        return c;
    }
    for (auto k : e.children()) {
        if (k.type() == pugi::node_element) {
            auto ln = xmlLocalName(k.name());
            if (ln == "mcpttURI" || ln == "mcpttString" || ln == "mcpttBoolean") {
                c.text = k.text().as_string();
                return c;
            }
        }
    }
    c.text = e.text().as_string();  // lenient: value written directly in the element
    return c;
}

Result<std::optional<bool>> boolOf(const Content& c) {
    if (c.encrypted) {
        return std::optional<bool>();
    }
    if (c.text == "true" || c.text == "1") {
        return std::optional<bool>(true);
    }
    if (c.text == "false" || c.text == "0") {
        return std::optional<bool>(false);
    }
    return Error{"bad_boolean"};
}

}  // namespace

std::string buildAffiliationPidf(const std::string& entity, const std::string& group,
                                 const std::string& tuple_id, const std::string& p_id) {
    pugi::xml_document doc;
    auto decl = doc.append_child(pugi::node_declaration);
    decl.append_attribute("version") = "1.0";
    decl.append_attribute("encoding") = "UTF-8";
    auto presence = doc.append_child("presence");
    presence.append_attribute("xmlns") = "urn:ietf:params:xml:ns:pidf";
    presence.append_attribute("xmlns:mcpttPI10") = "urn:3gpp:ns:mcpttPresInfo:1.0";
    presence.append_attribute("entity") = entity.c_str();
    auto tuple = presence.append_child("tuple");
    tuple.append_attribute("id") = tuple_id.c_str();
    auto status = tuple.append_child("status");
    if (!group.empty()) {
        status.append_child("mcpttPI10:affiliation").append_attribute("group") = group.c_str();
    }
    presence.append_child("mcpttPI10:p-id").text() = p_id.c_str();
    std::ostringstream os;
    doc.save(os, "  ");
    return os.str();
}

std::string buildMcpttInfo(const McpttInfo& info) {
    pugi::xml_document doc;
    auto decl = doc.append_child(pugi::node_declaration);
    decl.append_attribute("version") = "1.0";
    decl.append_attribute("encoding") = "UTF-8";
    auto root = doc.append_child("mcpttinfo");
    root.append_attribute("xmlns") = std::string(kMcpttInfoNs).c_str();
    auto p = root.append_child("mcptt-Params");
    addPlain(p, "session-type", info.session_type);
    addUri(p, "mcptt-request-uri", info.request_uri);
    addUri(p, "mcptt-calling-user-id", info.calling_user_id);
    addUri(p, "mcptt-called-party-id", info.called_party_id);
    addUri(p, "mcptt-calling-group-id", info.calling_group_id);
    addBool(p, "emergency-ind", info.emergency);
    addBool(p, "alert-ind", info.alert);
    addBool(p, "imminentperil-ind", info.imminent_peril);
    if (info.broadcast) {
        p.append_child("broadcast-ind").text() = *info.broadcast ? "true" : "false";
    }
    // mcptt-ParamsType is an xs:sequence (TS 24.379 F.1.2): floor-state and
    // associated-group-id (both plain xs:string) come before originated-by and
    // mcptt-client-id (tests/data/xsd/mcpttinfo.xsd, checked by tests/interop/xsd).
    addPlain(p, "floor-state", info.floor_state);
    addPlain(p, "associated-group-id", info.associated_group_id);
    addUri(p, "originated-by", info.originated_by);
    addUri(p, "mcptt-client-id", info.client_id, "mcpttString");
    if (!info.functional_alias.empty() || !info.called_functional_alias.empty() ||
        !info.release_reason.empty() || info.lmr_encryption) {
        auto ext = p.append_child("anyExt");
        addUri(ext, "functional-alias-URI", info.functional_alias);
        addUri(ext, "called-functional-alias-URI", info.called_functional_alias);
        addPlain(ext, "release-reason", info.release_reason);
        if (info.lmr_encryption) {
            appendEncryption(ext, *info.lmr_encryption);
        }
    }
    std::ostringstream out;
    doc.save(out, "  ", pugi::format_default, pugi::encoding_utf8);
    return out.str();
}

Result<McpttInfo> parseMcpttInfo(std::string_view xml) {
    if (xml.size() > 65536) {
        return Error{"too_large"};
    }
    pugi::xml_document doc;
    auto res = doc.load_buffer(xml.data(), xml.size(), pugi::parse_default, pugi::encoding_utf8);
    if (!res) {
        return Error{"xml_syntax", static_cast<std::int64_t>(res.offset)};
    }
    auto root = doc.document_element();
    if (!root || xmlLocalName(root.name()) != "mcpttinfo") {
        return Error{"not_mcpttinfo"};
    }
    if (xmlNamespaceOf(root) != kMcpttInfoNs) {
        return Error{"wrong_namespace"};
    }
    McpttInfo info;
    pugi::xml_node params;
    for (auto c : root.children()) {
        if (c.type() == pugi::node_element && xmlLocalName(c.name()) == "mcptt-Params" &&
            xmlNamespaceOf(c) == kMcpttInfoNs) {
            params = c;
            break;
        }
    }
    if (!params) {
        return info;  // an empty mcpttinfo is valid
    }
    for (auto e : params.children()) {
        if (e.type() != pugi::node_element || xmlNamespaceOf(e) != kMcpttInfoNs) {
            continue;  // other namespaces: ignored (schema's lax extension points)
        }
        const auto name = xmlLocalName(e.name());
        const Content c = contentOf(e);
        if (c.encrypted) {
            ++info.encrypted_elements;
            continue;
        }
        if (name == "session-type") {
            info.session_type = e.text().as_string();
        } else if (name == "mcptt-request-uri") {
            info.request_uri = c.text;
        } else if (name == "mcptt-calling-user-id") {
            info.calling_user_id = c.text;
        } else if (name == "mcptt-called-party-id") {
            info.called_party_id = c.text;
        } else if (name == "mcptt-calling-group-id") {
            info.calling_group_id = c.text;
        } else if (name == "emergency-ind" || name == "alert-ind" || name == "imminentperil-ind" ||
                   name == "broadcast-ind") {
            auto b = boolOf(c);
            if (!b) {
                return b.error();
            }
            (name == "emergency-ind"   ? info.emergency
             : name == "alert-ind"     ? info.alert
             : name == "broadcast-ind" ? info.broadcast
                                       : info.imminent_peril) = *b;
        } else if (name == "mcptt-client-id") {
            info.client_id = c.text;
        } else if (name == "originated-by") {
            info.originated_by = c.text;
        } else if (name == "floor-state") {
            info.floor_state = e.text().as_string();
        } else if (name == "associated-group-id") {
            info.associated_group_id = c.text;
        } else if (name == "anyExt") {
            for (auto x : e.children()) {
                if (x.type() != pugi::node_element) {
                    continue;
                }
                const auto xn = xmlLocalName(x.name());
                const Content xc = contentOf(x);
                if (xc.encrypted) {
                    ++info.encrypted_elements;
                } else if (xn == "functional-alias-URI") {
                    info.functional_alias = xc.text;
                } else if (xn == "called-functional-alias-URI") {
                    info.called_functional_alias = xc.text;
                } else if (xn == "release-reason") {
                    info.release_reason = x.text().as_string();
                }
            }
            if (auto enc = readEncryption(e)) {
                if (!*enc) {
                    return enc->error();
                }
                info.lmr_encryption = enc->value();
            }
        }
    }
    return info;
}

}  // namespace iwf::mc::mcptt
