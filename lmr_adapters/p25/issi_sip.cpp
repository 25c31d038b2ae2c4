#include "lmr_adapters/p25/issi_sip.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>

namespace iwf::lmr::p25 {

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
        s.remove_suffix(1);
    }
    return s;
}

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

template <typename T>
bool parseNum(std::string_view s, T& out, int base = 10) {
    s = trim(s);
    if (s.empty()) {
        return false;
    }
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out, base);
    return ec == std::errc() && p == s.data() + s.size();
}

// Splits into lines at \n (a trailing \r is trimmed by the callers).
std::vector<std::string_view> lines(std::string_view s) {
    std::vector<std::string_view> out;
    while (!s.empty()) {
        auto nl = s.find('\n');
        out.push_back(s.substr(0, nl));
        if (nl == std::string_view::npos) {
            break;
        }
        s.remove_prefix(nl + 1);
    }
    return out;
}

std::vector<std::string_view> words(std::string_view s) {
    std::vector<std::string_view> out;
    std::size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && s[i] == ' ') {
            ++i;
        }
        std::size_t j = i;
        while (j < s.size() && s[j] != ' ') {
            ++j;
        }
        if (j > i) {
            out.push_back(s.substr(i, j - i));
        }
        i = j;
    }
    return out;
}

}  // namespace

Result<IssiSdp> parseIssiSdp(std::string_view text) {
    IssiSdp sdp;
    bool have_c = false;
    bool have_m = false;
    std::map<std::uint8_t, std::string> rtpmap;
    for (auto raw : lines(text)) {
        auto line = trim(raw);
        if (line.empty()) {
            continue;
        }
        if (line.size() < 2 || line[1] != '=') {
            return Error{"sdp_bad_line"};
        }
        const char type = line[0];
        auto value = line.substr(2);
        auto w = words(value);
        if (type == 'c') {
            if (w.size() < 3 || w[0] != "IN") {
                return Error{"sdp_bad_line"};
            }
            if (!have_c || !have_m) {  // session-level or first media-level wins
                sdp.address = std::string(w[2]);
            }
            have_c = true;
        } else if (type == 'o') {
            if (w.size() >= 2) {
                (void)parseNum(w[1], sdp.session_id);
            }
        } else if (type == 's') {
            sdp.session_name = std::string(value);
        } else if (type == 'm') {
            if (have_m || w.size() < 3 || w[0] != "audio") {
                continue;  // only the first audio stream matters for ISSI
            }
            unsigned port = 0;
            if (!parseNum(w[1], port) || port > 65535) {
                return Error{"sdp_bad_port"};
            }
            sdp.port = static_cast<std::uint16_t>(port);
            for (std::size_t i = 3; i < w.size(); ++i) {
                unsigned pt = 0;
                if (!parseNum(w[i], pt) || pt > 127) {
                    return Error{"sdp_bad_line"};
                }
                sdp.payload_types.push_back(static_cast<std::uint8_t>(pt));
            }
            have_m = true;
        } else if (type == 'a' && value.substr(0, 7) == "rtpmap:") {
            auto rest = value.substr(7);
            auto sp = rest.find(' ');
            unsigned pt = 0;
            if (sp != std::string_view::npos && parseNum(rest.substr(0, sp), pt) && pt <= 127) {
                rtpmap[static_cast<std::uint8_t>(pt)] = lower(trim(rest.substr(sp + 1)));
            }
        }
    }
    if (!have_c) {
        return Error{"sdp_no_connection"};
    }
    if (!have_m) {
        return Error{"sdp_no_audio"};
    }
    const std::string want = lower(kIssiRtpMap);
    for (auto pt : sdp.payload_types) {
        auto it = rtpmap.find(pt);
        if (it != rtpmap.end() && it->second.rfind("x-tia-p25-imbe", 0) == 0) {
            sdp.imbe_pt = pt;
            break;
        }
    }
    (void)want;
    return sdp;
}

std::string buildIssiSdp(const IssiSdp& sdp) {
    const std::uint8_t pt = sdp.imbe_pt.value_or(100);
    std::string s;
    s += "v=0\r\n";
    s += "o=- " + std::to_string(sdp.session_id) + " " + std::to_string(sdp.session_id) +
         " IN IP4 " + sdp.address + "\r\n";
    s += "s=" + sdp.session_name + "\r\n";
    s += "c=IN IP4 " + sdp.address + "\r\n";
    s += "t=0 0\r\n";
    s += "m=audio " + std::to_string(sdp.port) + " RTP/AVP " + std::to_string(pt) + "\r\n";
    s += "a=rtpmap:" + std::to_string(pt) + " " + std::string(kIssiRtpMap) + "\r\n";
    return s;
}

Result<IssiCallParams> parseIssiCallParams(std::string_view text) {
    IssiCallParams p;
    for (auto raw : lines(text)) {
        auto line = trim(raw);
        if (line.empty()) {
            continue;
        }
        auto colon = line.find(':');
        if (colon == std::string_view::npos ||
            line.find(':', colon + 1) != std::string_view::npos) {
            return Error{"param_bad_line"};
        }
        const std::string name = lower(trim(line.substr(0, colon)));
        const auto value = trim(line.substr(colon + 1));
        if (name.empty()) {
            return Error{"param_bad_line"};
        }
        auto boolean = [&](std::optional<bool>& out) -> bool {
            if (value == "1") {
                out = true;
            } else if (value == "0") {
                out = false;
            } else {
                return false;
            }
            return true;
        };
        bool ok = true;
        if (name == "c-initrans" || name == "c-i") {
            std::optional<bool> v;
            ok = boolean(v);
            if (ok) {
                p.initial_transmitter = !*v;  // NIST: c-initrans:0 means "is initial transmitter"
            }
        } else if (name == "c-resavail" || name == "c-r") {
            ok = boolean(p.resource_available);
        } else if (name == "c-pref" || name == "c-prf") {
            ok = boolean(p.availability_check);
        } else if (name == "c-duplex" || name == "c-d") {
            ok = boolean(p.full_duplex);
        } else if (name == "c-incallroaming" || name == "c-icr") {
            ok = boolean(p.incall_roaming);
        } else if (name == "c-groupcalltype" || name == "c-gct") {
            ok = boolean(p.confirmed_group_call);
        } else if (name == "c-protected" || name == "c-p") {
            ok = boolean(p.protected_mode);
        } else if (name == "c-consoletransmitrequestpriority" || name == "c-ctxrp") {
            int v = 0;
            ok = parseNum(value, v) && v >= 0 && v <= 255;
            if (ok) {
                p.console_priority = v;
            }
        } else {
            p.other[name] = std::string(value);
        }
        if (!ok) {
            return Error{"param_bad_value"};
        }
    }
    return p;
}

std::string buildIssiCallParams(const IssiCallParams& p) {
    std::string s;
    auto add = [&](std::string_view name, const std::optional<bool>& v, bool invert = false) {
        if (v) {
            s += std::string(name) + ":" + ((*v != invert) ? "1" : "0") + "\r\n";
        }
    };
    add("c-initrans", p.initial_transmitter, true);
    add("c-resavail", p.resource_available);
    add("c-pref", p.availability_check);
    add("c-duplex", p.full_duplex);
    add("c-incallroaming", p.incall_roaming);
    add("c-groupcalltype", p.confirmed_group_call);
    add("c-protected", p.protected_mode);
    if (p.console_priority) {
        s += "c-consoletransmitrequestpriority:" + std::to_string(*p.console_priority) + "\r\n";
    }
    for (const auto& [k, v] : p.other) {
        s += k + ":" + v + "\r\n";
    }
    return s;
}

static std::optional<std::string> boundaryOf(std::string_view content_type) {
    const std::string lc = lower(content_type);
    auto at = lc.find("boundary=");
    if (at == std::string::npos) {
        return std::nullopt;
    }
    auto v = content_type.substr(at + 9);
    auto semi = v.find(';');
    v = trim(v.substr(0, semi));
    if (v.size() >= 2 && v.front() == '"' && v.back() == '"') {
        v = v.substr(1, v.size() - 2);
    }
    if (v.empty() || v.size() > 70) {
        return std::nullopt;
    }
    return std::string(v);
}

Result<std::vector<BodyPart>> parseMultipart(std::string_view content_type, std::string_view body) {
    auto boundary = boundaryOf(content_type);
    if (!boundary) {
        return Error{"multipart_no_boundary"};
    }
    const std::string delim = "--" + *boundary;
    std::vector<BodyPart> parts;
    auto pos = body.find(delim);
    if (pos == std::string_view::npos) {
        return Error{"multipart_bad_body"};
    }
    while (true) {
        pos += delim.size();
        if (body.substr(pos, 2) == "--") {
            break;  // close delimiter
        }
        auto next = body.find(delim, pos);
        if (next == std::string_view::npos) {
            return Error{"multipart_bad_body"};
        }
        auto part = body.substr(pos, next - pos);
        // part = transport padding CRLF headers CRLF CRLF body CRLF
        auto hdr_start = part.find('\n');
        if (hdr_start == std::string_view::npos) {
            return Error{"multipart_bad_body"};
        }
        part.remove_prefix(hdr_start + 1);
        auto sep = part.find("\r\n\r\n");
        std::size_t sep_len = 4;
        if (sep == std::string_view::npos) {
            sep = part.find("\n\n");
            sep_len = 2;
        }
        BodyPart bp;
        std::string_view headers;
        std::string_view pbody;
        if (sep == std::string_view::npos) {
            headers = part;
        } else {
            headers = part.substr(0, sep);
            pbody = part.substr(sep + sep_len);
        }
        for (auto h : lines(headers)) {
            h = trim(h);
            auto c = h.find(':');
            if (c != std::string_view::npos && lower(trim(h.substr(0, c))) == "content-type") {
                bp.content_type = std::string(trim(h.substr(c + 1)));
            }
        }
        // The CRLF before the next delimiter belongs to the delimiter.
        if (pbody.size() >= 2 && pbody.substr(pbody.size() - 2) == "\r\n") {
            pbody.remove_suffix(2);
        } else if (!pbody.empty() && pbody.back() == '\n') {
            pbody.remove_suffix(1);
        }
        bp.body = std::string(pbody);
        parts.push_back(std::move(bp));
        pos = next;
        if (parts.size() > 16) {
            return Error{"multipart_bad_body"};
        }
    }
    return parts;
}

std::string buildMultipart(const std::vector<BodyPart>& parts, std::string_view boundary,
                           std::string& content_type_out) {
    // RFC 2045 §5.1: a parameter value that is not a token (a space, tspecials) is quoted.
    const bool token = std::all_of(boundary.begin(), boundary.end(), [](char ch) {
        return ch > ' ' && ch < 0x7F &&
               std::string_view("()<>@,;:\\\"/[]?=").find(ch) == std::string_view::npos;
    });
    content_type_out = "multipart/mixed;boundary=" +
                       (token ? std::string(boundary) : "\"" + std::string(boundary) + "\"");
    std::string s;
    for (const auto& p : parts) {
        s += "--" + std::string(boundary) + "\r\n";
        s += "Content-Type: " + p.content_type + "\r\n\r\n";
        s += p.body;
        s += "\r\n";
    }
    s += "--" + std::string(boundary) + "--\r\n";
    return s;
}

Result<IssiBody> parseIssiBody(std::string_view content_type, std::string_view body) {
    IssiBody out;
    auto handle = [&](std::string_view ct, std::string_view b) -> Status {
        const std::string l = lower(trim(ct.substr(0, ct.find(';'))));
        if (l == "application/sdp") {
            auto s = parseIssiSdp(b);
            if (!s) {
                return s.error();
            }
            out.sdp = std::move(*s);
        } else if (l == kIssiContentType) {
            auto p = parseIssiCallParams(b);
            if (!p) {
                return p.error();
            }
            out.params = std::move(*p);
        }
        return Status::success();
    };
    const std::string l = lower(trim(content_type.substr(0, content_type.find(';'))));
    if (l == "multipart/mixed") {
        auto parts = parseMultipart(content_type, body);
        if (!parts) {
            return parts.error();
        }
        for (const auto& p : *parts) {
            IWF_TRY_STATUS(handle(p.content_type, p.body));
        }
    } else {
        IWF_TRY_STATUS(handle(content_type, body));
    }
    return out;
}

std::string issiGroupUri(const P25Group& g) {
    char buf[64];
    std::snprintf(buf, sizeof(buf), "sip:%05x%03x%04x@p25dr;user=TIA-P25-SG",
                  static_cast<unsigned>(g.sys.wacn & 0xFFFFF),
                  static_cast<unsigned>(g.sys.system & 0xFFF), static_cast<unsigned>(g.tgid));
    return buf;
}

std::optional<P25Group> parseIssiGroupUri(std::string_view uri) {
    uri = trim(uri);
    if (!uri.empty() && uri.front() == '<') {
        uri.remove_prefix(1);
    }
    if (lower(uri.substr(0, 4)) != "sip:") {
        return std::nullopt;
    }
    uri.remove_prefix(4);
    auto at = uri.find('@');
    if (at != 12) {
        return std::nullopt;
    }
    P25Group g;
    std::uint32_t wacn = 0;
    std::uint32_t sys = 0;
    std::uint32_t tg = 0;
    if (!parseNum(uri.substr(0, 5), wacn, 16) || !parseNum(uri.substr(5, 3), sys, 16) ||
        !parseNum(uri.substr(8, 4), tg, 16)) {
        return std::nullopt;
    }
    g.sys.wacn = wacn;
    g.sys.system = static_cast<std::uint16_t>(sys);
    g.tgid = static_cast<std::uint16_t>(tg);
    return g;
}

std::string issiRfssDomain(std::uint8_t rfss, const P25System& sys) {
    char buf[48];
    std::snprintf(buf, sizeof(buf), "%02x.%03x.%05x.p25dr", rfss,
                  static_cast<unsigned>(sys.system & 0xFFF),
                  static_cast<unsigned>(sys.wacn & 0xFFFFF));
    return buf;
}

}  // namespace iwf::lmr::p25
