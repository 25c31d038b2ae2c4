#pragma once
// The keymap model: LMR systems, users homed in the IWF, interworking groups and ad hoc rules.
//
// It holds E2EE *parameters* (ALGID, key ID, encryption mode, LMR type, KMF URI), never keys.
// Facts and widths: docs/keymap.md (sources: shared/research/specs.md §c2-c4, mc.md §1.6,
// lmr.md §1.2, §2.3, §3.2-3.3).
//
// The model is plain data. parseKeymapYaml() (yaml_import.hpp) builds it from a file,
// validate() (validate.hpp) checks the rules, Store (store.hpp) keeps revisions of it and
// Snapshot (snapshot.hpp) is the immutable, indexed form the engine reads.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "common/ids.hpp"
#include "common/voice.hpp"

namespace iwf::keymap {

// Encryption mode of an interworking group: clear only, LMR E2EE only, or both (a clear
// transmission is accepted in a mixed group; refused in a secure one).
enum class EncryptionMode : std::uint8_t { Clear = 0, Secure = 1, Mixed = 2 };
// Which side owns the group (TS 23.283: decides where floor arbitration happens).
enum class HomeSide : std::uint8_t { Lmr = 0, Mc = 1 };
// Ad hoc rule scope: a range of LMR talkgroups or of LMR units.
enum class AdhocScope : std::uint8_t { Talkgroup = 0, Unit = 1 };
// TS 33.180 media protection (SRTP with the GMK) of a group on the MC side: never, when the
// key is there, or always (the MC link's media_protection modes, mc-security.md §12).
enum class MediaProtection : std::uint8_t { Off = 0, Optional = 1, Required = 2 };

std::string_view toString(EncryptionMode m);
std::string_view toString(HomeSide h);
std::string_view toString(AdhocScope s);
std::string_view toString(MediaProtection m);
// Short codec names: "imbe", "ambe2-half", "dmr-ambe", "tetra-acelp", "pcm".
std::string_view codecName(VoiceCodec c);
bool parseEncryptionMode(std::string_view s, EncryptionMode& out);
bool parseHomeSide(std::string_view s, HomeSide& out);
bool parseAdhocScope(std::string_view s, AdhocScope& out);
// "off" | "optional" | "required".
bool parseMediaProtection(std::string_view s, MediaProtection& out);
bool parseFamily(std::string_view s, LmrFamily& out);
bool parseCodec(std::string_view s, VoiceCodec& out);

// The vocoder an LMR family speaks natively (the default codec of its groups).
VoiceCodec defaultCodec(LmrFamily f);
// True if `c` is a codec of family `f` (E2EE pass-through needs it end to end: TS 23.283 §10.7).
bool isLmrCodecOf(LmrFamily f, VoiceCodec c);
// ALGID meaning "clear" in the family (P25 0x80, DMR 0, TETRA 0): common/crypto.hpp.
using iwf::clearAlgid;
// True if `algid` is a known encryption algorithm of the family (not clear). docs/keymap.md
// lists the tables (lmr.md §1.2 for P25, §2.3 for DMR, §3.2-3.3 for TETRA).
bool isKnownCipherAlgid(LmrFamily f, std::uint16_t algid);

// One authorised algorithm + key ID of a user, per LMR family.
struct KeyRef {
    LmrFamily family = LmrFamily::P25;
    std::uint16_t algid = 0;
    std::uint32_t key_id = 0;
    bool operator==(const KeyRef&) const = default;
};

struct LmrSystem {
    std::string id;  // operator's name, unique ("p25-north")
    LmrFamily family = LmrFamily::P25;
    P25System p25;                  // P25: WACN (20 bit) + System ID (12 bit)
    std::uint32_t dmr_network = 0;  // DMR: network / peer ID (32 bit)
    std::uint16_t tetra_mcc = 0;    // TETRA: MCC (10 bit)
    std::uint16_t tetra_mnc = 0;    // TETRA: MNC (14 bit)
    std::string description;
    int line = 0;  // source line in the imported YAML (0 = unknown; not stored)
};

// A user homed in the IWF: an LMR unit with an MC service ID in the IWF's domain, and its
// LMR E2EE user-profile parameters.
struct User {
    McId mc_id;
    std::string system;      // LmrSystem::id
    std::uint32_t unit = 0;  // LMR unit ID (24 bit)
    std::string display_name;
    std::string kmf_uri;  // "URI of LMR key management functional entity" (TS 23.379 A.3)
    bool e2ee = false;    // may use LMR E2EE
    std::vector<KeyRef> authorised;
    int line = 0;
};

// An LMR key management facility (KMF) that MC clients reach through the interworking key
// management tunnel (TS 23.283 §10.12): users name it by URI (User::kmf_uri, the "URI of LMR
// key management functional entity" of TS 23.379 A.3); this entry says where it is on the LMR
// side, so a KMM an MC client sends to that URI can be delivered to the KMF's LMR address
// (P25: the KMF's RSI; DMR: its unit ID; TETRA: its ISSI). No key material.
struct Kmf {
    std::string uri;
    std::string system;      // LmrSystem::id
    std::uint32_t unit = 0;  // the KMF's LMR address (24 bit)
    std::string display_name;
    int line = 0;
};

// An interworking group: LMR talkgroup <-> MC group, with its LMR E2EE group parameters.
struct Group {
    McGroupId mc_group;
    std::string system;      // LmrSystem::id
    std::uint32_t tgid = 0;  // P25 TGID (16 bit), DMR group (24 bit), TETRA GSSI (24 bit)
    std::string display_name;
    HomeSide home = HomeSide::Lmr;
    EncryptionMode mode = EncryptionMode::Clear;
    std::optional<std::uint16_t> algid;
    std::optional<std::uint32_t> key_id;
    std::optional<VoiceCodec> codec;  // absent = the family's native codec
    MediaProtection media_protection = MediaProtection::Required;  // SRTP with the GMK
    bool floor_protection = true;                                  // MC floor control protection
    std::vector<McId> members;
    int line = 0;
};

// Ad hoc groups (TS 23.282 Rel-15: an ad hoc group uses the security configuration of a
// preconfigured group): a range of talkgroups or units of one system lends the security
// configuration of `lender`.
struct AdhocRule {
    std::string id;
    std::string system;
    AdhocScope scope = AdhocScope::Talkgroup;
    std::uint32_t first = 0;
    std::uint32_t last = 0;
    McGroupId lender;
    int line = 0;
};

struct Keymap {
    McId unknown_talker;      // reserved MC ID for LMR talkers with no mapping
    McGroupId adhoc_default;  // lender when no rule matches (empty: refuse)
    std::vector<LmrSystem> systems;
    std::vector<User> users;
    std::vector<Group> groups;
    std::vector<AdhocRule> adhoc_rules;
    std::vector<Kmf> kmfs;
    std::string source;  // file name it was read from (for messages; not stored)
    int adhoc_default_line = 0;
    int unknown_talker_line = 0;
};

// Canonical JSON form (what the stores keep; stable key order, no source lines).
nlohmann::json toJson(const Keymap& k);
nlohmann::json toJson(const LmrSystem& s);
nlohmann::json toJson(const User& u);
nlohmann::json toJson(const Group& g);
nlohmann::json toJson(const AdhocRule& r);
nlohmann::json toJson(const Kmf& f);
// Throws std::runtime_error naming the field if the JSON does not match.
Keymap keymapFromJson(const nlohmann::json& j);
std::string toCanonicalString(const Keymap& k);
Keymap keymapFromString(const std::string& canonical);

// The effective codec and E2EE family of a group (needs its system).
VoiceCodec effectiveCodec(const Group& g, LmrFamily family);

}  // namespace iwf::keymap
