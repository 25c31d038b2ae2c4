#pragma once
// The budget of TCP/TLS connections iwfd accepts - SIP over TCP and TLS on every link and the
// admin HTTP endpoint - and the timeouts every such connection lives under
// (docs/security.md "SIP transports (UDP, TCP, TLS) and the admin endpoint").
//
// Process-wide, because what it protects is: file descriptors are one table per process
// (RLIMIT_NOFILE), and a flood on any listener empties it for all of them - the next call's
// RTP sockets included. Every server asks admit() for each connection it accepted; a refusal
// means "close it now". A Slot gives its place back when destroyed.
//
//   auto a = net::ConnectionGate::process().admit(peer_address, net::Server::Sip);
//   if (!a.slot) { socket.close(); return; }      // counted, logged once per source and minute
//   connection->keep(std::move(*a.slot));
//
// Connections iwfd opens itself (to a configured peer) are not counted: they are as many as
// the peers iwfd chose to talk to, and a flood must never keep iwfd from reaching its peers.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "common/asio.hpp"
#include "common/metrics.hpp"

namespace iwf::net {

// The servers that share the budget: each has its own pool, so that a flood on SIP cannot
// lock the operator out of the admin endpoint (nor the reverse).
enum class Server : std::uint8_t { Sip, Admin };
std::string_view toString(Server s);  // "sip", "admin": metric label values

struct ConnectionLimits {
    // Accepted SIP connections (TCP and TLS, every link) open at once; 0 = automatic: half
    // of the fd limit (RLIMIT_NOFILE) minus max_admin, the other half staying for UDP sockets
    // (two per call), files and the database.
    std::size_t max_total = 0;
    // Accepted admin HTTP connections open at once (Prometheus, iwfctl, health checks).
    std::size_t max_admin = 16;
    // Accepted connections open at once from one source IP address, per server.
    std::size_t max_per_source = 32;
    // A connection on which nothing was received or sent for this long is closed; a request
    // an HTTP client takes longer than this to send is cut off.
    std::chrono::milliseconds idle_timeout{std::chrono::seconds(120)};
    // TCP connect and TLS handshake must be done within this.
    std::chrono::milliseconds handshake_timeout{std::chrono::seconds(10)};
};

// What this process may open (RLIMIT_NOFILE) and has open (/proc/self/fd).
struct FdBudget {
    std::uint64_t limit = 0;       // soft limit
    std::uint64_t hard_limit = 0;  // the most the soft limit can be raised to
    std::uint64_t open = 0;
};
FdBudget readFdBudget();
// Raises the soft fd limit to the hard one (what systemd's LimitNOFILE= sets both to; a shell
// often leaves the soft limit at 1,024). Returns the budget afterwards.
FdBudget raiseFdLimit();

class ConnectionGate {
  public:
    enum class Refusal : std::uint8_t { None, Total, PerSource };

    // A place taken; given back when destroyed. Move-only.
    class Slot {
      public:
        Slot() = default;
        Slot(Slot&& o) noexcept : gate_(o.gate_), server_(o.server_), source_(o.source_) {
            o.gate_ = nullptr;
        }
        Slot& operator=(Slot&& o) noexcept;
        Slot(const Slot&) = delete;
        Slot& operator=(const Slot&) = delete;
        ~Slot() { release(); }
        void release();

      private:
        friend class ConnectionGate;
        Slot(ConnectionGate* gate, Server server, asio::ip::address source)
            : gate_(gate), server_(server), source_(source) {}
        ConnectionGate* gate_ = nullptr;
        Server server_ = Server::Sip;
        asio::ip::address source_;
    };

    struct Admission {
        std::optional<Slot> slot;  // empty: refused, close the connection
        Refusal refusal = Refusal::None;
    };

    // The gate every server of this process shares.
    static ConnectionGate& process();

    ConnectionGate() = default;
    ConnectionGate(const ConnectionGate&) = delete;
    ConnectionGate& operator=(const ConnectionGate&) = delete;

    // New limits, for connections admitted (and timers armed) from now on. max_total 0 is
    // resolved against the fd limit here.
    void configure(const ConnectionLimits& limits);
    ConnectionLimits limits() const;  // max_total resolved

    // A refusal is counted (iwf_connections_refused_total{server,reason="total"|"per_source"})
    // and logged once per source address per minute.
    Admission admit(const asio::ip::address& source, Server server);

    // A connection closed for a timeout (iwf_connections_timed_out_total{server,reason};
    // reason from a fixed set: idle_timeout, handshake_timeout).
    void countTimeout(Server server, std::string_view reason);
    // A failed accept() (iwf_connections_accept_errors_total{server,reason}; reason from a
    // fixed set: fd_limit, no_memory).
    void countAcceptError(Server server, std::string_view reason);

    // Exports the gate's counters and gauges (open, limits, the fd budget) in `registry`;
    // until then (tests, tools) counts are kept but not exported.
    void attachMetrics(metrics::Registry& registry);

    std::size_t open(Server server) const;
    std::size_t openFrom(Server server, const asio::ip::address& source) const;

  private:
    struct Pool {
        std::size_t open = 0;
        std::map<asio::ip::address, std::size_t> per_source;
    };
    void released(Server server, const asio::ip::address& source);
    void count(std::string_view name, std::string_view help, Server server,
               std::string_view reason);
    Pool& pool(Server s) { return s == Server::Admin ? admin_ : sip_; }
    const Pool& pool(Server s) const { return s == Server::Admin ? admin_ : sip_; }

    mutable std::mutex mu_;
    ConnectionLimits limits_ = resolved(ConnectionLimits{});
    Pool sip_;
    Pool admin_;
    // Last time a refusal from a source was logged; pruned so it stays bounded.
    std::map<asio::ip::address, std::chrono::steady_clock::time_point> logged_;
    std::uint64_t log_suppressed_ = 0;
    metrics::Registry* metrics_ = nullptr;

    static ConnectionLimits resolved(ConnectionLimits l);
};

// Accept errors that mean "no descriptor or memory right now" (EMFILE, ENFILE, ENOBUFS,
// ENOMEM): retrying at once fails again and spins; the caller waits (backoff) instead.
// Returns the reason label ("fd_limit", "no_memory") or empty for other errors.
std::string_view acceptExhaustion(const boost::system::error_code& ec);

// The wait before the next accept() after an exhaustion error: 50 ms, doubling to 1 s.
class AcceptBackoff {
  public:
    std::chrono::milliseconds next() {
        auto d = delay_;
        delay_ = std::min(delay_ * 2, std::chrono::milliseconds(1000));
        return d;
    }
    void reset() { delay_ = std::chrono::milliseconds(50); }

  private:
    std::chrono::milliseconds delay_{50};
};

}  // namespace iwf::net
