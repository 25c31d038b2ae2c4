#include "mc_adapters/rtp/floor_endpoint.hpp"

namespace iwf::mc::rtp {

std::string peerLabel(const Udp::endpoint& ep) {
    return ep.address().to_string() + ":" + std::to_string(ep.port());
}

FloorEndpoint::FloorEndpoint(asio::io_context& io, metrics::Registry& metrics, std::string link)
    : udp_(io)
    , metrics_(metrics)
    , link_(std::move(link))
    , rx_(metrics.counter("iwf_mc_floor_rx_total", "Floor control messages received",
                          {{"link", link_}}))
    , tx_(metrics.counter("iwf_mc_floor_tx_total", "Floor control messages sent",
                          {{"link", link_}}))
    , ignored_(metrics.counter("iwf_mc_floor_ignored_rtcp_total",
                               "RTCP packets on the floor port that were not MCPT APP packets",
                               {{"link", link_}})) {}

Status FloorEndpoint::open(const Udp::endpoint& local) {
    return udp_.open(local,
                     [this](ByteView data, const Udp::endpoint& from) { onDatagram(data, from); });
}

void FloorEndpoint::close() {
    udp_.close();
}

void FloorEndpoint::setRemote(const Udp::endpoint& remote) {
    remote_ = remote;
    has_remote_ = true;
}

Status FloorEndpoint::send(const floor::FloorMessage& m) {
    return sendBatch({m});
}

Status FloorEndpoint::sendBatch(const std::vector<floor::FloorMessage>& ms) {
    if (!has_remote_) {
        return Error{"no_remote"};
    }
    thread_local Bytes tx_buf;  // per thread, not per call (idle-call memory)
    tx_buf.clear();
    for (const auto& m : ms) {
        IWF_TRY_STATUS(floor::encode(m, tx_buf));
    }
    IWF_TRY_STATUS(udp_.sendTo(tx_buf, remote_));
    tx_.inc(ms.size());
    return {};
}

void FloorEndpoint::drop(const Udp::endpoint& from, std::string_view reason) {
    metrics_
        .counter("iwf_mc_floor_dropped_total", "Floor control datagrams dropped, by reason",
                 {{"link", link_}, {"peer", peerLabel(from)}, {"reason", std::string(reason)}})
        .inc();
    std::uint64_t suppressed = 0;
    if (warn_limit_.allow(std::chrono::steady_clock::now(), suppressed)) {
        log::get("floor")->warn("link={} peer={} floor datagram dropped reason={} suppressed={}",
                                link_, peerLabel(from), reason, suppressed);
    }
}

void FloorEndpoint::onDatagram(ByteView data, const Udp::endpoint& from) {
    if (data.size() > UdpEndpoint::kMaxDatagram) {
        drop(from, "oversize");
        return;
    }
    if (has_remote_ && from != remote_) {
        drop(from, "unknown_peer");
        return;
    }
    std::size_t others = 0;
    auto msgs = floor::decodeDatagram(data, &others);
    if (!msgs) {
        drop(from, msgs.error().reason);
        return;
    }
    ignored_.inc(others);
    if (msgs->empty()) {
        return;
    }
    if (!has_remote_) {
        setRemote(from);
    }
    for (const auto& m : *msgs) {
        rx_.inc();
        if (handler_) {
            handler_(m, from);
        }
    }
}

}  // namespace iwf::mc::rtp
