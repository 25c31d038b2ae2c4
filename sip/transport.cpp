#include "sip/transport.hpp"

#include <cctype>
#include <charconv>
#include <linux/sock_diag.h>
#include <mutex>
#include <sys/socket.h>
#include <vector>

#include "common/log.hpp"
#include "common/udp_socket.hpp"
#include "sip/message.hpp"
#include "sip/stream_transport.hpp"

namespace iwf::sip {

using asio::ip::udp;

std::string_view toString(Protocol p) {
    switch (p) {
        case Protocol::Udp:
            return "UDP";
        case Protocol::Tcp:
            return "TCP";
        case Protocol::Tls:
            return "TLS";
    }
    return "UDP";
}

bool parseProtocol(std::string_view s, Protocol& out) {
    std::string l(s);
    for (auto& c : l) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    if (l == "udp") {
        out = Protocol::Udp;
    } else if (l == "tcp") {
        out = Protocol::Tcp;
    } else if (l == "tls") {
        out = Protocol::Tls;
    } else {
        return false;
    }
    return true;
}

std::string Peer::toString() const {
    std::string p(sip::toString(protocol));
    for (auto& c : p) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return p + ":" + address.to_string() + ":" + std::to_string(port);
}

StreamFramer::Next StreamFramer::next(std::string& out) {
    // Keep-alive CRLFs between messages (RFC 5626 §3.5.1) are skipped.
    std::size_t skip = 0;
    while (skip < buf_.size() && (buf_[skip] == '\r' || buf_[skip] == '\n')) {
        ++skip;
    }
    if (skip > 0) {
        buf_.erase(0, skip);
    }
    auto hend = buf_.find("\r\n\r\n");
    if (hend == std::string::npos) {
        if (buf_.size() > kMaxMessageSize) {
            error_ = "too_large";
            return Next::Broken;
        }
        return Next::None;
    }
    hend += 4;
    // Content-Length (or compact "l") is mandatory on streams; scan the header lines.
    std::size_t length = 0;
    bool found = false;
    std::size_t pos = buf_.find("\r\n") + 2;
    while (pos < hend - 2) {
        auto eol = buf_.find("\r\n", pos);
        std::string_view line(buf_.data() + pos, eol - pos);
        pos = eol + 2;
        auto colon = line.find(':');
        if (colon == std::string_view::npos) {
            continue;
        }
        std::string_view name = line.substr(0, colon);
        while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) {
            name.remove_suffix(1);
        }
        if (canonicalHeaderName(name) != "Content-Length") {
            continue;
        }
        std::string_view v = line.substr(colon + 1);
        while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) {
            v.remove_prefix(1);
        }
        while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) {
            v.remove_suffix(1);
        }
        auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), length);
        if (ec != std::errc() || p != v.data() + v.size() || v.empty()) {
            error_ = "bad_content_length";
            return Next::Broken;
        }
        found = true;
        break;
    }
    if (!found) {
        error_ = "missing_content_length";
        return Next::Broken;
    }
    if (length > kMaxMessageSize || hend + length > kMaxMessageSize) {
        error_ = "too_large";
        return Next::Broken;
    }
    if (buf_.size() < hend + length) {
        return Next::None;
    }
    out.assign(buf_, 0, hend + length);
    buf_.erase(0, hend + length);
    return Next::Message;
}

namespace {

class UdpTransport final : public Transport, public std::enable_shared_from_this<UdpTransport> {
  public:
    UdpTransport(asio::io_context& io, metrics::Registry& m, std::string label, ListenerConfig cfg)
        : metrics_(m), label_(std::move(label)), cfg_(std::move(cfg)), socket_(io) {}

    Protocol protocol() const override { return Protocol::Udp; }

    Status start(Receiver receiver) override {
        receiver_ = std::move(receiver);
        boost::system::error_code ec;
        auto addr = asio::ip::make_address(cfg_.address, ec);
        if (ec) {
            return Error{"bad_address"};
        }
        udp::endpoint ep(addr, cfg_.port);
        socket_.open(ep.protocol(), ec);
        if (!ec) {
            socket_.bind(ep, ec);
        }
        if (ec) {
            return Error{"bind_failed", ec.value()};
        }
        local_ = socket_.local_endpoint(ec);
        // send() must never wait on the io thread: a synchronous send_to on a socket in
        // non-blocking mode returns would_block instead of polling.
        socket_.non_blocking(true, ec);
        if (ec) {
            return Error{"bind_failed", ec.value()};
        }
        setReceiveBuffer();
        receive();
        return {};
    }

    void stop() override {
        {
            std::lock_guard lock(kernel_->mu);
            kernel_->fd = -1;  // the metrics callbacks keep the last values from here on
        }
        boost::system::error_code ec;
        socket_.close(ec);
    }

    ~UdpTransport() override {
        std::lock_guard lock(kernel_->mu);
        kernel_->fd = -1;
    }

    // One direct non-blocking sendto: a UDP send completes at once or fails at once, so an
    // asynchronous send would only cost an operation object (~225 B, kept in Asio's per-thread
    // cache and then held by a later call's socket wait: docs/perf/mc-path.md) and a copy of
    // the message per send. A full send buffer (EAGAIN) is a counted send failure; SIP's own
    // retransmission timers (A/E/G) cover the datagram. on_error runs from the executor, never
    // from inside send().
    void send(const Peer& to, std::string data, SendError on_error) override {
        const udp::endpoint ep(to.address, to.port);
        boost::system::error_code ec;
        do {
            socket_.send_to(asio::buffer(data), ep, 0, ec);
        } while (ec == asio::error::interrupted);
        if (!ec) {
            return;
        }
        countError("send_failed");
        if (on_error) {
            asio::post(socket_.get_executor(), [on_error = std::move(on_error), v = ec.value()] {
                on_error(Error{"send_failed", v});
            });
        }
    }

    std::uint16_t localPort() const override { return local_.port(); }
    asio::ip::address localAddress() const override { return local_.address(); }

  private:
    // What the kernel says about the socket, read by the metrics callbacks (any thread) while
    // the socket is open; the last values stay once it is closed.
    struct KernelView {
        std::mutex mu;
        int fd = -1;
        double drops = 0;
        double rcvbuf = 0;
        void refresh() {  // mu held
            if (fd < 0) {
                return;
            }
            // SO_MEMINFO: the socket's memory counters; SK_MEMINFO_DROPS counts datagrams
            // dropped before they reached the socket (receive buffer full) - `ss -m` "d".
            std::uint32_t mem[SK_MEMINFO_VARS] = {};
            socklen_t len = sizeof mem;
            if (::getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mem, &len) == 0 &&
                len > SK_MEMINFO_DROPS * sizeof(std::uint32_t)) {
                drops = mem[SK_MEMINFO_DROPS];
                rcvbuf = mem[SK_MEMINFO_RCVBUF];  // `ss -m` "rb": twice a SO_RCVBUF set
            }
        }
    };

    // SO_RCVBUF as configured (best effort: the kernel caps it at net.core.rmem_max), the size
    // granted in the log and in iwf_sip_udp_receive_buffer_bytes, and the kernel's drop count
    // of this socket in iwf_sip_udp_receive_buffer_drops (docs/perf/call-setup.md).
    void setReceiveBuffer() {
        boost::system::error_code ec;
        if (cfg_.receive_buffer > 0) {
            socket_.set_option(asio::socket_base::receive_buffer_size(cfg_.receive_buffer), ec);
        }
        asio::socket_base::receive_buffer_size got;
        socket_.get_option(got, ec);
        // Linux keeps twice the size asked for (the rest is its bookkeeping allowance); Asio
        // halves what getsockopt reports on Linux, so this is the size granted.
        const int granted = ec ? 0 : got.value();
        auto log = log::get("sip");
        const std::string where = net::endpointName(local_);
        if (cfg_.receive_buffer > 0 && granted < cfg_.receive_buffer) {
            log->warn(
                "stack={} listener=udp:{} receive_buffer asked={} granted={} (capped by "
                "net.core.rmem_max: raise it with sysctl to absorb bursts of call setups)",
                label_, where, cfg_.receive_buffer, granted);
        } else {
            log->info("stack={} listener=udp:{} receive_buffer={}{}", label_, where, granted,
                      cfg_.receive_buffer > 0 ? "" : " (kernel default)");
        }
        {
            std::lock_guard lock(kernel_->mu);
            kernel_->fd = socket_.native_handle();
            kernel_->refresh();
        }
        const metrics::Labels labels{{"stack", label_}, {"listener", "udp:" + where}};
        std::weak_ptr<KernelView> weak = kernel_;
        auto kernelGauge = [&](std::string_view name, std::string_view help,
                               double KernelView::*field) {
            metrics_.callbackGauge(name, help, labels, [weak, field]() -> double {
                auto k = weak.lock();
                if (!k) {
                    return 0;
                }
                std::lock_guard lock(k->mu);
                k->refresh();
                return (*k).*field;
            });
        };
        kernelGauge(
            "iwf_sip_udp_receive_buffer_bytes",
            "Receive buffer limit of a SIP UDP listener in the kernel (bytes; twice SO_RCVBUF)",
            &KernelView::rcvbuf);
        kernelGauge("iwf_sip_udp_receive_buffer_drops",
                    "Datagrams the kernel dropped on a SIP UDP listener because its receive buffer "
                    "was full (SO_MEMINFO drops, since the socket opened)",
                    &KernelView::drops);
    }

    void receive() {
        socket_.async_receive_from(
            asio::buffer(buf_), from_,
            [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
                if (ec == asio::error::operation_aborted || !self->socket_.is_open()) {
                    return;
                }
                if (!ec) {
                    Peer p{Protocol::Udp, self->from_.address(), self->from_.port()};
                    self->receiver_(std::string_view(self->buf_.data(), n), p);
                } else {
                    self->countError("receive_failed");
                }
                self->receive();
            });
    }
    void countError(std::string_view reason) {
        metrics_
            .counter("iwf_sip_transport_errors_total", "SIP transport errors",
                     {{"stack", label_}, {"transport", "udp"}, {"reason", std::string(reason)}})
            .inc();
    }

    metrics::Registry& metrics_;
    std::string label_;
    ListenerConfig cfg_;
    udp::socket socket_;
    udp::endpoint local_;
    udp::endpoint from_;
    std::array<char, 65536> buf_{};
    Receiver receiver_;
    std::shared_ptr<KernelView> kernel_ = std::make_shared<KernelView>();
};

}  // namespace

std::shared_ptr<Transport> makeTransport(asio::io_context& io, metrics::Registry& metrics,
                                         const std::string& label, const ListenerConfig& cfg) {
    if (cfg.protocol == Protocol::Udp) {
        return std::make_shared<UdpTransport>(io, metrics, label, cfg);
    }
    return detail::makeStreamTransport(io, metrics, label, cfg);
}

}  // namespace iwf::sip
