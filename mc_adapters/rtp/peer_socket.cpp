#include "mc_adapters/rtp/peer_socket.hpp"

namespace iwf::mc::rtp {

std::string peerLabel(const Udp::endpoint& ep) {
    return ep.address().to_string() + ":" + std::to_string(ep.port());
}

PeerSocket::PeerSocket(asio::io_context& io, metrics::Registry& metrics, std::string link)
    : udp_(io), metrics_(metrics), link_(std::move(link)) {}

void PeerSocket::drop(const DropAccount& account, const Udp::endpoint& from,
                      std::string_view reason) {
    metrics_
        .counter(account.metric, account.help,
                 {{"link", link_}, {"peer", peerLabel(from)}, {"reason", std::string(reason)}})
        .inc();
    std::uint64_t suppressed = 0;
    if (warn_limit_.allow(std::chrono::steady_clock::now(), suppressed)) {
        log::get(account.logger)
            ->warn("link={} peer={} {} datagram dropped reason={} suppressed={}", link_,
                   peerLabel(from), account.what, reason, suppressed);
    }
}

}  // namespace iwf::mc::rtp
