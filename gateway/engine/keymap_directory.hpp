#pragma once
// Directory over the keymap service's immutable Snapshot (keymap/snapshot.hpp). The daemon
// hands a provider that returns the snapshot in force (Daemon::keymapSnapshot()); each engine
// call keeps the view it started with, and so the keymap revision. Calls started under the same
// snapshot share one view (KeymapDirectory keeps the last one it made).
//
// Which LMR link serves a group comes from the links themselves (addLmrLink: the daemon tells
// each LMR link's family and, for a p25-records link with `tgid`, the one talkgroup it serves):
// a group goes to the first link, in config order, that names the group; else to the first
// link of its family that names no group; else (and with no LMR link told)
// GroupInfo::lmr_link stays empty and the engine takes the first link of the family.
//
// What the keymap does not hold is left empty: which link serves a user (the engine
// then takes the first link of the family / the first MC link), the LMR address of a KMF
// (kmfByUri answers nothing, so MC -> LMR key-management messages are refused with
// "unknown_kmf"), and an LMR gateway unit for MC talkers without an LMR identity. DMR units and
// groups carry no network ID, so they are looked up in the first DMR system of the keymap.

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "gateway/engine/directory.hpp"
#include "keymap/snapshot.hpp"

namespace iwf::gateway::engine {

// An LMR link as group routing sees it (KeymapDirectory::addLmrLink).
struct LmrLinkRoute {
    std::string link;  // link name
    LmrFamily family = LmrFamily::P25;
    std::optional<Address> group;  // the one group it serves; nullopt = any of its family
};
using LmrLinkRoutes = std::vector<LmrLinkRoute>;

class KeymapSnapshotView final : public DirectorySnapshot {
  public:
    explicit KeymapSnapshotView(std::shared_ptr<const keymap::Snapshot> snap,
                                std::shared_ptr<const LmrLinkRoutes> routes = nullptr);

    std::uint64_t revision() const override { return snap_->revision(); }
    std::optional<GroupInfo> groupByLmr(const Address& lmr_group) const override;
    std::optional<GroupInfo> groupByMc(const McGroupId& mc_group) const override;
    std::optional<UserInfo> userByLmr(const Address& lmr_unit) const override;
    std::optional<UserInfo> userByMc(const McId& mc_id) const override;
    std::optional<KmfInfo> kmfByUri(const std::string& uri) const override;
    McId unknownTalker() const override { return snap_->unknownTalker(); }
    // The keymap snapshot this view answers from.
    const keymap::Snapshot* source() const { return snap_.get(); }

  private:
    std::optional<GroupInfo> convert(const keymap::GroupView* g) const;
    std::optional<UserInfo> convert(const keymap::UserView* u) const;
    void route(GroupInfo& g) const;

    std::shared_ptr<const keymap::Snapshot> snap_;
    std::shared_ptr<const LmrLinkRoutes> routes_;  // null: no LMR link told
    std::string dmr_system_;                       // first DMR system id, "" if none
    std::string analog_system_;  // the analogue system id (at most one), "" if none
};

class KeymapDirectory final : public Directory {
  public:
    using Provider = std::function<std::shared_ptr<const keymap::Snapshot>()>;
    explicit KeymapDirectory(Provider provider) : provider_(std::move(provider)) {}
    // An empty keymap (revision 0) when the provider has none yet. The same view object as
    // long as the provider returns the same snapshot (one per call would cost every call a
    // view of its own); callable from any thread (iwfd's engine shards share the directory).
    std::shared_ptr<const DirectorySnapshot> current() const override;
    // An LMR link in config order (the daemon, as it builds its links): views made from now on
    // route groups by it. Callable from any thread.
    void addLmrLink(LmrLinkRoute route);

  private:
    Provider provider_;
    mutable std::mutex mu_;
    mutable std::shared_ptr<const KeymapSnapshotView> last_;  // guarded by mu_
    std::shared_ptr<const LmrLinkRoutes> routes_;             // guarded by mu_
};

}  // namespace iwf::gateway::engine
