#include "mc_adapters/security/interworking_data.hpp"

#include <sstream>

#include <pugixml.hpp>

#include "mc_adapters/mcptt/ims_headers.hpp"
#include "sip/multipart.hpp"

namespace iwf::mc::security {

namespace {
constexpr const char* kMcpttInfoNs = "urn:3gpp:ns:mcpttInfo:1.0";

std::string toStr(ByteView b) {
    return std::string(b.begin(), b.end());
}
}  // namespace

std::string mcpttInfoXml(std::string_view request_uri, std::string_view calling_user) {
    pugi::xml_document doc;
    auto decl = doc.append_child(pugi::node_declaration);
    decl.append_attribute("version") = "1.0";
    decl.append_attribute("encoding") = "UTF-8";
    auto root = doc.append_child("mcpttinfo");
    root.append_attribute("xmlns") = kMcpttInfoNs;
    auto params = root.append_child("mcptt-Params");
    auto req = params.append_child("mcptt-request-uri");
    req.append_attribute("type") = "Normal";
    req.append_child("mcpttURI").text() = std::string(request_uri).c_str();
    if (!calling_user.empty()) {
        auto cu = params.append_child("mcptt-calling-user-id");
        cu.append_attribute("type") = "Normal";
        cu.append_child("mcpttURI").text() = std::string(calling_user).c_str();
    }
    std::ostringstream os;
    doc.save(os, "", pugi::format_raw);
    return os.str();
}

std::optional<std::string> mcpttRequestUri(std::string_view xml) {
    pugi::xml_document doc;
    if (!doc.load_buffer(xml.data(), xml.size())) {
        return std::nullopt;
    }
    // Match by local name so any namespace prefix is accepted.
    auto local = [](const pugi::xml_node& n) {
        std::string_view name = n.name();
        auto colon = name.find(':');
        return colon == std::string_view::npos ? name : name.substr(colon + 1);
    };
    for (auto n : doc.children()) {
        if (local(n) != "mcpttinfo") {
            continue;
        }
        for (auto p : n.children()) {
            if (local(p) != "mcptt-Params") {
                continue;
            }
            for (auto q : p.children()) {
                if (local(q) == "mcptt-request-uri") {
                    for (auto u : q.children()) {
                        if (local(u) == "mcpttURI") {
                            return std::string(u.text().get());
                        }
                    }
                    return std::string(q.text().get());
                }
            }
        }
        return std::string();
    }
    return std::nullopt;
}

sip::Message buildSecurityMessage(const SecurityRequest& r) {
    sip::Message m = sip::Message::request("MESSAGE", r.request_uri);
    m.addHeader("From", "<" + r.from_uri + ">");
    m.addHeader("To", "<" + r.target_id + ">");
    m.addHeader("Accept-Contact", ims::acceptContactFeature(ims::kMcpttFeatureTag));
    m.addHeader("Accept-Contact", ims::acceptContactIcsi(ims::kMcpttIcsi));
    m.addHeader("P-Asserted-Service", std::string(kMcpttIcsi));
    m.addHeader("P-Asserted-Identity", "<" + r.iwf_psi + ">");
    sip::BodyPart info;
    info.content_type = std::string(kMcpttInfoContentType);
    info.body = mcpttInfoXml(r.target_id);
    sip::BodyPart data;
    data.content_type = std::string(kInterworkingDataContentType);
    data.headers.push_back({"Content-Transfer-Encoding", "binary"});
    data.body = toStr(r.payload);
    sip::setBodies(m, {info, data});
    return m;
}

Result<ReceivedSecurityMessage> parseSecurityMessage(const sip::Message& m) {
    auto data = sip::bodyOfType(m, kInterworkingDataContentType);
    if (!data) {
        return Error{"no_interworking_data"};
    }
    ReceivedSecurityMessage out;
    out.payload.assign(data->begin(), data->end());
    if (auto pai = m.header("P-Asserted-Identity")) {
        if (auto na = sip::parseNameAddr(*pai)) {
            out.sender = na->uri;
        }
    }
    if (out.sender.empty()) {
        if (auto from = m.header("From")) {
            if (auto na = sip::parseNameAddr(*from)) {
                out.sender = na->uri;
            }
        }
    }
    out.target_id = m.requestUri();
    if (auto info = sip::bodyOfType(m, kMcpttInfoContentType)) {
        auto target = mcpttRequestUri(*info);
        if (!target) {
            return Error{"bad_mcptt_info"};
        }
        if (!target->empty()) {
            out.target_id = *target;
        }
    }
    return out;
}

}  // namespace iwf::mc::security
