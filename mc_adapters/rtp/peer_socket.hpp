#pragma once
// What the floor endpoint and the voice endpoint of a call share: the UDP socket
// (UdpEndpoint), the call's remote peer (set by setRemote(), or latched by the endpoint from
// the first valid datagram), the checks every received datagram passes first, and the
// accounting of dropped datagrams (a counter {link, peer, reason} and a rate-limited warning).
//
// The `peer` label is a bounded set, never the datagram's source: the label the owner gives
// (setPeerLabel(), the configured MC peer's name; "peer" by default) for a datagram from the
// remote (or, before one is known, from a source the latch filter admits), "other" for any
// other source (issue #21: labels from source addresses grew without bound). The warning names
// the real source. Before a remote is known, setLatchFilter() restricts which sources may be
// latched onto (an MC link passes its peer's media realm): any other source is dropped as
// "not_a_peer".
//
// Each endpoint holds one PeerSocket as a member and calls it directly: no virtual call and
// no allocation per datagram, and it holds exactly the members each endpoint held itself
// before (the names of the drop counter and log come from a static DropAccount passed by the
// caller, not from a member).

#include <functional>
#include <string>
#include <string_view>

#include "common/log.hpp"
#include "common/metrics.hpp"
#include "common/udp_socket.hpp"
#include "mc_adapters/rtp/udp_endpoint.hpp"

namespace iwf::mc::rtp {

// Where an endpoint kind counts and reports its dropped datagrams (one static per kind).
struct DropAccount {
    std::string_view metric;  // counter name, labels {link, peer, reason}
    std::string_view help;
    std::string_view logger;  // log::get() channel
    std::string_view what;    // "<what> datagram dropped" in the warning
};

class PeerSocket {
  public:
    PeerSocket(asio::io_context& io, metrics::Registry& metrics, std::string link);

    // Binds `local` (port 0 = any) and hands every datagram to `handler`.
    Status open(const Udp::endpoint& local, UdpEndpoint::Handler handler) {
        return udp_.open(local, std::move(handler));
    }
    void close() { udp_.close(); }
    Udp::endpoint localEndpoint() const { return udp_.localEndpoint(); }
    const std::string& link() const { return link_; }

    void setRemote(const Udp::endpoint& remote) {
        remote_ = remote;
        has_remote_ = true;
    }
    bool hasRemote() const { return has_remote_; }
    void setPeerLabel(std::string label) { peer_label_ = std::move(label); }
    // Only sources for which `f` is true may be latched onto (and pass admit()) while no
    // remote is known. Without a filter, any source may.
    void setLatchFilter(std::function<bool(const asio::ip::address&)> f) {
        latch_filter_ = std::move(f);
    }
    const Udp::endpoint& remote() const { return remote_; }
    // Sends one datagram to the remote; the caller checks hasRemote() first.
    Status sendToRemote(ByteView data) { return udp_.sendTo(data, remote_); }

    // The first checks of a received datagram: no larger than UdpEndpoint::kMaxDatagram
    // ("oversize"), and from the remote once one is known ("unknown_peer"). Returns false
    // when the datagram was dropped (and counted).
    bool admit(const DropAccount& account, ByteView data, const Udp::endpoint& from) {
        if (data.size() > UdpEndpoint::kMaxDatagram) {
            drop(account, from, "oversize");
            return false;
        }
        if (has_remote_ && from != remote_) {
            drop(account, from, "unknown_peer");
            return false;
        }
        if (!has_remote_ && latch_filter_ && !latch_filter_(from.address())) {
            drop(account, from, "not_a_peer");
            return false;
        }
        return true;
    }
    // Counts one dropped datagram in account.metric{link, peer, reason} and warns
    // "link=.. peer=.. <what> datagram dropped reason=.. suppressed=.." when the rate
    // limiter allows.
    void drop(const DropAccount& account, const Udp::endpoint& from, std::string_view reason);

  private:
    UdpEndpoint udp_;
    metrics::Registry& metrics_;
    std::string link_;
    Udp::endpoint remote_;
    bool has_remote_ = false;
    std::string peer_label_ = "peer";
    std::function<bool(const asio::ip::address&)> latch_filter_;
    log::RateLimiter warn_limit_;
};

}  // namespace iwf::mc::rtp
