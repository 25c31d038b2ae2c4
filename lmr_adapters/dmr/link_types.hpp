#pragma once
// Registration of the DMR link types "dmr-hbp-master" and "dmr-hbp-peer".

#include "common/config_node.hpp"
#include "common/link_registry.hpp"
#include "lmr_adapters/dmr/hbp_link.hpp"

namespace iwf::lmr::dmr {

void registerDmrLinkTypes(iwf::LinkRegistry& reg);

// Config parsing (throws ConfigError naming file, line and field).
HbpMasterConfig parseMasterConfig(const ConfigNode& n);
HbpPeerConfig parsePeerConfig(const ConfigNode& n);

}  // namespace iwf::lmr::dmr
