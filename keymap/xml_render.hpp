#pragma once
// XML documents for the MC side (docs/protocols/keymap-xml.md), validated in the test suite
// against the published schemas in tests/data/xsd (tests/interop/xsd):
//  - the group document of an interworking group: TS 24.481 clause 7.2, OMA list-service
//    shape <group><list-service uri=...>, with display-name and list/entry, and the TS 24.481
//    elements of urn:3gpp:ns:mcpttGroupInfo:1.0 for what the keymap says about the group's
//    media (preferred-voice-encodings, protect-media, protect-floor-control-signalling);
//  - the user profile of a user homed in the IWF: TS 24.484 mcptt-user-profile with XUI-URI,
//    user-profile-index and Name.
// 3GPP names no XML element for the LMR interworking and LMR E2EE parameters (specs.md §c4,
// open question d1), so they live in kExtensionNs and go only where the schemas allow
// elements of other namespaces; tests/data/xsd/openiwf-lmr-e2ee.xsd declares them.

#include <string>
#include <string_view>

#include "keymap/snapshot.hpp"

namespace iwf::keymap {

inline constexpr std::string_view kListServiceNs = "urn:oma:xml:poc:list-service";
inline constexpr std::string_view kGroupInfoNs = "urn:3gpp:ns:mcpttGroupInfo:1.0";
inline constexpr std::string_view kUserProfileNs = "urn:3gpp:mcptt:user-profile:1.0";
inline constexpr std::string_view kExtensionNs = "urn:openiwf:params:xml:ns:lmr-e2ee:1.0";

// The encoding the IWF's SDP offers for every interworking group: the a=rtpmap
// "encoding/clock rate" of an mcptt-iwf1 link with the default media configuration
// (mc_adapters/mcptt/link_config.cpp, media.encoding X-IWF-LMR, clock_rate 8000). A group
// document's <preferred-voice-encodings> must name exactly what the SDP offers, or a client
// that follows it cannot select our media (TS 29.379 6.1.1); tests/interop/xsd checks the two
// agree. An operator who configures another encoding passes it with --encoding.
inline constexpr std::string_view kDefaultVoiceEncoding = "X-IWF-LMR/8000";

struct GroupRenderOptions {
    std::string voice_encoding = std::string(kDefaultVoiceEncoding);
};

std::string renderGroupConfig(const GroupView& g, const GroupRenderOptions& options = {});
std::string renderUserProfile(const UserView& u);

}  // namespace iwf::keymap
