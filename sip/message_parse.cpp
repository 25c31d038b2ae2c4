// Parsing SIP messages with libosip2 (parseMessage) and naming what is wrong with one it
// refuses (classifyFault): the libosip2 side of sip/message.hpp, moved out of message.cpp.
#include <algorithm>
#include <cstdarg>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <osipparser2/osip_parser.h>

#include "sip/message.hpp"
#include "sip/message_text.hpp"

namespace iwf::sip {

using detail::iequals;
using detail::isToken;
using detail::lower;
using detail::paramOf;
using detail::toU32;
using detail::trim;

namespace {

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

}  // namespace

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
// The headers of libosip2's parse of a message, in the order parseMessage() keeps them:
// the ones libosip2 parses into fields (as it prints them), Content-Type from our own raw
// value (`content_type`, see parseMessageOnce), then every other header as received.
Result<std::vector<Header>> osipHeaders(osip_message_t* m,
                                        const std::optional<std::string>& content_type) {
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
    for (const auto& h : hs) {
        // libosip2 re-serialises some malformed name-addrs into text it cannot parse again
        // (found by fuzzing: "T:si:p>" becomes "To: <si:p>>"); refuse those here so that
        // what we forward or answer is always parseable.
        if (!nameAddrReparses(h)) {
            return Error{"bad_name_addr"};
        }
    }
    return hs;
}

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
    auto headers = osipHeaders(m, content_type);
    if (!headers) {
        return headers.error();
    }
    for (auto& h : *headers) {
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

void detail::ensureOsipParser() {
    ensureParser();
}

}  // namespace iwf::sip
