#include "common/udp_socket.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sys/socket.h>

namespace iwf::net {

Status bind(asio::ip::udp::socket& socket, const std::string& address, std::uint16_t port,
            const BindOptions& opts, std::string* detail_out) {
    boost::system::error_code ec;
    const auto addr = asio::ip::make_address(address, ec);
    if (ec) {
        if (detail_out != nullptr) {
            *detail_out = "not an IP address: \"" + address + "\"";
        }
        return Error{"bad_address"};
    }
    const Endpoint ep(addr, port);
    socket.open(ep.protocol(), ec);
    const auto reusePort = [&] {
        const int one = 1;
        if (::setsockopt(socket.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) !=
            0) {
            ec = boost::system::error_code(errno, boost::system::system_category());
        }
    };
    if (!ec && opts.join) {
        reusePort();
    }
    if (!ec) {
        socket.bind(ep, ec);
    }
    if (!ec && opts.reuse_port && !opts.join) {
        reusePort();
    }
    if (ec) {
        if (detail_out != nullptr) {
            *detail_out = ec.message();
        }
        boost::system::error_code ignored;
        socket.close(ignored);
        return Error{"bind_failed", port};
    }
    return Status::success();
}

std::string endpointName(const Endpoint& ep) {
    return ep.address().to_string() + ":" + std::to_string(ep.port());
}

// ------------------------------------------------------------------------------ DropCounter

DropCounter::DropCounter(metrics::Registry& metrics, std::string link,
                         std::shared_ptr<spdlog::logger> log, std::string name, std::string help)
    : metrics_(metrics)
    , link_(std::move(link))
    , log_(std::move(log))
    , name_(std::move(name))
    , help_(std::move(help)) {}

metrics::Counter& DropCounter::counter(std::string_view peer, std::string_view reason) {
    std::lock_guard lock(mu_);
    key_.assign(peer);
    key_.push_back('\x1f');
    key_.append(reason);
    auto it = cache_.find(std::string_view(key_));
    if (it != cache_.end()) {
        return *it->second;
    }
    metrics::Counter& c = metrics_.counter(
        name_, help_,
        {{"link", link_}, {"peer", std::string(peer)}, {"reason", std::string(reason)}});
    cache_.emplace(key_, &c);
    return c;
}

void DropCounter::drop(std::string_view peer, std::string_view reason, std::int64_t detail) {
    counter(peer, reason).inc();
    std::uint64_t suppressed = 0;
    if (log_ && limiter_.allow(std::chrono::steady_clock::now(), suppressed)) {
        log_->warn("link={} peer={} dropped reason={} detail={} suppressed={}", link_, peer, reason,
                   detail, suppressed);
    }
}

void DropCounter::drop(const Endpoint& peer, std::string_view reason, std::int64_t detail) {
    drop(endpointName(peer), reason, detail);
}

// ---------------------------------------------------------------------------- BatchReceiver

struct BatchReceiver::Slots {
    std::vector<mmsghdr> msgs;
    std::vector<iovec> iov;
    std::vector<sockaddr_storage> addr;
};

BatchReceiver::BatchReceiver(asio::ip::udp::socket& socket, std::size_t batch,
                             std::size_t max_datagram)
    : socket_(socket)
    , batch_(batch == 0 ? 1 : batch)
    , max_len_(max_datagram)
    , storage_(batch_ * max_len_)
    , from_(batch_)
    , slots_(std::make_unique<Slots>()) {
    Slots& s = *slots_;
    s.msgs.resize(batch_);
    s.iov.resize(batch_);
    s.addr.resize(batch_);
    for (std::size_t i = 0; i < batch_; ++i) {
        s.iov[i].iov_base = storage_.data() + i * max_len_;
        s.iov[i].iov_len = max_len_;
        std::memset(&s.msgs[i], 0, sizeof(mmsghdr));
        s.msgs[i].msg_hdr.msg_iov = &s.iov[i];
        s.msgs[i].msg_hdr.msg_iovlen = 1;
        s.msgs[i].msg_hdr.msg_name = &s.addr[i];
    }
}

BatchReceiver::~BatchReceiver() {
    *alive_ = false;
}

void BatchReceiver::start(Handler on_datagram, ErrorHandler on_error, BatchDone on_batch) {
    on_datagram_ = std::move(on_datagram);
    on_error_ = std::move(on_error);
    on_batch_ = std::move(on_batch);
    running_ = true;
    busy_ = true;
    *alive_ = false;
    alive_ = std::make_shared<bool>(true);
    arm();
}

void BatchReceiver::stop() {
    running_ = false;
    *alive_ = false;
    alive_ = std::make_shared<bool>(true);
}

// The first datagram of a wake-up comes through Asio's own receive (its reactor reads
// speculatively: no epoll_ctl per wait); when the socket has shown a queue, the rest is read
// with recvmmsg(2) before waiting again.
void BatchReceiver::arm() {
    std::weak_ptr<bool> alive = alive_;
    socket_.async_receive_from(
        asio::buffer(storage_.data(), max_len_), from_[0],
        [this, alive](const boost::system::error_code& ec, std::size_t n) {
            auto a = alive.lock();
            if (!a || !*a || !running_ || ec == asio::error::operation_aborted) {
                return;
            }
            ++wakeups_;
            if (ec) {
                // Per-datagram errors (ICMP port unreachable): reported, then read on.
                if (on_error_) {
                    on_error_(ec);
                }
            } else {
                ++datagrams_;
                on_datagram_(from_[0], ByteView(storage_.data(), n));
                if (!*a || !running_) {
                    return;
                }
                if (batch_ > 1 && (busy_ || ++quiet_wakeups_ % kProbeEvery == 0)) {
                    if (!drainQueued(*a)) {
                        return;
                    }
                }
            }
            if (on_batch_) {
                on_batch_();
            }
            if (!*a || !running_) {
                return;
            }
            if (!socket_.is_open()) {
                running_ = false;
                return;
            }
            arm();
        });
}

bool BatchReceiver::drainQueued(const bool& alive) {
    Slots& s = *slots_;
    const int fd = socket_.native_handle();
    std::size_t total = 0;
    for (;;) {
        if (!socket_.is_open()) {
            running_ = false;
            return false;
        }
        for (std::size_t i = 0; i < batch_; ++i) {
            s.msgs[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
        }
        const int n =
            ::recvmmsg(fd, s.msgs.data(), static_cast<unsigned>(batch_), MSG_DONTWAIT, nullptr);
        if (n < 0) {
            const int err = errno;
            if (err == EINTR) {
                continue;
            }
            if (err != EAGAIN && err != EWOULDBLOCK && on_error_) {
                on_error_(boost::system::error_code(err, boost::system::system_category()));
                if (!alive || !running_) {
                    return false;
                }
            }
            break;
        }
        for (int i = 0; i < n; ++i) {
            const auto& m = s.msgs[static_cast<std::size_t>(i)];
            Endpoint& from = from_[static_cast<std::size_t>(i)];
            const std::size_t alen = std::min<std::size_t>(m.msg_hdr.msg_namelen, from.capacity());
            std::memcpy(from.data(), m.msg_hdr.msg_name, alen);
            from.resize(alen);
            ++datagrams_;
            const auto* data = static_cast<const std::uint8_t*>(m.msg_hdr.msg_iov->iov_base);
            on_datagram_(from, ByteView(data, std::min<std::size_t>(m.msg_len, max_len_)));
            if (!alive || !running_) {
                return false;
            }
        }
        total += static_cast<std::size_t>(n);
        if (static_cast<std::size_t>(n) < batch_) {
            break;  // the queue was empty at the time of the call
        }
    }
    busy_ = total > 0;
    return true;
}

}  // namespace iwf::net
