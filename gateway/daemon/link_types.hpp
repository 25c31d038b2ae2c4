#pragma once
#include "common/link_registry.hpp"

namespace iwf::gateway {
// Every link type iwfd knows: one registration call per adapter family.
LinkRegistry allLinkTypes();
}  // namespace iwf::gateway
