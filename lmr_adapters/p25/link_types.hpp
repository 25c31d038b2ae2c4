#pragma once
// Registers the P25 link types with the daemon's registry:
//   "p25-records"  reflector-style endpoint for MMDVM / P25Gateway / P25Reflector peers
//   "p25-issi"     ISSI endpoint: iwfd as a peer RFSS (group call home role)

#include "common/link_registry.hpp"

namespace iwf::lmr::p25 {

void registerP25LinkTypes(iwf::LinkRegistry& registry);

}  // namespace iwf::lmr::p25
