#pragma once
// UDP socket plumbing shared by the LMR links (p25-records, ISSI RTP, DMR HBP): bind with a
// clear error, batched receive with recvmmsg(2) into preallocated buffers, and the
// "iwf_lmr_dropped_total{link,peer,reason}" counter with its rate-limited warning.
//
// Data plane: no exceptions, no allocation per datagram on the receive path (buffers are
// allocated once per receiver), counters resolved once per (peer, reason).

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
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

// "ip:port", the peer label of the drop counters.
std::string endpointName(const Endpoint& ep);

// Counts dropped datagrams in `name`{link, peer, reason} (default iwf_lmr_dropped_total) and
// warns through a RateLimiter. Counters are looked up once per (peer, reason) and cached.
// Thread-safe (a link's receive path and its deliver() may run on different threads).
class DropCounter {
  public:
    DropCounter(metrics::Registry& metrics, std::string link, std::shared_ptr<spdlog::logger> log,
                std::string name = "iwf_lmr_dropped_total",
                std::string help = "LMR datagrams dropped, by link, peer and reason");

    // Counts one drop and logs "link=.. peer=.. dropped reason=.. detail=.. suppressed=.."
    // when the rate limiter allows.
    void drop(std::string_view peer, std::string_view reason, std::int64_t detail = 0);
    void drop(const Endpoint& peer, std::string_view reason, std::int64_t detail = 0);
    // The counter for (peer, reason), created on first use.
    metrics::Counter& counter(std::string_view peer, std::string_view reason);

  private:
    struct KeyHash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const {
            return std::hash<std::string_view>()(s);
        }
    };
    metrics::Registry& metrics_;
    std::string link_;
    std::shared_ptr<spdlog::logger> log_;
    std::string name_;
    std::string help_;
    std::mutex mu_;
    std::string key_;  // scratch: peer '\x1f' reason
    std::unordered_map<std::string, metrics::Counter*, KeyHash, std::equal_to<>> cache_;
    log::RateLimiter limiter_;
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
