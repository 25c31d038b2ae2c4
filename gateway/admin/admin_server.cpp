#include "gateway/admin/admin_server.hpp"

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "gateway/common/log.hpp"

namespace iwf::gateway {

namespace beast = boost::beast;
namespace http = beast::http;

AdminServer::AdminServer(asio::io_context& io) : io_(io), acceptor_(io) {}

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
    asio::co_spawn(io_, acceptLoop(), asio::detached);
    log::get("admin")->info("admin=listening address={} port={}", address, port_);
}

void AdminServer::stop() {
    boost::system::error_code ec;
    acceptor_.close(ec);
}

asio::awaitable<void> AdminServer::acceptLoop() {
    auto alive = alive_;
    for (;;) {
        boost::system::error_code ec;
        asio::ip::tcp::socket socket =
            co_await acceptor_.async_accept(asio::redirect_error(asio::use_awaitable, ec));
        if (ec || !*alive) {
            co_return;
        }
        asio::co_spawn(io_, session(std::move(socket)), asio::detached);
    }
}

asio::awaitable<void> AdminServer::session(asio::ip::tcp::socket socket) {
    auto alive = alive_;
    beast::flat_buffer buffer;
    for (;;) {
        http::request<http::string_body> req;
        boost::system::error_code ec;
        co_await http::async_read(socket, buffer, req,
                                  asio::redirect_error(asio::use_awaitable, ec));
        if (ec || !*alive) {
            break;
        }
        HttpResponse r;
        std::string target(req.target());
        if (auto q = target.find('?'); q != std::string::npos) {
            target.resize(q);
        }
        if (req.method() != http::verb::get && req.method() != http::verb::head) {
            r = {405, "text/plain; charset=utf-8", "method not allowed\n"};
        } else if (auto it = routes_.find(target); it != routes_.end()) {
            try {
                r = it->second();
            } catch (const std::exception& e) {
                r = {500, "text/plain; charset=utf-8", std::string("error: ") + e.what() + "\n"};
            }
        } else {
            r = {404, "text/plain; charset=utf-8", "not found\n"};
        }
        http::response<http::string_body> res{static_cast<http::status>(r.status), req.version()};
        res.set(http::field::server, "iwfd");
        res.set(http::field::content_type, r.content_type);
        res.keep_alive(req.keep_alive());
        res.body() = std::move(r.body);
        res.prepare_payload();
        co_await http::async_write(socket, res, asio::redirect_error(asio::use_awaitable, ec));
        if (ec || !res.keep_alive()) {
            break;
        }
    }
    boost::system::error_code ignored;
    socket.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
}

}  // namespace iwf::gateway
