#pragma once
// A SIP message as a value (RFC 3261 §7), parsed through libosip2 and serialised by us.
//
//   auto r = sip::parseMessage(datagram);   // Result<Message>; Error.reason names the fault
//   if (r && r->isRequest()) { ... r->header("Call-ID") ... }
//   std::string wire = r->serialize();       // Content-Length recomputed from the body
//
// Parsing: libosip2 (osip_message_parse) checks the grammar of the start line and of every
// header it knows (Via, From, To, Call-ID, CSeq, Contact, Route, Content-Type, ...); the known
// headers are read back through libosip2's *_to_str() so they come out normalised; other
// headers keep their text. The body is taken from the original bytes (libosip2 would split a
// multipart body; multipart.hpp does that for us). When libosip2 refuses a message,
// classifyFault() says whether it is still a request we can answer with 400 (and which header
// is at fault) or garbage to drop.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace iwf::sip {

inline constexpr std::size_t kMaxMessageSize = 65535;

struct Header {
    std::string name;  // canonical long form ("Via", "Call-ID", "P-Asserted-Identity")
    std::string value;
    bool operator==(const Header&) const = default;
};

// Canonical long form of a header name: compact forms expanded ("v" -> "Via"), known names in
// their RFC spelling, unknown names as given.
std::string canonicalHeaderName(std::string_view name);
bool headerNameEquals(std::string_view a, std::string_view b);  // case-insensitive, compact

class Message {
  public:
    static Message request(std::string method, std::string request_uri);
    static Message response(int status, std::string reason);

    bool isRequest() const { return status_ == 0; }
    bool isResponse() const { return status_ != 0; }
    const std::string& method() const { return method_; }  // requests only
    const std::string& requestUri() const { return request_uri_; }
    void setRequestUri(std::string uri) { request_uri_ = std::move(uri); }
    int status() const { return status_; }
    const std::string& reason() const { return reason_; }

    // Headers, in order. header() returns the first with that name (case-insensitive,
    // compact forms accepted); headers() all of them (for multi-valued headers such as Via).
    const std::vector<Header>& allHeaders() const { return headers_; }
    std::optional<std::string> header(std::string_view name) const;
    std::vector<std::string> headers(std::string_view name) const;
    bool hasHeader(std::string_view name) const { return header(name).has_value(); }
    void addHeader(std::string_view name, std::string value);      // appended
    void prependHeader(std::string_view name, std::string value);  // before the first one
    void setHeader(std::string_view name, std::string value);      // replaces all
    void removeHeader(std::string_view name);                      // all with that name
    void removeFirstHeader(std::string_view name);

    const std::string& body() const { return body_; }
    // Sets the body and its Content-Type (empty type removes the header).
    void setBody(std::string body, std::string_view content_type);

    // The wire form; Content-Length always matches the body.
    std::string serialize() const;

    // Convenience accessors over the parsed header values (empty when absent/malformed).
    std::string callId() const;
    std::uint32_t cseqNumber() const;
    std::string cseqMethod() const;
    std::string topViaBranch() const;
    std::string fromTag() const;
    std::string toTag() const;

  private:
    std::string method_;
    std::string request_uri_;
    int status_ = 0;
    std::string reason_;
    std::vector<Header> headers_;
    std::string body_;
};

Result<Message> parseMessage(std::span<const std::uint8_t> bytes);
Result<Message> parseMessage(std::string_view text);

// What to do with bytes parseMessage() refused.
struct Fault {
    bool answerable = false;  // a request whose Via/From/To/Call-ID/CSeq we can copy into a 400
    std::string reason;       // "bad_header" / "missing_header" / "bad_start_line" / ...
    std::string detail;       // e.g. "CSeq" (the header at fault), for the Warning text
    Message skeleton;         // when answerable: start line + the headers needed for a 400
};
Fault classifyFault(std::string_view text);

// Semantic checks on a parsed request (RFC 3261 §8.2): mandatory headers present, CSeq method
// equal to the request method, Max-Forwards numeric, Content-Length not beyond the body. Returns
// the name of the fault ("missing Via", "CSeq method mismatch", ...) or nullopt if sound.
std::optional<std::string> checkRequest(const Message& request);

// Builds a response to `request` (RFC 3261 §8.2.6): Via, From, To, Call-ID, CSeq copied (and
// Record-Route in 101-299 responses, §12.1.1); a To
// tag added when `to_tag` is non-empty and the To has none.
Message makeResponse(const Message& request, int status, std::string_view reason,
                     std::string_view to_tag = {});
// Default reason phrase for a status code ("OK", "Bad Request", ...).
std::string_view reasonPhrase(int status);

// Pieces of headers.
struct NameAddr {
    std::string display;  // may be empty
    std::string uri;      // "sip:alice@example.com"
    std::string tag;      // the tag parameter, may be empty
};
Result<NameAddr> parseNameAddr(std::string_view value);  // From/To/Contact/PAI/Route
std::string formatNameAddr(const NameAddr& na);          // "<uri>;tag=..."

struct Via {
    std::string transport;  // "UDP", "TCP", "TLS"
    std::string host;
    std::uint16_t port = 0;  // 0 = not given
    std::string branch;
    std::optional<std::string> received;
    std::optional<std::uint16_t> rport;  // present and valued
};
Result<Via> parseVia(std::string_view value);

// Host part of a SIP URI and its port (0 if absent). "sip:user@host:5060;transport=tcp".
struct UriParts {
    std::string scheme;  // "sip" / "sips" / "tel"
    std::string user;
    std::string host;
    std::uint16_t port = 0;
    std::string transport;  // from ;transport=, lower case, may be empty
};
Result<UriParts> parseUri(std::string_view uri);

namespace detail {
// Initialises libosip2's parser once per process (and silences its stderr trace).
void ensureOsipParser();
}  // namespace detail

// Random token for tags, branches and Call-IDs (hex, `bytes`*2 characters).
std::string randomToken(std::size_t bytes = 8);

}  // namespace iwf::sip
