#include "gateway/daemon/link_types.hpp"

// Adapter families register their link types here, one include and one call each.

namespace iwf::gateway {

LinkRegistry allLinkTypes() {
    LinkRegistry reg;
    return reg;
}

}  // namespace iwf::gateway
