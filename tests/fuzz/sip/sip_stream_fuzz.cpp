// SIP over TCP/TLS: the stream framing (sip::StreamFramer, what every stream connection runs
// its reads through) over many messages per connection, read in pieces cut at arbitrary
// points, with Content-Length edge cases.
//
// Input: byte 0 bounds the piece size (a piece is 1..data[0]+1 bytes), byte 1 seeds the
// sequence of piece sizes, the rest is the byte stream a peer sends.
//
// Oracles:
// - Split invariance: a peer's writes are cut into reads anywhere by TCP (and TLS records), so
//   the messages framed and whether the stream ends broken must not depend on where the cuts
//   fall. The stream read in one piece and read in the fuzzer's pieces must agree.
// - A reference framer written here from RFC 3261 alone, not from sip/transport.cpp: §7.5 (a
//   message is the header up to the empty line, then Content-Length octets of body), §18.3
//   (Content-Length is mandatory on a stream), §7.3.3 (compact form "l"), §25.1
//   (Content-Length = 1*DIGIT after HCOLON, header names case-insensitive), RFC 5626 §3.5.1
//   (CRLF keep-alives between messages are skipped), and the 65,535-byte bound iwfd puts on a
//   message (sip::kMaxMessageSize). Its messages must be exactly the framer's.
// - Every framed message goes on to the parser as the stack would take it (no crash, no leak).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sip/message.hpp"
#include "sip/transport.hpp"

using namespace iwf::sip;

namespace {

struct Framed {
    std::vector<std::string> messages;
    bool broken = false;
};

char lowerAscii(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool equalsNoCase(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (lowerAscii(a[i]) != lowerAscii(b[i])) {
            return false;
        }
    }
    return true;
}

// The body length the header block `head` (start line + header lines, CRLF-separated, without
// the empty line) announces: the first Content-Length / l header; nullopt = the stream cannot
// be framed (missing, not 1*DIGIT, or more than the bound).
std::optional<std::size_t> announcedLength(std::string_view head) {
    std::size_t pos = head.find("\r\n");
    while (pos != std::string_view::npos) {
        pos += 2;
        std::size_t eol = head.find("\r\n", pos);
        std::string_view line =
            head.substr(pos, eol == std::string_view::npos ? std::string_view::npos : eol - pos);
        pos = eol;
        std::size_t colon = line.find(':');
        if (colon == std::string_view::npos) {
            continue;
        }
        std::string_view name = line.substr(0, colon);
        while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) {
            name.remove_suffix(1);
        }
        if (!equalsNoCase(name, "content-length") && !equalsNoCase(name, "l")) {
            continue;
        }
        std::string_view v = line.substr(colon + 1);
        while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) {
            v.remove_prefix(1);
        }
        while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) {
            v.remove_suffix(1);
        }
        if (v.empty()) {
            return std::nullopt;
        }
        std::size_t n = 0;
        for (char c : v) {
            if (c < '0' || c > '9') {
                return std::nullopt;
            }
            n = n * 10 + static_cast<std::size_t>(c - '0');
            if (n > kMaxMessageSize) {
                return std::nullopt;  // beyond the bound whatever digits follow
            }
        }
        return n;
    }
    return std::nullopt;
}

Framed referenceFrame(std::string_view s) {
    Framed r;
    std::size_t at = 0;
    for (;;) {
        while (at < s.size() && (s[at] == '\r' || s[at] == '\n')) {
            ++at;
        }
        std::string_view rest = s.substr(at);
        std::size_t blank = rest.find("\r\n\r\n");
        if (blank == std::string_view::npos) {
            r.broken = rest.size() > kMaxMessageSize;
            return r;
        }
        auto length = announcedLength(rest.substr(0, blank));
        const std::size_t head = blank + 4;
        if (!length || head + *length > kMaxMessageSize) {
            r.broken = true;
            return r;
        }
        if (rest.size() < head + *length) {
            return r;  // waits for the rest of the body
        }
        r.messages.emplace_back(rest.substr(0, head + *length));
        at += head + *length;
    }
}

// Reads `s` through a StreamFramer in pieces of 1..max_piece bytes (sizes from `seed`; 0 = in
// one piece), draining every complete message after each piece as the connection does
// (sip/stream_transport.cpp, Connection::read); stops at Broken.
Framed frameInPieces(std::string_view s, std::size_t max_piece, std::uint32_t seed) {
    Framed r;
    StreamFramer f;
    std::uint32_t x = seed * 2654435761U + 1;
    std::size_t at = 0;
    while (at < s.size()) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        const std::size_t piece =
            max_piece == 0 ? s.size() : std::min<std::size_t>(1 + x % max_piece, s.size() - at);
        f.append(s.substr(at, piece));
        at += piece;
        std::string out;
        for (;;) {
            const auto next = f.next(out);
            if (next == StreamFramer::Next::Message) {
                r.messages.push_back(out);
                continue;
            }
            if (next == StreamFramer::Next::Broken) {
                r.broken = true;
                return r;
            }
            break;
        }
    }
    return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) {
        return 0;
    }
    const std::size_t max_piece = static_cast<std::size_t>(data[0]) + 1;
    const std::uint32_t seed = data[1];
    const std::string_view stream(reinterpret_cast<const char*>(data) + 2, size - 2);

    const Framed whole = frameInPieces(stream, 0, 0);
    const Framed pieces = frameInPieces(stream, max_piece, seed);
    const Framed reference = referenceFrame(stream);
    if (whole.messages != reference.messages || whole.broken != reference.broken) {
        __builtin_trap();
    }
    if (pieces.messages != reference.messages || pieces.broken != reference.broken) {
        __builtin_trap();
    }
    for (const auto& m : whole.messages) {
        auto parsed = parseMessage(m);
        if (!parsed) {
            (void)classifyFault(m);
        }
    }
    return 0;
}
