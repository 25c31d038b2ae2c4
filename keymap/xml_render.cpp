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

std::string renderGroupConfig(const GroupView& g, const GroupRenderOptions& options) {
    pugi::xml_document doc;
    pugi::xml_node decl = doc.append_child(pugi::node_declaration);
    decl.append_attribute("version").set_value("1.0");
    decl.append_attribute("encoding").set_value("UTF-8");
    // TS 24.481 clause 7.2.2.1: root <group> in the OMA list-service namespace, one
    // <list-service uri="group ID"> inside.
    pugi::xml_node root = doc.append_child("group");
    root.append_attribute("xmlns").set_value(str(kListServiceNs).c_str());
    root.append_attribute("xmlns:mcpttgi").set_value(str(kGroupInfoNs).c_str());
    root.append_attribute("xmlns:iwf").set_value(str(kExtensionNs).c_str());
    pugi::xml_node ls = root.append_child("list-service");
    ls.append_attribute("uri").set_value(g.mcGroup().uri.c_str());
    text(ls, "display-name",
         g.group->display_name.empty() ? g.mcGroup().uri : g.group->display_name);
    pugi::xml_node list = ls.append_child("list");
    for (const UserView& m : g.members) {
        list.append_child("entry").append_attribute("uri").set_value(m.mcId().uri.c_str());
    }

    // TS 24.481 MCPTT-specific <list-service> children (mcpttGroupInfo.xsd).
    pugi::xml_node enc = ls.append_child("mcpttgi:preferred-voice-encodings");
    enc.append_child("mcpttgi:encoding")
        .append_attribute("name")
        .set_value(options.voice_encoding.c_str());
    // 24.481's protect-media is a boolean: the members protect media unless it is off; the
    // exact mode is in iwf:interworking/iwf:media-protection below.
    boolean(ls, "mcpttgi:protect-media", g.group->media_protection != MediaProtection::Off);
    boolean(ls, "mcpttgi:protect-floor-control-signalling", g.group->floor_protection);

    // OpenIWF extension (elements of another namespace, after the 3GPP ones).
    pugi::xml_node e2ee = ls.append_child("iwf:lmr-e2ee");
    text(e2ee, "iwf:mode", str(toString(g.mode())));
    text(e2ee, "iwf:lmr-type", str(familyName(g.family)));
    if (g.e2ee()) {
        number(e2ee, "iwf:algid", g.crypto.algid);
        number(e2ee, "iwf:key-id", g.crypto.key_id);
    }
    pugi::xml_node iw = ls.append_child("iwf:interworking");
    text(iw, "iwf:home", str(toString(g.home())));
    lmrSystem(iw, *g.system);
    number(iw, "iwf:lmr-group", g.tgid());
    // The LMR vocoder inside the payload format named above (imbe, ambe2-half, ...).
    text(iw, "iwf:lmr-codec", str(codecName(g.codec)));
    text(iw, "iwf:media-protection", str(toString(g.group->media_protection)));
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
    // Required by the schema (TS 24.484 clause 8.3.2.1: the index of this profile among the
    // user's profiles); the IWF renders one profile per user.
    root.append_attribute("user-profile-index").set_value("0");
    text(root, "Name", u.user->display_name.empty() ? u.mcId().uri : u.user->display_name);
    // Extension in the ##other slot of <mcptt-user-profile>.
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
