#pragma once
// Snapshot: the immutable, indexed keymap of one revision. This is what the engine reads.
//
// Lifetime and reloads: iwfd holds the current snapshot as a std::shared_ptr<const Snapshot>
// and swaps the pointer atomically when a new revision is loaded. A call takes a copy of the
// shared_ptr when it starts and keeps using that snapshot until it ends, so a call in progress
// keeps the revision it started with; the old snapshot is freed when its last call ends.
// Nothing in a Snapshot ever changes after build(), so any number of threads may read it
// without locks; the pointers it returns stay valid for as long as the Snapshot lives.
//
// Lookups are hash-map lookups (docs/perf/keymap.md has the ns/op numbers) and allocate
// nothing.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/crypto.hpp"
#include "common/result.hpp"
#include "keymap/model.hpp"

namespace iwf::keymap {

// A user homed in the IWF, resolved: its entry and its LMR system.
struct UserView {
    const User* user = nullptr;
    const LmrSystem* system = nullptr;

    const McId& mcId() const { return user->mc_id; }
    const std::string& kmfUri() const { return user->kmf_uri; }
    bool mayUseE2ee() const { return user->e2ee; }
    // True if the user may use this ALGID + key ID of this family.
    bool authorised(LmrFamily f, std::uint16_t algid, std::uint32_t key_id) const;
};

// An LMR KMF, resolved: its entry and its LMR system (where a KMM to its URI goes).
struct KmfView {
    const Kmf* kmf = nullptr;
    const LmrSystem* system = nullptr;
};

// An interworking group, resolved: the MC group security configuration the engine needs.
struct GroupView {
    const Group* group = nullptr;
    const LmrSystem* system = nullptr;
    LmrFamily family = LmrFamily::P25;
    VoiceCodec codec = VoiceCodec::ImbeFullRate;  // effective codec (the LMR codec)
    // Expected crypto of an encrypted stream (encrypted=true, algid, key_id; no MI) for
    // secure/mixed groups; CryptoSync::clear(family) for clear groups. What a stream may carry
    // in the group is decided by the engine's one E2EE policy (gateway/engine/policy.hpp,
    // docs/engine.md "E2EE policy"), not here.
    CryptoSync crypto;
    std::vector<UserView> members;

    const McGroupId& mcGroup() const { return group->mc_group; }
    std::uint32_t tgid() const { return group->tgid; }
    EncryptionMode mode() const { return group->mode; }
    HomeSide home() const { return group->home; }
    bool e2ee() const { return group->mode != EncryptionMode::Clear; }
    // Same E2EE settings (mode, family, ALGID, key ID, codec): ad hoc lending needs this.
    bool sameSecurity(const GroupView& o) const;
};

class Snapshot {
  public:
    // Builds the indexes. The keymap should have passed validate(); entries with dangling
    // references are left out of the indexes rather than trusted.
    static std::shared_ptr<const Snapshot> build(Keymap k, std::uint64_t revision);

    std::uint64_t revision() const { return revision_; }
    const Keymap& keymap() const { return keymap_; }
    std::size_t userCount() const { return users_.size(); }
    std::size_t groupCount() const { return groups_.size(); }

    // Systems.
    const LmrSystem* system(std::string_view id) const;
    const LmrSystem* p25System(const P25System& s) const;
    const LmrSystem* dmrSystem(std::uint32_t network_id) const;
    const LmrSystem* tetraSystem(std::uint16_t mcc, std::uint16_t mnc) const;

    // LMR unit -> user (MC ID, KMF URI, authorised ALGID/key IDs, may-use-E2EE).
    const UserView* user(const P25Unit& u) const;
    const UserView* user(std::string_view system_id, const DmrUnit& u) const;
    const UserView* user(const TetraSubscriber& s) const;
    const UserView* userInSystem(std::string_view system_id, std::uint32_t unit) const;
    // MC ID -> user.
    const UserView* userByMcId(std::string_view mc_id) const;
    // The reserved MC ID for LMR talkers without a mapping.
    const McId& unknownTalker() const { return keymap_.unknown_talker; }
    // The MC ID to present for an LMR talker: its user's, or the reserved one.
    const McId& talkerMcId(const P25Unit& u) const;
    const McId& talkerMcId(std::string_view system_id, const DmrUnit& u) const;

    // LMR group -> interworking group.
    const GroupView* group(const P25Group& g) const;
    const GroupView* group(std::string_view system_id, const DmrGroup& g) const;
    const GroupView* group(const TetraSubscriber& gssi) const;
    const GroupView* groupInSystem(std::string_view system_id, std::uint32_t tgid) const;
    // MC group ID -> interworking group.
    const GroupView* groupByMc(std::string_view mc_group) const;
    // KMF URI -> the KMF's LMR address (nullptr: the keymap does not say where it is).
    const KmfView* kmf(std::string_view uri) const;

    // Ad hoc groups: which preconfigured interworking group lends its security configuration
    // to an ad hoc group built on the LMR side (dynamic regroup, patch, multi-user data) from
    // these talkgroups and units of one system. Each participant picks a lender by the first
    // rule whose range holds it, else the default. Errors:
    //   "adhoc_unknown_system"  the system is not in the keymap
    //   "adhoc_no_rule"         a participant matches no rule and there is no default
    //   "adhoc_mixed_e2ee"      the lenders (or a patched interworking group itself) differ in
    //                           E2EE settings: the ad hoc use would mix them, refused
    Result<const GroupView*> adhocLender(std::string_view system_id,
                                         std::span<const std::uint32_t> talkgroups,
                                         std::span<const std::uint32_t> units) const;

  private:
    Snapshot() = default;
    struct StringHash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const noexcept {
            return std::hash<std::string_view>{}(s);
        }
    };
    template <typename V>
    using StringMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;

    static std::uint64_t lmrKey(std::uint32_t sys, std::uint32_t id) {
        return (static_cast<std::uint64_t>(sys) << 32) | id;
    }
    std::int64_t systemIndex(std::string_view id) const;
    std::int64_t p25Index(const P25System& s) const;
    std::int64_t tetraIndex(std::uint16_t mcc, std::uint16_t mnc) const;
    const GroupView* lenderFor(std::uint32_t sys, AdhocScope scope, std::uint32_t id) const;

    std::uint64_t revision_ = 0;
    Keymap keymap_;
    std::vector<UserView> users_;
    std::vector<GroupView> groups_;
    StringMap<std::uint32_t> system_by_id_;
    std::unordered_map<std::uint32_t, std::uint32_t> p25_by_sysid_;  // wacn << 12 | system
    std::unordered_map<std::uint32_t, std::uint32_t> dmr_by_network_;
    std::unordered_map<std::uint32_t, std::uint32_t> tetra_by_mccmnc_;  // mcc << 14 | mnc
    std::unordered_map<std::uint64_t, std::uint32_t> user_by_unit_;     // lmrKey(sys, unit)
    StringMap<std::uint32_t> user_by_mcid_;
    std::unordered_map<std::uint64_t, std::uint32_t> group_by_lmr_;  // lmrKey(sys, tgid)
    StringMap<std::uint32_t> group_by_mc_;
    struct Rule {
        std::uint32_t system;
        AdhocScope scope;
        std::uint32_t first, last;
        std::uint32_t lender;  // index into groups_
    };
    std::vector<Rule> rules_;
    std::vector<KmfView> kmfs_;
    StringMap<std::uint32_t> kmf_by_uri_;
    std::int64_t default_lender_ = -1;
};

}  // namespace iwf::keymap
