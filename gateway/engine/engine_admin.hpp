#pragma once
// The engine's admin API route: GET /v1/calls (calls, legs, floor and E2EE state, late-entry
// waits, per-frame added latency histogram). The daemon installs it with one call:
//   engine::installEngineRoutes(admin_, *engine_);

#include "gateway/admin/admin_server.hpp"
#include "gateway/engine/engine.hpp"

namespace iwf::gateway::engine {

// The /v1/calls response (application/json). Runs on the engine's executor.
HttpResponse callsResponse(const Engine& engine);

void installEngineRoutes(AdminServer& admin, const Engine& engine);

}  // namespace iwf::gateway::engine
