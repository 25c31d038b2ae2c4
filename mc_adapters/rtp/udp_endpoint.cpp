#include "mc_adapters/rtp/udp_endpoint.hpp"

#include <cerrno>
#include <sys/socket.h>

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
    if (!ec) {
        st_->socket.non_blocking(true, ec);  // drain() reads until would_block
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
    // One sendto(2) on the non-blocking socket: no completion handler, and a full send
    // buffer is an error the caller counts (EAGAIN), never a wait on the io thread.
    ssize_t n = 0;
    do {
        n = ::sendto(st_->socket.native_handle(), data.data(), data.size(), MSG_NOSIGNAL, to.data(),
                     static_cast<socklen_t>(to.size()));
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        return Error{"send_failed", errno};
    }
    return {};
}

void UdpEndpoint::receive(const std::shared_ptr<State>& st) {
    st->socket.async_wait(Udp::socket::wait_read, [st](boost::system::error_code ec) {
        if (!st->open) {
            return;
        }
        if (ec == asio::error::operation_aborted) {
            return;  // closed
        }
        drain(st);
        if (st->open) {
            receive(st);
        }
    });
}

void UdpEndpoint::drain(const std::shared_ptr<State>& st) {
    // The thread's buffer: the handler runs before the next read, and handlers run one at a
    // time on a thread, so no two datagrams are in it at once.
    thread_local std::array<std::uint8_t, kMaxDatagram + 1> buf;
    Udp::endpoint from;
    for (int i = 0; i < kMaxReadsPerWake && st->open; ++i) {
        boost::system::error_code ec;
        const std::size_t n = st->socket.receive_from(asio::buffer(buf), from, 0, ec);
        if (ec == asio::error::would_block || ec == asio::error::try_again) {
            return;
        }
        // Errors such as ICMP port unreachable (connection_refused on Linux) are reported
        // once by the kernel and do not end the loop; only close() does.
        if (!ec && st->handler) {
            st->handler(ByteView(buf.data(), n), from);
        }
    }
}

}  // namespace iwf::mc::rtp
