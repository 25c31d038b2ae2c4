#pragma once
// A capability some links have: peers hold sessions with them that an operator may drop
// (POST /v1/links/{id}/peers/{peer}/disconnect, docs/operating.md). The daemon asks a link for
// it with dynamic_cast; a link without peer sessions of its own does not implement it.

#include <string_view>

#include "common/result.hpp"

namespace iwf {

class PeerControl {
  public:
    virtual ~PeerControl() = default;
    // Drops the session of `peer` (the peer's ID as the link names it; DMR HBP: the repeater
    // ID in decimal): the peer is told as the protocol tells a peer its session is closed,
    // its calls end, and it must log in or link again. Called on the link's thread.
    // Error "no_such_peer" if no such peer has a session.
    virtual Status disconnectPeer(std::string_view peer) = 0;
};

}  // namespace iwf
