#pragma once
// Key material detector for keymap files (docs/keymap.md "Key material: the detector's rule").
//
// The keymap holds E2EE *parameters* (ALGID, key ID) and never a key. An operator who pastes a
// key into a comment or a description by mistake gets the file refused, naming line and
// column. The detector runs over the raw text (comments included) and looks for a 128-bit or
// longer key in every encoding a human or a script plausibly writes:
//
//   - hex: one run of 32+ digits, or groups (pairs, 4, 8, 16 digits, "0x12, 0x34", "\x12")
//     joined by one consistent separator, also across line breaks and comment markers;
//   - bytes as decimal numbers (space, comma, YAML list), 16 or more, signed or unsigned;
//   - base64 / base64url / base32, padded or not, in one line, split over lines or written in
//     groups of equal length;
//   - PEM blocks ("-----BEGIN") and JSON Web Keys ("kty").
//
// And it must not refuse what is not a key: file paths (also under a random `mktemp -d`
// folder), URLs, SIP URIs, UUIDs, IPv6 and MAC addresses, git object names, long identifiers.
// The rule that separates the two (words of natural text versus random characters) is written
// down with its false-positive and false-negative cases in docs/keymap.md.
//
// Pure function of the text: no allocation beyond the scan's own, no I/O, never throws.

#include <optional>
#include <string>
#include <string_view>

namespace iwf::keymap {

struct KeyMaterialFinding {
    int line = 0;    // 1-based
    int column = 0;  // 1-based
    std::string what;
};

std::optional<KeyMaterialFinding> scanForKeyMaterial(std::string_view text);

// Exposed for the tests: whether one segment (letters and digits only) reads as a word of
// natural text ("scenarios", "PoliceTactical", "p25north", "1001") rather than random
// characters ("yiqDZxb08K", "JBSWY3DPEHPK").
bool looksNatural(std::string_view segment);

}  // namespace iwf::keymap
