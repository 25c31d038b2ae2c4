#pragma once
// multipart/mixed bodies (RFC 2046 §5.1) as carried by MCPTT INVITEs (SDP + mcptt-info XML
// + resource-lists) and MCData MESSAGEs.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "sip/message.hpp"

namespace iwf::sip {

struct BodyPart {
    std::string content_type;     // "application/sdp"
    std::vector<Header> headers;  // other part headers (Content-ID, Content-Disposition)
    std::string body;
    bool operator==(const BodyPart&) const = default;
};

struct Multipart {
    std::string boundary;
    std::vector<BodyPart> parts;

    // The first part whose media type (parameters ignored, case-insensitive) equals `type`.
    const BodyPart* find(std::string_view type) const;
    // The body (without the surrounding CRLFs) and its Content-Type header value.
    std::string toString() const;
    std::string contentType() const;  // multipart/mixed;boundary=...
};

// Media type of a Content-Type value, lower case, without parameters.
std::string mediaType(std::string_view content_type);
// A parameter of a Content-Type value (boundary=...), quotes removed.
std::string contentTypeParam(std::string_view content_type, std::string_view name);

Result<Multipart> parseMultipart(std::string_view body, std::string_view content_type);

// The part of a message body with media type `type`: the body itself when the message is
// of that type, the matching part when it is multipart/mixed, nullopt otherwise.
std::optional<std::string> bodyOfType(const Message& m, std::string_view type);

// Sets `m`'s body: a single part as itself, several parts as multipart/mixed.
void setBodies(Message& m, const std::vector<BodyPart>& parts);

}  // namespace iwf::sip
