#include "gateway/engine/keymap_directory.hpp"

namespace iwf::gateway::engine {

namespace {
// A unit's LMR address in its system (users and KMFs); empty for analogue systems.
Address unitAddress(const keymap::LmrSystem& sys, std::uint32_t unit) {
    switch (sys.family) {
        case LmrFamily::P25:
            return P25Unit{sys.p25, unit};
        case LmrFamily::Dmr:
            return DmrUnit{unit};
        case LmrFamily::Tetra:
            return TetraSubscriber{sys.tetra_mcc, sys.tetra_mnc, unit, false};
        case LmrFamily::Analog:
            break;
    }
    return std::monostate{};
}
}  // namespace

KeymapSnapshotView::KeymapSnapshotView(std::shared_ptr<const keymap::Snapshot> snap,
                                       std::shared_ptr<const LmrLinkRoutes> routes)
    : snap_(std::move(snap)), routes_(std::move(routes)) {
    for (const auto& s : snap_->keymap().systems) {
        if (s.family == LmrFamily::Dmr && dmr_system_.empty()) {
            dmr_system_ = s.id;
        }
        if (s.family == LmrFamily::Analog && analog_system_.empty()) {
            analog_system_ = s.id;
        }
    }
}

std::optional<GroupInfo> KeymapSnapshotView::convert(const keymap::GroupView* g) const {
    if (!g || !g->group || !g->system) {
        return std::nullopt;
    }
    GroupInfo out;
    out.mc_group = g->mcGroup();
    switch (g->family) {
        case LmrFamily::P25:
            out.lmr_group = P25Group{g->system->p25, static_cast<std::uint16_t>(g->tgid())};
            break;
        case LmrFamily::Dmr:
            out.lmr_group = DmrGroup{g->tgid()};
            break;
        case LmrFamily::Tetra:
            out.lmr_group =
                TetraSubscriber{g->system->tetra_mcc, g->system->tetra_mnc, g->tgid(), true};
            break;
        case LmrFamily::Analog:
            out.lmr_group = AnalogGroup{g->tgid()};
            break;
    }
    out.home = g->home() == keymap::HomeSide::Lmr ? Side::Lmr : Side::Mc;
    switch (g->mode()) {
        case keymap::EncryptionMode::Clear:
            out.mode = E2eeMode::Clear;
            break;
        case keymap::EncryptionMode::Secure:
            out.mode = E2eeMode::Secure;
            break;
        case keymap::EncryptionMode::Mixed:
            out.mode = E2eeMode::Mixed;
            break;
    }
    out.crypto = g->crypto;  // the keymap's view states family, ALGID and key ID the same way
    out.codec = g->codec;
    if (g->family == LmrFamily::Analog) {
        // The analogue link transcodes its PCM: what crosses the engine is AMR-WB.
        out.codec = VoiceCodec::AmrWb;
    }
    route(out);
    return out;
}

void KeymapSnapshotView::route(GroupInfo& g) const {
    if (!routes_) {
        return;
    }
    const LmrLinkRoute* any = nullptr;
    for (const LmrLinkRoute& r : *routes_) {
        if (r.family != g.family()) {
            continue;
        }
        if (r.group && *r.group == g.lmr_group) {
            g.lmr_link = r.link;  // the first link naming the group (config order)
            return;
        }
        if (!r.group && any == nullptr) {
            any = &r;
        }
    }
    if (any != nullptr) {
        g.lmr_link = any->link;
    }
    // Else empty: the engine's first link of the family, as before routes existed (a link's
    // `tgid` is also only the callee of protected-LC streams, and a records link takes any
    // talkgroup in: configs relying on that keep working).
}

std::optional<UserInfo> KeymapSnapshotView::convert(const keymap::UserView* u) const {
    if (!u || !u->user || !u->system) {
        return std::nullopt;
    }
    UserInfo out;
    out.mc_id = u->mcId();
    out.kmf_uri = u->kmfUri();
    out.e2ee_allowed = u->mayUseE2ee();
    out.lmr_unit = unitAddress(*u->system, u->user->unit);
    return out;
}

std::optional<GroupInfo> KeymapSnapshotView::groupByLmr(const Address& a) const {
    if (const auto* p = std::get_if<P25Group>(&a)) {
        return convert(snap_->group(*p));
    }
    if (const auto* d = std::get_if<DmrGroup>(&a)) {
        return dmr_system_.empty() ? std::nullopt : convert(snap_->group(dmr_system_, *d));
    }
    if (const auto* t = std::get_if<TetraSubscriber>(&a)) {
        return convert(snap_->group(*t));
    }
    if (const auto* an = std::get_if<AnalogGroup>(&a)) {
        return analog_system_.empty()
                   ? std::nullopt
                   : convert(snap_->groupInSystem(analog_system_, an->talkgroup));
    }
    return std::nullopt;
}

std::optional<GroupInfo> KeymapSnapshotView::groupByMc(const McGroupId& g) const {
    return convert(snap_->groupByMc(g.uri));
}

std::optional<UserInfo> KeymapSnapshotView::userByLmr(const Address& a) const {
    if (const auto* p = std::get_if<P25Unit>(&a)) {
        return convert(snap_->user(*p));
    }
    if (const auto* d = std::get_if<DmrUnit>(&a)) {
        return dmr_system_.empty() ? std::nullopt : convert(snap_->user(dmr_system_, *d));
    }
    if (const auto* t = std::get_if<TetraSubscriber>(&a)) {
        return convert(snap_->user(*t));
    }
    return std::nullopt;
}

std::optional<UserInfo> KeymapSnapshotView::userByMc(const McId& id) const {
    return convert(snap_->userByMcId(id.uri));
}

std::optional<KmfInfo> KeymapSnapshotView::kmfByUri(const std::string& uri) const {
    const keymap::KmfView* k = snap_->kmf(uri);
    if (k == nullptr || k->kmf == nullptr || k->system == nullptr) {
        return std::nullopt;
    }
    KmfInfo out;
    out.uri = k->kmf->uri;
    out.lmr_address = unitAddress(*k->system, k->kmf->unit);
    if (std::holds_alternative<std::monostate>(out.lmr_address)) {
        return std::nullopt;
    }
    return out;
}

std::shared_ptr<const DirectorySnapshot> KeymapDirectory::current() const {
    auto snap = provider_ ? provider_() : nullptr;
    if (!snap) {
        snap = keymap::Snapshot::build(keymap::Keymap{}, 0);
    }
    std::lock_guard lock(mu_);
    if (!last_ || last_->source() != snap.get()) {
        // The previous view lives on in the calls that hold it; the cache lets it go.
        last_ = std::make_shared<KeymapSnapshotView>(std::move(snap), routes_);
    }
    return last_;
}

void KeymapDirectory::addLmrLink(LmrLinkRoute route) {
    std::lock_guard lock(mu_);
    auto next =
        routes_ ? std::make_shared<LmrLinkRoutes>(*routes_) : std::make_shared<LmrLinkRoutes>();
    next->push_back(std::move(route));
    routes_ = std::move(next);
    last_.reset();  // the next call takes a view with the new routes
}

}  // namespace iwf::gateway::engine
