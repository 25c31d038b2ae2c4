#include "mc_adapters/mcdata/sds_sip.hpp"

#include <sstream>

#include <pugixml.hpp>

#include "mc_adapters/mcptt/ims_headers.hpp"
#include "sip/multipart.hpp"

namespace iwf::mc::mcdata {

namespace {

constexpr const char* kMcdataInfoNs = "urn:3gpp:ns:mcdataInfo:1.0";

std::string_view localName(const pugi::xml_node& n) {
    std::string_view name = n.name();
    auto colon = name.find(':');
    return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

pugi::xml_node childByLocal(const pugi::xml_node& n, std::string_view name) {
    for (auto c : n.children()) {
        if (localName(c) == name) {
            return c;
        }
    }
    return {};
}

// <x type="Normal"><mcdataURI>uri</mcdataURI></x>, or plain text content.
std::string uriOf(const pugi::xml_node& n) {
    if (!n) {
        return {};
    }
    if (auto u = childByLocal(n, "mcdataURI")) {
        return u.text().get();
    }
    return n.text().get();
}

void addUri(pugi::xml_node parent, const char* name, const std::string& uri) {
    auto e = parent.append_child(name);
    e.append_attribute("type") = "Normal";
    e.append_child("mcdataURI").text() = uri.c_str();
}

std::string toStr(const Bytes& b) {
    return std::string(b.begin(), b.end());
}

}  // namespace

std::string mcdataInfoXml(const SdsEnvelope& env) {
    pugi::xml_document doc;
    auto decl = doc.append_child(pugi::node_declaration);
    decl.append_attribute("version") = "1.0";
    decl.append_attribute("encoding") = "UTF-8";
    auto root = doc.append_child("mcdatainfo");
    root.append_attribute("xmlns") = kMcdataInfoNs;
    auto params = root.append_child("mcdata-Params");
    params.append_child("request-type").text() = env.group ? "group-sds" : "one-to-one-sds";
    addUri(params, "mcdata-request-uri", env.target);
    // TS 24.282 D.1.2 names it mcdata-calling-user-id (tests/data/xsd/mcdatainfo.xsd).
    addUri(params, "mcdata-calling-user-id", env.sender);
    if (env.group) {
        addUri(params, "mcdata-calling-group-id", env.target);
    }
    std::ostringstream os;
    doc.save(os, "", pugi::format_raw);
    return os.str();
}

Result<sip::Message> buildSdsMessage(const SdsSipMessage& m) {
    sip::Message msg = sip::Message::request("MESSAGE", m.env.request_uri);
    msg.addHeader("From", "<" + m.env.sender + ">");
    msg.addHeader("To", "<" + m.env.target + ">");
    msg.addHeader("Accept-Contact", ims::acceptContactFeature(ims::kMcdataSdsFeatureTag));
    msg.addHeader("Accept-Contact", ims::acceptContactIcsi(kMcdataSdsIcsi));
    msg.addHeader("P-Asserted-Service", std::string(kMcdataSdsIcsi));
    if (!m.env.iwf_psi.empty()) {
        msg.addHeader("P-Asserted-Identity", "<" + m.env.iwf_psi + ">");
    }
    std::vector<sip::BodyPart> parts;
    parts.push_back({std::string(kMcdataInfoContentType), {}, mcdataInfoXml(m.env)});
    Bytes sig;
    Status s = std::visit([&](const auto& x) { return encode(x, sig); }, m.signalling);
    if (!s) {
        return s.error();
    }
    parts.push_back({std::string(kSignallingContentType),
                     {{"Content-Transfer-Encoding", "binary"}},
                     toStr(sig)});
    if (std::holds_alternative<SdsSignalling>(m.signalling)) {
        if (!m.payload) {
            return Error{"no_mcdata_payload"};
        }
        Bytes pay;
        IWF_TRY_STATUS(encode(*m.payload, pay));
        parts.push_back({std::string(kPayloadContentType),
                         {{"Content-Transfer-Encoding", "binary"}},
                         toStr(pay)});
    }
    sip::setBodies(msg, parts);
    return msg;
}

Result<SdsSipMessage> parseSdsMessage(const sip::Message& msg) {
    SdsSipMessage out;
    auto sig = sip::bodyOfType(msg, kSignallingContentType);
    if (!sig) {
        return Error{"no_mcdata_signalling"};
    }
    ByteView sig_bytes = asBytes(*sig);
    if (peekMessageType(sig_bytes) == message_type::kSdsNotification) {
        auto n = decodeSdsNotification(sig_bytes);
        if (!n) {
            return n.error();
        }
        out.signalling = std::move(*n);
    } else {
        auto s = decodeSdsSignalling(sig_bytes);
        if (!s) {
            return s.error();
        }
        out.signalling = std::move(*s);
        auto pay = sip::bodyOfType(msg, kPayloadContentType);
        if (!pay) {
            return Error{"no_mcdata_payload"};
        }
        auto p = decodeDataPayload(asBytes(*pay));
        if (!p) {
            return p.error();
        }
        out.payload = std::move(*p);
    }
    out.env.request_uri = msg.requestUri();
    if (auto from = msg.header("From")) {
        if (auto na = sip::parseNameAddr(*from)) {
            out.env.sender = na->uri;
        }
    }
    out.env.target = msg.requestUri();
    if (auto info = sip::bodyOfType(msg, kMcdataInfoContentType)) {
        pugi::xml_document doc;
        if (!doc.load_buffer(info->data(), info->size())) {
            return Error{"bad_mcdata_info"};
        }
        auto root = childByLocal(doc, "mcdatainfo");
        auto params = childByLocal(root, "mcdata-Params");
        if (!root || !params) {
            return Error{"bad_mcdata_info"};
        }
        std::string type = childByLocal(params, "request-type").text().get();
        out.env.group = type == "group-sds";
        if (auto t = uriOf(childByLocal(params, "mcdata-request-uri")); !t.empty()) {
            out.env.target = t;
        }
        if (auto g = uriOf(childByLocal(params, "mcdata-calling-group-id")); !g.empty()) {
            out.env.group = true;
            out.env.target = g;
        }
        // "mcdata-calling-user-identity" is what OpenIWF sent before it followed D.1.2;
        // still read so that a mixed-version pair keeps working.
        auto calling = childByLocal(params, "mcdata-calling-user-id");
        if (!calling) {
            calling = childByLocal(params, "mcdata-calling-user-identity");
        }
        if (auto u = uriOf(calling); !u.empty()) {
            out.env.sender = u;
        }
    }
    if (auto pai = msg.header("P-Asserted-Identity")) {
        if (auto na = sip::parseNameAddr(*pai)) {
            out.env.iwf_psi = na->uri;
        }
    }
    return out;
}

}  // namespace iwf::mc::mcdata
