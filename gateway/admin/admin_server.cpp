#include "gateway/admin/admin_server.hpp"

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "common/log.hpp"

namespace iwf::gateway {

namespace beast = boost::beast;
namespace http = beast::http;

AdminServer::AdminServer(asio::io_context& io) : acceptor_(io) {}

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

// One connection: read a request, answer it, repeat while the client keeps it alive.
class AdminServer::Session : public std::enable_shared_from_this<AdminServer::Session> {
  public:
    Session(AdminServer& server, asio::ip::tcp::socket socket, std::shared_ptr<bool> alive)
        : server_(server), socket_(std::move(socket)), alive_(std::move(alive)) {}

    void read() {
        req_ = {};
        http::async_read(socket_, buffer_, req_,
                         [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                             self->onRead(ec);
                         });
    }

  private:
    void onRead(boost::system::error_code ec) {
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
        http::async_write(socket_, res_,
                          [self = shared_from_this()](boost::system::error_code wec, std::size_t) {
                              if (wec || !self->res_.keep_alive() || !*self->alive_) {
                                  self->close();
                                  return;
                              }
                              self->read();
                          });
    }

    void close() {
        boost::system::error_code ignored;
        socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
        socket_.close(ignored);
    }

    AdminServer& server_;
    asio::ip::tcp::socket socket_;
    std::shared_ptr<bool> alive_;
    beast::flat_buffer buffer_;
    http::request<http::string_body> req_;
    http::response<http::string_body> res_;
};

void AdminServer::accept() {
    acceptor_.async_accept(
        [this, alive = alive_](boost::system::error_code ec, asio::ip::tcp::socket socket) {
            if (ec || !*alive) {
                return;  // closed by stop() or the server is gone
            }
            std::make_shared<Session>(*this, std::move(socket), alive)->read();
            accept();
        });
}

}  // namespace iwf::gateway
