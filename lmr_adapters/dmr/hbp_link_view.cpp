// The operator's view of the HBP links (Link::view(): GET /v1/links, /v1/peers; docs/
// operations.md): logged-in repeaters and logins in progress of a master, the master of a peer
// link. Called on the link's thread, like everything else of the link.
#include <fmt/format.h>

#include "lmr_adapters/dmr/hbp_link.hpp"

namespace iwf::lmr::dmr {

namespace {
std::string endpointText(const asio::ip::udp::endpoint& ep) {
    return fmt::format("{}:{}", ep.address().to_string(), ep.port());
}
}  // namespace

LinkView HbpMasterLink::view() const {
    LinkView v;
    const std::uint16_t port = localPort();
    v.state = port != 0 ? "running" : "stopped";
    v.local = port != 0 ? fmt::format("{}:{}", cfg_.address, port) : std::string();
    const auto now = clock_.now();
    for (const auto& [id, p] : peers_) {
        PeerView pv;
        pv.id = std::to_string(id);
        pv.address = endpointText(p.ep);
        pv.state = "logged_in";
        pv.last_seen_s = std::chrono::duration<double>(now - p.last_heard).count();
        v.peers.push_back(std::move(pv));
    }
    for (const auto& [ep, p] : pending_) {
        PeerView pv;
        pv.id = std::to_string(p.id);
        pv.address = endpointText(ep);
        pv.state = "login";
        pv.last_seen_s = std::chrono::duration<double>(now - p.started).count();
        v.peers.push_back(std::move(pv));
    }
    return v;
}

LinkView HbpPeerLink::view() const {
    LinkView v;
    const std::uint16_t port = localPort();
    switch (state_) {
        case State::Idle:
            v.state = port != 0 ? "connecting" : "stopped";
            break;
        case State::Running:
            v.state = "logged_in";
            break;
        default:
            v.state = "connecting";
            break;
    }
    v.local = port != 0 ? fmt::format("{}:{}", cfg_.address, port) : std::string();
    PeerView pv;
    pv.id = "master";
    pv.address = fmt::format("{}:{}", cfg_.master_address, cfg_.master_port);
    pv.state = v.state == "stopped" ? "stopped" : v.state;
    if (state_ == State::Running) {
        pv.last_seen_s = std::chrono::duration<double>(clock_.now() - last_pong_).count();
    }
    v.peers.push_back(std::move(pv));
    return v;
}

}  // namespace iwf::lmr::dmr
