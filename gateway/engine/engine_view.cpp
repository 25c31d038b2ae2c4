// The plain status view of the engine (GET /v1/calls, served by the daemon).
#include <algorithm>

#include "gateway/engine/engine.hpp"
#include "gateway/engine/engine_detail.hpp"

namespace iwf::gateway::engine {

using namespace detail;

// ---------------------------------------------------------------------------------------------
// Admin

nlohmann::json Engine::callsJson() const {
    nlohmann::json calls = nlohmann::json::array();
    std::vector<const Call*> sorted;
    for (const auto& [id, c] : calls_) {
        if (c->fsm.state() != CallState::Ended) {
            sorted.push_back(c.get());
        }
    }
    std::sort(sorted.begin(), sorted.end(),
              [](const Call* a, const Call* b) { return a->id < b->id; });
    for (const Call* c : sorted) {
        nlohmann::json j;
        j["id"] = c->name;
        j["kind"] = toString(c->kind);
        j["state"] = c->fsm.stateName();
        j["priority"] = toString(c->priority);
        j["revision"] = c->snap->revision();
        j["floor_arbiter"] = c->local_floor ? "iwf" : "mc";
        j["floor_state"] = c->local_floor ? c->fcs.stateName() : c->part.stateName();
        if (c->group) {
            j["group"] = c->group->mc_group.uri;
            j["lmr_group"] = toString(c->group->lmr_group);
            j["mode"] = toString(c->group->mode);
        }
        j["e2ee"] = !c->state_known ? "unknown" : (c->encrypted_marked ? "encrypted" : "clear");
        j["transmissions"] = c->transmissions;
        j["frames"] = c->frames;
        j["age_ms"] = (toNs(deps_.clock.now()) - c->started_ns) / 1'000'000;
        j["duration_s"] = static_cast<double>(toNs(deps_.clock.now()) - c->started_ns) / 1e9;
        const Leg* h = c->holder >= 0 ? &c->leg(c->holder) : nullptr;
        if (h != nullptr) {
            j["talker"] = {{"id", toString(h->party.id)},
                           {"side", sideName(h->side)},
                           {"alias", h->party.alias}};
        }
        std::uint64_t mi_resyncs = 0;
        nlohmann::json legs = nlohmann::json::array();
        for (const Leg& l : c->legs) {
            if (!l.alive) {
                continue;
            }
            mi_resyncs += l.mi_resyncs;
            // Who talks, as this leg's side names them: the floor holder's own identity on its
            // side, the mapped one (keymap) on the other.
            nlohmann::json talker = nullptr;
            if (h != nullptr) {
                const Talker t = l.side == h->side ? h->party
                                                   : (l.side == Side::Mc ? toMc(*c, h->party)
                                                                         : toLmr(*c, h->party));
                talker = {{"id", toString(t.id)}, {"alias", t.alias}};
            }
            // The E2EE state of the stream on this leg: the talker's stream as read from it
            // (forwarded bit-exact to the others). ALGID and key ID only: never key material,
            // and not the MI either (it changes every superframe).
            nlohmann::json e2ee = {{"state", "unknown"}};
            if (h != nullptr && h->policy == PolicyGate::Allowed) {
                const CryptoSync& cs = h->crypto;
                e2ee = {{"state", cs.encrypted ? "encrypted" : "clear"}};
                if (cs.encrypted) {
                    e2ee["algid"] = cs.algid;
                    e2ee["kid"] = cs.key_id;
                }
            } else if (c->state_known) {
                e2ee = {{"state", c->encrypted_marked ? "encrypted" : "clear"}};
            }
            legs.push_back({{"link", links_[l.link].id.name},
                            {"talker", talker},
                            {"e2ee", e2ee},
                            {"mi_resyncs", l.mi_resyncs},
                            {"ref", l.ref},
                            {"side", sideName(l.side)},
                            {"originated_by_iwf", l.engine_ref},
                            {"floor", floorGateName(static_cast<int>(l.floor))},
                            {"synced", l.synced},
                            {"late_entry", l.late},
                            {"late_entry_wait_frames", l.wait_frames},
                            {"frames_in", l.frames_in},
                            {"frames_out", l.frames_out},
                            {"frames_lost", l.lost}});
        }
        j["legs"] = legs;
        j["mi_resyncs"] = mi_resyncs;
        calls.push_back(j);
    }
    nlohmann::json out;
    out["calls"] = calls;
    out["latency"] = latency_.toJson();
    out["late_entries"] = late_entries_.value();
    out["late_entries_synced"] = late_synced_.value();
    out["events_in"] = events_in_;
    return out;
}

}  // namespace iwf::gateway::engine

namespace iwf::gateway::engine {

bool Engine::endCallById(std::string_view id, std::string_view detail) {
    for (auto& [num, c] : calls_) {
        if (c->name == id && c->fsm.state() != CallState::Ended) {
            endCall(*c, EndReason::Cancelled, detail);
            reapEnded();
            return true;
        }
    }
    return false;
}

}  // namespace iwf::gateway::engine
