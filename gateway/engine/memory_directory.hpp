#pragma once
// An in-memory Directory: the engine's tests and benchmarks use it, and iwfd can run on it
// before a keymap store is configured. publish() swaps the snapshot atomically; calls in
// progress keep the one they started with.

#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "gateway/engine/directory.hpp"

namespace iwf::gateway::engine {

struct DirectoryContent {
    std::vector<GroupInfo> groups;
    std::vector<UserInfo> users;
    std::vector<KmfInfo> kmfs;
    McId unknown_talker{"sip:lmr-unknown@iwf.localdomain"};
};

class MemorySnapshot final : public DirectorySnapshot {
  public:
    MemorySnapshot(std::uint64_t revision, DirectoryContent content);

    std::uint64_t revision() const override { return revision_; }
    std::optional<GroupInfo> groupByLmr(const Address& lmr_group) const override;
    std::optional<GroupInfo> groupByMc(const McGroupId& mc_group) const override;
    std::optional<UserInfo> userByLmr(const Address& lmr_unit) const override;
    std::optional<UserInfo> userByMc(const McId& mc_id) const override;
    std::optional<KmfInfo> kmfByUri(const std::string& uri) const override;
    McId unknownTalker() const override { return content_.unknown_talker; }

  private:
    std::uint64_t revision_;
    DirectoryContent content_;
    std::map<Address, std::size_t> group_by_lmr_;
    std::map<std::string, std::size_t> group_by_mc_;
    std::map<Address, std::size_t> user_by_lmr_;
    std::map<std::string, std::size_t> user_by_mc_;
    std::map<std::string, std::size_t> kmf_by_uri_;
};

class MemoryDirectory final : public Directory {
  public:
    explicit MemoryDirectory(DirectoryContent content = {});
    std::shared_ptr<const DirectorySnapshot> current() const override;
    // Publishes new content as the next revision; returns that revision.
    std::uint64_t publish(DirectoryContent content);

  private:
    mutable std::mutex mu_;
    std::shared_ptr<const DirectorySnapshot> current_;
    std::uint64_t revision_ = 1;
};

}  // namespace iwf::gateway::engine
