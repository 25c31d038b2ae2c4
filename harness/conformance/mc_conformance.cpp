#include "harness/conformance/mc_conformance.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sys/wait.h>
#include <unistd.h>

namespace iwf::harness {

namespace {

// Strings from the specifications, typed here (not taken from OpenIWF's code): TS 24.379 /
// TS 24.282 feature tags, the ICSIs of TS 24.379 / TS 24.282 percent-encoded as TS 24.229
// §7.9.2 puts them in +g.3gpp.icsi-ref.
constexpr std::string_view kAcceptMcptt = "*;+g.3gpp.mcptt;require;explicit";
constexpr std::string_view kAcceptMcpttIcsi =
    "*;+g.3gpp.icsi-ref=\"urn%3Aurn-7%3A3gpp-service.ims.icsi.mcptt\";require;explicit";
constexpr std::string_view kMcpttIcsi = "urn:urn-7:3gpp-service.ims.icsi.mcptt";
constexpr std::string_view kContactMcpttTags =
    ";+g.3gpp.mcptt;+g.3gpp.icsi-ref=\"urn%3Aurn-7%3A3gpp-service.ims.icsi.mcptt\"";
constexpr std::string_view kAcceptSds = "*;+g.3gpp.mcdata.sds;require;explicit";
constexpr std::string_view kAcceptSdsIcsi =
    "*;+g.3gpp.icsi-ref=\"urn%3Aurn-7%3A3gpp-service.ims.icsi.mcdata.sds\";require;explicit";
constexpr std::string_view kSdsIcsi = "urn:urn-7:3gpp-service.ims.icsi.mcdata.sds";

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
        s.remove_suffix(1);
    }
    return s;
}

struct Header {
    std::string name;  // lower case
    std::string value;
};

struct Parsed {
    std::string start_line;
    std::vector<Header> headers;
    std::string body;
};

// RFC 3261 §7: start line, header lines (folded continuation lines joined), empty line, body.
Parsed split(std::string_view wire) {
    Parsed p;
    std::size_t end = wire.find("\r\n\r\n");
    std::string_view head = wire.substr(0, end);
    p.body = end == std::string_view::npos ? std::string() : std::string(wire.substr(end + 4));
    std::size_t pos = 0;
    bool first = true;
    while (pos <= head.size()) {
        std::size_t nl = head.find("\r\n", pos);
        std::string_view line = head.substr(pos, nl == std::string_view::npos ? nl : nl - pos);
        pos = nl == std::string_view::npos ? head.size() + 1 : nl + 2;
        if (first) {
            p.start_line = std::string(line);
            first = false;
        } else if (!line.empty() && (line.front() == ' ' || line.front() == '\t')) {
            if (!p.headers.empty()) {
                p.headers.back().value += " " + std::string(trim(line));
            }
        } else if (auto colon = line.find(':'); colon != std::string_view::npos) {
            p.headers.push_back(
                {lower(trim(line.substr(0, colon))), std::string(trim(line.substr(colon + 1)))});
        }
    }
    return p;
}

// Every value of a header (also comma-separated values of one line, outside quotes).
std::vector<std::string> values(const Parsed& p, std::string_view name) {
    std::vector<std::string> out;
    for (const auto& h : p.headers) {
        if (h.name != name) {
            continue;
        }
        bool quoted = false;
        std::size_t start = 0;
        for (std::size_t i = 0; i <= h.value.size(); ++i) {
            if (i < h.value.size() && h.value[i] == '"') {
                quoted = !quoted;
            }
            if (i == h.value.size() || (h.value[i] == ',' && !quoted)) {
                out.emplace_back(trim(std::string_view(h.value).substr(start, i - start)));
                start = i + 1;
            }
        }
    }
    return out;
}

std::string first(const Parsed& p, std::string_view name) {
    auto v = values(p, name);
    return v.empty() ? std::string() : v.front();
}

bool has(const std::vector<std::string>& v, std::string_view s) {
    return std::find(v.begin(), v.end(), s) != v.end();
}

struct Part {
    std::string content_type;  // lower case, without parameters
    std::string body;
};

// RFC 2046 §5.1: the parts of a multipart body, split at "--boundary".
std::vector<Part> parts(const Parsed& p) {
    std::vector<Part> out;
    const std::string ct = first(p, "content-type");
    const std::string ctl = lower(ct);
    if (ctl.rfind("multipart/", 0) != 0) {
        out.push_back({lower(trim(std::string_view(ctl).substr(0, ctl.find(';')))), p.body});
        return out;
    }
    auto b = ctl.find("boundary=");
    if (b == std::string::npos) {
        return out;
    }
    std::string boundary = ct.substr(b + 9);
    boundary = boundary.substr(0, boundary.find(';'));
    if (!boundary.empty() && boundary.front() == '"') {
        boundary = boundary.substr(1, boundary.find('"', 1) - 1);
    }
    const std::string delim = "--" + boundary;
    std::size_t pos = p.body.find(delim);
    while (pos != std::string::npos) {
        pos += delim.size();
        if (p.body.compare(pos, 2, "--") == 0) {
            break;
        }
        std::size_t next = p.body.find("\r\n" + delim, pos);
        if (next == std::string::npos) {
            break;
        }
        std::string_view raw = std::string_view(p.body).substr(pos, next - pos);
        if (raw.substr(0, 2) == "\r\n") {
            raw.remove_prefix(2);
        }
        Parsed part = split(std::string("X\r\n") + std::string(raw));
        std::string pct = lower(first(part, "content-type"));
        out.push_back({std::string(trim(std::string_view(pct).substr(0, pct.find(';')))),
                       std::move(part.body)});
        pos = next + 2;
    }
    return out;
}

const Part* partOf(const std::vector<Part>& ps, std::string_view type) {
    for (const auto& p : ps) {
        if (p.content_type == type) {
            return &p;
        }
    }
    return nullptr;
}

}  // namespace

McConformance::McConformance(std::string xsd_dir, std::string xmllint)
    : xsd_dir_(std::move(xsd_dir)), xmllint_(std::move(xmllint)) {}

std::string McConformance::validate(std::string_view xml, const std::string& driver) const {
    char path[] = "/tmp/iwf-conformance-XXXXXX";
    int fd = ::mkstemp(path);
    if (fd < 0) {
        return "mkstemp failed";
    }
    ::close(fd);
    {
        std::ofstream out(path, std::ios::binary);
        out.write(xml.data(), static_cast<std::streamsize>(xml.size()));
    }
    const std::string cmd = xmllint_ + " --noout --nonet --schema '" + xsd_dir_ + "/" + driver +
                            "' '" + path + "' 2>&1";
    std::string report;
    int status = -1;
    if (FILE* pipe = ::popen(cmd.c_str(), "r")) {
        char buf[512];
        while (std::fgets(buf, sizeof buf, pipe) != nullptr) {
            report += buf;
        }
        status = ::pclose(pipe);
    }
    ::unlink(path);
    if (status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        return {};
    }
    return report.empty() ? std::string("xmllint did not run: ") + xmllint_ : report;
}

std::vector<std::string> McConformance::checkRequest(std::string_view wire) const {
    std::vector<std::string> v;
    const Parsed p = split(wire);
    const std::string method = p.start_line.substr(0, p.start_line.find(' '));
    const bool in_dialog = first(p, "to").find(";tag=") != std::string::npos;
    const auto ps = parts(p);
    auto need = [&](bool ok, const std::string& what) {
        if (!ok) {
            v.push_back(method + ": " + what);
        }
    };
    auto mcpttService = [&] {
        const auto ac = values(p, "accept-contact");
        need(has(ac, kAcceptMcptt), "no Accept-Contact " + std::string(kAcceptMcptt));
        need(has(ac, kAcceptMcpttIcsi), "no Accept-Contact " + std::string(kAcceptMcpttIcsi));
        need(first(p, "p-asserted-service") == kMcpttIcsi,
             "P-Asserted-Service is '" + first(p, "p-asserted-service") + "'");
    };
    auto xmlPart = [&](std::string_view type, const std::string& driver) {
        const Part* x = partOf(ps, type);
        need(x != nullptr, "no " + std::string(type) + " body");
        if (x != nullptr) {
            const std::string report = validate(x->body, driver);
            need(report.empty(), std::string(type) + " does not validate: " + report);
        }
    };
    if (method == "INVITE" && !in_dialog) {
        mcpttService();
        const std::string contact = first(p, "contact");
        need(contact.find(kContactMcpttTags) != std::string::npos,
             "Contact lacks " + std::string(kContactMcpttTags) + ": " + contact);
        need(lower(first(p, "content-type")).rfind("multipart/mixed", 0) == 0,
             "body is not multipart/mixed");
        need(partOf(ps, "application/sdp") != nullptr, "no application/sdp body");
        xmlPart("application/vnd.3gpp.mcptt-info+xml", "mcptt-info.xsd");
    } else if (method == "PUBLISH") {
        mcpttService();
    } else if (method == "MESSAGE" && partOf(ps, "application/vnd.3gpp.mcdata-signalling")) {
        const auto ac = values(p, "accept-contact");
        need(has(ac, kAcceptSds), "no Accept-Contact " + std::string(kAcceptSds));
        need(has(ac, kAcceptSdsIcsi), "no Accept-Contact " + std::string(kAcceptSdsIcsi));
        need(first(p, "p-asserted-service") == kSdsIcsi,
             "P-Asserted-Service is '" + first(p, "p-asserted-service") + "'");
        xmlPart("application/vnd.3gpp.mcdata-info+xml", "mcdata-info.xsd");
        const Part* sig = partOf(ps, "application/vnd.3gpp.mcdata-signalling");
        const int type = sig->body.empty() ? -1 : static_cast<unsigned char>(sig->body[0]) & 0x3f;
        need(type == 0x01 || type == 0x05,
             "mcdata-signalling message type " + std::to_string(type) +
                 " is neither SDS SIGNALLING PAYLOAD (0x01) nor SDS NOTIFICATION (0x05)");
    } else if (method == "MESSAGE") {
        mcpttService();
        xmlPart("application/vnd.3gpp.mcptt-info+xml", "mcptt-info.xsd");
    }
    return v;
}

}  // namespace iwf::harness
