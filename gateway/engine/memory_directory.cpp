#include "gateway/engine/memory_directory.hpp"

namespace iwf::gateway::engine {

std::string_view toString(E2eeMode m) {
    switch (m) {
        case E2eeMode::Clear:
            return "clear";
        case E2eeMode::Secure:
            return "secure";
        case E2eeMode::Mixed:
            return "mixed";
    }
    return "unknown";
}

MemorySnapshot::MemorySnapshot(std::uint64_t revision, DirectoryContent content)
    : revision_(revision), content_(std::move(content)) {
    for (std::size_t i = 0; i < content_.groups.size(); ++i) {
        group_by_lmr_[content_.groups[i].lmr_group] = i;
        group_by_mc_[content_.groups[i].mc_group.uri] = i;
    }
    for (std::size_t i = 0; i < content_.users.size(); ++i) {
        user_by_lmr_[content_.users[i].lmr_unit] = i;
        user_by_mc_[content_.users[i].mc_id.uri] = i;
    }
    for (std::size_t i = 0; i < content_.kmfs.size(); ++i) {
        kmf_by_uri_[content_.kmfs[i].uri] = i;
    }
}

std::optional<GroupInfo> MemorySnapshot::groupByLmr(const Address& lmr_group) const {
    auto it = group_by_lmr_.find(lmr_group);
    if (it == group_by_lmr_.end()) {
        return std::nullopt;
    }
    return content_.groups[it->second];
}

std::optional<GroupInfo> MemorySnapshot::groupByMc(const McGroupId& mc_group) const {
    auto it = group_by_mc_.find(mc_group.uri);
    if (it == group_by_mc_.end()) {
        return std::nullopt;
    }
    return content_.groups[it->second];
}

std::optional<UserInfo> MemorySnapshot::userByLmr(const Address& lmr_unit) const {
    auto it = user_by_lmr_.find(lmr_unit);
    if (it == user_by_lmr_.end()) {
        return std::nullopt;
    }
    return content_.users[it->second];
}

std::optional<UserInfo> MemorySnapshot::userByMc(const McId& mc_id) const {
    auto it = user_by_mc_.find(mc_id.uri);
    if (it == user_by_mc_.end()) {
        return std::nullopt;
    }
    return content_.users[it->second];
}

std::optional<KmfInfo> MemorySnapshot::kmfByUri(const std::string& uri) const {
    auto it = kmf_by_uri_.find(uri);
    if (it == kmf_by_uri_.end()) {
        return std::nullopt;
    }
    return content_.kmfs[it->second];
}

MemoryDirectory::MemoryDirectory(DirectoryContent content)
    : current_(std::make_shared<MemorySnapshot>(1, std::move(content))) {}

std::shared_ptr<const DirectorySnapshot> MemoryDirectory::current() const {
    std::lock_guard lock(mu_);
    return current_;
}

std::uint64_t MemoryDirectory::publish(DirectoryContent content) {
    std::lock_guard lock(mu_);
    ++revision_;
    current_ = std::make_shared<MemorySnapshot>(revision_, std::move(content));
    return revision_;
}

}  // namespace iwf::gateway::engine
