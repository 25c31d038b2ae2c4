// Short data and the key-management tunnel: identities mapped, payload bytes pass unchanged.
#include "gateway/engine/engine.hpp"
#include "gateway/engine/engine_detail.hpp"
#include "gateway/engine/policy.hpp"

namespace iwf::gateway::engine {

using namespace detail;

// ---------------------------------------------------------------------------------------------
// Short data and the key-management tunnel: payload bytes pass unchanged.

void Engine::onData(std::uint16_t link, DataMessage&& d) {
    auto snap = deps_.directory.current();
    Side side = links_[link].id.side;
    auto refuseData = [&](std::string_view reason) {
        countRefusal(link, reason,
                     refusalOf({}, isGroup(d.to) ? toString(d.to) : std::string(), toString(d.from),
                               toString(d.to), std::nullopt));
        dropEvent(link, reason);
        if (d.receipt) {
            d.receipt->outcome = DataReceipt::Outcome::Refused;
            d.receipt->reason = std::string(reason);
        }
    };
    int out = -1;
    DataMessage o;
    o.message_id = d.message_id;
    o.crypto = d.crypto;
    std::optional<GroupInfo> group;
    if (side == Side::Lmr) {
        if (isGroup(d.to)) {
            group = snap->groupByLmr(d.to);
            if (!group) {
                refuseData("unknown_group");
                return;
            }
            o.to = group->mc_group;
            out = linkByName(group->mc_link, Side::Mc, std::nullopt, Carries::Data);
        } else {
            auto u = snap->userByLmr(d.to);
            if (!u) {
                refuseData("unknown_callee");
                return;
            }
            o.to = u->mc_id;
            out = linkByName(u->mc_link, Side::Mc, std::nullopt, Carries::Data);
        }
        auto from = snap->userByLmr(d.from);
        o.from = from ? Address{from->mc_id} : Address{snap->unknownTalker()};
    } else {
        const auto* from_id = as<McId>(d.from);
        auto from = from_id ? snap->userByMc(*from_id) : std::nullopt;
        if (!from) {
            refuseData("unmapped_sender");
            return;
        }
        o.from = from->lmr_unit;
        if (const auto* g = as<McGroupId>(d.to)) {
            group = snap->groupByMc(*g);
            if (!group) {
                refuseData("unknown_group");
                return;
            }
            o.to = group->lmr_group;
            out = linkByName(group->lmr_link, Side::Lmr, group->family(), Carries::Data);
        } else if (const auto* u_id = as<McId>(d.to)) {
            auto u = snap->userByMc(*u_id);
            if (!u) {
                refuseData("unknown_callee");
                return;
            }
            o.to = u->lmr_unit;
            out = linkByName(u->lmr_link, Side::Lmr, familyOf(u->lmr_unit), Carries::Data);
        } else {
            refuseData("unknown_callee");
            return;
        }
    }
    if (group) {
        const CryptoSync state = d.crypto ? *d.crypto : CryptoSync::clear(group->family());
        PolicyVerdict v = checkGroupPolicy(*group, state);
        if (!v.allowed()) {
            // A message is one unit: it cannot wait for a later frame to state its key.
            refuseData(v.refused() ? v.reason : "e2ee_parameters_unknown");
            return;
        }
    }
    if (out < 0) {
        refuseData("no_link");
        return;
    }
    o.payload = std::move(d.payload);
    deps_.metrics
        .counter("iwf_engine_data_total", "Short data messages relayed, by direction",
                 {{"direction", side == Side::Lmr ? "lmr_to_mc" : "mc_to_lmr"}})
        .inc();
    const Status st = sendStatus(static_cast<std::uint16_t>(out), Event{std::move(o)});
    if (d.receipt) {
        d.receipt->outcome =
            st.ok() ? DataReceipt::Outcome::Sent : DataReceipt::Outcome::NotDelivered;
        d.receipt->reason = st.ok() ? std::string() : std::string(st.error().reason);
    }
}

void Engine::onSecurity(std::uint16_t link, SecurityMessage&& m) {
    auto snap = deps_.directory.current();
    Side side = links_[link].id.side;
    auto refuseKmm = [&](std::string_view reason) {
        countRefusal(link, reason,
                     refusalOf({}, {}, toString(m.from), toString(m.to), std::nullopt));
        dropEvent(link, reason);
    };
    SecurityMessage o;
    int out = -1;
    if (side == Side::Lmr) {
        // LMR KMF -> the LMR-aware MC client of the target unit (TS 23.283 10.12.2.3).
        auto u = snap->userByLmr(m.to);
        if (!u) {
            refuseKmm("unknown_callee");
            return;
        }
        o.to = u->mc_id;
        if (!u->kmf_uri.empty()) {
            o.from = McId{u->kmf_uri};
        } else if (auto f = snap->userByLmr(m.from)) {
            o.from = f->mc_id;
        } else {
            refuseKmm("no_kmf_uri");
            return;
        }
        out = linkByName(u->mc_link, Side::Mc, std::nullopt, Carries::Data);
    } else {
        // MC client -> the LMR KMF named by its URI (TS 23.283 10.12.2.2).
        const auto* from_id = as<McId>(m.from);
        auto from = from_id ? snap->userByMc(*from_id) : std::nullopt;
        if (!from) {
            refuseKmm("unmapped_sender");
            return;
        }
        const auto* to_id = as<McId>(m.to);
        auto kmf = to_id ? snap->kmfByUri(to_id->uri) : std::nullopt;
        if (!kmf) {
            refuseKmm("unknown_kmf");
            return;
        }
        o.from = from->lmr_unit;
        o.to = kmf->lmr_address;
        out = linkByName(kmf->lmr_link, Side::Lmr, familyOf(kmf->lmr_address), Carries::Data);
    }
    if (out < 0) {
        refuseKmm("no_link");
        return;
    }
    o.payload = std::move(m.payload);
    deps_.metrics
        .counter("iwf_engine_security_messages_total",
                 "Opaque key-management messages relayed, by direction",
                 {{"direction", side == Side::Lmr ? "lmr_to_mc" : "mc_to_lmr"}})
        .inc();
    send(static_cast<std::uint16_t>(out), Event{std::move(o)});
}

}  // namespace iwf::gateway::engine
