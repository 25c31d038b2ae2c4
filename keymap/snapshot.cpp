#include "keymap/snapshot.hpp"

#include <algorithm>

namespace iwf::keymap {

bool UserView::authorised(LmrFamily f, std::uint16_t algid, std::uint32_t key_id) const {
    if (!user->e2ee) {
        return false;
    }
    KeyRef need{f, algid, key_id};
    return std::find(user->authorised.begin(), user->authorised.end(), need) !=
           user->authorised.end();
}

bool GroupView::sameSecurity(const GroupView& o) const {
    if (mode() != o.mode() || family != o.family) {
        return false;
    }
    if (!e2ee()) {
        return true;
    }
    return codec == o.codec && crypto.algid == o.crypto.algid && crypto.key_id == o.crypto.key_id;
}

std::shared_ptr<const Snapshot> Snapshot::build(Keymap k, std::uint64_t revision) {
    std::shared_ptr<Snapshot> s(new Snapshot());
    s->revision_ = revision;
    s->keymap_ = std::move(k);
    const Keymap& km = s->keymap_;

    for (std::uint32_t i = 0; i < km.systems.size(); ++i) {
        const LmrSystem& sys = km.systems[i];
        s->system_by_id_.emplace(sys.id, i);
        switch (sys.family) {
            case LmrFamily::P25:
                s->p25_by_sysid_.emplace((sys.p25.wacn << 12) | sys.p25.system, i);
                break;
            case LmrFamily::Dmr:
                s->dmr_by_network_.emplace(sys.dmr_network, i);
                break;
            case LmrFamily::Tetra:
                s->tetra_by_mccmnc_.emplace(
                    (static_cast<std::uint32_t>(sys.tetra_mcc) << 14) | sys.tetra_mnc, i);
                break;
            case LmrFamily::Analog:
                break;
        }
    }

    s->users_.reserve(km.users.size());
    s->user_by_unit_.reserve(km.users.size());
    s->user_by_mcid_.reserve(km.users.size());
    for (const User& u : km.users) {
        std::int64_t si = s->systemIndex(u.system);
        if (si < 0) {
            continue;
        }
        auto idx = static_cast<std::uint32_t>(s->users_.size());
        s->users_.push_back(UserView{&u, &km.systems[static_cast<std::size_t>(si)]});
        s->user_by_unit_.emplace(lmrKey(static_cast<std::uint32_t>(si), u.unit), idx);
        s->user_by_mcid_.emplace(u.mc_id.uri, idx);
    }

    s->groups_.reserve(km.groups.size());
    s->group_by_lmr_.reserve(km.groups.size());
    s->group_by_mc_.reserve(km.groups.size());
    for (const Group& g : km.groups) {
        std::int64_t si = s->systemIndex(g.system);
        if (si < 0) {
            continue;
        }
        GroupView v;
        v.group = &g;
        v.system = &km.systems[static_cast<std::size_t>(si)];
        v.family = v.system->family;
        v.codec = effectiveCodec(g, v.family);
        if (g.mode == EncryptionMode::Clear) {
            v.crypto = CryptoSync::clear(v.family);
        } else {
            v.crypto = CryptoSync::encryptedWith(v.family, g.algid.value_or(clearAlgid(v.family)),
                                                 g.key_id.value_or(0));
        }
        v.members.reserve(g.members.size());
        for (const McId& m : g.members) {
            auto it = s->user_by_mcid_.find(m.uri);
            if (it != s->user_by_mcid_.end()) {
                v.members.push_back(s->users_[it->second]);
            }
        }
        auto idx = static_cast<std::uint32_t>(s->groups_.size());
        s->groups_.push_back(std::move(v));
        s->group_by_lmr_.emplace(lmrKey(static_cast<std::uint32_t>(si), g.tgid), idx);
        s->group_by_mc_.emplace(g.mc_group.uri, idx);
    }

    s->kmfs_.reserve(km.kmfs.size());
    for (const Kmf& f : km.kmfs) {
        std::int64_t si = s->systemIndex(f.system);
        if (si < 0) {
            continue;
        }
        auto idx = static_cast<std::uint32_t>(s->kmfs_.size());
        s->kmfs_.push_back(KmfView{&f, &km.systems[static_cast<std::size_t>(si)]});
        s->kmf_by_uri_.emplace(f.uri, idx);
    }

    for (const AdhocRule& r : km.adhoc_rules) {
        std::int64_t si = s->systemIndex(r.system);
        auto li = s->group_by_mc_.find(r.lender.uri);
        if (si < 0 || li == s->group_by_mc_.end()) {
            continue;
        }
        s->rules_.push_back(
            Rule{static_cast<std::uint32_t>(si), r.scope, r.first, r.last, li->second});
    }
    if (auto it = s->group_by_mc_.find(km.adhoc_default.uri); it != s->group_by_mc_.end()) {
        s->default_lender_ = it->second;
    }
    return s;
}

std::int64_t Snapshot::systemIndex(std::string_view id) const {
    auto it = system_by_id_.find(id);
    return it == system_by_id_.end() ? -1 : static_cast<std::int64_t>(it->second);
}

std::int64_t Snapshot::p25Index(const P25System& s) const {
    auto it = p25_by_sysid_.find((s.wacn << 12) | s.system);
    return it == p25_by_sysid_.end() ? -1 : static_cast<std::int64_t>(it->second);
}

std::int64_t Snapshot::tetraIndex(std::uint16_t mcc, std::uint16_t mnc) const {
    auto it = tetra_by_mccmnc_.find((static_cast<std::uint32_t>(mcc) << 14) | mnc);
    return it == tetra_by_mccmnc_.end() ? -1 : static_cast<std::int64_t>(it->second);
}

const LmrSystem* Snapshot::system(std::string_view id) const {
    std::int64_t i = systemIndex(id);
    return i < 0 ? nullptr : &keymap_.systems[static_cast<std::size_t>(i)];
}

const LmrSystem* Snapshot::p25System(const P25System& s) const {
    std::int64_t i = p25Index(s);
    return i < 0 ? nullptr : &keymap_.systems[static_cast<std::size_t>(i)];
}

const LmrSystem* Snapshot::dmrSystem(std::uint32_t network_id) const {
    auto it = dmr_by_network_.find(network_id);
    return it == dmr_by_network_.end() ? nullptr : &keymap_.systems[it->second];
}

const LmrSystem* Snapshot::tetraSystem(std::uint16_t mcc, std::uint16_t mnc) const {
    std::int64_t i = tetraIndex(mcc, mnc);
    return i < 0 ? nullptr : &keymap_.systems[static_cast<std::size_t>(i)];
}

namespace {

template <typename Map, typename Vec>
auto* findIn(const Map& m, const Vec& v, std::uint64_t key) {
    auto it = m.find(key);
    return it == m.end() ? nullptr : &v[it->second];
}

}  // namespace

const UserView* Snapshot::user(const P25Unit& u) const {
    std::int64_t si = p25Index(u.sys);
    if (si < 0) {
        return nullptr;
    }
    return findIn(user_by_unit_, users_, lmrKey(static_cast<std::uint32_t>(si), u.unit));
}

const UserView* Snapshot::user(std::string_view system_id, const DmrUnit& u) const {
    return userInSystem(system_id, u.id);
}

const UserView* Snapshot::user(const TetraSubscriber& s) const {
    std::int64_t si = tetraIndex(s.mcc, s.mnc);
    if (si < 0 || s.group) {
        return nullptr;
    }
    return findIn(user_by_unit_, users_, lmrKey(static_cast<std::uint32_t>(si), s.ssi));
}

const UserView* Snapshot::userInSystem(std::string_view system_id, std::uint32_t unit) const {
    std::int64_t si = systemIndex(system_id);
    if (si < 0) {
        return nullptr;
    }
    return findIn(user_by_unit_, users_, lmrKey(static_cast<std::uint32_t>(si), unit));
}

const UserView* Snapshot::userByMcId(std::string_view mc_id) const {
    auto it = user_by_mcid_.find(mc_id);
    return it == user_by_mcid_.end() ? nullptr : &users_[it->second];
}

const McId& Snapshot::talkerMcId(const P25Unit& u) const {
    const UserView* v = user(u);
    return v != nullptr ? v->mcId() : keymap_.unknown_talker;
}

const McId& Snapshot::talkerMcId(std::string_view system_id, const DmrUnit& u) const {
    const UserView* v = user(system_id, u);
    return v != nullptr ? v->mcId() : keymap_.unknown_talker;
}

const GroupView* Snapshot::group(const P25Group& g) const {
    std::int64_t si = p25Index(g.sys);
    if (si < 0) {
        return nullptr;
    }
    return findIn(group_by_lmr_, groups_, lmrKey(static_cast<std::uint32_t>(si), g.tgid));
}

const GroupView* Snapshot::group(std::string_view system_id, const DmrGroup& g) const {
    return groupInSystem(system_id, g.id);
}

const GroupView* Snapshot::group(const TetraSubscriber& gssi) const {
    std::int64_t si = tetraIndex(gssi.mcc, gssi.mnc);
    if (si < 0 || !gssi.group) {
        return nullptr;
    }
    return findIn(group_by_lmr_, groups_, lmrKey(static_cast<std::uint32_t>(si), gssi.ssi));
}

const GroupView* Snapshot::groupInSystem(std::string_view system_id, std::uint32_t tgid) const {
    std::int64_t si = systemIndex(system_id);
    if (si < 0) {
        return nullptr;
    }
    return findIn(group_by_lmr_, groups_, lmrKey(static_cast<std::uint32_t>(si), tgid));
}

const GroupView* Snapshot::groupByMc(std::string_view mc_group) const {
    auto it = group_by_mc_.find(mc_group);
    return it == group_by_mc_.end() ? nullptr : &groups_[it->second];
}

const KmfView* Snapshot::kmf(std::string_view uri) const {
    auto it = kmf_by_uri_.find(uri);
    return it == kmf_by_uri_.end() ? nullptr : &kmfs_[it->second];
}

const GroupView* Snapshot::lenderFor(std::uint32_t sys, AdhocScope scope, std::uint32_t id) const {
    for (const Rule& r : rules_) {
        if (r.system == sys && r.scope == scope && id >= r.first && id <= r.last) {
            return &groups_[r.lender];
        }
    }
    return default_lender_ < 0 ? nullptr : &groups_[static_cast<std::size_t>(default_lender_)];
}

Result<const GroupView*> Snapshot::adhocLender(std::string_view system_id,
                                               std::span<const std::uint32_t> talkgroups,
                                               std::span<const std::uint32_t> units) const {
    std::int64_t si = systemIndex(system_id);
    if (si < 0) {
        return Error{"adhoc_unknown_system"};
    }
    auto sys = static_cast<std::uint32_t>(si);
    const GroupView* chosen = nullptr;
    auto consider = [&](const GroupView* g) -> bool {
        if (chosen == nullptr) {
            chosen = g;
            return true;
        }
        return chosen->sameSecurity(*g);
    };
    std::int64_t n = 0;
    for (std::uint32_t tg : talkgroups) {
        const GroupView* l = lenderFor(sys, AdhocScope::Talkgroup, tg);
        if (l == nullptr) {
            return Error{"adhoc_no_rule", n};
        }
        if (!consider(l)) {
            return Error{"adhoc_mixed_e2ee", n};
        }
        // A patched talkgroup that is itself an interworking group brings its own settings.
        if (auto it = group_by_lmr_.find(lmrKey(sys, tg)); it != group_by_lmr_.end()) {
            if (!consider(&groups_[it->second])) {
                return Error{"adhoc_mixed_e2ee", n};
            }
        }
        ++n;
    }
    for (std::uint32_t u : units) {
        const GroupView* l = lenderFor(sys, AdhocScope::Unit, u);
        if (l == nullptr) {
            return Error{"adhoc_no_rule", n};
        }
        if (!consider(l)) {
            return Error{"adhoc_mixed_e2ee", n};
        }
        ++n;
    }
    if (chosen == nullptr) {
        if (default_lender_ < 0) {
            return Error{"adhoc_no_rule"};
        }
        chosen = &groups_[static_cast<std::size_t>(default_lender_)];
    }
    return chosen;
}

}  // namespace iwf::keymap
