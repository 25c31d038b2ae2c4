#include "gateway/admin/admin_server.hpp"

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "common/log.hpp"

namespace iwf::gateway {

namespace beast = boost::beast;
namespace http = beast::http;

AdminServer::AdminServer(asio::io_context& io) : acceptor_(io), accept_timer_(io) {}

AdminServer::~AdminServer() {
    *alive_ = false;
}

void AdminServer::start(const std::string& address, std::uint16_t port) {
    asio::ip::tcp::endpoint ep(asio::ip::make_address(address), port);
    acceptor_.open(ep.protocol());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    acceptor_.bind(ep);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    accept();
    log::get("admin")->info("admin=listening address={} port={}", address, port_);
}

void AdminServer::stop() {
    boost::system::error_code ec;
    acceptor_.close(ec);
    accept_timer_.cancel();
}

HttpResponse AdminServer::handle(const std::string& method, std::string target) const {
    if (auto q = target.find('?'); q != std::string::npos) {
        target.resize(q);
    }
    if (method != "GET" && method != "HEAD") {
        return {405, "text/plain; charset=utf-8", "method not allowed\n"};
    }
    auto it = routes_.find(target);
    if (it == routes_.end()) {
        return {404, "text/plain; charset=utf-8", "not found\n"};
    }
    try {
        return it->second();
    } catch (const std::exception& e) {
        return {500, "text/plain; charset=utf-8", std::string("error: ") + e.what() + "\n"};
    }
}

// One connection: read a request, answer it, repeat while the client keeps it alive. The
// stream's timer (beast::tcp_stream) bounds each whole request read and each response write
// by the idle timeout.
class AdminServer::Session : public std::enable_shared_from_this<AdminServer::Session> {
  public:
    Session(AdminServer& server, asio::ip::tcp::socket socket, std::shared_ptr<bool> alive,
            net::ConnectionGate::Slot slot)
        : server_(server)
        , stream_(std::move(socket))
        , alive_(std::move(alive))
        , slot_(std::move(slot)) {}

    void read() {
        req_ = {};
        stream_.expires_after(net::ConnectionGate::process().limits().idle_timeout);
        http::async_read(stream_, buffer_, req_,
                         [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                             self->onRead(ec);
                         });
    }

  private:
    void onRead(boost::system::error_code ec) {
        if (ec == beast::error::timeout) {
            net::ConnectionGate::process().countTimeout(net::Server::Admin, "idle_timeout");
        }
        if (ec || !*alive_) {
            close();
            return;
        }
        HttpResponse r =
            server_.handle(std::string(req_.method_string()), std::string(req_.target()));
        res_ = {static_cast<http::status>(r.status), req_.version()};
        res_.set(http::field::server, "iwfd");
        res_.set(http::field::content_type, r.content_type);
        res_.keep_alive(req_.keep_alive());
        res_.body() = std::move(r.body);
        res_.prepare_payload();
        stream_.expires_after(net::ConnectionGate::process().limits().idle_timeout);
        http::async_write(
            stream_, res_, [self = shared_from_this()](boost::system::error_code wec, std::size_t) {
                if (wec == beast::error::timeout) {
                    net::ConnectionGate::process().countTimeout(net::Server::Admin, "idle_timeout");
                }
                if (wec || !self->res_.keep_alive() || !*self->alive_) {
                    self->close();
                    return;
                }
                self->read();
            });
    }

    void close() {
        boost::system::error_code ignored;
        stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
        stream_.close();
    }

    AdminServer& server_;
    beast::tcp_stream stream_;
    std::shared_ptr<bool> alive_;
    net::ConnectionGate::Slot slot_;
    beast::flat_buffer buffer_;
    http::request<http::string_body> req_;
    http::response<http::string_body> res_;
};

void AdminServer::accept() {
    acceptor_.async_accept(
        [this, alive = alive_](boost::system::error_code ec, asio::ip::tcp::socket socket) {
            if (!*alive || ec == asio::error::operation_aborted || !acceptor_.is_open()) {
                return;  // closed by stop() or the server is gone
            }
            if (ec) {
                if (auto why = net::acceptExhaustion(ec); !why.empty()) {
                    pauseAccepting(ec, why);
                    return;
                }
                accept();  // that one connection failed (e.g. reset before accept): go on
                return;
            }
            backoff_.reset();
            boost::system::error_code rec;
            const auto remote = socket.remote_endpoint(rec);
            if (!rec) {
                auto admission =
                    net::ConnectionGate::process().admit(remote.address(), net::Server::Admin);
                if (admission.slot) {
                    std::make_shared<Session>(*this, std::move(socket), alive,
                                              std::move(*admission.slot))
                        ->read();
                } else {
                    socket.set_option(asio::socket_base::linger(true, 0), rec);
                    socket.close(rec);
                }
            }
            accept();
        });
}

// Out of descriptors or memory: retrying at once fails again (a busy loop); wait, doubling
// from 50 ms to 1 s. The accept loop is never abandoned (the probe found the endpoint dead for
// good after one EMFILE).
void AdminServer::pauseAccepting(const boost::system::error_code& ec, std::string_view why) {
    net::ConnectionGate::process().countAcceptError(net::Server::Admin, why);
    const auto wait = backoff_.next();
    std::uint64_t suppressed = 0;
    if (warn_limiter_.allow(std::chrono::steady_clock::now(), suppressed)) {
        log::get("admin")->warn(
            "admin=accept_paused reason={} error=\"{}\" retry_in={}ms suppressed={}", why,
            ec.message(), wait.count(), suppressed);
    }
    accept_timer_.expires_after(wait);
    accept_timer_.async_wait([this, alive = alive_](const boost::system::error_code& tec) {
        if (!tec && *alive && acceptor_.is_open()) {
            accept();
        }
    });
}

}  // namespace iwf::gateway
