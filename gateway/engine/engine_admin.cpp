#include "gateway/engine/engine_admin.hpp"

namespace iwf::gateway::engine {

HttpResponse callsResponse(const Engine& engine) {
    return HttpResponse{200, "application/json", engine.callsJson().dump(2) + "\n"};
}

void installEngineRoutes(AdminServer& admin, const Engine& engine) {
    admin.route("/v1/calls", [&engine] { return callsResponse(engine); });
}

}  // namespace iwf::gateway::engine
