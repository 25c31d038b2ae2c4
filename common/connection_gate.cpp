#include "common/connection_gate.hpp"

#include <cerrno>
#include <filesystem>
#include <sys/resource.h>

#include "common/log.hpp"

namespace iwf::net {

namespace {

constexpr auto kLogInterval = std::chrono::minutes(1);
constexpr std::size_t kMaxLoggedSources = 4096;

}  // namespace

std::string_view toString(Server s) {
    return s == Server::Admin ? "admin" : "sip";
}

FdBudget readFdBudget() {
    FdBudget b;
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        b.limit = rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX : rl.rlim_cur;
        b.hard_limit = rl.rlim_max == RLIM_INFINITY ? UINT64_MAX : rl.rlim_max;
    }
    std::error_code ec;
    for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
         !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
        ++b.open;
    }
    if (b.open > 0) {
        --b.open;  // the directory iterator's own descriptor
    }
    return b;
}

FdBudget raiseFdLimit() {
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        (void)::setrlimit(RLIMIT_NOFILE, &rl);
    }
    return readFdBudget();
}

ConnectionGate::Slot& ConnectionGate::Slot::operator=(Slot&& o) noexcept {
    if (this != &o) {
        release();
        gate_ = o.gate_;
        server_ = o.server_;
        source_ = o.source_;
        o.gate_ = nullptr;
    }
    return *this;
}

void ConnectionGate::Slot::release() {
    if (gate_ != nullptr) {
        gate_->released(server_, source_);
        gate_ = nullptr;
    }
}

ConnectionGate& ConnectionGate::process() {
    static ConnectionGate gate;
    return gate;
}

ConnectionLimits ConnectionGate::resolved(ConnectionLimits l) {
    if (l.max_total == 0) {
        const FdBudget b = readFdBudget();
        const std::uint64_t half = b.limit == 0 ? 512 : b.limit / 2;
        const std::uint64_t sip = half > l.max_admin ? half - l.max_admin : 0;
        l.max_total = static_cast<std::size_t>(std::max<std::uint64_t>(16, sip));
    }
    return l;
}

void ConnectionGate::configure(const ConnectionLimits& limits) {
    const ConnectionLimits r = resolved(limits);
    std::lock_guard lock(mu_);
    limits_ = r;
}

ConnectionLimits ConnectionGate::limits() const {
    std::lock_guard lock(mu_);
    return limits_;
}

ConnectionGate::Admission ConnectionGate::admit(const asio::ip::address& source, Server server) {
    Refusal refusal = Refusal::None;
    bool log_it = false;
    std::uint64_t suppressed = 0;
    std::size_t limit = 0;
    {
        std::lock_guard lock(mu_);
        Pool& p = pool(server);
        const std::size_t max = server == Server::Admin ? limits_.max_admin : limits_.max_total;
        auto it = p.per_source.find(source);
        const std::size_t from_source = it == p.per_source.end() ? 0 : it->second;
        if (p.open >= max) {
            refusal = Refusal::Total;
            limit = max;
        } else if (from_source >= limits_.max_per_source) {
            refusal = Refusal::PerSource;
            limit = limits_.max_per_source;
        }
        if (refusal == Refusal::None) {
            ++p.open;
            ++p.per_source[source];
            return {Slot(this, server, source), Refusal::None};
        }
        const auto now = std::chrono::steady_clock::now();
        auto l = logged_.find(source);
        if (l == logged_.end() || now - l->second >= kLogInterval) {
            if (l == logged_.end() && logged_.size() >= kMaxLoggedSources) {
                // Bounded: forget sources not logged within the interval; if every entry is
                // recent, this refusal is only counted.
                for (auto e = logged_.begin(); e != logged_.end();) {
                    e = now - e->second >= kLogInterval ? logged_.erase(e) : std::next(e);
                }
            }
            if (logged_.size() < kMaxLoggedSources) {
                logged_[source] = now;
                log_it = true;
                suppressed = log_suppressed_;
                log_suppressed_ = 0;
            } else {
                ++log_suppressed_;
            }
        } else {
            ++log_suppressed_;
        }
    }
    const std::string_view reason = refusal == Refusal::Total ? "total" : "per_source";
    count("iwf_connections_refused_total",
          "TCP/TLS connections closed at once because a connection cap was reached", server,
          reason);
    if (log_it) {
        log::get("net")->warn(
            "connection_refused server={} source={} reason={} limit={} (logged once per source "
            "per minute; refusals not logged since the last line: {})",
            toString(server), source.to_string(), reason, limit, suppressed);
    }
    return {std::nullopt, refusal};
}

void ConnectionGate::released(Server server, const asio::ip::address& source) {
    std::lock_guard lock(mu_);
    Pool& p = pool(server);
    if (p.open > 0) {
        --p.open;
    }
    auto it = p.per_source.find(source);
    if (it != p.per_source.end() && --it->second == 0) {
        p.per_source.erase(it);
    }
}

void ConnectionGate::countTimeout(Server server, std::string_view reason) {
    count("iwf_connections_timed_out_total",
          "TCP/TLS connections closed for a timeout (idle, handshake)", server, reason);
}

void ConnectionGate::countAcceptError(Server server, std::string_view reason) {
    count("iwf_connections_accept_errors_total",
          "accept() failures of TCP/TLS servers (fd_limit: out of file descriptors, accepting "
          "paused with backoff)",
          server, reason);
}

void ConnectionGate::count(std::string_view name, std::string_view help, Server server,
                           std::string_view reason) {
    metrics::Registry* reg = nullptr;
    {
        std::lock_guard lock(mu_);
        reg = metrics_;
    }
    if (reg != nullptr) {
        reg->counter(name, help,
                     {{"server", std::string(toString(server))}, {"reason", std::string(reason)}})
            .inc();
    }
}

void ConnectionGate::attachMetrics(metrics::Registry& registry) {
    {
        std::lock_guard lock(mu_);
        metrics_ = &registry;
    }
    for (Server server : {Server::Sip, Server::Admin}) {
        const metrics::Labels labels{{"server", std::string(toString(server))}};
        registry.callbackGauge("iwf_connections_open", "Accepted TCP/TLS connections open now",
                               labels,
                               [this, server] { return static_cast<double>(open(server)); });
        registry.callbackGauge(
            "iwf_connections_max",
            "Cap on accepted TCP/TLS connections (connections.max resolved, admin.max_connections)",
            labels, [this, server] {
                const auto l = limits();
                return static_cast<double>(server == Server::Admin ? l.max_admin : l.max_total);
            });
    }
    registry.callbackGauge("iwf_connections_max_per_source",
                           "Cap on accepted TCP/TLS connections from one source address", {},
                           [this] { return static_cast<double>(limits().max_per_source); });
    registry.callbackGauge("iwf_process_fd_limit",
                           "File descriptors this process may open (RLIMIT_NOFILE soft limit)", {},
                           [] { return static_cast<double>(readFdBudget().limit); });
    registry.callbackGauge("iwf_process_fds_open", "File descriptors this process has open", {},
                           [] { return static_cast<double>(readFdBudget().open); });
}

std::size_t ConnectionGate::open(Server server) const {
    std::lock_guard lock(mu_);
    return pool(server).open;
}

std::size_t ConnectionGate::openFrom(Server server, const asio::ip::address& source) const {
    std::lock_guard lock(mu_);
    const Pool& p = pool(server);
    auto it = p.per_source.find(source);
    return it == p.per_source.end() ? 0 : it->second;
}

std::string_view acceptExhaustion(const boost::system::error_code& ec) {
    if (ec.category() != boost::system::system_category()) {
        return {};
    }
    switch (ec.value()) {
        case EMFILE:
        case ENFILE:
            return "fd_limit";
        case ENOBUFS:
        case ENOMEM:
            return "no_memory";
        default:
            return {};
    }
}

}  // namespace iwf::net
