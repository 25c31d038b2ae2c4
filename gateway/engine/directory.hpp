#pragma once
// What the engine needs from the keymap, declared here so the engine depends on no keymap
// internals (docs/architecture.md "What crosses between adapters and the engine"). A Directory
// hands out immutable snapshots; each call keeps the snapshot it started with (a reload never
// changes a call in progress), the next call takes the current one.
//
// Lookups return values (not references into the snapshot): they run at call setup and for
// short data, never per voice frame.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "common/crypto.hpp"
#include "common/ids.hpp"
#include "common/link.hpp"
#include "common/voice.hpp"

namespace iwf::gateway::engine {

// E2EE mode of an interworking group (keymap "mode").
enum class E2eeMode : std::uint8_t {
    Clear = 0,   // only clear streams; encrypted streams are refused
    Secure = 1,  // only encrypted streams with the configured family/ALGID/key ID
    Mixed = 2,   // clear, or encrypted as in `secure`; each call's state is marked
};
std::string_view toString(E2eeMode m);

struct GroupInfo {
    McGroupId mc_group;
    Address lmr_group;      // P25Group or DmrGroup (or TetraSubscriber with group = true)
    std::string lmr_link;   // LMR link that serves the group; empty = first LMR link of `family`
    std::string mc_link;    // MC link that serves the group; empty = first MC link
    Side home = Side::Lmr;  // where the group is defined: decides who arbitrates the floor
    E2eeMode mode = E2eeMode::Mixed;
    // The group's LMR family and, in `secure` and `mixed` mode, the ALGID and key ID an
    // encrypted stream must carry (encrypted = true, no MI); CryptoSync::clear(family) in
    // `clear` mode. The shape of every stream's crypto sync: the policy compares like with like.
    CryptoSync crypto = CryptoSync::clear(LmrFamily::P25);
    VoiceCodec codec = VoiceCodec::ImbeFullRate;
    bool queueing = true;  // floor requests may be queued (TS 24.380 mc_queueing)
    // LMR source address used when an MC talker has no LMR identity of its own.
    Address lmr_gateway_unit;

    LmrFamily family() const { return crypto.family; }
};

// A user: an LMR unit homed in the IWF (it appears in the MC system under mc_id) or an MC
// user that has an LMR identity.
struct UserInfo {
    Address lmr_unit;  // P25Unit / DmrUnit / TetraSubscriber
    McId mc_id;
    std::string lmr_link;  // empty = first LMR link of the unit's family
    std::string mc_link;   // empty = first MC link
    std::string kmf_uri;   // URI of the LMR key management functional entity (KMM tunnel)
    bool e2ee_allowed = true;
};

// An LMR key management facility reachable through the KMM tunnel.
struct KmfInfo {
    std::string uri;      // as the MC side names it
    Address lmr_address;  // the KMF's address on the LMR side
    std::string lmr_link;
};

class DirectorySnapshot {
  public:
    virtual ~DirectorySnapshot() = default;
    virtual std::uint64_t revision() const = 0;
    virtual std::optional<GroupInfo> groupByLmr(const Address& lmr_group) const = 0;
    virtual std::optional<GroupInfo> groupByMc(const McGroupId& mc_group) const = 0;
    virtual std::optional<UserInfo> userByLmr(const Address& lmr_unit) const = 0;
    virtual std::optional<UserInfo> userByMc(const McId& mc_id) const = 0;
    virtual std::optional<KmfInfo> kmfByUri(const std::string& uri) const = 0;
    // The MC ID that stands for an LMR talker the LMR side did not name or the keymap does
    // not know (TS 23.283 Table 10.3.2.2-1 NOTE 1).
    virtual McId unknownTalker() const = 0;
};

class Directory {
  public:
    virtual ~Directory() = default;
    // The snapshot in force now (never null).
    virtual std::shared_ptr<const DirectorySnapshot> current() const = 0;
};

}  // namespace iwf::gateway::engine
