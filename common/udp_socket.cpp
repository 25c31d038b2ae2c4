#include "common/udp_socket.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <linux/sock_diag.h>
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
                         std::shared_ptr<spdlog::logger> log, std::string name, std::string help,
                         std::size_t max_peer_labels, std::chrono::milliseconds log_interval)
    : metrics_(metrics)
    , link_(std::move(link))
    , log_(std::move(log))
    , name_(std::move(name))
    , help_(std::move(help))
    , max_peer_labels_(max_peer_labels)
    , log_interval_(log_interval) {}

bool DropCounter::admitPeer(std::string_view label) {
    std::lock_guard lock(mu_);
    if (peers_.find(label) != peers_.end()) {
        return true;
    }
    if (peers_.size() >= max_peer_labels_ || label == kOther) {
        return false;
    }
    peers_.emplace(label);
    return true;
}

bool DropCounter::admitted(std::string_view label) const {
    std::lock_guard lock(mu_);
    return peers_.find(label) != peers_.end();
}

metrics::Counter& DropCounter::counterLocked(std::string_view peer, std::string_view reason) {
    const std::string_view label = peers_.find(peer) != peers_.end() ? peer : kOther;
    key_.assign(label);
    key_.push_back('\x1f');
    key_.append(reason);
    auto it = cache_.find(std::string_view(key_));
    if (it != cache_.end()) {
        return *it->second;
    }
    metrics::Counter& c = metrics_.counter(
        name_, help_,
        {{"link", link_}, {"peer", std::string(label)}, {"reason", std::string(reason)}});
    cache_.emplace(key_, &c);
    return c;
}

metrics::Counter& DropCounter::counter(std::string_view peer, std::string_view reason) {
    std::lock_guard lock(mu_);
    return counterLocked(peer, reason);
}

bool DropCounter::mayLog(std::string_view key, std::uint64_t& suppressed) {
    const auto now = std::chrono::steady_clock::now();
    auto it = log_sources_.find(key);
    if (it == log_sources_.end()) {
        if (log_sources_.size() >= kMaxLogSources) {
            std::erase_if(log_sources_,
                          [&](const auto& kv) { return now - kv.second.last >= log_interval_; });
        }
        if (log_sources_.size() >= kMaxLogSources) {
            // More sources than the table holds within one interval: one global budget.
            return limiter_.allow(now, suppressed);
        }
        it = log_sources_.emplace(std::string(key), LogState{now, 0}).first;
        suppressed = 0;
        return true;
    }
    if (now - it->second.last < log_interval_) {
        ++it->second.suppressed;
        return false;
    }
    suppressed = it->second.suppressed;
    it->second = LogState{now, 0};
    return true;
}

void DropCounter::count(std::string_view peer, std::string_view log_key, std::string_view reason,
                        std::int64_t detail) {
    std::uint64_t suppressed = 0;
    bool log_now = false;
    {
        std::lock_guard lock(mu_);
        counterLocked(peer, reason).inc();
        log_now = log_ && mayLog(log_key, suppressed);
    }
    if (log_now) {
        log_->warn("link={} peer={} dropped reason={} detail={} suppressed={}", link_, peer, reason,
                   detail, suppressed);
    }
}

void DropCounter::drop(std::string_view peer, std::string_view reason, std::int64_t detail) {
    count(peer, peer, reason, detail);
}

void DropCounter::drop(const Endpoint& peer, std::string_view reason, std::int64_t detail) {
    const std::string name = endpointName(peer);
    const std::string_view addr = std::string_view(name).substr(0, name.rfind(':'));
    count(name, addr, reason, detail);
}

// ------------------------------------------------------------------------------ SocketStats

struct SocketStats::State {
    std::mutex mu;
    int fd = -1;
    std::uint64_t base = 0;  // drops of sockets detached before
    std::uint64_t read() {
        std::lock_guard lock(mu);
        return base + (fd >= 0 ? SocketStats::kernelDrops(fd) : 0);
    }
};

int SocketStats::setReceiveBuffer(asio::ip::udp::socket& socket, int bytes) {
    const int fd = socket.native_handle();
    if (bytes > 0) {
        (void)::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes));
        int got = 0;
        socklen_t len = sizeof(got);
        if (::getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &len) == 0 && got / 2 < bytes) {
            // Capped by net.core.rmem_max: SO_RCVBUFFORCE may go beyond (CAP_NET_ADMIN).
            (void)::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof(bytes));
        }
    }
    int got = 0;
    socklen_t len = sizeof(got);
    if (::getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &len) != 0) {
        return 0;
    }
    return got;
}

std::uint64_t SocketStats::kernelDrops(int fd) {
    std::uint32_t mem[SK_MEMINFO_VARS] = {};
    socklen_t len = sizeof(mem);
    if (::getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mem, &len) != 0 ||
        len < (SK_MEMINFO_DROPS + 1) * sizeof(std::uint32_t)) {
        return 0;
    }
    return mem[SK_MEMINFO_DROPS];
}

SocketStats::SocketStats(metrics::Registry& metrics, const std::string& link,
                         const std::string& socket, unsigned worker)
    : state_(std::make_shared<State>()) {
    const metrics::Labels labels{
        {"link", link}, {"socket", socket}, {"worker", std::to_string(worker)}};
    std::weak_ptr<State> weak = state_;
    metrics.callbackCounter(
        "iwf_udp_receive_drops_total",
        "Datagrams the kernel dropped on a UDP socket before iwfd read them (receive buffer "
        "full); SO_MEMINFO SK_MEMINFO_DROPS, as /proc/net/udp drops",
        labels, [weak]() -> std::uint64_t {
            auto s = weak.lock();
            return s ? s->read() : 0;
        });
    metrics.callbackGauge(
        "iwf_udp_receive_buffer_bytes", "SO_RCVBUF of a UDP socket as granted by the kernel",
        labels, [weak]() -> double {
            auto s = weak.lock();
            if (!s) {
                return 0;
            }
            std::lock_guard lock(s->mu);
            if (s->fd < 0) {
                return 0;
            }
            int got = 0;
            socklen_t len = sizeof(got);
            return ::getsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &got, &len) == 0 ? got : 0;
        });
}

SocketStats::~SocketStats() {
    detach();
}

void SocketStats::attach(asio::ip::udp::socket& socket) {
    std::lock_guard lock(state_->mu);
    state_->fd = socket.is_open() ? socket.native_handle() : -1;
}

void SocketStats::detach() {
    std::lock_guard lock(state_->mu);
    if (state_->fd >= 0) {
        state_->base += kernelDrops(state_->fd);
        state_->fd = -1;
    }
}

std::uint64_t SocketStats::drops() const {
    return state_->read();
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
