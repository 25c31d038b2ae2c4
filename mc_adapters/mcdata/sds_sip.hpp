#pragma once
// SDS over SIP MESSAGE on IWF-2 (TS 24.282 9.2 standalone SDS using signalling control plane,
// TS 29.582 6.2): the MESSAGE carries a multipart/mixed body of
//   application/vnd.3gpp.mcdata-info+xml   (request-type, mcdata-request-uri, calling user/group)
//   application/vnd.3gpp.mcdata-signalling (SDS SIGNALLING PAYLOAD, or SDS NOTIFICATION)
//   application/vnd.3gpp.mcdata-payload    (DATA PAYLOAD; absent in a notification)
// Header values: docs/protocols/iwf-2-mcdata.md.

#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "common/result.hpp"
#include "mc_adapters/mcdata/sds_message.hpp"
#include "sip/message.hpp"

namespace iwf::mc::mcdata {

inline constexpr std::string_view kMcdataInfoContentType = "application/vnd.3gpp.mcdata-info+xml";
inline constexpr std::string_view kMcdataSdsIcsi = "urn:urn-7:3gpp-service.ims.icsi.mcdata.sds";

struct SdsEnvelope {
    std::string request_uri;  // MCData server (participating / controlling) address
    std::string sender;       // MCData ID of the sender (calling user)
    std::string target;       // MCData ID of the recipient, or the MCData group ID
    bool group = false;       // group SDS (target is a group)
    std::string iwf_psi;      // P-Asserted-Identity on IWF-originated requests
};

struct SdsSipMessage {
    SdsEnvelope env;
    std::variant<SdsSignalling, SdsNotification> signalling;
    std::optional<DataPayload> payload;  // required with SdsSignalling
};

// Builds the MESSAGE (From/To/headers/bodies; Call-ID, CSeq and tags are the caller's).
Result<sip::Message> buildSdsMessage(const SdsSipMessage& m);
// Parses a received MESSAGE. Fails with "no_mcdata_signalling", "no_mcdata_payload",
// "bad_mcdata_info" or the codec's reason.
Result<SdsSipMessage> parseSdsMessage(const sip::Message& m);

std::string mcdataInfoXml(const SdsEnvelope& env);

}  // namespace iwf::mc::mcdata
