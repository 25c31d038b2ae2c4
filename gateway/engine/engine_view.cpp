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
        if (c->holder >= 0) {
            const Leg& h = c->leg(c->holder);
            j["talker"] = {
                {"id", toString(h.party.id)}, {"side", sideName(h.side)}, {"alias", h.party.alias}};
        }
        nlohmann::json legs = nlohmann::json::array();
        for (const Leg& l : c->legs) {
            if (!l.alive) {
                continue;
            }
            legs.push_back({{"link", links_[l.link].id.name},
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
