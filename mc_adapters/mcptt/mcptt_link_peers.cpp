// The mcptt-iwf1 link's peer checks (issue #21, docs/security.md "MC links"): which sources
// may send SIP at all, which calls a peer may start (identity domain, caps), where a call's
// media may go, and the ACK / in-dialog binding of a call to its peer.
#include <algorithm>

#include "mc_adapters/mcptt/mcptt_call.hpp"
#include "mc_adapters/mcptt/mcptt_link.hpp"

namespace iwf::mc::mcptt {

using peers::Refusal;

LinkView McpttLink::view() const {
    LinkView v;
    std::uint16_t port = 0;
    if (stack_ && !cfg_.listen.empty()) {
        port = stack_->port(cfg_.listen.front().protocol);
    }
    v.state = port != 0 ? "running" : "stopped";
    if (port != 0) {
        v.local = cfg_.listen.front().address + ":" + std::to_string(port);
    }
    v.peers = seen_.views(peers_, clock_.now());
    return v;
}

bool McpttLink::admitSource(const sip::Peer& from) {
    Refusal why = Refusal::NotAPeer;
    if (int peer = peers_.match(from, &why); peer >= 0) {
        seen_.heard(peer, clock_.now());
        return true;
    }
    // Dropped by the stack before parsing: no answer (nothing to reflect or amplify toward a
    // forged source), counted and logged once per source per interval.
    refusals_.refused(from, why, "SIP message dropped");
    return false;
}

void McpttLink::refuse(sip::ServerTxId tx, const sip::Message& req, const sip::Peer& from,
                       Refusal why, int status, std::string_view detail) {
    refusals_.refused(from, why, detail);
    sip::Message rsp = sip::makeResponse(req, status, {}, stack_->newTag());
    // The Warning names the check, never text from the request.
    rsp.addHeader("Warning", "399 " + stack_->host() + " \"" + std::string(toString(why)) + "\"");
    (void)stack_->respond(tx, std::move(rsp));
}

bool McpttLink::admitCall(int peer, sip::ServerTxId tx, const sip::Message& req,
                          const sip::Peer& from) {
    const auto p = static_cast<std::size_t>(peer);
    if (calls_.size() >= cfg_.limits.max_calls) {
        refuse(tx, req, from, Refusal::CallCap, 503, "link at max_calls");
        return false;
    }
    if (calls_per_peer_[p] >= cfg_.limits.max_calls_per_peer) {
        refuse(tx, req, from, Refusal::PeerCallCap, 486, "peer at max_calls_per_peer");
        return false;
    }
    if (setups_per_peer_[p] >= cfg_.limits.max_setups_per_peer) {
        refuse(tx, req, from, Refusal::SetupCap, 503, "peer at max_setups_per_peer");
        return false;
    }
    return true;
}

asio::ip::address McpttLink::mediaAddress(const McpttMedia& remote, const asio::ip::address& sig) {
    boost::system::error_code ec;
    asio::ip::address addr = asio::ip::make_address(remote.address, ec);
    if (ec || addr.is_unspecified()) {
        return sig;  // no usable c= address: the peer's signalling address
    }
    return addr;
}

bool McpttLink::admitMedia(int peer, const McpttMedia& remote, const asio::ip::address& sig) {
    return peers_.mediaAllowed(peer, mediaAddress(remote, sig));
}

void McpttLink::countSetup(Call& call, bool on) {
    if (call.peer < 0 || call.setup_counted == on) {
        return;
    }
    call.setup_counted = on;
    auto& n = setups_per_peer_[static_cast<std::size_t>(call.peer)];
    n = on ? n + 1 : n - 1;
}

void McpttLink::onAck(const sip::Message& ack, const sip::Peer& from) {
    auto it = by_dialog_.find(sip::Dialog::idOfIncoming(ack));
    if (it == by_dialog_.end()) {
        return;
    }
    auto c = calls_.find(it->second);
    if (c == calls_.end()) {
        return;
    }
    if (peers_.match(from) != c->second->peer) {
        refusals_.refused(from, Refusal::WrongPeer, "ACK for another peer's call");
        return;
    }
    c->second->established = true;
    countSetup(*c->second, false);
}

}  // namespace iwf::mc::mcptt
