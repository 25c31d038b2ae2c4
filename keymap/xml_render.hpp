#pragma once
// XML fragments for the MC side (docs/keymap.md "XML output"):
//  - the group document of an interworking group (TS 24.481 style: OMA list-service with
//    display-name and list/entry; MC group security configuration in our extension namespace)
//  - the user profile of a user homed in the IWF (TS 24.484 style: mcptt-user-profile with
//    XUI-URI and Name; LMR E2EE user-profile parameters in our extension namespace).
// 3GPP names no XML element for the LMR E2EE parameters we could confirm (specs.md §c4, open
// question d1), so they live in kExtensionNs and are documented in docs/keymap.md.

#include <string>
#include <string_view>

#include "keymap/snapshot.hpp"

namespace iwf::keymap {

inline constexpr std::string_view kListServiceNs = "urn:oma:xml:poc:list-service";
inline constexpr std::string_view kUserProfileNs = "urn:3gpp:mcptt:user-profile:1.0";
inline constexpr std::string_view kExtensionNs = "urn:openiwf:params:xml:ns:lmr-e2ee:1.0";

std::string renderGroupConfig(const GroupView& g);
std::string renderUserProfile(const UserView& u);

}  // namespace iwf::keymap
