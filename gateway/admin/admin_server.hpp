#pragma once
// The admin HTTP endpoint (Boost.Beast): /healthz, /metrics (Prometheus text), /v1/status
// (JSON) and whatever routes other parts add (/v1/calls, /v1/keymap, ...). Plain HTTP/1.1
// on a loopback address by default; GET only. Completion handlers, no coroutines (Asio 1.18
// enables co_await only with GCC here, and the fuzz build uses clang).
//
// Bounded like every TCP server of iwfd (common/connection_gate.hpp, docs/security.md): each
// accepted connection takes a place in the process's connection budget (total and per source
// address; beyond either it is reset at once), a request must arrive whole within the idle
// timeout (so a silent or dripping client is cut off), and the accept loop outlives every
// error: out of descriptors (EMFILE/ENFILE) it pauses with backoff instead of spinning or
// giving up, and it ends only in stop().

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "common/asio.hpp"
#include "common/connection_gate.hpp"
#include "common/log.hpp"

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
    void pauseAccepting(const boost::system::error_code& ec, std::string_view why);
    HttpResponse handle(const std::string& method, std::string target) const;

    asio::ip::tcp::acceptor acceptor_;
    asio::steady_timer accept_timer_;
    net::AcceptBackoff backoff_;
    log::RateLimiter warn_limiter_;
    std::map<std::string, Handler> routes_;
    std::uint16_t port_ = 0;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace iwf::gateway
