#include "mc_adapters/rtp/peer_socket.hpp"

namespace iwf::mc::rtp {

PeerSocket::PeerSocket(asio::io_context& io, metrics::Registry& metrics, std::string link)
    : udp_(io), metrics_(metrics), link_(std::move(link)) {}

void PeerSocket::drop(const DropAccount& account, const Udp::endpoint& from,
                      std::string_view reason) {
    const bool known =
        has_remote_ ? from == remote_ : (!latch_filter_ || latch_filter_(from.address()));
    metrics_
        .counter(account.metric, account.help,
                 {{"link", link_},
                  {"peer", known ? peer_label_ : std::string("other")},
                  {"reason", std::string(reason)}})
        .inc();
    std::uint64_t suppressed = 0;
    if (warn_limit_.allow(std::chrono::steady_clock::now(), suppressed)) {
        log::get(account.logger)
            ->warn("link={} peer={} {} datagram dropped reason={} suppressed={}", link_,
                   net::endpointName(from), account.what, reason, suppressed);
    }
}

}  // namespace iwf::mc::rtp
