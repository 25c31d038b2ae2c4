#pragma once
// Registration hook of the MCPTT IWF-1 link type ("mcptt-iwf1") for the daemon.

#include "common/link_registry.hpp"

namespace iwf::mc::mcptt {
void registerMcpttLinkTypes(iwf::LinkRegistry& registry);
}  // namespace iwf::mc::mcptt
