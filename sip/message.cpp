#include "sip/message.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstdarg>
#include <mutex>
#include <random>

#include <osipparser2/osip_parser.h>

namespace iwf::sip {

namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return out;
}

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
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

std::once_flag g_parser_once;
void quietTrace(const char*, int, osip_trace_level_t, const char*, va_list) {}

void ensureParser() {
    std::call_once(g_parser_once, [] {
        parser_init();
        // libosip2 prints parse errors to stderr; we count and rate-limit them ourselves.
        osip_trace_initialize_func(END_TRACE_LEVEL, &quietTrace);
        for (int l = TRACE_LEVEL0; l < END_TRACE_LEVEL; ++l) {
            osip_trace_disable_level(static_cast<osip_trace_level_t>(l));
        }
    });
}

struct OsipMessage {
    osip_message_t* m = nullptr;
    OsipMessage() { osip_message_init(&m); }
    ~OsipMessage() {
        if (m != nullptr) {
            osip_message_free(m);
        }
    }
    OsipMessage(const OsipMessage&) = delete;
    OsipMessage& operator=(const OsipMessage&) = delete;
};

template <typename T, typename F>
void appendList(std::vector<Header>& out, osip_list_t* list, std::string_view name, F to_str) {
    const int n = osip_list_size(list);
    for (int i = 0; i < n; ++i) {
        auto* h = static_cast<T*>(osip_list_get(list, i));
        char* s = nullptr;
        if (h != nullptr && to_str(h, &s) == 0 && s != nullptr) {
            out.push_back({std::string(name), s});
            osip_free(s);
        }
    }
}

template <typename T, typename F>
void appendOne(std::vector<Header>& out, T* h, std::string_view name, F to_str) {
    char* s = nullptr;
    if (h != nullptr && to_str(h, &s) == 0 && s != nullptr) {
        out.push_back({std::string(name), s});
        osip_free(s);
    }
}

// `message` (header block of `head_size` bytes, then the body) without its Content-Type header
// lines (and their folded continuation lines).
std::string withoutContentType(std::string_view message, std::size_t head_size) {
    std::string out;
    out.reserve(message.size());
    std::size_t pos = 0;
    bool skipping = false;
    bool first = true;
    while (pos < head_size) {
        auto eol = message.find('\n', pos);
        const std::size_t next = eol == std::string_view::npos ? head_size : eol + 1;
        std::string_view line = message.substr(pos, next - pos);
        pos = next;
        std::string_view bare = line;
        while (!bare.empty() && (bare.back() == '\n' || bare.back() == '\r')) {
            bare.remove_suffix(1);
        }
        if (first || bare.empty()) {
            first = false;
            skipping = false;
            out += line;
            continue;
        }
        if (bare.front() == ' ' || bare.front() == '\t') {
            if (!skipping) {
                out += line;
            }
            continue;
        }
        const auto colon = bare.find(':');
        skipping = colon != std::string_view::npos &&
                   canonicalHeaderName(trim(bare.substr(0, colon))) == "Content-Type";
        if (!skipping) {
            out += line;
        }
    }
    out += message.substr(head_size);
    return out;
}

// The Content-Type header as libosip2 parses and prints it, from its raw value (our own
// osip_content_type_t, always freed).
Result<Header> contentTypeHeader(const std::string& value) {
    osip_content_type_t* ct = nullptr;
    if (osip_content_type_init(&ct) != 0 || ct == nullptr) {
        return Error{"alloc"};
    }
    char* text = nullptr;
    const bool ok = osip_content_type_parse(ct, value.c_str()) == 0 &&
                    osip_content_type_to_str(ct, &text) == 0 && text != nullptr;
    osip_content_type_free(ct);
    if (!ok) {
        osip_free(text);
        return Error{"bad_content_type"};
    }
    Header h{"Content-Type", text};
    osip_free(text);
    return h;
}

// True unless `h` is a name-addr header (From, To, Route, Record-Route, Contact) whose text
// libosip2 cannot parse back.
bool nameAddrReparses(const Header& h) {
    if (h.name == "Contact") {
        osip_contact_t* c = nullptr;
        if (osip_contact_init(&c) != 0) {
            return false;
        }
        const bool ok = osip_contact_parse(c, h.value.c_str()) == 0;
        osip_contact_free(c);
        return ok;
    }
    if (h.name != "From" && h.name != "To" && h.name != "Route" && h.name != "Record-Route") {
        return true;
    }
    osip_from_t* f = nullptr;
    if (osip_from_init(&f) != 0) {
        return false;
    }
    const bool ok = osip_from_parse(f, h.value.c_str()) == 0;
    osip_from_free(f);
    return ok;
}

// Offset of the first byte after the blank line ending the headers, or npos.
std::size_t headerEnd(std::string_view text) {
    auto p = text.find("\r\n\r\n");
    if (p != std::string_view::npos) {
        return p + 4;
    }
    p = text.find("\n\n");
    return p == std::string_view::npos ? p : p + 2;
}

// Raw header lines (unfolded), for fault classification.
std::vector<Header> rawHeaders(std::string_view head) {
    std::vector<Header> out;
    std::size_t pos = 0;
    bool first = true;
    while (pos < head.size()) {
        auto eol = head.find('\n', pos);
        if (eol == std::string_view::npos) {
            eol = head.size();
        }
        std::string_view line = head.substr(pos, eol - pos);
        pos = eol + 1;
        if (!line.empty() && line.back() == '\r') {
            line.remove_suffix(1);
        }
        if (first) {
            first = false;
            continue;
        }
        if (line.empty()) {
            break;
        }
        if ((line.front() == ' ' || line.front() == '\t') && !out.empty()) {
            out.back().value += ' ';
            out.back().value += std::string(trim(line));
            continue;
        }
        auto colon = line.find(':');
        if (colon == std::string_view::npos) {
            out.push_back({"", std::string(line)});
            continue;
        }
        out.push_back({canonicalHeaderName(trim(line.substr(0, colon))),
                       std::string(trim(line.substr(colon + 1)))});
    }
    return out;
}

bool isToken(std::string_view s) {
    if (s.empty()) {
        return false;
    }
    return std::all_of(s.begin(), s.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) ||
               std::string_view("-.!%*_+`'~").find(c) != std::string_view::npos;
    });
}

std::optional<std::uint32_t> toU32(std::string_view s) {
    std::uint32_t v = 0;
    s = trim(s);
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size() || s.empty()) {
        return std::nullopt;
    }
    return v;
}

// Value of ";name=value" among the parameters of a header value (outside <> and quotes).
std::string paramOf(std::string_view value, std::string_view name) {
    bool in_quotes = false;
    int angle = 0;
    std::size_t i = 0;
    while (i < value.size()) {
        char c = value[i];
        if (c == '"') {
            in_quotes = !in_quotes;
        } else if (!in_quotes && c == '<') {
            ++angle;
        } else if (!in_quotes && c == '>') {
            --angle;
        } else if (!in_quotes && angle == 0 && c == ';') {
            auto end = value.find(';', i + 1);
            std::string_view p = value.substr(
                i + 1, end == std::string_view::npos ? std::string_view::npos : end - i - 1);
            auto eq = p.find('=');
            std::string_view n = trim(p.substr(0, eq));
            if (iequals(n, name)) {
                return eq == std::string_view::npos ? std::string()
                                                    : std::string(trim(p.substr(eq + 1)));
            }
        }
        ++i;
    }
    return {};
}

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

Result<Message> parseMessage(std::span<const std::uint8_t> bytes) {
    return parseMessage(
        std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

namespace {
Result<Message> parseMessageOnce(std::string_view text);
}  // namespace

// Only messages we can serialise back into the same message are accepted: libosip2 turns
// some malformed headers into text it cannot parse again (found by fuzzing), and iwfd must
// never forward or answer with such text.
Result<Message> parseMessage(std::string_view text) {
    auto first = parseMessageOnce(text);
    if (!first) {
        return first;
    }
    const std::string once = first->serialize();
    auto again = parseMessageOnce(once);
    if (!again || again->serialize() != once) {
        return Error{"not_reserialisable"};
    }
    return first;
}

namespace {
Result<Message> parseMessageOnce(std::string_view text) {
    if (text.empty()) {
        return Error{"empty"};
    }
    if (text.size() > kMaxMessageSize) {
        return Error{"too_large", static_cast<std::int64_t>(text.size())};
    }
    const std::size_t hend = headerEnd(text);
    if (hend == std::string_view::npos) {
        return Error{"no_header_end"};
    }
    if (text.find('\0') < hend) {
        return Error{"nul_in_headers"};
    }
    // libosip2 refuses a Content-Length beyond the bytes it got without saying so; RFC 3261
    // §18.3 wants a 400 for that over UDP, so find it first.
    // libosip2 also sees only the bytes Content-Length covers, so that parsing what we
    // serialise gives the same answer as parsing what we received.
    // libosip2 5.3 leaks the osip_content_type_t of a second Content-Type (found by
    // fuzz_sip_message): a peer could grow iwfd's memory with such messages, so they are
    // refused here, before libosip2 sees them. libosip2 splits a Content-Type line at every
    // comma, quoted or not, so a comma counts as a second Content-Type too.
    std::size_t content_types = 0;
    for (const auto& h : rawHeaders(text.substr(0, hend))) {
        if (h.name == "Content-Type") {
            content_types +=
                1 + static_cast<std::size_t>(std::count(h.value.begin(), h.value.end(), ','));
        }
    }
    if (content_types > 1) {
        return Error{"duplicate_content_type", static_cast<std::int64_t>(content_types)};
    }
    std::size_t bound = text.size();
    std::optional<std::string> content_type;
    for (const auto& h : rawHeaders(text.substr(0, hend))) {
        if (h.name == "Content-Type") {
            content_type = h.value;
        }
        if (h.name == "Content-Length" && bound == text.size()) {
            auto cl = toU32(h.value);
            if (cl && *cl > text.size() - hend) {
                return Error{"content_length_mismatch", static_cast<std::int64_t>(*cl)};
            }
            if (cl) {
                bound = hend + *cl;
            }
        }
    }
    ensureParser();
    OsipMessage om;
    if (om.m == nullptr) {
        return Error{"alloc"};
    }
    // libosip2 copies the buffer; give it only the header part plus the body so that it never
    // reads past our span. It does not see Content-Type: with one it parses a multipart body's
    // MIME parts, and libosip2 5.3 leaks the part's content type when a part repeats the header
    // (found by fuzz_sip_message). The body is taken from our own bytes below, and the
    // Content-Type value is checked and normalised by contentTypeHeader().
    const std::string copy = withoutContentType(text.substr(0, bound), hend);
    if (osip_message_parse(om.m, copy.c_str(), copy.size()) != 0) {
        return Error{"unparseable"};
    }
    osip_message_t* m = om.m;
    Message out;
    if (m->sip_method != nullptr) {
        char* uri = nullptr;
        if (m->req_uri == nullptr || osip_uri_to_str(m->req_uri, &uri) != 0 || uri == nullptr) {
            return Error{"bad_request_uri"};
        }
        out = Message::request(m->sip_method, uri);
        osip_free(uri);
        if (!isToken(out.method())) {
            return Error{"bad_method"};
        }
    } else {
        if (m->status_code < 100 || m->status_code > 699) {
            return Error{"bad_status", m->status_code};
        }
        out = Message::response(m->status_code, m->reason_phrase ? m->reason_phrase : "");
    }
    std::vector<Header> hs;
    appendList<osip_via_t>(hs, &m->vias, "Via", osip_via_to_str);
    appendList<osip_route_t>(hs, &m->routes, "Route", osip_from_to_str);
    appendList<osip_record_route_t>(hs, &m->record_routes, "Record-Route", osip_from_to_str);
    appendOne(hs, m->from, "From", osip_from_to_str);
    appendOne(hs, m->to, "To", osip_from_to_str);
    appendOne(hs, m->call_id, "Call-ID", osip_call_id_to_str);
    appendOne(hs, m->cseq, "CSeq", osip_cseq_to_str);
    appendList<osip_contact_t>(hs, &m->contacts, "Contact", osip_contact_to_str);
    if (content_type) {
        auto ct = contentTypeHeader(*content_type);
        if (!ct) {
            return ct.error();
        }
        hs.push_back(std::move(*ct));
    }
    appendOne(hs, m->mime_version, "MIME-Version", osip_content_length_to_str);
    appendList<osip_accept_t>(hs, &m->accepts, "Accept", osip_accept_to_str);
    appendList<osip_accept_encoding_t>(hs, &m->accept_encodings, "Accept-Encoding",
                                       osip_accept_encoding_to_str);
    appendList<osip_accept_encoding_t>(hs, &m->accept_languages, "Accept-Language",
                                       osip_accept_encoding_to_str);
    appendList<osip_call_info_t>(hs, &m->alert_infos, "Alert-Info", osip_call_info_to_str);
    appendList<osip_content_length_t>(hs, &m->allows, "Allow", osip_content_length_to_str);
    appendList<osip_authentication_info_t>(hs, &m->authentication_infos, "Authentication-Info",
                                           osip_authentication_info_to_str);
    appendList<osip_authorization_t>(hs, &m->authorizations, "Authorization",
                                     osip_authorization_to_str);
    appendList<osip_call_info_t>(hs, &m->call_infos, "Call-Info", osip_call_info_to_str);
    appendList<osip_content_length_t>(hs, &m->content_encodings, "Content-Encoding",
                                      osip_content_length_to_str);
    appendList<osip_call_info_t>(hs, &m->error_infos, "Error-Info", osip_call_info_to_str);
    appendList<osip_www_authenticate_t>(hs, &m->proxy_authenticates, "Proxy-Authenticate",
                                        osip_www_authenticate_to_str);
    appendList<osip_authentication_info_t>(hs, &m->proxy_authentication_infos,
                                           "Proxy-Authentication-Info",
                                           osip_authentication_info_to_str);
    appendList<osip_authorization_t>(hs, &m->proxy_authorizations, "Proxy-Authorization",
                                     osip_authorization_to_str);
    appendList<osip_www_authenticate_t>(hs, &m->www_authenticates, "WWW-Authenticate",
                                        osip_www_authenticate_to_str);
    const int n = osip_list_size(&m->headers);
    for (int i = 0; i < n; ++i) {
        auto* h = static_cast<osip_header_t*>(osip_list_get(&m->headers, i));
        if (h == nullptr || h->hname == nullptr) {
            continue;
        }
        hs.push_back({canonicalHeaderName(h->hname), h->hvalue ? h->hvalue : ""});
    }
    for (auto& h : hs) {
        // libosip2 re-serialises some malformed name-addrs into text it cannot parse again
        // (found by fuzzing: "T:si:p>" becomes "To: <si:p>>"); refuse those here so that
        // what we forward or answer is always parseable.
        if (!nameAddrReparses(h)) {
            return Error{"bad_name_addr"};
        }
        out.addHeader(h.name, std::move(h.value));
    }
    // Body from the original bytes, bounded by Content-Length.
    std::string_view body = text.substr(hend);
    if (m->content_length != nullptr && m->content_length->value != nullptr) {
        auto cl = toU32(m->content_length->value);
        if (!cl) {
            return Error{"bad_content_length"};
        }
        if (*cl > body.size()) {
            return Error{"content_length_mismatch", static_cast<std::int64_t>(*cl)};
        }
        body = body.substr(0, *cl);
    }
    if (!body.empty()) {
        std::string ct = out.header("Content-Type").value_or("");
        out.setBody(std::string(body), ct);
    }
    return out;
}
}  // namespace

Fault classifyFault(std::string_view text) {
    Fault f;
    if (text.size() > kMaxMessageSize) {
        f.reason = "too_large";
        return f;
    }
    auto hend = headerEnd(text);
    if (hend == std::string_view::npos) {
        f.reason = "no_header_end";
        return f;
    }
    std::string_view head = text.substr(0, hend);
    auto eol = head.find('\n');
    std::string_view start = trim(head.substr(0, eol));
    if (start.substr(0, 4) == "SIP/") {
        f.reason = "bad_response";
        return f;
    }
    auto sp1 = start.find(' ');
    auto sp2 = sp1 == std::string_view::npos ? sp1 : start.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos || start.substr(sp2 + 1) != "SIP/2.0" ||
        !isToken(start.substr(0, sp1))) {
        f.reason = "bad_start_line";
        return f;
    }
    std::string method(start.substr(0, sp1));
    std::string uri(start.substr(sp1 + 1, sp2 - sp1 - 1));
    auto raw = rawHeaders(head);
    // Which header does libosip2 refuse?
    ensureParser();
    for (const auto& h : raw) {
        if (h.name.empty()) {
            f.reason = "bad_header_line";
            f.detail = h.value.substr(0, 32);
            break;
        }
        OsipMessage scratch;
        std::string n = h.name;
        std::string v = h.value;
        if (osip_message_set_multiple_header(scratch.m, n.data(), v.data()) != 0) {
            f.reason = "bad_header";
            f.detail = h.name;
            break;
        }
    }
    OsipMessage uri_check;
    osip_uri_t* u = nullptr;
    if (f.reason.empty()) {
        osip_uri_init(&u);
        if (osip_uri_parse(u, uri.c_str()) != 0) {
            f.reason = "bad_request_uri";
            f.detail = "Request-URI";
        }
        osip_uri_free(u);
    }
    if (f.reason.empty()) {
        f.reason = "unparseable";
        f.detail = "message";
    }
    Message sk = Message::request(method, uri);
    bool have_all = true;
    for (std::string_view need : {"Via", "From", "To", "Call-ID", "CSeq"}) {
        bool found = false;
        for (const auto& h : raw) {
            if (iequals(h.name, need)) {
                sk.addHeader(need, h.value);
                found = true;
            }
        }
        have_all = have_all && found;
    }
    auto via = sk.header("Via");
    f.answerable = have_all && method != "ACK" && via && parseVia(*via).ok();
    if (f.answerable) {
        f.skeleton = std::move(sk);
    }
    return f;
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

void detail::ensureOsipParser() {
    ensureParser();
}

std::string randomToken(std::size_t bytes) {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes * 2);
    for (std::size_t i = 0; i < bytes; ++i) {
        auto b = static_cast<unsigned>(rng() & 0xFFU);
        out += kHex[b >> 4];
        out += kHex[b & 0xFU];
    }
    return out;
}

}  // namespace iwf::sip
