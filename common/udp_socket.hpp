#pragma once
// UDP socket plumbing shared by the LMR links (p25-records, ISSI RTP, DMR HBP): bind with a
// clear error, batched receive with recvmmsg(2) into preallocated buffers, the receive buffer
// size and the kernel's drop count (SocketStats), per-peer packet rates (RateGate), and the
// "iwf_lmr_dropped_total{link,peer,reason}" counter with its per-source rate-limited warning.
//
// Data plane: no exceptions, no allocation per datagram on the receive path (buffers are
// allocated once per receiver), counters resolved once per (peer, reason).

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/asio.hpp"
#include "common/bytes.hpp"
#include "common/log.hpp"
#include "common/metrics.hpp"
#include "common/result.hpp"

namespace iwf::net {

using Endpoint = asio::ip::udp::endpoint;

struct BindOptions {
    // SO_REUSEPORT: several sockets (one per worker thread) share the address; the kernel
    // hashes each flow (source address and port) to one of them, so a peer stays on one thread.
    // The first socket binds exclusively (port 0 gets a port no other socket holds, a busy
    // port is refused) and sets SO_REUSEPORT after the bind; the others bind with `join`.
    // (Setting SO_REUSEPORT before binding port 0 lets the kernel hand out a port that another
    // SO_REUSEPORT socket of the same user already holds: two links would share traffic.)
    bool reuse_port = false;
    bool join = false;  // SO_REUSEPORT before bind: share an address a reuse_port socket holds
};

// Opens `socket` and binds it to address:port (port 0 = any). On failure the socket is closed
// and the error is Error{"bad_address"} or Error{"bind_failed", port}; `detail_out`, when
// given, receives the system message (for the caller's log line).
Status bind(asio::ip::udp::socket& socket, const std::string& address, std::uint16_t port,
            const BindOptions& opts = {}, std::string* detail_out = nullptr);

// "ip:port", the log name of a source.
std::string endpointName(const Endpoint& ep);

// Counts dropped datagrams in `name`{link, peer, reason} (default iwf_lmr_dropped_total) and
// logs them at most once per source per interval.
//
// The `peer` label comes from a bounded set: a link admits the labels of the peers it knows
// (admitPeer: a configured peer by name, a logged-in or linked peer), at most
// `max_peer_labels` distinct ones for the counter's life; a drop whose peer was not admitted
// is counted under peer="other" (the log line still names the real source). So no datagram
// can create a series: junk from 5x10^5 source addresses is five counters, not 5x10^5.
// Reasons are static strings of the program (Error::reason).
//
// Logging: one line per source (address for an Endpoint, the label otherwise) per
// `log_interval`, saying how many drops of that source it did not log; the table of sources is
// bounded (kMaxLogSources, stale entries reclaimed), beyond it a global RateLimiter applies.
// Thread-safe (a link's receive path and its deliver() may run on different threads).
class DropCounter {
  public:
    static constexpr std::size_t kDefaultPeerLabels = 256;
    static constexpr std::size_t kMaxLogSources = 256;
    static constexpr std::string_view kOther = "other";

    DropCounter(metrics::Registry& metrics, std::string link, std::shared_ptr<spdlog::logger> log,
                std::string name = "iwf_lmr_dropped_total",
                std::string help = "LMR datagrams dropped, by link, peer and reason",
                std::size_t max_peer_labels = kDefaultPeerLabels,
                std::chrono::milliseconds log_interval = std::chrono::seconds(10));

    // Makes `label` usable as a peer label; false when max_peer_labels distinct labels were
    // admitted already (its drops are then counted under "other"). Admitting twice is a no-op.
    bool admitPeer(std::string_view label);
    bool admitted(std::string_view label) const;

    // Counts one drop under peer = `peer` if admitted, else "other"; logs
    // "link=.. peer=.. dropped reason=.. detail=.. suppressed=.." once per source per interval.
    void drop(std::string_view peer, std::string_view reason, std::int64_t detail = 0);
    // Source = the endpoint ("ip:port" is the label candidate, the address the log key).
    void drop(const Endpoint& peer, std::string_view reason, std::int64_t detail = 0);
    // The counter for (peer label after admission, reason), created on first use.
    metrics::Counter& counter(std::string_view peer, std::string_view reason);

  private:
    struct KeyHash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const {
            return std::hash<std::string_view>()(s);
        }
    };
    struct LogState {
        std::chrono::steady_clock::time_point last{};
        std::uint64_t suppressed = 0;
    };
    metrics::Counter& counterLocked(std::string_view label, std::string_view reason);
    void count(std::string_view peer, std::string_view log_key, std::string_view reason,
               std::int64_t detail);
    bool mayLog(std::string_view key, std::uint64_t& suppressed);

    metrics::Registry& metrics_;
    std::string link_;
    std::shared_ptr<spdlog::logger> log_;
    std::string name_;
    std::string help_;
    std::size_t max_peer_labels_;
    std::chrono::milliseconds log_interval_;
    mutable std::mutex mu_;
    std::string key_;  // scratch: peer '\x1f' reason
    std::unordered_map<std::string, metrics::Counter*, KeyHash, std::equal_to<>> cache_;
    std::unordered_set<std::string, KeyHash, std::equal_to<>> peers_;  // admitted labels
    std::unordered_map<std::string, LogState, KeyHash, std::equal_to<>> log_sources_;
    log::RateLimiter limiter_;  // when log_sources_ is full
};

// A token bucket: at most `rate` packets per second on average, `burst` at once. The LMR
// links keep one per peer (per call for ISSI RTP) so that one peer sending too fast cannot
// take the data plane from the others. Not thread-safe (one per peer, on the peer's thread).
class RateGate {
  public:
    RateGate() = default;
    RateGate(double rate, double burst) : rate_(rate), burst_(burst), tokens_(burst) {}
    // True if one packet may pass at `now_ns` (steady clock, nanoseconds). rate 0 = no limit.
    bool take(std::int64_t now_ns) {
        if (rate_ <= 0) {
            return true;
        }
        if (last_ns_ != 0) {
            tokens_ =
                std::min(burst_, tokens_ + static_cast<double>(now_ns - last_ns_) * 1e-9 * rate_);
        }
        last_ns_ = now_ns;
        if (tokens_ < 1.0) {
            return false;
        }
        tokens_ -= 1.0;
        return true;
    }

  private:
    double rate_ = 0;
    double burst_ = 0;
    double tokens_ = 0;
    std::int64_t last_ns_ = 0;
};

// Per-peer packet rate limit of a link (config `rate_limit: {pps: N, burst: M}`).
struct RateLimitConfig {
    double pps = 0;    // 0 = unlimited
    double burst = 0;  // packets at once
    RateGate gate() const { return RateGate(pps, burst); }
};

// The receive side of one UDP socket as the kernel sees it, exported as
//   iwf_udp_receive_drops_total{link,socket,worker}  datagrams the kernel dropped on this socket
//                                                    (receive buffer full, memory pressure,
//                                                    bad checksum): SO_MEMINFO's
//                                                    SK_MEMINFO_DROPS, the "drops" column of
//                                                    /proc/net/udp for the socket
//   iwf_udp_receive_buffer_bytes{link,socket,worker} SO_RCVBUF the kernel granted
// read at scrape time. attach() after the socket is bound, detach() before it is closed (the
// scrape reads the descriptor under a lock, so a closed and reused descriptor is never read).
// Counts of earlier sockets of the same object (a link stopped and started) are kept.
class SocketStats {
  public:
    SocketStats(metrics::Registry& metrics, const std::string& link, const std::string& socket,
                unsigned worker = 0);
    ~SocketStats();
    SocketStats(const SocketStats&) = delete;
    SocketStats& operator=(const SocketStats&) = delete;

    // Asks for a receive buffer of `bytes` (0 = leave the kernel default), with
    // SO_RCVBUFFORCE when SO_RCVBUF is capped by net.core.rmem_max and the process may
    // (CAP_NET_ADMIN); returns the size granted (what getsockopt reports, the kernel doubles
    // the request for its bookkeeping).
    static int setReceiveBuffer(asio::ip::udp::socket& socket, int bytes);
    // Datagrams the kernel dropped on this socket so far (SO_MEMINFO); 0 if unknown.
    static std::uint64_t kernelDrops(int fd);

    void attach(asio::ip::udp::socket& socket);
    void detach();
    std::uint64_t drops() const;

  private:
    struct State;
    std::shared_ptr<State> state_;
};

// Receives datagrams from one socket in batches: the first datagram of a wake-up through Asio
// (its reactor reads speculatively, no epoll_ctl per wait); then, while the socket keeps
// showing a queue, up to `batch` datagrams per recvmmsg(2) call until the queue is empty
// (a socket with one datagram per wake-up is probed every kProbeEvery wake-ups, so it pays no
// extra system call). The handler is called for each datagram. Buffers are allocated once. The
// handler runs on the socket's executor; it may call stop(). After an error other than "would
// block" the receiver reports it through the error handler and keeps going (UDP errors such as
// ECONNREFUSED are per datagram); it ends when the socket is closed or stop() is called.
class BatchReceiver {
  public:
    using Handler = std::function<void(const Endpoint& from, ByteView data)>;
    using ErrorHandler = std::function<void(const boost::system::error_code& ec)>;
    // Called once after each batch (after the last handler call of one wake-up).
    using BatchDone = std::function<void()>;

    BatchReceiver(asio::ip::udp::socket& socket, std::size_t batch = 32,
                  std::size_t max_datagram = 2048);
    ~BatchReceiver();
    BatchReceiver(const BatchReceiver&) = delete;
    BatchReceiver& operator=(const BatchReceiver&) = delete;

    void start(Handler on_datagram, ErrorHandler on_error = {}, BatchDone on_batch = {});
    void stop();
    bool running() const { return running_; }

    // Totals (this receiver): wake-ups, recvmmsg calls and datagrams; datagrams / wake-ups
    // is the mean batch.
    std::uint64_t wakeups() const { return wakeups_; }
    std::uint64_t datagrams() const { return datagrams_; }

  private:
    static constexpr std::uint64_t kProbeEvery = 32;
    void arm();
    bool drainQueued(const bool& alive);

    asio::ip::udp::socket& socket_;
    std::size_t batch_;
    std::size_t max_len_;
    std::vector<std::uint8_t> storage_;
    std::vector<Endpoint> from_;
    struct Slots;
    std::unique_ptr<Slots> slots_;
    Handler on_datagram_;
    ErrorHandler on_error_;
    BatchDone on_batch_;
    bool running_ = false;
    bool busy_ = true;  // the last extra read found datagrams queued behind the first
    std::uint64_t quiet_wakeups_ = 0;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
    std::uint64_t wakeups_ = 0;
    std::uint64_t datagrams_ = 0;
};

}  // namespace iwf::net
