#include "sip/stream_transport.hpp"

#include <array>
#include <deque>
#include <map>
#include <vector>

#include <boost/asio/ssl.hpp>

#include "common/log.hpp"
#include "sip/tls.hpp"

namespace iwf::sip::detail {

namespace ssl = asio::ssl;
using asio::ip::tcp;

namespace {

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
    const TlsConfig& tls() const { return cfg_.tls; }
    // A TLS peer whose certificate does not name who it should: counted, logged (limited).
    void refuseIdentity(const Peer& p, const std::string& expected, const TlsIdentity* got) {
        countError("peer_name_mismatch");
        std::uint64_t suppressed = 0;
        if (warn_limiter_.allow(std::chrono::steady_clock::now(), suppressed)) {
            log::get("sip")->warn(
                "stack={} tls_peer_refused peer={} expected=\"{}\" certificate=\"{}\" "
                "sha256={} suppressed={}",
                label_, p.toString(), expected, got ? got->display() : "none",
                got ? got->sha256 : "-", suppressed);
        }
    }

  private:
    void accept();

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
    log::RateLimiter warn_limiter_;
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
                    self->verifiedServerSide();
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
                if (self->closed_) {
                    return;
                }
                if (ec) {
                    self->owner_->countError("connect_failed");
                    self->fail(Error{"connect_failed", ec.value()});
                    return;
                }
                if constexpr (kTls) {
                    self->clientHandshake();
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

    // A client certificate (mutual TLS) verified by the CA; with peer_name set it must also
    // name that peer. The identity rides on every message of this connection (Peer::tls).
    void verifiedServerSide() {
        if constexpr (kTls) {
            auto id = peerIdentity(stream_.native_handle());
            const auto& tls = owner_->tls();
            if (tls.require_client_cert && !tls.peer_name.empty() &&
                (!id || !id->matches(tls.peer_name))) {
                owner_->refuseIdentity(peer_, tls.peer_name, id.get());
                fail(Error{"peer_name_mismatch"});
                return;
            }
            peer_.tls = std::move(id);
        }
        ready();
    }

    // The server's chain is verified in the handshake (verify_peer); its name is checked
    // here, before any byte of ours goes out: TlsConfig::peer_name, or the address
    // connected to (RFC 5922 §7.1-7.2 comparison, TlsIdentity::matches).
    void clientHandshake() {
        if constexpr (kTls) {
            const std::string expected = expectedServerName(owner_->tls(), peer_.address);
            if (const std::string sni = sniHostName(expected); !sni.empty()) {
                SSL_set_tlsext_host_name(stream_.native_handle(), sni.c_str());
            }
            stream_.async_handshake(
                ssl::stream_base::client,
                [self = this->shared_from_this(), expected](const boost::system::error_code& ec) {
                    if (self->closed_) {
                        return;
                    }
                    if (ec) {
                        self->owner_->countError("handshake_failed");
                        self->fail(Error{"handshake_failed", ec.value()});
                        return;
                    }
                    auto id = peerIdentity(self->stream_.native_handle());
                    if (!id || !id->matches(expected)) {
                        self->owner_->refuseIdentity(self->peer_, expected, id.get());
                        self->fail(Error{"peer_name_mismatch"});
                        return;
                    }
                    self->peer_.tls = std::move(id);
                    self->ready();
                });
        }
    }

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

Status StreamTransport::start(Receiver receiver) {
    receiver_ = std::move(receiver);
    if (cfg_.protocol == Protocol::Tls) {
        IWF_TRY_STATUS(setupTlsContexts(cfg_.tls, server_ctx_, client_ctx_));
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

std::shared_ptr<Transport> makeStreamTransport(asio::io_context& io, metrics::Registry& metrics,
                                               const std::string& label,
                                               const ListenerConfig& cfg) {
    return std::make_shared<StreamTransport>(io, metrics, label, cfg);
}

}  // namespace iwf::sip::detail
