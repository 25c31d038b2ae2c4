#include "mc_adapters/rtp/udp_endpoint.hpp"

namespace iwf::mc::rtp {

UdpEndpoint::UdpEndpoint(asio::io_context& io) : io_(io) {}

UdpEndpoint::~UdpEndpoint() {
    close();
}

Status UdpEndpoint::open(const Udp::endpoint& local, Handler handler) {
    close();
    st_ = std::make_shared<State>(io_);
    boost::system::error_code ec;
    st_->socket.open(local.protocol(), ec);
    if (!ec) {
        st_->socket.bind(local, ec);
    }
    if (ec) {
        st_.reset();
        return Error{"bind_failed", ec.value()};
    }
    st_->handler = std::move(handler);
    st_->open = true;
    receive(st_);
    return {};
}

void UdpEndpoint::close() {
    if (st_) {
        st_->open = false;
        st_->handler = nullptr;
        boost::system::error_code ec;
        st_->socket.close(ec);
        st_.reset();
    }
}

bool UdpEndpoint::isOpen() const {
    return st_ && st_->open;
}

Udp::endpoint UdpEndpoint::localEndpoint() const {
    if (!st_) {
        return {};
    }
    boost::system::error_code ec;
    auto ep = st_->socket.local_endpoint(ec);
    return ec ? Udp::endpoint{} : ep;
}

Status UdpEndpoint::sendTo(ByteView data, const Udp::endpoint& to) {
    if (!isOpen()) {
        return Error{"not_open"};
    }
    boost::system::error_code ec;
    st_->socket.send_to(asio::buffer(data.data(), data.size()), to, 0, ec);
    if (ec) {
        return Error{"send_failed", ec.value()};
    }
    return {};
}

void UdpEndpoint::receive(const std::shared_ptr<State>& st) {
    st->socket.async_receive_from(asio::buffer(st->buf), st->from,
                                  [st](boost::system::error_code ec, std::size_t n) {
                                      if (!st->open) {
                                          return;
                                      }
                                      if (!ec && st->handler) {
                                          st->handler(ByteView(st->buf.data(), n), st->from);
                                      }
                                      // Errors such as ICMP port unreachable (connection_refused on
                                      // Linux) do not end the loop; only close() does.
                                      if (st->open && ec != asio::error::operation_aborted) {
                                          receive(st);
                                      }
                                  });
}

}  // namespace iwf::mc::rtp
