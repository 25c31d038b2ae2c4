#pragma once
// The SDP key management attribute of RFC 4567 as TS 33.180 uses it for a private call's PCK
// (§7.2 / E.3; TS 24.379 §6.2.1 and TS 29.379 §6.1.1: the offer of a private call with
// 3GPP media security carries the MIKEY-SAKKE I_MESSAGE):
//
//   key-mgmt-attribute = "key-mgmt:" prtcl-id SP keymgmt-data     [RFC 4567 §3.1]
//   prtcl-id           = "mikey"                                   [RFC 4567 §7.1]
//   keymgmt-data       = base64 of the MIKEY message               [RFC 4567 §3.1, RFC 4648 §4]
//
// Only the value after "a=key-mgmt:" is handled here (sip::SdpAttribute::value).

#include <string>
#include <string_view>

#include "common/bytes.hpp"
#include "common/result.hpp"

namespace iwf::mc::security {

// "mikey <base64>": the value of an a=key-mgmt attribute carrying `mikey_message`.
std::string formatKeyMgmt(ByteView mikey_message);

// The MIKEY message of an a=key-mgmt value. Errors (fixed strings): "key_mgmt_not_mikey"
// (another protocol id, RFC 4567 §3.1 lets an offer carry several), "key_mgmt_bad_base64"
// (a character outside RFC 4648's alphabet, bad padding or length), "key_mgmt_empty".
Result<Bytes> parseKeyMgmt(std::string_view value);

// RFC 4648 §4 base64 (with padding), and its strict inverse ("key_mgmt_bad_base64").
std::string base64Encode(ByteView v);
Result<Bytes> base64Decode(std::string_view s);

}  // namespace iwf::mc::security
