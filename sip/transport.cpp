#include "sip/transport.hpp"

#include <cctype>
#include <charconv>
#include <deque>
#include <linux/sock_diag.h>
#include <mutex>
#include <sys/socket.h>
#include <vector>

#include <boost/asio/ssl.hpp>

#include "common/log.hpp"
#include "common/udp_socket.hpp"
#include "sip/message.hpp"

namespace iwf::sip {

namespace ssl = asio::ssl;
using asio::ip::tcp;
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

// A TCP or TLS connection. Stream = tcp::socket or ssl::stream<tcp::socket>.
class ConnectionBase {
  public:
    virtual ~ConnectionBase() = default;
    virtual void write(std::string data, Transport::SendError on_error) = 0;
    virtual void close() = 0;
};

class StreamTransport final : public Transport,
                              public std::enable_shared_from_this<StreamTransport> {
  public:
    StreamTransport(asio::io_context& io, metrics::Registry& m, std::string label,
                    ListenerConfig cfg)
        : io_(io)
        , metrics_(m)
        , label_(std::move(label))
        , cfg_(std::move(cfg))
        , acceptor_(io)
        , server_ctx_(ssl::context::tls)
        , client_ctx_(ssl::context::tls) {}

    Protocol protocol() const override { return cfg_.protocol; }
    Status start(Receiver receiver) override;
    void stop() override;
    void send(const Peer& to, std::string data, SendError on_error) override;
    std::uint16_t localPort() const override { return local_.port(); }
    asio::ip::address localAddress() const override { return local_.address(); }

    // Called by connections.
    void received(std::string_view msg, const Peer& from) {
        if (receiver_) {
            receiver_(msg, from);
        }
    }
    void closed(const Peer& p, ConnectionBase* c) {
        auto it = conns_.find(p.toString());
        if (it != conns_.end() && it->second.get() == c) {
            conns_.erase(it);
            if (on_closed_ && !stopped_) {
                on_closed_(p);
            }
        }
    }
    void countError(std::string_view reason) {
        metrics_
            .counter("iwf_sip_transport_errors_total", "SIP transport errors",
                     {{"stack", label_},
                      {"transport", cfg_.protocol == Protocol::Tls ? "tls" : "tcp"},
                      {"reason", std::string(reason)}})
            .inc();
    }
    bool stopped() const { return stopped_; }

  private:
    void accept();
    Status setupTls();

    asio::io_context& io_;
    metrics::Registry& metrics_;
    std::string label_;
    ListenerConfig cfg_;
    tcp::acceptor acceptor_;
    tcp::endpoint local_;
    ssl::context server_ctx_;
    ssl::context client_ctx_;
    Receiver receiver_;
    std::map<std::string, std::shared_ptr<ConnectionBase>> conns_;
    bool stopped_ = false;
};

template <typename Stream>
class Connection final : public ConnectionBase,
                         public std::enable_shared_from_this<Connection<Stream>> {
  public:
    template <typename... Args>
    Connection(std::shared_ptr<StreamTransport> owner, Peer peer, Args&&... args)
        : owner_(std::move(owner)), peer_(std::move(peer)), stream_(std::forward<Args>(args)...) {}

    static constexpr bool kTls = !std::is_same_v<Stream, tcp::socket>;

    tcp::socket& socket() {
        if constexpr (kTls) {
            return stream_.next_layer();
        } else {
            return stream_;
        }
    }

    // Server side: the socket is connected; handshake (TLS) then read.
    void startServer() {
        if constexpr (kTls) {
            stream_.async_handshake(
                ssl::stream_base::server,
                [self = this->shared_from_this()](const boost::system::error_code& ec) {
                    if (ec) {
                        self->owner_->countError("handshake_failed");
                        self->fail(Error{"handshake_failed", ec.value()});
                        return;
                    }
                    self->ready();
                });
        } else {
            ready();
        }
    }

    // Client side: connect, handshake, then flush queued writes and read.
    void startClient() {
        tcp::endpoint ep(peer_.address, peer_.port);
        socket().async_connect(
            ep, [self = this->shared_from_this()](const boost::system::error_code& ec) {
                if (ec) {
                    self->owner_->countError("connect_failed");
                    self->fail(Error{"connect_failed", ec.value()});
                    return;
                }
                if constexpr (kTls) {
                    self->stream_.async_handshake(
                        ssl::stream_base::client, [self](const boost::system::error_code& ec2) {
                            if (ec2) {
                                self->owner_->countError("handshake_failed");
                                self->fail(Error{"handshake_failed", ec2.value()});
                                return;
                            }
                            self->ready();
                        });
                } else {
                    self->ready();
                }
            });
    }

    void write(std::string data, Transport::SendError on_error) override {
        if (closed_) {
            // A connection leaves the owner's table when it closes, so only a caller that
            // kept it across a close gets here; the data cannot go anywhere.
            postError(std::move(on_error), Error{"closed"});
            return;
        }
        queue_.push_back({std::move(data), std::move(on_error)});
        if (ready_ && !writing_) {
            writeNext();
        }
    }

    // The transport stops: close without reporting to the owner (it dropped its table).
    void close() override { shutdown(Error{"stopped"}, false); }

  private:
    struct Pending {
        std::string data;
        Transport::SendError on_error;
    };

    void ready() {
        if (closed_) {
            return;  // a handshake/connect that completed just before a close
        }
        ready_ = true;
        read();
        if (!queue_.empty() && !writing_) {
            writeNext();
        }
    }

    void fail(const Error& e) { shutdown(e, true); }

    // Closes the connection once (every path - read error, framing error, write error, connect
    // or handshake failure, stop() - ends here, in any order, any number of times).
    //
    // The message async_write is sending (queue_.front() while writing_) stays in queue_ until
    // its completion handler has run: the write still reads from that buffer, and the handler
    // pops the front. Everything else in the queue is reported failed. The owner forgets the
    // connection before any error callback runs, so a callback that sends again opens a new
    // connection instead of queueing on this dead one; the callbacks are posted, never run
    // from inside a read or write handler of this connection.
    void shutdown(const Error& e, bool tell_owner) {
        if (closed_) {
            return;
        }
        closed_ = true;
        boost::system::error_code ec;
        socket().shutdown(tcp::socket::shutdown_both, ec);
        socket().close(ec);  // outstanding operations complete with operation_aborted
        std::vector<Transport::SendError> failed;
        for (std::size_t i = 0; i < queue_.size(); ++i) {
            if (queue_[i].on_error) {
                failed.push_back(std::move(queue_[i].on_error));
            }
        }
        queue_.erase(queue_.begin() + (writing_ ? 1 : 0), queue_.end());
        if (tell_owner) {
            owner_->closed(peer_, this);
        }
        for (auto& f : failed) {
            postError(std::move(f), e);
        }
    }

    void postError(Transport::SendError on_error, const Error& e) {
        if (on_error) {
            asio::post(socket().get_executor(),
                       [on_error = std::move(on_error), e] { on_error(e); });
        }
    }

    void writeNext() {
        writing_ = true;
        asio::async_write(
            stream_, asio::buffer(queue_.front().data),
            [self = this->shared_from_this()](const boost::system::error_code& ec, std::size_t) {
                self->writing_ = false;
                if (self->closed_) {
                    // shutdown() kept the in-flight message alive for this write and already
                    // reported it; nothing else is left in the queue.
                    self->queue_.clear();
                    return;
                }
                if (ec) {
                    self->owner_->countError("write_failed");
                    self->fail(Error{"write_failed", ec.value()});
                    return;
                }
                self->queue_.pop_front();
                if (!self->queue_.empty()) {
                    self->writeNext();
                }
            });
    }

    void read() {
        stream_.async_read_some(
            asio::buffer(buf_),
            [self = this->shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
                if (ec) {
                    if (ec != asio::error::operation_aborted && ec != asio::error::eof &&
                        !self->closed_) {
                        self->owner_->countError("read_failed");
                    }
                    self->fail(Error{"closed"});
                    return;
                }
                self->framer_.append(std::string_view(self->buf_.data(), n));
                std::string msg;
                for (;;) {
                    auto r = self->framer_.next(msg);
                    if (r == StreamFramer::Next::None) {
                        break;
                    }
                    if (r == StreamFramer::Next::Broken) {
                        self->owner_->countError(self->framer_.error());
                        self->fail(Error{"framing"});
                        return;
                    }
                    self->owner_->received(msg, self->peer_);
                    if (self->closed_) {
                        return;
                    }
                }
                self->read();
            });
    }

    std::shared_ptr<StreamTransport> owner_;
    Peer peer_;
    Stream stream_;
    std::array<char, 16384> buf_{};
    StreamFramer framer_;
    std::deque<Pending> queue_;
    bool ready_ = false;
    bool writing_ = false;
    bool closed_ = false;
};

using TcpConnection = Connection<tcp::socket>;
using TlsConnection = Connection<ssl::stream<tcp::socket>>;

Status StreamTransport::setupTls() {
    boost::system::error_code ec;
    for (auto* ctx : {&server_ctx_, &client_ctx_}) {
        ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                             ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                             ssl::context::no_tlsv1_1,
                         ec);
        if (!cfg_.tls.cert_file.empty()) {
            ctx->use_certificate_chain_file(cfg_.tls.cert_file, ec);
            if (ec) {
                return Error{"tls_cert_unreadable", ec.value()};
            }
            ctx->use_private_key_file(cfg_.tls.key_file, ssl::context::pem, ec);
            if (ec) {
                return Error{"tls_key_unreadable", ec.value()};
            }
        }
        if (!cfg_.tls.ca_file.empty()) {
            ctx->load_verify_file(cfg_.tls.ca_file, ec);
            if (ec) {
                return Error{"tls_ca_unreadable", ec.value()};
            }
        }
    }
    if (cfg_.tls.cert_file.empty()) {
        return Error{"tls_cert_missing"};
    }
    if (cfg_.tls.require_client_cert) {
        server_ctx_.set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert, ec);
    } else {
        server_ctx_.set_verify_mode(ssl::verify_none, ec);
    }
    if (cfg_.tls.verify_server && !cfg_.tls.ca_file.empty()) {
        client_ctx_.set_verify_mode(ssl::verify_peer, ec);
    } else {
        client_ctx_.set_verify_mode(ssl::verify_none, ec);
    }
    return {};
}

Status StreamTransport::start(Receiver receiver) {
    receiver_ = std::move(receiver);
    if (cfg_.protocol == Protocol::Tls) {
        IWF_TRY_STATUS(setupTls());
    }
    boost::system::error_code ec;
    auto addr = asio::ip::make_address(cfg_.address, ec);
    if (ec) {
        return Error{"bad_address"};
    }
    tcp::endpoint ep(addr, cfg_.port);
    acceptor_.open(ep.protocol(), ec);
    if (!ec) {
        acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
        acceptor_.bind(ep, ec);
    }
    if (!ec) {
        acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    }
    if (ec) {
        return Error{"bind_failed", ec.value()};
    }
    local_ = acceptor_.local_endpoint(ec);
    accept();
    return {};
}

void StreamTransport::stop() {
    stopped_ = true;
    boost::system::error_code ec;
    acceptor_.close(ec);
    auto conns = std::move(conns_);
    conns_.clear();
    for (auto& [k, c] : conns) {
        c->close();
    }
}

void StreamTransport::accept() {
    acceptor_.async_accept([self = shared_from_this()](const boost::system::error_code& ec,
                                                       tcp::socket sock) {
        if (ec == asio::error::operation_aborted || self->stopped_) {
            return;
        }
        if (ec) {
            self->countError("accept_failed");
            self->accept();
            return;
        }
        boost::system::error_code ec2;
        auto rep = sock.remote_endpoint(ec2);
        if (ec2) {
            self->accept();
            return;
        }
        Peer p{self->cfg_.protocol, rep.address(), rep.port()};
        if (self->cfg_.protocol == Protocol::Tls) {
            auto c = std::make_shared<TlsConnection>(self, p, std::move(sock), self->server_ctx_);
            self->conns_[p.toString()] = c;
            c->startServer();
        } else {
            auto c = std::make_shared<TcpConnection>(self, p, std::move(sock));
            self->conns_[p.toString()] = c;
            c->startServer();
        }
        self->accept();
    });
}

void StreamTransport::send(const Peer& to, std::string data, SendError on_error) {
    if (stopped_) {
        if (on_error) {
            on_error(Error{"stopped"});
        }
        return;
    }
    auto key = to.toString();
    auto it = conns_.find(key);
    if (it != conns_.end()) {
        it->second->write(std::move(data), std::move(on_error));
        return;
    }
    Peer p = to;
    p.protocol = cfg_.protocol;
    if (cfg_.protocol == Protocol::Tls) {
        auto c = std::make_shared<TlsConnection>(shared_from_this(), p, io_, client_ctx_);
        conns_[key] = c;
        c->write(std::move(data), std::move(on_error));
        c->startClient();
    } else {
        auto c = std::make_shared<TcpConnection>(shared_from_this(), p, io_);
        conns_[key] = c;
        c->write(std::move(data), std::move(on_error));
        c->startClient();
    }
}

}  // namespace

std::shared_ptr<Transport> makeTransport(asio::io_context& io, metrics::Registry& metrics,
                                         const std::string& label, const ListenerConfig& cfg) {
    if (cfg.protocol == Protocol::Udp) {
        return std::make_shared<UdpTransport>(io, metrics, label, cfg);
    }
    return std::make_shared<StreamTransport>(io, metrics, label, cfg);
}

}  // namespace iwf::sip
