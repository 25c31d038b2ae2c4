#pragma once
// LeaseKeeper: the thread that holds this instance's cluster lease (docs/ha.md). Standby: every
// renew_period it reads the lease row and, when the row has expired (database clock), tries to
// acquire it. Active: every renew_period it renews; after each success the Fence allows
// forwarding until (the moment the renewal was sent) + lease_expiry - safety_margin on the
// local monotonic clock. A renewal that finds a newer epoch revokes the Fence at once; renewals
// that fail (database unreachable) let the Fence run out at its deadline. A fenced instance
// keeps trying: the renewal of its epoch if nobody took over (the store came back), else an
// acquisition of a new epoch once the other holder's lease expires.
//
// Everything here is control plane: blocking libpq calls on the keeper's own thread. The data
// plane reads only the Fence. Status and metrics are read on any thread.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/metrics.hpp"
#include "gateway/cluster/fence.hpp"
#include "gateway/cluster/lease_store.hpp"

namespace iwf::gateway::cluster {

struct LeaseOptions {
    std::string store;  // postgresql://...
    std::string name;   // the cluster (the lease row's key)
    std::string instance;
    std::chrono::milliseconds renew_period{500};
    std::chrono::milliseconds lease_expiry{2000};
    std::chrono::milliseconds safety_margin{500};
};

enum class Role : std::uint8_t { Standby, Active, Fenced };
const char* roleName(Role r);

class LeaseKeeper {
  public:
    // Connects and creates the schema (LeaseStore); throws LeaseError. Registers the
    // iwf_cluster_* metrics.
    LeaseKeeper(LeaseOptions options, Fence& fence, metrics::Registry& metrics);
    ~LeaseKeeper();
    LeaseKeeper(const LeaseKeeper&) = delete;
    LeaseKeeper& operator=(const LeaseKeeper&) = delete;

    // Starts the thread. `on_acquired(epoch)` is called on the keeper's thread after each new
    // acquisition (the Fence already allows forwarding).
    void start(std::function<void(std::int64_t)> on_acquired);
    // Stops the thread; with `release`, lets the lease expire now so that a standby takes over
    // at its next look instead of after lease_expiry.
    void stop(bool release);

    Role role() const;
    // The epoch this instance holds (0: none).
    std::int64_t epoch() const { return epoch_.load(std::memory_order_acquire); }
    const LeaseOptions& options() const { return options_; }
    nlohmann::json statusJson() const;

  private:
    void run();
    void tick();
    void sleepUntil(std::int64_t deadline_ns);

    LeaseOptions options_;
    Fence& fence_;
    std::unique_ptr<LeaseStore> store_;
    std::thread thread_;
    std::mutex mu_;  // stop_ and the status snapshot below
    std::condition_variable cv_;
    bool stop_ = false;
    std::function<void(std::int64_t)> on_acquired_;
    std::atomic<std::int64_t> epoch_{0};
    std::atomic<bool> ever_active_{false};
    bool forwarding_ = false;  // keeper thread only: the Fence allowed at the last tick
    // Snapshot of the lease row as last seen (under mu_).
    struct Seen {
        bool known = false;  // a row was read (or renewed) at least once
        std::string holder;
        std::int64_t epoch = 0;
        double age_seconds = 0;
        double remaining_seconds = 0;
        std::int64_t takeovers = 0;
        std::int64_t at_ns = 0;  // boottimeNs() when seen
        std::string last_error;
    };
    mutable std::mutex seen_mu_;
    Seen seen_;
    metrics::Counter& acquisitions_;
    metrics::Counter& fenced_;
    metrics::Counter& renew_failures_;
    metrics::Counter& statements_;
};

}  // namespace iwf::gateway::cluster
