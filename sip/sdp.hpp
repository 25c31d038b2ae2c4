#pragma once
// SDP (RFC 4566) as a value: parsed with libosip2's sdp_message, written by toString().
// Offer/answer logic is the caller's (mc_adapters/mcptt, lmr_adapters/p25).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace iwf::sip {

struct SdpAttribute {
    std::string name;
    std::string value;  // empty for property attributes ("a=sendrecv")
    bool operator==(const SdpAttribute&) const = default;
};

struct SdpMedia {
    std::string type;  // "audio", "application"
    std::uint16_t port = 0;
    std::string proto;                 // "RTP/AVP", "udp"
    std::vector<std::string> formats;  // payload types or "MCPTT"
    std::string info;                  // i= line, may be empty
    std::string connection_address;    // media-level c=, may be empty
    std::vector<SdpAttribute> attributes;
    bool operator==(const SdpMedia&) const = default;

    std::optional<std::string> attribute(std::string_view name) const;  // first value
    std::vector<std::string> attributes_named(std::string_view name) const;
};

struct SessionDescription {
    std::string origin_user = "-";
    std::string session_id = "0";
    std::string session_version = "0";
    std::string address_type = "IP4";
    std::string origin_address = "127.0.0.1";
    std::string session_name = "-";
    std::string connection_address;  // session-level c=, may be empty
    std::vector<SdpAttribute> attributes;
    std::vector<SdpMedia> media;
    bool operator==(const SessionDescription&) const = default;

    // The connection address that applies to a media line (media-level, else session-level).
    std::string addressOf(const SdpMedia& m) const;
    const SdpMedia* find(std::string_view type) const;
    std::string toString() const;
};

inline constexpr std::string_view kSdpContentType = "application/sdp";

Result<SessionDescription> parseSdp(std::string_view text);

}  // namespace iwf::sip
