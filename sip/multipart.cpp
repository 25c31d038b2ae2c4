#include "sip/multipart.hpp"

#include <algorithm>
#include <cctype>

#include "sip/message_text.hpp"

namespace iwf::sip {

namespace {

using detail::lower;
using detail::trim;

bool validBoundary(std::string_view b) {
    // RFC 2046 bchars, 1-70 characters, not ending in a space.
    if (b.empty() || b.size() > 70 || b.back() == ' ') {
        return false;
    }
    return std::all_of(b.begin(), b.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) ||
               std::string_view("'()+_,-./:=? ").find(c) != std::string_view::npos;
    });
}

Result<BodyPart> parsePart(std::string_view raw) {
    BodyPart part;
    // Part headers end at the first empty line; a part may have no headers at all.
    std::size_t pos = 0;
    bool ended = false;
    while (pos <= raw.size()) {
        auto eol = raw.find("\r\n", pos);
        std::string_view line =
            raw.substr(pos, eol == std::string_view::npos ? std::string_view::npos : eol - pos);
        const std::size_t next = eol == std::string_view::npos ? raw.size() : eol + 2;
        if (line.empty()) {
            pos = next;
            ended = true;
            break;
        }
        if ((line.front() == ' ' || line.front() == '\t') && !part.headers.empty()) {
            part.headers.back().value += " " + std::string(trim(line));
        } else {
            auto colon = line.find(':');
            if (colon == std::string_view::npos) {
                return Error{"bad_part_header"};
            }
            part.headers.push_back({canonicalHeaderName(trim(line.substr(0, colon))),
                                    std::string(trim(line.substr(colon + 1)))});
        }
        if (eol == std::string_view::npos) {
            pos = raw.size();
            break;
        }
        pos = next;
    }
    if (!ended) {
        return Error{"no_part_header_end"};
    }
    part.body = std::string(raw.substr(pos));
    auto it = std::find_if(part.headers.begin(), part.headers.end(),
                           [](const Header& h) { return h.name == "Content-Type"; });
    if (it != part.headers.end()) {
        part.content_type = it->value;
        part.headers.erase(it);
    } else {
        part.content_type = "text/plain";  // RFC 2046 §5.1 default
    }
    return part;
}

}  // namespace

std::string mediaType(std::string_view content_type) {
    auto semi = content_type.find(';');
    return lower(trim(content_type.substr(0, semi)));
}

std::string contentTypeParam(std::string_view ct, std::string_view name) {
    std::size_t pos = ct.find(';');
    while (pos != std::string_view::npos) {
        auto next = pos + 1;
        bool in_quotes = false;
        auto end = next;
        while (end < ct.size() && (in_quotes || ct[end] != ';')) {
            if (ct[end] == '"') {
                in_quotes = !in_quotes;
            }
            ++end;
        }
        std::string_view p = ct.substr(next, end - next);
        auto eq = p.find('=');
        if (eq != std::string_view::npos && lower(trim(p.substr(0, eq))) == lower(name)) {
            std::string_view v = trim(p.substr(eq + 1));
            if (v.size() >= 2 && v.front() == '"' && v.back() == '"') {
                v = v.substr(1, v.size() - 2);
            }
            return std::string(v);
        }
        pos = end < ct.size() ? end : std::string_view::npos;
    }
    return {};
}

const BodyPart* Multipart::find(std::string_view type) const {
    const std::string t = lower(type);
    for (const auto& p : parts) {
        if (mediaType(p.content_type) == t) {
            return &p;
        }
    }
    return nullptr;
}

std::string Multipart::contentType() const {
    return "multipart/mixed;boundary=" + boundary;
}

std::string Multipart::toString() const {
    std::string out;
    for (const auto& p : parts) {
        out += "--" + boundary + "\r\n";
        out += "Content-Type: " + p.content_type + "\r\n";
        for (const auto& h : p.headers) {
            out += h.name + ": " + h.value + "\r\n";
        }
        out += "\r\n";
        out += p.body;
        out += "\r\n";
    }
    out += "--" + boundary + "--\r\n";
    return out;
}

Result<Multipart> parseMultipart(std::string_view body, std::string_view content_type) {
    if (mediaType(content_type).rfind("multipart/", 0) != 0) {
        return Error{"not_multipart"};
    }
    Multipart mp;
    mp.boundary = contentTypeParam(content_type, "boundary");
    if (!validBoundary(mp.boundary)) {
        return Error{"bad_boundary"};
    }
    const std::string delim = "--" + mp.boundary;
    // The first delimiter may start the body or follow a preamble line.
    std::size_t pos = 0;
    if (body.substr(0, delim.size()) != delim) {
        pos = body.find("\r\n" + delim);
        if (pos == std::string_view::npos) {
            return Error{"no_first_boundary"};
        }
        pos += 2;
    }
    pos += delim.size();
    for (int guard = 0; guard < 64; ++guard) {
        // After a delimiter: "--" (close) or transport padding then CRLF.
        if (body.substr(pos, 2) == "--") {
            return mp.parts.empty() ? Result<Multipart>(Error{"no_parts"}) : Result<Multipart>(mp);
        }
        auto eol = body.find("\r\n", pos);
        if (eol == std::string_view::npos || !trim(body.substr(pos, eol - pos)).empty()) {
            return Error{"bad_delimiter_line"};
        }
        const std::size_t start = eol + 2;
        const std::size_t end = body.find("\r\n" + delim, start);
        if (end == std::string_view::npos) {
            return Error{"no_close_delimiter"};
        }
        auto part = parsePart(body.substr(start, end - start));
        if (!part) {
            return part.error();
        }
        mp.parts.push_back(std::move(*part));
        pos = end + 2 + delim.size();
    }
    return Error{"too_many_parts"};
}

std::optional<std::string> bodyOfType(const Message& m, std::string_view type) {
    auto ct = m.header("Content-Type");
    if (!ct) {
        return std::nullopt;
    }
    const std::string mt = mediaType(*ct);
    if (mt == lower(type)) {
        return m.body();
    }
    if (mt.rfind("multipart/", 0) == 0) {
        auto mp = parseMultipart(m.body(), *ct);
        if (mp) {
            if (const auto* p = mp->find(type)) {
                return p->body;
            }
        }
    }
    return std::nullopt;
}

void setBodies(Message& m, const std::vector<BodyPart>& parts) {
    if (parts.empty()) {
        m.setBody({}, {});
        return;
    }
    if (parts.size() == 1 && parts[0].headers.empty()) {
        m.setBody(parts[0].body, parts[0].content_type);
        return;
    }
    Multipart mp;
    mp.boundary = "iwf-" + randomToken(6);
    mp.parts = parts;
    m.setBody(mp.toString(), mp.contentType());
    m.setHeader("MIME-Version", "1.0");
}

}  // namespace iwf::sip
