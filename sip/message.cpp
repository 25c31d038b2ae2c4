#include "sip/message.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <sys/random.h>

#include <openssl/rand.h>

#include "sip/message_text.hpp"

namespace iwf::sip {

using detail::iequals;
using detail::isToken;
using detail::lower;
using detail::paramOf;
using detail::toU32;
using detail::trim;

namespace {

struct NameEntry {
    std::string_view lower;
    std::string_view canonical;
};

constexpr std::array<NameEntry, 58> kNames{{
    {"i", "Call-ID"},
    {"m", "Contact"},
    {"e", "Content-Encoding"},
    {"l", "Content-Length"},
    {"c", "Content-Type"},
    {"f", "From"},
    {"s", "Subject"},
    {"k", "Supported"},
    {"t", "To"},
    {"v", "Via"},
    {"r", "Refer-To"},
    {"b", "Referred-By"},
    {"o", "Event"},
    {"u", "Allow-Events"},
    {"a", "Accept-Contact"},
    {"j", "Reject-Contact"},
    {"x", "Session-Expires"},
    {"call-id", "Call-ID"},
    {"contact", "Contact"},
    {"content-encoding", "Content-Encoding"},
    {"content-length", "Content-Length"},
    {"content-type", "Content-Type"},
    {"content-disposition", "Content-Disposition"},
    {"from", "From"},
    {"subject", "Subject"},
    {"supported", "Supported"},
    {"to", "To"},
    {"via", "Via"},
    {"refer-to", "Refer-To"},
    {"referred-by", "Referred-By"},
    {"event", "Event"},
    {"allow-events", "Allow-Events"},
    {"accept-contact", "Accept-Contact"},
    {"reject-contact", "Reject-Contact"},
    {"session-expires", "Session-Expires"},
    {"cseq", "CSeq"},
    {"max-forwards", "Max-Forwards"},
    {"route", "Route"},
    {"record-route", "Record-Route"},
    {"accept", "Accept"},
    {"allow", "Allow"},
    {"require", "Require"},
    {"expires", "Expires"},
    {"user-agent", "User-Agent"},
    {"server", "Server"},
    {"warning", "Warning"},
    {"mime-version", "MIME-Version"},
    {"www-authenticate", "WWW-Authenticate"},
    {"authorization", "Authorization"},
    {"proxy-authenticate", "Proxy-Authenticate"},
    {"proxy-authorization", "Proxy-Authorization"},
    {"p-asserted-identity", "P-Asserted-Identity"},
    {"p-preferred-identity", "P-Preferred-Identity"},
    {"p-asserted-service", "P-Asserted-Service"},
    {"p-preferred-service", "P-Preferred-Service"},
    {"resource-priority", "Resource-Priority"},
    {"accept-resource-priority", "Accept-Resource-Priority"},
    {"sip-etag", "SIP-ETag"},
}};

}  // namespace

std::string canonicalHeaderName(std::string_view name) {
    const std::string l = lower(name);
    for (const auto& e : kNames) {
        if (e.lower == l) {
            return std::string(e.canonical);
        }
    }
    return std::string(name);
}

bool headerNameEquals(std::string_view a, std::string_view b) {
    return iequals(canonicalHeaderName(a), canonicalHeaderName(b));
}

Message Message::request(std::string method, std::string request_uri) {
    Message m;
    m.method_ = std::move(method);
    m.request_uri_ = std::move(request_uri);
    return m;
}

Message Message::response(int status, std::string reason) {
    Message m;
    m.status_ = status;
    m.reason_ = std::move(reason);
    return m;
}

std::optional<std::string> Message::header(std::string_view name) const {
    const std::string c = canonicalHeaderName(name);
    for (const auto& h : headers_) {
        if (iequals(h.name, c)) {
            return h.value;
        }
    }
    return std::nullopt;
}

std::vector<std::string> Message::headers(std::string_view name) const {
    const std::string c = canonicalHeaderName(name);
    std::vector<std::string> out;
    for (const auto& h : headers_) {
        if (iequals(h.name, c)) {
            out.push_back(h.value);
        }
    }
    return out;
}

void Message::addHeader(std::string_view name, std::string value) {
    headers_.push_back({canonicalHeaderName(name), std::move(value)});
}

void Message::prependHeader(std::string_view name, std::string value) {
    const std::string c = canonicalHeaderName(name);
    auto it = std::find_if(headers_.begin(), headers_.end(),
                           [&](const Header& h) { return iequals(h.name, c); });
    headers_.insert(it, {c, std::move(value)});
}

void Message::setHeader(std::string_view name, std::string value) {
    const std::string c = canonicalHeaderName(name);
    auto it = std::find_if(headers_.begin(), headers_.end(),
                           [&](const Header& h) { return iequals(h.name, c); });
    if (it == headers_.end()) {
        headers_.push_back({c, std::move(value)});
        return;
    }
    it->value = std::move(value);
    headers_.erase(std::remove_if(std::next(it), headers_.end(),
                                  [&](const Header& h) { return iequals(h.name, c); }),
                   headers_.end());
}

void Message::removeHeader(std::string_view name) {
    const std::string c = canonicalHeaderName(name);
    headers_.erase(std::remove_if(headers_.begin(), headers_.end(),
                                  [&](const Header& h) { return iequals(h.name, c); }),
                   headers_.end());
}

void Message::removeFirstHeader(std::string_view name) {
    const std::string c = canonicalHeaderName(name);
    auto it = std::find_if(headers_.begin(), headers_.end(),
                           [&](const Header& h) { return iequals(h.name, c); });
    if (it != headers_.end()) {
        headers_.erase(it);
    }
}

void Message::setBody(std::string body, std::string_view content_type) {
    body_ = std::move(body);
    if (content_type.empty()) {
        removeHeader("Content-Type");
    } else {
        setHeader("Content-Type", std::string(content_type));
    }
}

std::string Message::serialize() const {
    std::string out;
    out.reserve(256 + body_.size() + headers_.size() * 48);
    if (isRequest()) {
        out += method_;
        out += ' ';
        out += request_uri_;
        out += " SIP/2.0\r\n";
    } else {
        out += "SIP/2.0 ";
        out += std::to_string(status_);
        out += ' ';
        out += reason_;
        out += "\r\n";
    }
    for (const auto& h : headers_) {
        if (iequals(h.name, "Content-Length")) {
            continue;
        }
        out += h.name;
        out += ": ";
        out += h.value;
        out += "\r\n";
    }
    out += "Content-Length: ";
    out += std::to_string(body_.size());
    out += "\r\n\r\n";
    out += body_;
    return out;
}

std::string Message::callId() const {
    return header("Call-ID").value_or("");
}

std::uint32_t Message::cseqNumber() const {
    auto v = header("CSeq");
    if (!v) {
        return 0;
    }
    std::string_view s = trim(*v);
    auto sp = s.find(' ');
    return toU32(s.substr(0, sp)).value_or(0);
}

std::string Message::cseqMethod() const {
    auto v = header("CSeq");
    if (!v) {
        return {};
    }
    std::string_view s = trim(*v);
    auto sp = s.find(' ');
    return sp == std::string_view::npos ? std::string() : std::string(trim(s.substr(sp + 1)));
}

std::string Message::topViaBranch() const {
    auto v = header("Via");
    return v ? paramOf(*v, "branch") : std::string();
}

std::string Message::fromTag() const {
    auto v = header("From");
    return v ? paramOf(*v, "tag") : std::string();
}

std::string Message::toTag() const {
    auto v = header("To");
    return v ? paramOf(*v, "tag") : std::string();
}

std::optional<std::string> checkRequest(const Message& r) {
    for (std::string_view need : {"Via", "From", "To", "Call-ID", "CSeq"}) {
        if (!r.hasHeader(need)) {
            return "missing " + std::string(need);
        }
    }
    if (r.cseqNumber() == 0 && trim(*r.header("CSeq")).substr(0, 1) != "0") {
        return std::string("bad CSeq number");
    }
    if (!iequals(r.cseqMethod(), r.method())) {
        return std::string("CSeq method mismatch");
    }
    if (auto mf = r.header("Max-Forwards")) {
        auto v = toU32(*mf);
        if (!v || *v > 255) {
            return std::string("bad Max-Forwards");
        }
    }
    if (auto via = r.header("Via"); !parseVia(*via)) {
        return std::string("bad Via");
    }
    if (!parseNameAddr(*r.header("From"))) {
        return std::string("bad From");
    }
    if (!parseNameAddr(*r.header("To"))) {
        return std::string("bad To");
    }
    if (r.method() == "INVITE" && r.header("From") && r.fromTag().empty()) {
        return std::string("missing From tag");
    }
    return std::nullopt;
}

std::string_view reasonPhrase(int status) {
    switch (status) {
        case 100:
            return "Trying";
        case 180:
            return "Ringing";
        case 183:
            return "Session Progress";
        case 200:
            return "OK";
        case 202:
            return "Accepted";
        case 400:
            return "Bad Request";
        case 403:
            return "Forbidden";
        case 404:
            return "Not Found";
        case 405:
            return "Method Not Allowed";
        case 408:
            return "Request Timeout";
        case 415:
            return "Unsupported Media Type";
        case 480:
            return "Temporarily Unavailable";
        case 481:
            return "Call/Transaction Does Not Exist";
        case 486:
            return "Busy Here";
        case 487:
            return "Request Terminated";
        case 488:
            return "Not Acceptable Here";
        case 491:
            return "Request Pending";
        case 500:
            return "Server Internal Error";
        case 501:
            return "Not Implemented";
        case 503:
            return "Service Unavailable";
        case 603:
            return "Decline";
        default:
            return status < 200   ? "Progress"
                   : status < 300 ? "OK"
                   : status < 400 ? "Redirect"
                   : status < 500 ? "Client Error"
                   : status < 600 ? "Server Error"
                                  : "Global Failure";
    }
}

Message makeResponse(const Message& req, int status, std::string_view reason,
                     std::string_view to_tag) {
    Message r =
        Message::response(status, std::string(reason.empty() ? reasonPhrase(status) : reason));
    for (const auto& v : req.headers("Via")) {
        r.addHeader("Via", v);
    }
    if (auto v = req.header("From")) {
        r.addHeader("From", *v);
    }
    if (auto v = req.header("To")) {
        std::string to = *v;
        if (!to_tag.empty() && req.toTag().empty() && status > 100) {
            to += ";tag=";
            to += to_tag;
        }
        r.addHeader("To", std::move(to));
    }
    if (auto v = req.header("Call-ID")) {
        r.addHeader("Call-ID", *v);
    }
    if (auto v = req.header("CSeq")) {
        r.addHeader("CSeq", *v);
    }
    // RFC 3261 §12.1.1: a UAS copies every Record-Route of the request, in order, into the
    // responses that establish a dialog (1xx with a tag, 2xx); otherwise the caller's ACK and
    // BYE bypass the record-routing proxies. Responses to requests inside a dialog may carry
    // them too (§16.6: proxies ignore it then), so this does not look at the method.
    if (status > 100 && status < 300) {
        for (const auto& v : req.headers("Record-Route")) {
            r.addHeader("Record-Route", v);
        }
    }
    return r;
}

Result<NameAddr> parseNameAddr(std::string_view value) {
    std::string_view v = trim(value);
    NameAddr na;
    std::string_view rest;
    auto lt = v.find('<');
    if (lt != std::string_view::npos) {
        auto gt = v.find('>', lt);
        if (gt == std::string_view::npos) {
            return Error{"unterminated_angle"};
        }
        std::string_view disp = trim(v.substr(0, lt));
        if (disp.size() >= 2 && disp.front() == '"' && disp.back() == '"') {
            disp = disp.substr(1, disp.size() - 2);
        }
        na.display = std::string(disp);
        na.uri = std::string(trim(v.substr(lt + 1, gt - lt - 1)));
        rest = v.substr(gt + 1);
    } else {
        auto semi = v.find(';');
        na.uri = std::string(trim(v.substr(0, semi)));
        rest = semi == std::string_view::npos ? std::string_view() : v.substr(semi);
    }
    if (na.uri.empty() || na.uri.find(':') == std::string::npos) {
        return Error{"bad_uri"};
    }
    na.tag = paramOf(std::string("x") + std::string(rest), "tag");
    return na;
}

std::string formatNameAddr(const NameAddr& na) {
    std::string out;
    if (!na.display.empty()) {
        out += '"';
        out += na.display;
        out += "\" ";
    }
    out += '<';
    out += na.uri;
    out += '>';
    if (!na.tag.empty()) {
        out += ";tag=";
        out += na.tag;
    }
    return out;
}

Result<Via> parseVia(std::string_view value) {
    std::string_view v = trim(value);
    // "SIP/2.0/UDP host:port;params"
    if (v.size() < 8 || !iequals(v.substr(0, 8), "SIP/2.0/")) {
        return Error{"bad_protocol"};
    }
    v.remove_prefix(8);
    auto sp = v.find_first_of(" \t");
    if (sp == std::string_view::npos) {
        return Error{"no_sent_by"};
    }
    Via via;
    via.transport = std::string(v.substr(0, sp));
    for (auto& c : via.transport) {
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    std::string_view rest = trim(v.substr(sp));
    auto semi = rest.find(';');
    std::string_view sent_by = trim(rest.substr(0, semi));
    if (sent_by.empty()) {
        return Error{"no_sent_by"};
    }
    if (sent_by.front() == '[') {
        auto rb = sent_by.find(']');
        if (rb == std::string_view::npos) {
            return Error{"bad_host"};
        }
        via.host = std::string(sent_by.substr(1, rb - 1));
        sent_by = sent_by.substr(rb + 1);
        if (!sent_by.empty() && sent_by.front() == ':') {
            auto p = toU32(sent_by.substr(1));
            if (!p || *p > 65535) {
                return Error{"bad_port"};
            }
            via.port = static_cast<std::uint16_t>(*p);
        }
    } else {
        auto colon = sent_by.find(':');
        via.host = std::string(sent_by.substr(0, colon));
        if (colon != std::string_view::npos) {
            auto p = toU32(sent_by.substr(colon + 1));
            if (!p || *p > 65535) {
                return Error{"bad_port"};
            }
            via.port = static_cast<std::uint16_t>(*p);
        }
    }
    if (via.host.empty() || via.transport.empty()) {
        return Error{"bad_host"};
    }
    std::string params = "x" + std::string(semi == std::string_view::npos ? "" : rest.substr(semi));
    via.branch = paramOf(params, "branch");
    if (params.find(";received=") != std::string::npos) {
        via.received = paramOf(params, "received");
    }
    auto rp = paramOf(params, "rport");
    if (!rp.empty()) {
        auto p = toU32(rp);
        if (p && *p <= 65535) {
            via.rport = static_cast<std::uint16_t>(*p);
        }
    }
    return via;
}

Result<UriParts> parseUri(std::string_view uri) {
    UriParts u;
    std::string_view s = trim(uri);
    auto colon = s.find(':');
    if (colon == std::string_view::npos || colon == 0) {
        return Error{"no_scheme"};
    }
    u.scheme = lower(s.substr(0, colon));
    s.remove_prefix(colon + 1);
    auto at = s.find('@');
    auto semi_before_at = s.find(';');
    if (at != std::string_view::npos && (semi_before_at == std::string_view::npos ||
                                         at < semi_before_at || s.find('>') == s.npos)) {
        u.user = std::string(s.substr(0, at));
        s.remove_prefix(at + 1);
    }
    auto end = s.find_first_of(";?>");
    std::string_view hostport = s.substr(0, end);
    std::string_view params = end == std::string_view::npos ? std::string_view() : s.substr(end);
    if (!hostport.empty() && hostport.front() == '[') {
        auto rb = hostport.find(']');
        if (rb == std::string_view::npos) {
            return Error{"bad_host"};
        }
        u.host = std::string(hostport.substr(1, rb - 1));
        hostport.remove_prefix(rb + 1);
        if (!hostport.empty() && hostport.front() == ':') {
            auto p = toU32(hostport.substr(1));
            if (!p || *p > 65535) {
                return Error{"bad_port"};
            }
            u.port = static_cast<std::uint16_t>(*p);
        }
    } else {
        auto c = hostport.find(':');
        u.host = std::string(hostport.substr(0, c));
        if (c != std::string_view::npos) {
            auto p = toU32(hostport.substr(c + 1));
            if (!p || *p > 65535) {
                return Error{"bad_port"};
            }
            u.port = static_cast<std::uint16_t>(*p);
        }
    }
    if (u.host.empty()) {
        return Error{"bad_host"};
    }
    u.transport = lower(paramOf("x" + std::string(params), "transport"));
    return u;
}

// RFC 3261 §19.3: a tag must be "cryptographically random with at least 32 bits of
// randomness"; Call-IDs (§8.1.1.4) and branches (§8.1.1.7) must not be guessable either, or a
// third party can forge a BYE, CANCEL or response into a dialog it never saw. The stack used a
// thread_local mt19937_64: its output is linear (over GF(2)) in its 19,968-bit state, so about
// 2,500 observed token bytes give the state away, and every later token with it. OpenSSL's DRBG
// (RAND_bytes), reseeded from the kernel, is not; getrandom(2) is the fallback if OpenSSL ever
// reports a failure.
std::string randomToken(std::size_t bytes) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::array<unsigned char, 64> raw{};
    std::string out;
    out.reserve(bytes * 2);
    while (bytes > 0) {
        const std::size_t n = std::min(bytes, raw.size());
        if (RAND_bytes(raw.data(), static_cast<int>(n)) != 1) {
            std::size_t got = 0;
            while (got < n) {
                const ssize_t r = ::getrandom(raw.data() + got, n - got, 0);
                if (r > 0) {
                    got += static_cast<std::size_t>(r);
                } else if (errno != EINTR) {
                    std::abort();  // no randomness at all: no token is better than a guessable one
                }
            }
        }
        for (std::size_t i = 0; i < n; ++i) {
            out += kHex[raw[i] >> 4];
            out += kHex[raw[i] & 0xFU];
        }
        bytes -= n;
    }
    return out;
}

}  // namespace iwf::sip
