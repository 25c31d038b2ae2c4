#include "mc_adapters/mcptt/gktp.hpp"

#include <pugixml.hpp>

#include "mc_adapters/mcptt/xml_names.hpp"

namespace iwf::mc::mcptt {

namespace {

constexpr std::string_view kListServiceNs = "urn:oma:xml:poc:list-service";

// xs:hexBinary with the whitespace an XML writer may put around it (whiteSpace collapse).
Result<Bytes> gktpOctets(std::string_view text) {
    const auto first = text.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos) {
        return Error{"gktp_bad_hex"};
    }
    text = text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
    if (text.size() > 2 * kMaxGktpOctets) {
        return Error{"gktp_too_large"};
    }
    for (char c : text) {
        const bool digit =
            (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
        if (!digit) {
            return Error{"gktp_bad_hex"};
        }
    }
    auto b = fromHex(text);
    if (!b) {
        return Error{"gktp_bad_hex"};
    }
    return std::move(*b);
}

// The GKTP children of `holder` addressed to `member`, for `group`.
Status collectGktps(pugi::xml_node holder, const std::string& group, std::string_view member,
                    std::vector<GroupKeyTransport>& out) {
    for (pugi::xml_node g : holder.children()) {
        if (!xmlIs(g, kGktpNamespace, "GKTP") || member != g.attribute("id").value()) {
            continue;
        }
        if (out.size() == kMaxGktpsPerMember) {
            return Error{"gktp_too_many"};
        }
        auto octets = gktpOctets(g.child_value());
        if (!octets) {
            return octets.error();
        }
        out.push_back({group, g.attribute("activationtime").value(), std::move(*octets)});
    }
    return Status::success();
}

}  // namespace

Result<std::vector<GroupKeyTransport>> parseGroupKeyTransports(std::string_view document,
                                                               std::string_view member) {
    pugi::xml_document doc;
    if (!doc.load_buffer(document.data(), document.size(), pugi::parse_default,
                         pugi::encoding_utf8)) {
        return Error{"gktp_bad_xml"};
    }
    pugi::xml_node service;
    for (pugi::xml_node root : doc.children()) {
        if (!xmlIs(root, kListServiceNs, "group")) {
            continue;
        }
        for (pugi::xml_node c : root.children()) {
            if (xmlIs(c, kListServiceNs, "list-service")) {
                service = c;
                break;
            }
        }
    }
    const std::string group = service.attribute("uri").value();
    if (!service || group.empty()) {
        return Error{"gktp_no_group"};
    }
    std::vector<GroupKeyTransport> out;
    for (pugi::xml_node all : service.children()) {
        if (!xmlIs(all, kGktpNamespace, "GKTPs")) {
            continue;
        }
        for (pugi::xml_node gmk : all.children()) {
            if (!xmlIs(gmk, kGktpNamespace, "GMK-GKTPs")) {
                continue;  // MKFC-GKTPs (MBMS floor control keys), extensions
            }
            IWF_TRY_STATUS(collectGktps(gmk, group, member, out));
            for (pugi::xml_node regroup : gmk.children()) {
                if (xmlIs(regroup, kGktpNamespace, "on-network-regrouped-GKTPs")) {
                    const std::string temp = regroup.attribute("temporary-MCPTT-group-ID").value();
                    if (temp.empty()) {
                        return Error{"gktp_no_group"};
                    }
                    IWF_TRY_STATUS(collectGktps(regroup, temp, member, out));
                }
            }
        }
    }
    return out;
}

}  // namespace iwf::mc::mcptt
