#pragma once
// The admin HTTP endpoint (Boost.Beast): /healthz, /metrics (Prometheus text), /v1/status
// (JSON) and whatever routes other parts add (/v1/calls, /v1/keymap, ...). Plain HTTP/1.1
// on a loopback address by default; GET only. Completion handlers, no coroutines (Asio 1.18
// enables co_await only with GCC here, and the fuzz build uses clang).

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "common/asio.hpp"

namespace iwf::gateway {

struct HttpResponse {
    unsigned status = 200;
    std::string content_type = "text/plain; charset=utf-8";
    std::string body;
};

class AdminServer {
  public:
    using Handler = std::function<HttpResponse()>;

    explicit AdminServer(asio::io_context& io);
    ~AdminServer();

    void route(const std::string& path, Handler h) { routes_[path] = std::move(h); }
    // Binds and starts accepting; throws boost::system::system_error when it cannot bind.
    void start(const std::string& address, std::uint16_t port);
    void stop();
    std::uint16_t port() const { return port_; }

  private:
    class Session;
    void accept();
    HttpResponse handle(const std::string& method, std::string target) const;

    asio::ip::tcp::acceptor acceptor_;
    std::map<std::string, Handler> routes_;
    std::uint16_t port_ = 0;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace iwf::gateway
