#include "mc_adapters/rtp/floor_endpoint.hpp"

namespace iwf::mc::rtp {

namespace {

constexpr DropAccount kDrops{"iwf_mc_floor_dropped_total",
                             "Floor control datagrams dropped, by reason", "floor", "floor"};

}  // namespace

FloorEndpoint::FloorEndpoint(asio::io_context& io, metrics::Registry& metrics, std::string link)
    : peer_(io, metrics, std::move(link))
    , rx_(metrics.counter("iwf_mc_floor_rx_total", "Floor control messages received",
                          {{"link", peer_.link()}}))
    , tx_(metrics.counter("iwf_mc_floor_tx_total", "Floor control messages sent",
                          {{"link", peer_.link()}}))
    , ignored_(metrics.counter("iwf_mc_floor_ignored_rtcp_total",
                               "RTCP packets on the floor port that were not MCPT APP packets",
                               {{"link", peer_.link()}})) {}

Status FloorEndpoint::open(const Udp::endpoint& local) {
    return peer_.open(local,
                      [this](ByteView data, const Udp::endpoint& from) { onDatagram(data, from); });
}

void FloorEndpoint::close() {
    peer_.close();
}

Status FloorEndpoint::send(const floor::FloorMessage& m) {
    return sendBatch({m});
}

Status FloorEndpoint::sendBatch(const std::vector<floor::FloorMessage>& ms) {
    if (!peer_.hasRemote()) {
        return Error{"no_remote"};
    }
    thread_local Bytes tx_buf;  // per thread, not per call (idle-call memory)
    tx_buf.clear();
    for (const auto& m : ms) {
        IWF_TRY_STATUS(floor::encode(m, tx_buf));
    }
    IWF_TRY_STATUS(srtp_.protect(tx_buf));
    IWF_TRY_STATUS(peer_.sendToRemote(tx_buf));
    tx_.inc(ms.size());
    return {};
}

void FloorEndpoint::onDatagram(ByteView data, const Udp::endpoint& from) {
    if (!peer_.admit(kDrops, data, from)) {
        return;
    }
    if (srtp_.active()) {
        auto clear = srtp_.unprotect(data);
        if (!clear) {
            peer_.drop(kDrops, from, clear.error().reason);
            return;
        }
        data = *clear;
    }
    std::size_t others = 0;
    auto msgs = floor::decodeDatagram(data, &others);
    if (!msgs) {
        peer_.drop(kDrops, from, msgs.error().reason);
        return;
    }
    ignored_.inc(others);
    if (msgs->empty()) {
        return;
    }
    if (!peer_.hasRemote()) {
        peer_.setRemote(from);
    }
    for (const auto& m : *msgs) {
        rx_.inc();
        if (handler_) {
            handler_(m, from);
        }
    }
}

}  // namespace iwf::mc::rtp
