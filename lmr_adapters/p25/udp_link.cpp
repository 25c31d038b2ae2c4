#include "lmr_adapters/p25/udp_link.hpp"

namespace iwf::lmr::p25 {

UdpLink::UdpLink(const std::string& name, asio::io_context& io, metrics::Registry& metrics,
                 const Clock& clock, std::size_t batch, std::size_t max_datagram,
                 const std::string& socket_name, unsigned worker)
    : id_{Side::Lmr, name}
    , io_(io)
    , metrics_(metrics)
    , clock_(clock)
    , socket_(io)
    , timer_(io)
    , receiver_(socket_, batch, max_datagram)
    , drops_(metrics, name, log::get("p25"))
    , socket_stats_(metrics, name, socket_name, worker)
    , log_(log::get("p25")) {}

Status UdpLink::bindSocket(const std::string& address, std::uint16_t port,
                           const net::BindOptions& opts, int receive_buffer) {
    std::string why;
    if (Status st = net::bind(socket_, address, port, opts, &why); !st) {
        log_->error("link={} bind={}:{} error=\"{}\"", id_.name, address, port, why);
        return st;
    }
    const int granted = net::SocketStats::setReceiveBuffer(socket_, receive_buffer);
    if (receive_buffer > 0 && granted / 2 < receive_buffer) {
        log_->warn(
            "link={} receive_buffer={} granted={} (the kernel caps SO_RCVBUF at "
            "net.core.rmem_max; raise it to get the configured size)",
            id_.name, receive_buffer, granted / 2);
    }
    socket_stats_.attach(socket_);
    return Status::success();
}

std::uint16_t UdpLink::boundPort() const {
    boost::system::error_code ec;
    auto ep = socket_.local_endpoint(ec);
    return ec ? 0 : ep.port();
}

void UdpLink::closeSocket() {
    boost::system::error_code ec;
    timer_.cancel();
    receiver_.stop();
    socket_stats_.detach();
    socket_.close(ec);
}

}  // namespace iwf::lmr::p25
