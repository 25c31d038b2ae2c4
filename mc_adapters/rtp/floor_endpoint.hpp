#pragma once
// The floor control endpoint of one call: sends and receives TS 24.380 floor messages
// (MCPT RTCP APP packets) on the call's RTCP socket. Received datagrams may be compound
// RTCP; non-MCPT packets in them (SR/RR/SDES/BYE, other APP names) are counted and ignored.
//
// Every dropped datagram is counted in iwf_mc_floor_dropped_total{link, peer, reason} and
// warned about through a rate limiter. Until setRemote() is called the endpoint latches onto
// the first peer that sends a valid floor message; after that datagrams from other peers are
// dropped ("unknown_peer").

#include <functional>
#include <string>

#include "common/metrics.hpp"
#include "mc_adapters/floor/floor_message.hpp"
#include "mc_adapters/rtp/peer_socket.hpp"
#include "mc_adapters/rtp/srtp_guard.hpp"

namespace iwf::mc::rtp {

class FloorEndpoint {
  public:
    using Handler = std::function<void(const floor::FloorMessage& m, const Udp::endpoint& from)>;

    FloorEndpoint(asio::io_context& io, metrics::Registry& metrics, std::string link);

    Status open(const Udp::endpoint& local);
    void close();
    Udp::endpoint localEndpoint() const { return peer_.localEndpoint(); }
    void setRemote(const Udp::endpoint& remote) { peer_.setRemote(remote); }
    // The socket's peer accounting: its drop label and latch filter (peer_socket.hpp).
    PeerSocket& peerSocket() { return peer_; }
    bool hasRemote() const { return peer_.hasRemote(); }
    Udp::endpoint remote() const { return peer_.remote(); }
    void onMessage(Handler h) { handler_ = std::move(h); }
    // TS 33.180 SRTCP of the call's floor control (srtp_guard.hpp); off unless the owner sets
    // it. A refused datagram is counted in iwf_mc_floor_dropped_total with the guard's reason.
    SrtpGuard& protection() { return srtp_; }

    // Encodes and sends one floor message to the remote ("no_remote" if none is known).
    Status send(const floor::FloorMessage& m);
    // Sends several messages in one datagram (24.380 8.1.1 allows this; not compound RTCP).
    Status sendBatch(const std::vector<floor::FloorMessage>& ms);

  private:
    void onDatagram(ByteView data, const Udp::endpoint& from);

    PeerSocket peer_;
    Handler handler_;
    SrtpGuard srtp_{SrtpGuard::Kind::Rtcp};
    metrics::Counter& rx_;
    metrics::Counter& tx_;
    metrics::Counter& ignored_;
};

}  // namespace iwf::mc::rtp
