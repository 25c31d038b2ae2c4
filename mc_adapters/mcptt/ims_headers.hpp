#pragma once
// IMS service identification in the SIP headers of MCPTT and MCData requests and responses
// (TS 24.229 §7.9.2 / RFC 3840 feature tags, RFC 6050 P-Asserted-Service; TS 24.379 §6.3.1,
// TS 24.282 §6.x; values checked character for character in tests/interop/sipp and by the
// harness's conformance scenario). docs/protocols/iwf-1.md "Service identification".
//
// The ICSI is a URN; as the value of the +g.3gpp.icsi-ref feature tag (a quoted string
// parameter of Accept-Contact and Contact) its ':' are percent-encoded:
//   +g.3gpp.icsi-ref="urn%3Aurn-7%3A3gpp-service.ims.icsi.mcptt"
// while P-Asserted-Service carries the URN as is.

#include <string>
#include <string_view>

namespace iwf::mc::ims {

inline constexpr std::string_view kMcpttIcsi = "urn:urn-7:3gpp-service.ims.icsi.mcptt";
inline constexpr std::string_view kMcdataSdsIcsi = "urn:urn-7:3gpp-service.ims.icsi.mcdata.sds";
// Service feature tags (TS 24.379 Annex C / TS 24.282 Annex C).
inline constexpr std::string_view kMcpttFeatureTag = "+g.3gpp.mcptt";
inline constexpr std::string_view kMcdataSdsFeatureTag = "+g.3gpp.mcdata.sds";

// The ICSI as a feature-tag value: every ':' percent-encoded (and '%' itself, so the
// encoding is reversible), no quotes.
std::string encodeIcsi(std::string_view icsi);

// Accept-Contact value requiring the service: "*;<tag>;require;explicit".
std::string acceptContactFeature(std::string_view feature_tag);
// Accept-Contact value requiring the ICSI: "*;+g.3gpp.icsi-ref="<encoded>";require;explicit".
std::string acceptContactIcsi(std::string_view icsi);
// Feature-tag parameters for a Contact: ";<tag>;+g.3gpp.icsi-ref="<encoded>"".
std::string contactFeatures(std::string_view feature_tag, std::string_view icsi);
// The Contact parameters of every dialog-creating MCPTT request and response the IWF sends.
std::string mcpttContactFeatures();

}  // namespace iwf::mc::ims
