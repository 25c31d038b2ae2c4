#include "gateway/daemon/link_types.hpp"

#include "lmr_adapters/analog/link_types.hpp"
#include "lmr_adapters/dmr/link_types.hpp"
#include "lmr_adapters/p25/link_types.hpp"
#include "mc_adapters/mcdata/mcdata_link.hpp"
#include "mc_adapters/mcptt/link_types.hpp"

// Adapter families register their link types here, one include and one call each.

namespace iwf::gateway {

LinkRegistry allLinkTypes() {
    LinkRegistry reg;
    iwf::lmr::p25::registerP25LinkTypes(reg);
    iwf::lmr::dmr::registerDmrLinkTypes(reg);
    iwf::lmr::analog::registerAnalogLinkTypes(reg);
    iwf::mc::mcptt::registerMcpttLinkTypes(reg);
    iwf::mc::registerMcDataLinkTypes(reg);
    return reg;
}

}  // namespace iwf::gateway
