#include "keymap/xml_render.hpp"

#include <sstream>

#include <pugixml.hpp>

namespace iwf::keymap {

namespace {

std::string str(std::string_view s) {
    return std::string(s);
}

void text(pugi::xml_node parent, const char* name, const std::string& value) {
    parent.append_child(name).text().set(value.c_str());
}

void number(pugi::xml_node parent, const char* name, unsigned long long value) {
    parent.append_child(name).text().set(value);
}

void boolean(pugi::xml_node parent, const char* name, bool value) {
    parent.append_child(name).text().set(value ? "true" : "false");
}

std::string dump(const pugi::xml_document& doc) {
    std::ostringstream ss;
    doc.save(ss, "  ", pugi::format_default, pugi::encoding_utf8);
    return ss.str();
}

void lmrSystem(pugi::xml_node parent, const LmrSystem& s) {
    pugi::xml_node n = parent.append_child("iwf:lmr-system");
    n.append_attribute("id").set_value(s.id.c_str());
    n.append_attribute("lmr-type").set_value(str(familyName(s.family)).c_str());
    switch (s.family) {
        case LmrFamily::P25:
            n.append_attribute("wacn").set_value(s.p25.wacn);
            n.append_attribute("system-id").set_value(s.p25.system);
            break;
        case LmrFamily::Dmr:
            n.append_attribute("network-id").set_value(s.dmr_network);
            break;
        case LmrFamily::Tetra:
            n.append_attribute("mcc").set_value(s.tetra_mcc);
            n.append_attribute("mnc").set_value(s.tetra_mnc);
            break;
        case LmrFamily::Analog:
            break;
    }
}

}  // namespace

std::string renderGroupConfig(const GroupView& g) {
    pugi::xml_document doc;
    pugi::xml_node decl = doc.append_child(pugi::node_declaration);
    decl.append_attribute("version").set_value("1.0");
    decl.append_attribute("encoding").set_value("UTF-8");
    pugi::xml_node root = doc.append_child("list-service");
    root.append_attribute("xmlns").set_value(str(kListServiceNs).c_str());
    root.append_attribute("xmlns:iwf").set_value(str(kExtensionNs).c_str());
    root.append_attribute("uri").set_value(g.mcGroup().uri.c_str());
    text(root, "display-name",
         g.group->display_name.empty() ? g.mcGroup().uri : g.group->display_name);
    pugi::xml_node list = root.append_child("list");
    for (const UserView& m : g.members) {
        list.append_child("entry").append_attribute("uri").set_value(m.mcId().uri.c_str());
    }

    // MC group security configuration (extension namespace).
    pugi::xml_node sec = root.append_child("iwf:mc-group-security");
    pugi::xml_node enc = sec.append_child("iwf:preferred-voice-encodings");
    enc.append_child("iwf:encoding")
        .append_attribute("name")
        .set_value(str(codecName(g.codec)).c_str());
    pugi::xml_node prot = sec.append_child("iwf:protection");
    boolean(prot, "iwf:media", g.group->media_protection);
    boolean(prot, "iwf:floor-control", g.group->floor_protection);
    pugi::xml_node e2ee = sec.append_child("iwf:lmr-e2ee");
    text(e2ee, "iwf:mode", str(toString(g.mode())));
    text(e2ee, "iwf:lmr-type", str(familyName(g.family)));
    if (g.e2ee()) {
        number(e2ee, "iwf:algid", g.crypto.algid);
        number(e2ee, "iwf:key-id", g.crypto.key_id);
    }
    pugi::xml_node iw = sec.append_child("iwf:interworking");
    text(iw, "iwf:home", str(toString(g.home())));
    lmrSystem(iw, *g.system);
    number(iw, "iwf:lmr-group", g.tgid());
    return dump(doc);
}

std::string renderUserProfile(const UserView& u) {
    pugi::xml_document doc;
    pugi::xml_node decl = doc.append_child(pugi::node_declaration);
    decl.append_attribute("version").set_value("1.0");
    decl.append_attribute("encoding").set_value("UTF-8");
    pugi::xml_node root = doc.append_child("mcptt-user-profile");
    root.append_attribute("xmlns").set_value(str(kUserProfileNs).c_str());
    root.append_attribute("xmlns:iwf").set_value(str(kExtensionNs).c_str());
    root.append_attribute("XUI-URI").set_value(u.mcId().uri.c_str());
    text(root, "Name", u.user->display_name.empty() ? u.mcId().uri : u.user->display_name);
    pugi::xml_node p = root.append_child("iwf:lmr-e2ee-user-profile");
    text(p, "iwf:lmr-type", str(familyName(u.system->family)));
    lmrSystem(p, *u.system);
    number(p, "iwf:lmr-unit", u.user->unit);
    if (!u.kmfUri().empty()) {
        text(p, "iwf:kmf-uri", u.kmfUri());
    }
    boolean(p, "iwf:e2ee-allowed", u.mayUseE2ee());
    pugi::xml_node auth = p.append_child("iwf:authorised");
    for (const KeyRef& k : u.user->authorised) {
        pugi::xml_node a = auth.append_child("iwf:algorithm");
        a.append_attribute("lmr-type").set_value(str(familyName(k.family)).c_str());
        a.append_attribute("algid").set_value(k.algid);
        a.append_attribute("key-id").set_value(k.key_id);
    }
    return dump(doc);
}

}  // namespace iwf::keymap
